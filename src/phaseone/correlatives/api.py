"""The correlative analyses from Python: CSV files or records in, pandas DataFrames out.

Each function reads its inputs (a path to a CSV file, CSV text, or records already built),
takes its settings from the protocol, runs the engine and returns a report whose tables are
DataFrames, with the notes a reader needs (assumed settings, small numbers). The
`phaseone correlatives` commands are a thin layer over these functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from phaseone.correlatives import fcgr as fcgr_engine
from phaseone.correlatives import haca as haca_engine
from phaseone.correlatives import immune as immune_engine
from phaseone.correlatives import kir as kir_engine
from phaseone.correlatives import tlda as tlda_engine
from phaseone.correlatives.association import associate, responders
from phaseone.correlatives.records import (
    GenotypeCall,
    Measurement,
    PatientGroup,
    read_genotypes,
    read_measurements,
    read_patients,
    read_rows,
)
from phaseone.correlatives.stats import ProportionResult
from phaseone.errors import InputError, Problem
from phaseone.protocol.model import Protocol
from phaseone.protocol.provenance import Sourced

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

Source = Path | str
DEFAULT_PROTOCOL = "nant-2011-04"


def _frame(rows: Sequence[dict[str, Any]], columns: Sequence[str] = ()) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame(list(rows), columns=list(columns) or None)


def _source(source: Source) -> Path | str:
    """A str without a newline is a file name; with one, CSV text."""
    return Path(source) if isinstance(source, str) and "\n" not in source else source


def _label(source: object) -> str | None:
    if isinstance(source, str) and "\n" not in source:
        return source
    return str(source) if isinstance(source, Path) else None


def _protocol(protocol: Protocol | str) -> Protocol:
    if isinstance(protocol, Protocol):
        return protocol
    from phaseone.protocol import resolve_protocol

    return resolve_protocol(protocol)


def _assumed(settings: Sourced, what: str) -> list[str]:
    """A note for settings that are assumed in whole or in part."""
    candidates = [settings.provenance, *settings.field_provenance.values()]
    notes = [p.note for p in candidates if p.is_assumed and p.note]
    return [f"Assumed ({what}): {notes[0]}"] if notes else []


def _measurements(source: Source | Sequence[Measurement],
                  undetected: bool = False) -> list[Measurement]:
    if isinstance(source, Path | str):
        return read_measurements(_source(source), undetected=undetected)
    return list(source)


def _patients(source: Source | Sequence[PatientGroup]) -> list[PatientGroup]:
    return read_patients(_source(source)) if isinstance(source, Path | str) else list(source)


def _calls(source: Source | Sequence[GenotypeCall]) -> list[GenotypeCall]:
    return read_genotypes(_source(source)) if isinstance(source, Path | str) else list(source)


# --- immune ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImmuneReport:
    """Change from baseline per patient and the two dose groups compared."""

    changes: pd.DataFrame
    comparison: pd.DataFrame
    notes: tuple[str, ...]
    records: tuple[immune_engine.Change, ...] = field(repr=False)
    measurements: tuple[Measurement, ...] = field(repr=False)
    patients: tuple[PatientGroup, ...] = field(repr=False)
    groups: Any = field(repr=False)  # ImmuneGroups

    def mixed_model(self, analyte: str, specimen_type: str | None = None) -> pd.DataFrame:
        """change ~ group * day with a random intercept per patient (needs statsmodels)."""
        return immune_engine.mixed_model(self.records, analyte, specimen_type, self.groups)

    def box_plot(self) -> Figure:
        from phaseone.correlatives import plots

        return plots.change_boxes(self.records, list(self.groups.groups))

    def spaghetti_plot(self) -> Figure:
        from phaseone.correlatives import plots

        membership = {p: g for p, g in immune_engine.group_of(self.patients, self.groups).items()
                      if g is not None}
        panels: dict[str, tuple[dict[str, list[tuple[int, float]]], dict[str, str]]] = {}
        for m in self.measurements:
            if m.patient in membership:
                series, _ = panels.setdefault(f"{m.analyte} ({m.specimen_type}, {m.unit})",
                                              ({}, membership))
                series.setdefault(m.patient, []).append((m.study_day, m.value))
        return plots.spaghetti(panels, order=list(self.groups.groups))


def immune(results: Source | Sequence[Measurement], patients: Source | Sequence[PatientGroup],
           protocol: Protocol | str = DEFAULT_PROTOCOL,
           change: immune_engine.ChangeScale = "absolute",
           conf_level: float = 0.95) -> ImmuneReport:
    """Immune monitoring (primary objective III): each analyte, specimen type and
    post-baseline day, second group minus first by exact Wilcoxon and Hodges-Lehmann."""
    spec = _protocol(protocol)
    groups = spec.correlatives.immune
    if groups is None:
        raise InputError([Problem("correlatives.immune",
                                  f"protocol {spec.id} defines no immune dose groups")])
    measurements = _measurements(results)
    people = _patients(patients)
    changes = immune_engine.changes_from_baseline(measurements, people, groups, change,
                                                  file=_label(results))
    comparisons = immune_engine.compare_groups(changes, groups, conf_level)
    first, second = list(groups.groups)
    labels = immune_engine.groups_label(groups)
    notes = ["Groups: " + "; ".join(f"{k} = {v}" for k, v in labels.items())
             + f". Change: {change}.", *_assumed(groups, "dose groups"),
             f"shift = Hodges-Lehmann estimate of {second} minus {first}, with its exact "
             f"{conf_level:.0%} interval; p = exact two-sided Wilcoxon rank-sum (permutation "
             "distribution with midranks where values tie)."]
    return ImmuneReport(_frame(immune_engine.change_rows(changes)),
                        _frame([c.row() for c in comparisons]), tuple(notes), tuple(changes),
                        tuple(measurements), tuple(people), groups)


# --- HACA --------------------------------------------------------------------------------


@dataclass(frozen=True)
class HacaReport:
    patients: pd.DataFrame
    titres_over_time: pd.DataFrame
    troughs: pd.DataFrame
    incidence: ProportionResult | None
    notes: tuple[str, ...]
    titres: tuple[Measurement, ...] = field(repr=False)

    def titre_plot(self) -> Figure:
        from phaseone.correlatives import plots

        series: dict[str, list[tuple[int, float]]] = {}
        for m in self.titres:
            series.setdefault(m.patient, []).append((m.study_day, m.value))
        status = dict(zip(self.patients["patient"], self.patients["status"], strict=True))
        return plots.spaghetti({"HACA titre (zero titres not drawn)": (series, status)},
                               ylabel="titre", log=True)


def haca(results: Source | Sequence[Measurement], protocol: Protocol | str = DEFAULT_PROTOCOL,
         analyte: str = "HACA", trough: str | None = None) -> HacaReport:
    """HACA (secondary objective V): status per patient, incidence with its exact interval,
    titres over time and, with `trough`, the change in dinutuximab trough."""
    spec = _protocol(protocol)
    rules = spec.correlatives.haca
    if rules is None:
        raise InputError([Problem("correlatives.haca", f"protocol {spec.id} defines no HACA "
                                  "rules")])
    measurements = _measurements(results)
    titres = [m for m in measurements if m.analyte == analyte]
    troughs = [m for m in measurements if trough and m.analyte == trough]
    missing = [name for name, rows in ((analyte, titres), (trough, troughs)) if name and not rows]
    if missing:
        raise InputError([Problem("analyte", f"no rows of analyte {name!r}",
                                  file=_label(results)) for name in missing])
    try:
        result = haca_engine.analyse(titres, rules, troughs)
    except InputError as exc:  # the engine knows lines, the file name is ours
        raise InputError([Problem(p.path, p.message, file=_label(results), line=p.line)
                          for p in exc.problems]) from None
    notes: list[str] = []
    inc = result.incidence
    if inc is not None:
        notes.append(f"Treatment-emergent HACA: {inc.k}/{inc.n} = {inc.estimate:.0%} (exact "
                     f"95% CI {inc.conf_low:.0%} to {inc.conf_high:.0%}).")
    unevaluable = [p for p in result.patients if p.emergent is None]
    if unevaluable:
        notes.append(f"{len(unevaluable)} patient(s) not evaluable (no baseline or no later "
                     "sample): " + ", ".join(p.patient for p in unevaluable) + ".")
    notes += _assumed(rules, "HACA rules")
    ignored = len(measurements) - len(titres) - len(troughs)
    if ignored:
        notes.append(f"{ignored} row(s) of other analytes ignored.")
    if trough:
        t = result.trough_test
        if t is not None:
            notes.append(f"log(last/first trough), HACA vs none: shift {t.estimate:.3f} (95% "
                         f"CI {t.conf_low:.3f} to {t.conf_high:.3f}), exact p = "
                         f"{t.p_value:.3g}, n = {t.n_x} vs {t.n_y}.")
        else:
            notes.append("No trough comparison: a group has no patient with two troughs.")
    trough_rows = [{"patient": c.patient, "haca": c.emergent, "first_day": c.first_day,
                    "first_trough": c.first_trough, "last_day": c.last_day,
                    "last_trough": c.last_trough, "ratio": c.ratio} for c in result.troughs]
    return HacaReport(_frame([p.row() for p in result.patients]),
                      _frame(result.titres_over_time()),
                      _frame(trough_rows, ("patient", "haca", "first_day", "first_trough",
                                           "last_day", "last_trough", "ratio")),
                      inc, tuple(notes), result.titres)


# --- KIR and FcγR ------------------------------------------------------------------------


@dataclass(frozen=True)
class GenotypeReport:
    """Per-patient table, and (with responses) the association with response."""

    patients: pd.DataFrame
    association: pd.DataFrame | None
    notes: tuple[str, ...]


def _association(has: dict[str, dict[str, bool | None]],
                 patients: Source | Sequence[PatientGroup] | None,
                 responses: Sequence[str]) -> tuple[pd.DataFrame | None, list[str]]:
    if patients is None:
        return None, []
    people = _patients(patients)
    responded = responders({p.patient: p.best_response for p in people}, tuple(responses))
    rows = [associate(name, flags, responded).row() for name, flags in has.items()]
    note = (f"Response = {', '.join(responses)}. Fisher's exact test; odds ratio = "
            "conditional MLE with exact 95% interval (Inf/0 when a cell is empty). Small "
            "numbers: read the counts, not only p.")
    return _frame(rows), [note]


def kir(typing: Source | Sequence[GenotypeCall],
        patients: Source | Sequence[PatientGroup] | None = None,
        responses: Sequence[str] = ("CR", "PR")) -> GenotypeReport:
    """KIR ligands and missing-ligand status (secondary objective VIII), with Fisher tests
    of response for 'any ligand missing', 'all ligands present' and each receptor."""
    profiles = kir_engine.profiles_from_calls(_calls(typing), file=_label(typing))
    assessments = [kir_engine.assess(p) for p in profiles]
    table = kir_engine.ligand_table()
    notes = [f"Ligand table {table.version} ({table.source}); Bw4 residue 80 is assumed.",
             "any_missing / all_present count " + ", ".join(table.missing_ligand_model)
             + "; other receptors' status is shown on its own. Studies disagree on which "
             "direction helps: both are shown."]
    has: dict[str, dict[str, bool | None]] = {"any ligand missing": {},
                                              "all ligands present": {}}
    for a in assessments:
        has["any ligand missing"][a.patient] = a.any_missing
        has["all ligands present"][a.patient] = a.all_present
        for receptor, status in a.status.items():
            has.setdefault(f"{receptor} ligand missing", {})[a.patient] = (
                None if status == "undetermined" else status == "missing ligand")
    association, more = _association(has, patients, responses)
    return GenotypeReport(_frame(kir_engine.assessment_rows(assessments)), association,
                          tuple(notes + more))


def fcgr(typing: Source | Sequence[GenotypeCall],
         patients: Source | Sequence[PatientGroup] | None = None,
         responses: Sequence[str] = ("CR", "PR")) -> GenotypeReport:
    """FcγR genotypes, one stored form, both numberings shown; with responses, each
    homozygous genotype against the rest by Fisher's exact test."""
    genotypes = fcgr_engine.genotypes_from_calls(_calls(typing), file=_label(typing))
    rows = []
    for patient, per_gene in sorted(genotypes.items()):
        for gene, g in sorted(per_gene.items()):
            p = g.polymorphism
            rows.append({"patient": patient, "gene": gene, "rsid": p.rsid,
                         "genotype": g.label("mature"),
                         "precursor": g.label("precursor") if p.precursor else "",
                         "nucleotides": g.nucleotides()})
    has: dict[str, dict[str, bool | None]] = {}
    for gene, p in fcgr_engine.POLYMORPHISMS.items():
        for aa in p.alleles:
            flags: dict[str, bool | None] = {
                patient: (per_gene[gene].alleles == (aa, aa) if gene in per_gene else None)
                for patient, per_gene in genotypes.items()}
            if any(v is not None for v in flags.values()):
                has[f"{gene} {p.mature}{aa}/{aa}"] = flags
    association, more = _association(has, patients, responses)
    notes = ["Stored at the mature-protein position; precursor numbering beside it. The "
             "favourable allele depends on the antibody: genotypes only.", *more]
    return GenotypeReport(_frame(rows), association, tuple(notes))


