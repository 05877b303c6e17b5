"""`phaseone correlatives`: immune, HACA, KIR, FcγR and TLDA analyses over CSV files.

Engines and plotting are imported inside each command so that `phaseone --help` stays quick.
"""

from __future__ import annotations

import csv
import json
import math
import sys
from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer

from phaseone.cli.output import console

app = typer.Typer(
    name="correlatives",
    help=(
        "Correlative science over CSV files: immune monitoring (low vs high dose), HACA, "
        "KIR missing-ligand status, FcγR genotypes and NB5 TLDA tumour load."
    ),
    no_args_is_help=True,
)


class ChangeScale(StrEnum):
    absolute = "absolute"
    relative = "relative"
    log2 = "log2"


class Out(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


PROTOCOL = typer.Option("nant-2011-04", "--protocol",
                        help="A bundled protocol id or a YAML path (its correlatives settings).")
FORMAT = typer.Option(Out.table, "--format", help="table, csv or json.")
PLOT = typer.Option([], "--plot", help="Write a plot (.png or .svg); may be given twice.")

RESULTS_HELP = ("Results CSV: patient, specimen_type, study_day, analyte, value, unit "
                "[, specimen_id]; study day 1 is the first day of protocol therapy.")
PATIENTS_HELP = "Patients CSV: patient, dose_level [, best_response (CR, PR, MR, SD, PD)]."
TYPING_HELP = "Typing CSV: patient, gene, call [, specimen_id]."


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        if math.isinf(value):
            return "Inf" if value > 0 else "-Inf"
        return f"{value:.4g}"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _emit(rows: Sequence[dict[Any, Any]], fmt: Out, title: str, notes: Sequence[str] = (),
          extra: dict[str, Any] | None = None) -> None:
    """Print rows as a table (with notes), CSV (rows only) or JSON (rows, notes, extra)."""
    if fmt is Out.json:
        payload: dict[str, Any] = {"title": title, "rows": list(rows), "notes": list(notes)}
        payload.update(extra or {})
        sys.stdout.write(json.dumps(payload, indent=2, default=_json_default) + "\n")
        return
    if fmt is Out.csv:
        if rows:
            writer = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]), lineterminator="\n")
            writer.writeheader()
            for row in rows:
                writer.writerow({k: _csv_cell(v) for k, v in row.items()})
        return
    from rich.table import Table

    table = Table(*(list(rows[0]) if rows else ["(no rows)"]), title=title)
    for row in rows:
        table.add_row(*(_cell(v) for v in row.values()))
    console.print(table)
    for note in notes:
        console.print(note, markup=False, highlight=False)


def _csv_cell(value: Any) -> Any:
    if isinstance(value, float) and math.isinf(value):
        return "Inf" if value > 0 else "-Inf"
    return "" if value is None else value


def _json_default(value: Any) -> Any:
    return str(value)


def _json_float(value: float | None) -> float | str | None:
    if value is None or math.isnan(value):
        return None
    return value if math.isfinite(value) else ("Inf" if value > 0 else "-Inf")


def _assumed(settings: Any, what: str) -> list[str]:
    """A note for settings that are assumed in whole or in part."""
    assumed = [settings.provenance, *settings.field_provenance.values()]
    notes = [p.note for p in assumed if p.is_assumed and p.note]
    return [f"Assumed ({what}): {notes[0]}"] if notes else []


