"""The study report's correlative and pharmacokinetic sections: immune modulation low vs high
dose, immune effects over time, PK of lenalidomide, isotretinoin and dinutuximab, HACA,
KIR/FcγR and TLDA tumour load.

Each reads the report's snapshot through the one conversion the service and the command
line use (`workflow.correlative_data`, `workflow.trial_pk.tables_from_rows`) and calls the
engine that owns the rule; a figure goes beside a table where people would rather look.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from phaseone.errors import InputError
from phaseone.reports.findings import Finding, StudyData, Table, analysis

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from phaseone.workflow.correlative_data import CorrelativeData
    from phaseone.workflow.trial_pk import PKTables

RESULTS_SOURCE = ("specimen results imported from core-lab files (store), of specimens "
                  "collected by the cut-off; study day from EX (day 1 = first dose)")


def figure_uri(fig: Figure) -> str:
    """A report figure as PNG: the PDF is made from the report's HTML, and its renderer draws
    a raster image at once where an SVG of many paths costs it seconds."""
    from phaseone.correlatives.plots import data_uri

    return data_uri(fig, "png")


def _rounded(frame: pd.DataFrame, digits: int = 3) -> pd.DataFrame:
    return frame.round(digits)


def _records(data: StudyData) -> CorrelativeData:
    from phaseone.workflow.correlative_data import from_snapshot

    return from_snapshot(data.snapshot)


def _refused(exc: InputError) -> Finding:
    return Finding(unavailable="the records do not allow it yet: "
                   + "; ".join(p.message for p in exc.problems[:3]))


# --- immune monitoring ------------------------------------------------------------------


def _immune(data: StudyData) -> Any:
    """The immune report, or a Finding saying why there is none."""
    from phaseone.workflow.correlative_data import immune_report

    try:
        report = immune_report(_records(data), data.protocol)
    except InputError as exc:
        return _refused(exc)
    return Finding(unavailable=report) if isinstance(report, str) else report


@analysis("immune-low-vs-high")
def immune_low_vs_high(data: StudyData) -> Finding:
    report = _immune(data)
    if isinstance(report, Finding):
        return report
    first, second = list(report.groups.groups)
    table = Table(
        f"Immune modulation, change from baseline: {second} vs {first} dose lenalidomide",
        _rounded(report.comparison),
        RESULTS_SOURCE + "; dose level from registrations; groups from the protocol",
        figure=figure_uri(report.box_plot()),
    )
    return Finding(report.notes, (table,))


@analysis("immune-effects")
def immune_effects(data: StudyData) -> Finding:
    report = _immune(data)
    if isinstance(report, Finding):
        return report
    changes = report.changes
    summary: Any = changes.groupby(["analyte", "specimen_type", "unit", "study_day"]).agg(
        patients=("patient", "nunique"), median_baseline=("baseline", "median"),
        median_value=("value", "median"), median_change=("change", "median"),
        min_change=("change", "min"), max_change=("change", "max"))
    table = Table(
        "Immune cell subsets, cytokines and chemokines: change from baseline over time",
        _rounded(summary.reset_index()),
        RESULTS_SOURCE,
        figure=figure_uri(report.spaghetti_plot()),
    )
    text = (f"{changes.patient.nunique()} patient(s) with a baseline and at least one later "
            "result; baseline is each patient's last result on or before day "
            f"{report.groups.baseline_max_day}.")
    return Finding((text,), (table,))


# --- pharmacokinetics -------------------------------------------------------------------


def _pk_tables(data: StudyData, agent: str) -> PKTables:
    from phaseone.workflow.trial_pk import PK_ASSESSMENTS, tables_from_rows

    snap = data.snapshot
    return tables_from_rows(
        data.protocol, PK_ASSESSMENTS[agent], specimens=snap.rows("specimens"),
        results=snap.rows("specimen_results"), courses=snap.rows("courses"),
        doses=snap.rows("dose_administrations"),
        subject_codes={p["id"]: p["subject_code"] for p in snap.rows("patients")},
        with_doses=agent != "dinutuximab")


PK_SOURCE = ("concentrations of collected PK specimens at their clock times, and the doses "
             "given at theirs (store); NCA by phaseone.pk")


def _pk_run(data: StudyData, agent: str, missing: str,
            run: Callable[[PKTables], Any]) -> tuple[PKTables, Any] | Finding:
    """The agent's PK tables and `run` over them, or why there is nothing to show."""
    try:
        tables = _pk_tables(data, agent)
        if tables.conc.empty:
            return Finding(unavailable=f"no {missing} have been imported")
        return tables, run(tables)
    except InputError as exc:
        return _refused(exc)


def _profile_figure(points: pd.DataFrame, unit: str, title: str) -> str:
    from phaseone.pk.plots import plot_profiles

    return figure_uri(plot_profiles(points, scale="log", conc_unit=unit, title=title))


@analysis("pk-lenalidomide")
def pk_lenalidomide(data: StudyData) -> Finding:
    import pandas as pd

    from phaseone.workflow.trial_pk import lenalidomide_from

    found = _pk_run(data, "lenalidomide", "lenalidomide concentrations", lenalidomide_from)
    if isinstance(found, Finding):
        return found
    tables, pk = found
    power = pd.DataFrame([{"exposure": code, **model.as_dict()}
                          for code, model in pk.proportionality.items()])
    return Finding(
        ("Course 1 day 1 single-dose parameters; doses as given. Dose proportionality by the "
         "power model ln(exposure) = a + b ln(dose) (b = 1: proportional), with its 90% "
         "interval; with few patients per level it is descriptive.",),
        (
            Table("Lenalidomide NCA parameters, course 1 day 1", _rounded(pk.nca.summary()),
                  PK_SOURCE, figure=_profile_figure(pk.nca.lambda_z_points, tables.conc_unit,
                                                    "Lenalidomide, course 1 day 1")),
            Table("Lenalidomide exposure by dose level (geometric means, per mg dose-normalised)",
                  _rounded(pk.by_level), PK_SOURCE + "; dose level from courses"),
            Table("Lenalidomide dose proportionality (power model)", _rounded(power, 4),
                  PK_SOURCE),
        ),
    )