# --- TLDA --------------------------------------------------------------------------------


@dataclass(frozen=True)
class TldaReport:
    specimens: pd.DataFrame
    trajectory: pd.DataFrame | None
    notes: tuple[str, ...]
    scored: tuple[tlda_engine.TldaSpecimen, ...] = field(repr=False)

    def delta_ct_plot(self) -> Figure:
        from phaseone.correlatives import plots

        panels: dict[str, tuple[dict[str, list[tuple[int, float]]], dict[str, str]]] = {}
        for s in self.scored:
            if s.delta_ct is not None:
                series, who = panels.setdefault(f"ΔCt ({s.specimen_type})", ({}, {}))
                series.setdefault(s.patient, []).append((s.study_day, s.delta_ct))
                who[s.patient] = s.patient
        return plots.spaghetti(panels, ylabel="ΔCt (lower = more tumour)")


def tlda(results: Source | Sequence[Measurement], protocol: Protocol | str = DEFAULT_PROTOCOL,
         evaluations: Source | Sequence[tuple[str, int, str]] | None = None) -> TldaReport:
    """NB5 TLDA tumour load (secondary objective IX): ΔCt and call per specimen and, with
    response evaluations (patient, study_day, response), each patient's trajectory."""
    spec = _protocol(protocol)
    rules = spec.correlatives.tlda
    if rules is None:
        raise InputError([Problem("correlatives.tlda", f"protocol {spec.id} defines no TLDA "
                                  "rules")])
    scored = tlda_engine.score(_measurements(results, undetected=True), rules,
                               file=_label(results))
    cutoff = (f" and ΔCt at or below {rules.delta_ct_cutoff}" if rules.delta_ct_cutoff
              else " (no ΔCt cut-off set)")
    notes = [f"Panel {', '.join(rules.genes)}; reference {', '.join(rules.reference_genes)}; "
             f"undetected wells at Ct {rules.undetected_ct:g}; positive with at least "
             f"{rules.min_genes_detected} gene(s) detected{cutoff}.",
             *_assumed(rules, "TLDA rules")]
    trajectory = None
    if evaluations is not None:
        triples = (_evaluations(evaluations) if isinstance(evaluations, Path | str)
                   else list(evaluations))
        trajectory = _frame(tlda_engine.trajectory(scored, triples))
    return TldaReport(_frame([s.row(rules.genes) for s in scored]), trajectory, tuple(notes),
                      tuple(scored))


def _evaluations(source: Source) -> list[tuple[str, int, str]]:
    label = _label(source)
    rows = read_rows(_source(source), ("patient", "study_day", "response"), name=label)
    problems: list[Problem] = []
    out: list[tuple[str, int, str]] = []
    for r in rows:
        day = r.cells["study_day"]
        if not day.lstrip("-").isdigit():
            problems.append(Problem("study_day", f"expected a whole number, got {day!r}",
                                    file=label, line=r.line))
            continue
        out.append((r.cells["patient"], int(day), r.cells["response"].upper()))
    if problems:
        raise InputError(problems)
    return out