@app.command()
def immune(
    results: Path = typer.Option(..., "--results", exists=True, dir_okay=False,
                                 help=RESULTS_HELP),
    patients: Path = typer.Option(..., "--patients", exists=True, dir_okay=False,
                                  help=PATIENTS_HELP),
    protocol_id: str = PROTOCOL,
    change: ChangeScale = typer.Option(ChangeScale.absolute, "--change", help=(
        "Change from baseline: absolute (value - baseline), relative (value / baseline - 1) "
        "or log2 (log2 fold change).")),
    show_changes: bool = typer.Option(False, "--changes",
                                      help="List each patient's changes instead."),
    mixed: list[str] = typer.Option([], "--mixed", help=(
        "Also fit a mixed-effects model (change ~ group * day, random intercept per "
        "patient) for this analyte; needs statsmodels. May be repeated.")),
    conf_level: float = typer.Option(0.95, "--conf-level", min=0.5, max=0.999),
    fmt: Out = FORMAT,
    plot: list[Path] = PLOT,
) -> None:
    """Immune monitoring: change from baseline, and the protocol's two dose groups compared.

    At each analyte, specimen type and post-baseline study day: exact Wilcoxon rank-sum test
    and Hodges-Lehmann shift (second group minus first) with its exact interval. --plot
    writes box plots of change by group and day; a name containing 'spaghetti' draws each
    patient's values over time instead.
    """
    from phaseone.correlatives import immune as engine
    from phaseone.correlatives.records import read_measurements, read_patients
    from phaseone.errors import InputError, Problem
    from phaseone.protocol import resolve_protocol

    protocol = resolve_protocol(protocol_id)
    groups = protocol.correlatives.immune
    if groups is None:
        raise InputError([Problem("correlatives.immune", f"protocol {protocol.id} defines no "
                                  "immune dose groups")])
    measurements = read_measurements(results)
    people = read_patients(patients)
    changes = engine.changes_from_baseline(measurements, people, groups,
                                           change.value,
                                           file=str(results))
    notes = _assumed(groups, "dose groups")
    labels = engine.groups_label(groups)
    notes.insert(0, "Groups: " + "; ".join(f"{k} = {v}" for k, v in labels.items())
                 + f". Change: {change.value}.")
    _plots(plot, changes, measurements, people, groups)
    if show_changes:
        _emit(engine.change_rows(changes), fmt, "Change from baseline", notes)
        return
    comparisons = engine.compare_groups(changes, groups, conf_level)
    rows = [c.row() for c in comparisons]
    first, second = list(groups.groups)
    notes.append(f"shift = Hodges-Lehmann estimate of {second} minus {first}, with its exact "
                 f"{conf_level:.0%} interval; p = exact two-sided Wilcoxon rank-sum "
                 "(permutation distribution with midranks where values tie).")
    extra: dict[str, Any] = {}
    models = []
    for analyte in mixed:
        frame = engine.mixed_model(changes, analyte)
        models.append(frame)
    if models:
        import pandas as pd

        model_frame = pd.concat(models, ignore_index=True)
        extra["mixed_model"] = model_frame.to_dict(orient="records")
        if fmt is Out.table:
            _emit(rows, fmt, f"Immune modulation: {second} vs {first}", notes)
            _emit(model_frame.to_dict(orient="records"), fmt,
                  "Mixed-effects model: change ~ group * day, random intercept per patient")
            return
    _emit(rows, fmt, f"Immune modulation: {second} vs {first}", notes, extra)


def _plots(paths: Sequence[Path], changes: Any, measurements: Any, people: Any,
           groups: Any) -> None:
    if not paths:
        return
    from phaseone.correlatives import plots
    from phaseone.correlatives.immune import group_of

    membership = {p: g for p, g in group_of(people, groups).items() if g is not None}
    for path in paths:
        if "spaghetti" in path.stem.lower():
            panels: dict[str, tuple[dict[str, list[tuple[int, float]]], dict[str, str]]] = {}
            for m in measurements:
                if m.patient not in membership:
                    continue
                title = f"{m.analyte} ({m.specimen_type}, {m.unit})"
                series, _ = panels.setdefault(title, ({}, membership))
                series.setdefault(m.patient, []).append((m.study_day, m.value))
            fig = plots.spaghetti(panels)
        else:
            fig = plots.change_boxes(changes, list(groups.groups))
        plots.save(fig, path)