@analysis("pk-isotretinoin")
def pk_isotretinoin(data: StudyData) -> Finding:
    from phaseone.workflow.trial_pk import isotretinoin_from

    days = data.protocol.course.length_days
    found = _pk_run(data, "isotretinoin", "isotretinoin concentrations",
                    lambda t: isotretinoin_from(t, days))
    if isinstance(found, Finding):
        return found
    tables, result = found
    return Finding(
        ("Steady state on day 28 of course 1: parameters over the dosing interval.",),
        (Table("Isotretinoin steady-state NCA parameters", _rounded(result.summary()),
               PK_SOURCE, figure=_profile_figure(result.lambda_z_points, tables.conc_unit,
                                                 "Isotretinoin, day 28")),),
    )


@analysis("pk-dinutuximab")
def pk_dinutuximab(data: StudyData) -> Finding:
    from phaseone.workflow.trial_pk import dinutuximab_from

    days = data.protocol.course.length_days
    found = _pk_run(data, "dinutuximab", "dinutuximab peak or trough levels",
                    lambda t: dinutuximab_from(t, days))
    if isinstance(found, Finding):
        return found
    _, pt = found
    return Finding(
        ("Peak at the end of the day-11 infusion and trough before the next course, beside "
         "the historical comparators stored with the PK engine.",),
        (
            Table("Dinutuximab peak and trough by patient and course", _rounded(pt.per_course),
                  PK_SOURCE),
            Table("Dinutuximab peak and trough beside the historical comparators",
                  _rounded(pt.comparison), PK_SOURCE + "; comparators from phaseone.pk data"),
        ),
    )


# --- HACA, genotypes, TLDA --------------------------------------------------------------


@analysis("haca")
def haca(data: StudyData) -> Finding:
    from phaseone.correlatives import api
    from phaseone.workflow.correlative_data import HACA_ANALYTE, TROUGH, haca_results

    rows = haca_results(_records(data), data.protocol)
    if not any(m.analyte == HACA_ANALYTE for m in rows):
        return Finding(unavailable="no HACA titres have been imported")
    troughs = TROUGH if any(m.analyte == TROUGH for m in rows) else None
    try:
        report = api.haca(rows, data.protocol, HACA_ANALYTE, troughs)
    except InputError as exc:
        return _refused(exc)
    tables = [Table("HACA status by patient", report.patients, RESULTS_SOURCE,
                    figure=figure_uri(report.titre_plot()))]
    if not report.troughs.empty:
        tables.append(Table("Dinutuximab trough, first and last, by HACA status",
                            _rounded(report.troughs), RESULTS_SOURCE))
    return Finding(report.notes, tuple(tables))


@analysis("kir-fcgr")
def kir_fcgr(data: StudyData) -> Finding:
    from phaseone.correlatives import api
    from phaseone.workflow.correlative_data import evaluated, fcgr_calls, kir_calls

    found = _records(data)
    kir_rows, fcgr_rows = kir_calls(found), fcgr_calls(found)
    if not kir_rows and not fcgr_rows:
        return Finding(unavailable="no HLA, KIR or Fc gamma receptor genotypes have been "
                       "imported")
    people = evaluated(found)
    responders = tuple(data.protocol.response.responders)
    by_response = RESULTS_SOURCE + "; best overall responses from the disease evaluations"
    notes: list[str] = []
    tables: list[Table] = []
    try:
        if kir_rows:
            kir = api.kir(kir_rows, people, responders)
            tables.append(Table("KIR ligands and missing-ligand status by patient",
                                kir.patients.drop(columns=["alleles"], errors="ignore"),
                                RESULTS_SOURCE + "; ligands from the versioned allele table"))
            if kir.association is not None:
                tables.append(Table("KIR status and response", kir.association, by_response))
            notes += kir.notes
        if fcgr_rows:
            fcgr = api.fcgr(fcgr_rows, people, responders)
            tables.append(Table("Fc gamma receptor genotypes by patient", fcgr.patients,
                                RESULTS_SOURCE))
            if fcgr.association is not None:
                tables.append(Table("Fc gamma receptor genotype and response",
                                    fcgr.association, by_response))
            notes += fcgr.notes
    except InputError as exc:
        return _refused(exc)
    if people is None:
        notes.append("The association with response is given once best responses are "
                     "evaluated.")
    return Finding(tuple(dict.fromkeys(notes)), tuple(tables))


@analysis("tlda")
def tlda(data: StudyData) -> Finding:
    from phaseone.correlatives import api
    from phaseone.workflow.correlative_data import tlda_results

    rows = tlda_results(_records(data), data.protocol)
    if not rows:
        return Finding(unavailable="no TLDA tumour-load results have been imported")
    try:
        report = api.tlda(rows, data.protocol)
    except InputError as exc:
        return _refused(exc)
    return Finding(report.notes, (
        Table("NB5 TLDA tumour load by specimen (ΔCt; lower = more tumour)",
              _rounded(report.specimens), RESULTS_SOURCE,
              figure=figure_uri(report.delta_ct_plot())),))
