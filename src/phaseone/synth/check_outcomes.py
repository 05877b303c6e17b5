"""Checks of the whole for the outcomes: the report's and the exports' numbers against the
engines' answers recomputed from the exports alone (outside the service).

- Responses: each subject's best overall response recomputed by the response engine's rule
  (`phaseone.response.best_response`) from the per-evaluation overall responses of SDTM RS,
  against ADaM ADRS BOR; the rates per dose level recomputed from them
  (`response_rates`, exact intervals) against the report's "Response rate by dose level".
- EFS: the Kaplan-Meier median recomputed (`phaseone.outcomes.km`) from ADaM ADTTE, against
  the report's event-free survival table and the service's `GET /survival`.
- NCA: lenalidomide course-1 parameters recomputed (`phaseone.pk`) from SDTM PC (the time of
  each sample after its dose's clock time, PCRFTDTC) and the dose in SDTM EX, against SDTM
  PP and the report's "Lenalidomide NCA parameters" summary.
- Evaluations: each evaluation's computed overall response (`GET /patients/{id}/evaluations`)
  against the one the driver built it to show.

Each returns the disagreements found and how many values it compared (kept in
`result.compared`); finding nothing to compare is itself a disagreement, so a check cannot
pass by comparing nothing.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from phaseone.synth.virtual_trial import VirtualTrial

REL = 1e-6  # the same engine on the same numbers
SHOWN = 1e-5  # numbers as the report's HTML shows them (six decimals at most)
PROTOCOL = "nant-2011-04"


def _protocol() -> Any:
    from phaseone.protocol.catalog import resolve_protocol

    return resolve_protocol(PROTOCOL)


def _close(a: Any, b: Any, tol: float = REL) -> bool:
    """Equal numbers (both missing counts as equal; text cells read as numbers)."""

    def number(x: Any) -> float:
        if x is None or (isinstance(x, str) and x.strip() in ("", "None", "nan")):
            return math.nan
        return float(x)

    x, y = number(a), number(b)
    if math.isnan(x) or math.isnan(y) or math.isinf(x) or math.isinf(y):
        return (math.isnan(x) or math.isinf(x)) and (math.isnan(y) or math.isinf(y))
    return math.isclose(x, y, rel_tol=tol, abs_tol=tol)


# --- responses ----------------------------------------------------------------------------


Outcome = tuple[list[str], int]  # (disagreements, values compared)


def responses(rs: pd.DataFrame | None, adrs: pd.DataFrame | None,
              report: dict[str, pd.DataFrame]) -> Outcome:  # fmt: skip
    from phaseone.response import criteria_for, response_rates
    from phaseone.response.inrc import EvaluationResponse, Overall, PatientResponse, best_response

    if adrs is None or rs is None:
        return ["the exports have no RS or no ADRS"], 0
    protocol = _protocol()
    rules = criteria_for(protocol.response.criteria, protocol.response.params)
    bor = adrs[adrs["PARAMCD"] == "BOR"]
    overall = rs[(rs["RSTESTCD"] == "OVRLRESP") & (rs["RSEVAL"] == "COMPUTED")]
    problems: list[str] = []
    compared = 0
    found: list[PatientResponse] = []
    for row in bor.to_dict("records"):
        subject = str(row["USUBJID"])
        mine = overall[overall["USUBJID"] == subject].sort_values(["RSDTC", "RSSEQ"])
        results = tuple(
            EvaluationResponse(subject, dt.date.fromisoformat(str(r["RSDTC"])[:10]), None,
                               "scheduled", int(r["RSDY"]), (),
                               Overall(str(r["RSSTRESC"]), "", ""))  # type: ignore[arg-type]
            for r in mine.to_dict("records")
        )  # fmt: skip
        best, reason, when = best_response(results, rules)
        compared += 1
        if best != row["AVALC"]:
            problems.append(f"{subject}: best response {best} from RS, {row['AVALC']} in ADRS")
        found.append(PatientResponse(subject, int(row["TRTAN"]), rules.id, results, best, reason,
                                     when))  # fmt: skip
    if not found:
        return ["no best overall response in ADRS to recompute"], 0
    table = report.get("Response rate by dose level")
    if table is None:
        return [*problems, "the report has no table 'Response rate by dose level'"], compared
    shown = {str(r["dose_level"]): r for r in table.to_dict("records")}
    for rate in response_rates(found, tuple(protocol.response.responders)):
        key = "all" if rate.dose_level is None else str(rate.dose_level)
        cells = shown.get(key)
        if cells is None:
            problems.append(f"response rate, level {key}: not in the report")
            continue
        for name, mine_value in (("responders", rate.responders), ("evaluable", rate.evaluable),
                                 ("rate", rate.rate), ("ci_lower", rate.lower),
                                 ("ci_upper", rate.upper)):  # fmt: skip
            compared += 1
            if not _close(mine_value, cells[name], SHOWN):
                problems.append(f"response rate, level {key}, {name}: recomputed {mine_value}, "
                                f"the report {cells[name]}")  # fmt: skip
    if len(shown) != len(response_rates(found, tuple(protocol.response.responders))):
        problems.append(f"the report's response-rate table has {len(shown)} rows")
    return problems, compared


# --- event-free survival ------------------------------------------------------------------

EFS_TABLE = "Event-free survival by Kaplan-Meier (times in days)"


def efs(adtte: pd.DataFrame | None, report: dict[str, pd.DataFrame],
        served: dict[str, Any]) -> Outcome:  # fmt: skip
    from phaseone.outcomes.km import kaplan_meier

    if adtte is None:
        return ["the ADaM export has no ADTTE"], 0
    rows = adtte[adtte["PARAMCD"] == "EFS"]
    if rows.empty:
        return ["ADTTE has no EFS record"], 0
    km = kaplan_meier(rows["AVAL"].astype(float).to_list(),
                      (rows["CNSR"].astype(float) == 0).to_numpy())  # fmt: skip
    mine = {"n": km.n, "events": km.events, "median_days": km.median}
    problems: list[str] = []
    compared = 0
    table = report.get(EFS_TABLE)
    if table is None:
        problems.append(f"the report has no table '{EFS_TABLE}'")
    else:
        first = table.to_dict("records")[0]
        for name, value in mine.items():
            compared += 1
            if not _close(value, first[name], SHOWN):
                problems.append(f"EFS {name}: recomputed {value}, the report {first[name]}")
    efs_served = (served.get("efs") or {}).get("summary") or [{}]
    for name, value in mine.items():
        compared += 1
        if not _close(value, efs_served[0].get(name)):
            problems.append(f"EFS {name}: recomputed {value}, GET /survival "
                            f"{efs_served[0].get(name)}")  # fmt: skip
    return problems, compared


# --- NCA from the tabulations -------------------------------------------------------------

NCA_TABLE = "Lenalidomide NCA parameters, course 1 day 1"


def nca_from_pc(pc: pd.DataFrame | None, ex: pd.DataFrame | None, pp: pd.DataFrame | None,
                report: dict[str, pd.DataFrame]) -> Outcome:  # fmt: skip
    from phaseone.pk import read_concentrations, read_doses
    from phaseone.pk.nca import run_nca
    from phaseone.pk.summary import summarise

    if pc is None or ex is None or pp is None:
        return ["the SDTM export lacks PC, EX or PP"], 0
    conc = pc[(pc["PCTESTCD"] == "LENALID") | pc["PCTEST"].str.upper().str.contains("LENALID")]
    conc = conc[(conc["VISITNUM"] == 1) & (conc["PCSTAT"] != "NOT DONE")]
    conc = conc[conc["PCRFTDTC"].astype(str).str.len() > 0]
    if conc.empty:
        return ["no lenalidomide concentration with its dose's clock time in PC"], 0
    dosed = pd.to_datetime(conc["PCRFTDTC"])
    hours = (pd.to_datetime(conc["PCDTC"]) - dosed).dt.total_seconds() / 3600
    conc_frame = pd.DataFrame({"subject": conc["USUBJID"], "time": hours,
                               "conc": conc["PCSTRESN"].astype(float),
                               "analyte": "lenalidomide"})  # fmt: skip
    given = ex[(ex["EXTRT"] == "LENALIDOMIDE") & (ex["EXDOSE"].fillna(0) > 0)]
    doses: list[dict[str, Any]] = []
    for subject, at in zip(conc["USUBJID"], conc["PCRFTDTC"], strict=True):
        if any(d["subject"] == subject for d in doses):
            continue
        same_day = given[(given["USUBJID"] == subject)
                         & (given["EXSTDTC"].astype(str).str[:10] == str(at)[:10])]  # fmt: skip
        if same_day.empty:
            return [f"{subject}: no lenalidomide dose in EX on {str(at)[:10]}"], 0
        doses.append({"subject": subject, "time": 0.0, "dose": float(same_day["EXDOSE"].iloc[0]),
                      "route": "extravascular", "duration": 0.0,
                      "analyte": "lenalidomide"})  # fmt: skip
    expected = run_nca(
        read_concentrations(conc_frame, analyte="analyte", conc_unit="ng/mL"),
        read_doses(pd.DataFrame(doses), analyte="analyte"),
    ).parameters
    problems: list[str] = []
    mine_pp = pp[pp["PPCAT"] == "LENALIDOMIDE"]
    compared = 0
    for p in expected.to_dict("records"):
        theirs = mine_pp[(mine_pp["USUBJID"] == p["subject"])
                         & (mine_pp["PPTESTCD"] == p["PPTESTCD"])]  # fmt: skip
        if theirs.empty:
            problems.append(f"{p['subject']} {p['PPTESTCD']}: recomputed, not in PP")
            continue
        compared += 1
        if not _close(p["value"], theirs["PPSTRESN"].iloc[0]):
            problems.append(f"{p['subject']} {p['PPTESTCD']}: recomputed {p['value']}, "
                            f"PP {theirs['PPSTRESN'].iloc[0]}")  # fmt: skip
    if not compared:
        problems.append("no lenalidomide parameter in both the recomputation and PP")
    table = report.get(NCA_TABLE)
    if table is None:
        return [*problems, f"the report has no table '{NCA_TABLE}'"], compared
    shown = {str(r["PPTESTCD"]): r for r in table.to_dict("records")}
    for row in summarise(expected).round(3).to_dict("records"):
        other = shown.get(str(row["PPTESTCD"]))
        if other is None:
            problems.append(f"{row['PPTESTCD']}: summarised, not in the report's NCA table")
            continue
        for name in ("n", "center"):
            compared += 1
            if not _close(row[name], other[name], SHOWN):
                problems.append(f"NCA summary {row['PPTESTCD']} {name}: recomputed "
                                f"{row[name]}, the report {other[name]}")  # fmt: skip
    return problems, compared


# --- evaluations as built -----------------------------------------------------------------


def evaluations_as_built(vt: VirtualTrial) -> Outcome:
    problems: list[str] = []
    compared = 0
    patients = sorted({pid for pid, _ in vt.intended})
    for pid in patients:
        shown = vt.users["chair"].call("GET", f"/patients/{pid}/evaluations")
        for row in shown["evaluations"]:
            wanted = vt.intended.get((pid, str(row["date"])[:10]))
            if row["kind"] == "baseline" or wanted is None:
                continue
            compared += 1
            if row["overall"] != wanted:
                problems.append(f"patient {pid} on {row['date']}: built to show {wanted}, "
                                f"computed {row['overall']} ({row['overall_reason']})")  # fmt: skip
    if not compared:
        problems.append("no evaluation after baseline to compare")
    return problems, compared