@app.command()
def haca(
    results: Path = typer.Option(..., "--results", exists=True, dir_okay=False, help=(
        RESULTS_HELP + " Rows of the HACA analyte are titres.")),
    analyte: str = typer.Option("HACA", "--analyte", help="Analyte name of the HACA titres."),
    trough: str | None = typer.Option(None, "--trough", help=(
        "Analyte name of dinutuximab trough concentrations in the same file: compares each "
        "patient's last to first trough with and without treatment-emergent HACA.")),
    protocol_id: str = PROTOCOL,
    fmt: Out = FORMAT,
    plot: list[Path] = PLOT,
) -> None:
    """HACA: each patient's status (treatment-induced or -boosted, transient or persistent),
    incidence with its exact interval, titres over time, and the effect on troughs."""
    from phaseone.correlatives import haca as engine
    from phaseone.correlatives.records import read_measurements
    from phaseone.errors import InputError, Problem
    from phaseone.protocol import resolve_protocol

    protocol = resolve_protocol(protocol_id)
    rules = protocol.correlatives.haca
    if rules is None:
        raise InputError([Problem("correlatives.haca", f"protocol {protocol.id} defines no "
                                  "HACA rules")])
    allowed = {analyte} | ({trough} if trough else set())
    measurements = read_measurements(results, analytes=allowed)
    titres = [m for m in measurements if m.analyte == analyte]
    troughs = [m for m in measurements if trough and m.analyte == trough]
    if not titres:
        raise InputError([Problem("analyte", f"no {analyte} rows", file=str(results))])
    result = engine.analyse(titres, rules, troughs)
    notes = _assumed(rules, "HACA rules")
    inc = result.incidence
    if inc is not None:
        notes.insert(0, f"Treatment-emergent HACA: {inc.k}/{inc.n} = {inc.estimate:.0%} "
                     f"(exact 95% CI {inc.conf_low:.0%} to {inc.conf_high:.0%}).")
    if result.troughs:
        t = result.trough_test
        notes.append("Trough ratio last/first: " + "; ".join(
            f"{c.patient} {c.ratio:.2f}{' (HACA)' if c.emergent else ''}"
            for c in result.troughs))
        if t is not None:
            notes.append(f"log trough ratio, HACA vs none: shift {t.estimate:.3f} (95% CI "
                         f"{t.conf_low:.3f} to {t.conf_high:.3f}), exact p = {t.p_value:.3g}, "
                         f"n = {t.n_x} vs {t.n_y}.")
        else:
            notes.append("No trough comparison: one of the groups has no patient with two "
                         "troughs.")
    for path in plot:
        from phaseone.correlatives import plots

        series: dict[str, list[tuple[int, float]]] = {}
        for m in titres:
            series.setdefault(m.patient, []).append((m.study_day, m.value))
        status = {p.patient: p.status for p in result.patients}
        plots.save(plots.spaghetti({f"{analyte} titre": (series, status)}, ylabel="titre",
                                   log=True), path)
    extra = {
        "incidence": None if inc is None else {
            "k": inc.k, "n": inc.n, "estimate": inc.estimate, "conf_low": inc.conf_low,
            "conf_high": inc.conf_high},
        "titres_over_time": result.titres_over_time(),
        "troughs": [{"patient": c.patient, "haca": c.emergent, "first_day": c.first_day,
                     "first": c.first_trough, "last_day": c.last_day, "last": c.last_trough,
                     "ratio": _json_float(c.ratio)} for c in result.troughs],
    }
    _emit([p.row() for p in result.patients], fmt, "HACA by patient", notes, extra)


@app.command()
def kir(
    typing: Path = typer.Option(..., "--typing", exists=True, dir_okay=False, help=(
        TYPING_HELP + " Genes HLA-A/B/C (two alleles, in one call joined by '+' or in two "
        "rows) and KIR genes (present/absent).")),
    patients: Path | None = typer.Option(None, "--patients", exists=True, dir_okay=False,
                                         help=PATIENTS_HELP + " Adds association with "
                                         "response."),
    responses: str = typer.Option("CR,PR", "--responders",
                                  help="Best responses counted as response."),
    fmt: Out = FORMAT,
) -> None:
    """KIR ligands from HLA typing and each inhibitory KIR's missing-ligand status.

    Shows 'any ligand missing' and 'all ligands present' side by side: published
    neuroblastoma studies disagree on the direction.
    """
    from phaseone.correlatives import kir as engine
    from phaseone.correlatives.records import read_genotypes

    profiles = engine.profiles_from_calls(read_genotypes(typing), file=str(typing))
    assessments = [engine.assess(p) for p in profiles]
    table = engine.ligand_table()
    notes = [f"Ligand table {table.version} ({table.source}); Bw4 residue 80 is assumed."]
    notes.append("any_missing / all_present count " + ", ".join(table.missing_ligand_model)
                 + "; other receptors' status is shown on its own.")
    if patients is None:
        rows = engine.assessment_rows(assessments)
        if fmt is Out.table:  # allele classes are for CSV/JSON; too wide for a terminal
            for row in rows:
                row.pop("alleles")
        _emit(rows, fmt, "KIR missing-ligand status", notes)
        return
    has: dict[str, dict[str, bool | None]] = {"any ligand missing": {},
                                              "all ligands present": {}}
    for a in assessments:
        has["any ligand missing"][a.patient] = a.any_missing
        has["all ligands present"][a.patient] = a.all_present
        for receptor, status in a.status.items():
            has.setdefault(f"{receptor} ligand missing", {})[a.patient] = (
                None if status == "undetermined" else status == "missing ligand")
    _associations(has, patients, responses, fmt, "KIR status and response", notes)


def _associations(has: dict[str, dict[str, bool | None]], patients: Path, responses: str,
                  fmt: Out, title: str, notes: list[str]) -> None:
    from phaseone.correlatives.association import associate, responders
    from phaseone.correlatives.records import read_patients

    people = read_patients(patients)
    responded = responders({p.patient: p.best_response for p in people},
                           tuple(r.strip() for r in responses.split(",") if r.strip()))
    rows = [associate(name, flags, responded).row() for name, flags in has.items()]
    for row in rows:
        for key in ("odds_ratio", "or_conf_low", "or_conf_high"):
            value = row[key]
            if fmt is Out.json and isinstance(value, float):
                row[key] = _json_float(value)
    notes.append(f"Response = {responses}. Fisher's exact test; odds ratio = conditional MLE "
                 "with exact 95% interval (Inf/0 when a cell is empty). Small numbers: read "
                 "the counts, not only p.")
    _emit(rows, fmt, title, notes)


@app.command()
def fcgr(
    typing: Path = typer.Option(..., "--typing", exists=True, dir_okay=False, help=(
        TYPING_HELP + " Genes FCGR2A, FCGR3A, FCGR2B; calls such as H/R, 131H/R, 166H/R "
        "(precursor numbering), His/Arg or 'rs1801274 A/G'.")),
    patients: Path | None = typer.Option(None, "--patients", exists=True, dir_okay=False,
                                         help=PATIENTS_HELP + " Adds association with "
                                         "response."),
    responses: str = typer.Option("CR,PR", "--responders",
                                  help="Best responses counted as response."),
    fmt: Out = FORMAT,
) -> None:
    """FcγR genotypes (one stored form, both numberings shown) and association with
    response for each homozygous genotype against the rest."""
    from phaseone.correlatives.fcgr import POLYMORPHISMS, genotypes_from_calls
    from phaseone.correlatives.records import read_genotypes

    genotypes = genotypes_from_calls(read_genotypes(typing), file=str(typing))
    notes = ["Stored at the mature-protein position; precursor numbering in brackets. "
             "The favourable allele depends on the antibody: genotypes only."]
    if patients is None:
        rows = []
        for patient, per_gene in sorted(genotypes.items()):
            for gene, g in sorted(per_gene.items()):
                p = g.polymorphism
                rows.append({"patient": patient, "gene": gene, "rsid": p.rsid,
                             "genotype": g.label("mature"),
                             "precursor": g.label("precursor") if p.precursor else "",
                             "nucleotides": g.nucleotides()})
        _emit(rows, fmt, "FcγR genotypes", notes)
        return
    has: dict[str, dict[str, bool | None]] = {}
    for gene, p in POLYMORPHISMS.items():
        for aa in p.alleles:
            has[f"{gene} {p.mature}{aa}/{aa}"] = {
                patient: (per_gene[gene].alleles == (aa, aa) if gene in per_gene else None)
                for patient, per_gene in genotypes.items()}
    has = {k: v for k, v in has.items() if any(x is not None for x in v.values())}
    _associations(has, patients, responses, fmt, "FcγR genotype and response", notes)


@app.command()
def tlda(
    results: Path = typer.Option(..., "--results", exists=True, dir_okay=False, help=(
        RESULTS_HELP + " One row per well: analyte = gene, value = Ct (or 'undetermined'), "
        "unit = Ct; specimen_type blood or marrow.")),
    evaluations: Path | None = typer.Option(None, "--evaluations", exists=True,
                                            dir_okay=False, help=(
        "Response evaluations CSV: patient, study_day, response. Shows each patient's "
        "trajectory beside them.")),
    protocol_id: str = PROTOCOL,
    fmt: Out = FORMAT,
    plot: list[Path] = PLOT,
) -> None:
    """NB5 TLDA tumour load: ΔCt (panel mean Ct minus reference Ct; lower = more tumour)
    and positivity per blood or marrow specimen, with the protocol's rules."""
    from phaseone.correlatives import tlda as engine
    from phaseone.correlatives.records import read_measurements, read_rows
    from phaseone.errors import InputError, Problem
    from phaseone.protocol import resolve_protocol

    protocol = resolve_protocol(protocol_id)
    rules = protocol.correlatives.tlda
    if rules is None:
        raise InputError([Problem("correlatives.tlda", f"protocol {protocol.id} defines no "
                                  "TLDA rules")])
    specimens = engine.score(read_measurements(results, undetected=True), rules,
                             file=str(results))
    notes = [f"Panel {', '.join(rules.genes)}; reference {', '.join(rules.reference_genes)}; "
             f"undetected wells at Ct {rules.undetected_ct:g}; positive with at least "
             f"{rules.min_genes_detected} gene(s) detected"
             + (f" and ΔCt at or below {rules.delta_ct_cutoff}" if rules.delta_ct_cutoff
                else "") + "."]
    notes += _assumed(rules, "TLDA rules")
    for path in plot:
        from phaseone.correlatives import plots

        panels: dict[str, tuple[dict[str, list[tuple[int, float]]], dict[str, str]]] = {}
        for s in specimens:
            if s.delta_ct is None:
                continue
            series, who = panels.setdefault(f"ΔCt ({s.specimen_type})", ({}, {}))
            series.setdefault(s.patient, []).append((s.study_day, s.delta_ct))
            who[s.patient] = s.patient
        plots.save(plots.spaghetti(panels, ylabel="ΔCt (lower = more tumour)"), path)
    if evaluations is not None:
        rows = read_rows(evaluations, ("patient", "study_day", "response"))
        triples: list[tuple[str, int, str]] = []
        problems = []
        for r in rows:
            day = r.cells["study_day"]
            if not day.lstrip("-").isdigit():
                problems.append(Problem("study_day", f"expected a whole number, got {day!r}",
                                        file=str(evaluations), line=r.line))
                continue
            triples.append((r.cells["patient"], int(day), r.cells["response"].upper()))
        if problems:
            raise InputError(problems)
        _emit(engine.trajectory(specimens, triples), fmt, "TLDA trajectory and response",
              notes)
        return
    _emit([s.row(rules.genes) for s in specimens], fmt, "NB5 TLDA by specimen", notes)
