"""ADaM datasets (ADSL, ADAE, ADRS, ADTTE, ADPP) derived from phaseone's SDTM datasets.

ADaM is derived from SDTM, never from the store directly, so an analysis dataset can always be
traced to its tabulation. The best overall response (ADRS BOR) and the time-to-event records
(ADTTE) come from the same snapshot through the engines that own their rules (the response
engine's best response; the survival engine's endpoint, event and censoring rules). The one
convention no public source fixes for this trial (the treatment-emergent window) is data
marked assumed (data/adam.yaml).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from phaseone.exports.metadata import adam, adam_parameters
from phaseone.exports.snapshot import Snapshot

if TYPE_CHECKING:
    import pandas as pd

SAS_EPOCH = dt.date(1960, 1, 1)


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): v for k, v in row.items()} for row in frame.to_dict("records")]


def sas_date(text: str | None) -> float | None:
    """An ISO 8601 date as a SAS date: days since 1960-01-01."""
    if not text:
        return None
    return float((dt.date.fromisoformat(text[:10]) - SAS_EPOCH).days)


def _frame(name: str, rows: list[dict[str, Any]]) -> pd.DataFrame:
    import pandas as pd

    definition = adam().domains[name]
    frame = pd.DataFrame.from_records(
        [[r.get(c) for c in definition.names] for r in rows], columns=list(definition.names)
    )
    for var in definition.variables:
        if var.type == "num":
            frame[var.name] = pd.to_numeric(frame[var.name]).astype("float64")
    return frame


def _level(armcd: str | None) -> float | None:
    """DL2 -> 2, DLM1 -> -1 (the dose level in an arm code)."""
    if not armcd:
        return None
    if armcd.startswith("DLM"):
        return -float(armcd[3:])
    return float(armcd[2:])


def adsl(sdtm: dict[str, pd.DataFrame], snapshot: Snapshot) -> pd.DataFrame:
    dm, ds, sv = sdtm["DM"], sdtm["DS"], sdtm["SV"]
    evaluable = _dlt_evaluable(snapshot, dm)
    courses = sv[sv.VISITNUM > 0].groupby("USUBJID").size().to_dict()
    ended = {
        r["USUBJID"]: r["DSDECOD"]
        for r in _records(ds[(ds.DSCAT == "DISPOSITION EVENT") & (ds.EPOCH == "TREATMENT")])
    }
    rows = []
    for r in _records(dm):
        start, end = sas_date(r["RFXSTDTC"]), sas_date(r["RFXENDTC"])
        reason = ended.get(r["USUBJID"])
        if reason is None:
            status = "ONGOING" if start is not None else ""
        else:
            status = "COMPLETED" if reason == "COMPLETED" else "DISCONTINUED"
        rows.append(
            {
                "STUDYID": r["STUDYID"],
                "USUBJID": r["USUBJID"],
                "SUBJID": r["SUBJID"],
                "SITEID": r["SITEID"],
                "AGE": r["AGE"],
                "AGEU": r["AGEU"],
                "SEX": r["SEX"],
                "COUNTRY": r["COUNTRY"],
                "ARM": r["ARM"],
                "ACTARM": r["ACTARM"],
                "TRT01P": r["ARM"],
                "TRT01PN": _level(r["ARMCD"]),
                "TRT01A": r["ACTARM"],
                "TRT01AN": _level(r["ACTARMCD"]),
                "TRTSDT": start,
                "TRTEDT": end,
                "TRTDURD": None if start is None or end is None else end - start + 1,
                "NCOURSE": float(courses.get(r["USUBJID"], 0)),
                "ENRLFL": "Y" if r["ARMCD"] else "N",
                "SAFFL": "Y" if start is not None else "N",
                "DLTEVLFL": evaluable.get(r["USUBJID"], ""),
                "EOTSTT": status,
                "DCTREAS": reason if status == "DISCONTINUED" else "",
                "DTHFL": r["DTHFL"],
                "DTHDT": sas_date(r["DTHDTC"]),
            }
        )
    return _frame("ADSL", rows)


def _dlt_evaluable(snapshot: Snapshot, dm: pd.DataFrame) -> dict[str, str]:
    """Y or N from the latest DLT determination of each patient; blank while none is made."""
    codes = dict(zip(dm.SUBJID, dm.USUBJID, strict=True))
    by_patient = {p["id"]: codes[p["subject_code"]] for p in snapshot.rows("patients")}
    latest: dict[str, dict[str, Any]] = {}
    for det in sorted(snapshot.rows("dlt_determinations"), key=lambda d: d["id"]):
        latest[by_patient[det["patient_id"]]] = det
    return {subject: "Y" if det["evaluable"] else "N" for subject, det in latest.items()}


def adae(sdtm: dict[str, pd.DataFrame], adsl_frame: pd.DataFrame) -> pd.DataFrame:
    import pandas as pd

    ae, supp = sdtm["AE"], sdtm["SUPPAE"]
    window = float(adam_parameters()["treatment_emergent_days"]["value"])
    dlt = {
        (r["USUBJID"], r["IDVARVAL"])
        for r in _records(supp)
        if r["QNAM"] == "AEDLT" and r["QVAL"] == "Y"
    }
    subjects = {row["USUBJID"]: row for row in _records(adsl_frame)}
    rows = []
    for r in _records(ae):
        subject = subjects[r["USUBJID"]]
        start, end = sas_date(r["AESTDTC"]), sas_date(r["AEENDTC"])
        dosed = not pd.isna(subject["TRTSDT"])
        emergent = (
            start is not None and dosed and subject["TRTSDT"] <= start <= subject["TRTEDT"] + window
        )
        rows.append(
            {
                "STUDYID": r["STUDYID"],
                "USUBJID": r["USUBJID"],
                "SITEID": subject["SITEID"],
                "AESEQ": r["AESEQ"],
                "TRTA": subject["TRT01A"],
                "TRTAN": subject["TRT01AN"],
                "AETERM": r["AETERM"],
                "AEDECOD": r["AEDECOD"],
                "AEBODSYS": r["AEBODSYS"],
                "AESER": r["AESER"],
                "AEREL": r["AEREL"],
                "AETOXGR": r["AETOXGR"],
                "ATOXGRN": float(r["AETOXGR"]) if r["AETOXGR"] else None,
                "ASTDT": start,
                "AENDT": end,
                "ASTDY": r["AESTDY"],
                "AENDY": r["AEENDY"],
                "AVISITN": r["VISITNUM"],
                "TRTEMFL": "Y" if emergent else "",
                "DLTFL": "Y" if (r["USUBJID"], str(int(r["AESEQ"]))) in dlt else "",
            }
        )
    _occurrence_flags(rows)
    return _frame("ADAE", rows)


def _occurrence_flags(rows: list[dict[str, Any]]) -> None:
    """First occurrence, and the worst grade (earliest on a tie), of each term per subject,
    among treatment-emergent events."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in rows:
        if row["TRTEMFL"] == "Y":
            groups.setdefault((row["USUBJID"], row["AEDECOD"]), []).append(row)
    for row in rows:
        row["AOCCPFL"] = row["WGRPTFL"] = ""
    for events in groups.values():
        ordered = sorted(events, key=lambda e: (e["ASTDT"], e["AESEQ"]))
        ordered[0]["AOCCPFL"] = "Y"
        worst = max(ordered, key=lambda e: (e["ATOXGRN"] or 0, -ordered.index(e)))
        worst["WGRPTFL"] = "Y"


def adrs(sdtm: dict[str, pd.DataFrame], adsl_frame: pd.DataFrame,
         snapshot: Snapshot) -> pd.DataFrame:
    """Component and overall responses per evaluation from RS (the engine's computed ones;
    ANL01FL on the overall), and each subject's best overall response (BOR) as the
    response engine takes it, with its date."""
    from phaseone.workflow.evaluations import responses_from_rows

    subjects = {row["USUBJID"]: row for row in _records(adsl_frame)}
    rows = []
    for r in _records(sdtm["RS"]):
        if r["RSEVAL"] != "COMPUTED":
            continue
        subject = subjects[r["USUBJID"]]
        rows.append(
            {
                "STUDYID": r["STUDYID"],
                "USUBJID": r["USUBJID"],
                "SITEID": subject["SITEID"],
                "TRTA": subject["TRT01A"],
                "TRTAN": subject["TRT01AN"],
                "PARAMCD": r["RSTESTCD"],
                "PARAM": r["RSTEST"],
                "PARCAT1": r["RSCAT"],
                "AVALC": r["RSSTRESC"],
                "ADT": sas_date(r["RSDTC"]),
                "ADY": r["RSDY"],
                "AVISIT": r["VISIT"],
                "SRCDOM": "RS",
                "SRCSEQ": r["RSSEQ"],
                "ANL01FL": "Y" if r["RSTESTCD"] == "OVRLRESP" else "",
            }
        )
    codes = {row["SUBJID"]: row["USUBJID"] for row in _records(adsl_frame)}
    for _, result in responses_from_rows(snapshot.protocol, snapshot.tables):
        usubjid = codes.get(result.patient_id)
        if usubjid is None:
            continue
        subject = subjects[usubjid]
        rows.append(
            {
                "STUDYID": subject["STUDYID"],
                "USUBJID": usubjid,
                "SITEID": subject["SITEID"],
                "TRTA": subject["TRT01A"],
                "TRTAN": subject["TRT01AN"],
                "PARAMCD": "BOR",
                "PARAM": "Best Overall Response",
                "PARCAT1": result.criteria,
                "AVALC": result.best,
                "ADT": sas_date(result.best_date.isoformat()) if result.best_date else None,
                "ADY": None,
                "AVISIT": "",
                "SRCDOM": "",
                "SRCSEQ": None,
                "ANL01FL": "Y",
            }
        )
    rows.sort(key=lambda r: (r["USUBJID"], r["PARAMCD"] == "BOR", r["ADT"] or 0.0))
    return _frame("ADRS", rows)


def adtte(adsl_frame: pd.DataFrame, snapshot: Snapshot) -> pd.DataFrame:
    """One record per subject per survival endpoint of the protocol (EFS, OS): time in
    days from the endpoint's origin, CNSR 0 for an event, 1 or 2 for a censoring, from
    the follow-up the trial service gathers and the survival engine's endpoint rules."""
    from phaseone.outcomes import times_to_event
    from phaseone.workflow.followup import records_from_rows

    settings = snapshot.protocol.survival
    subjects = {row["SUBJID"]: row for row in _records(adsl_frame)}
    found = [r for _, r in records_from_rows(snapshot.protocol, snapshot.tables)]
    rows = []
    for endpoint in settings.endpoints if settings else ():
        for t in times_to_event(found, endpoint):
            subject = subjects.get(t.patient_id)
            if subject is None or t.days is None:
                continue
            rows.append(
                {
                    "STUDYID": subject["STUDYID"],
                    "USUBJID": subject["USUBJID"],
                    "SITEID": subject["SITEID"],
                    "TRTA": subject["TRT01A"],
                    "TRTAN": subject["TRT01AN"],
                    "PARAMCD": endpoint.id.upper(),
                    "PARAM": endpoint.name,
                    "AVAL": float(t.days),
                    "AVALU": "DAYS",
                    "STARTDT": sas_date(t.origin.isoformat()) if t.origin else None,
                    "ADT": sas_date(t.end.isoformat()) if t.end else None,
                    "CNSR": float(t.cnsr) if t.cnsr is not None else None,
                    "EVNTDESC": t.description.upper(),
                    "STRAT1": t.stratum.upper(),
                }
            )
    rows.sort(key=lambda r: (r["USUBJID"], r["PARAMCD"]))
    return _frame("ADTTE", rows)


def adpp(sdtm: dict[str, pd.DataFrame], adsl_frame: pd.DataFrame) -> pd.DataFrame:
    """PK parameters for analysis: one row per PP record, with the actual treatment;
    ANL01FL marks the parameters that were calculated."""
    subjects = {row["USUBJID"]: row for row in _records(adsl_frame)}
    rows = []
    for r in _records(sdtm["PP"]):
        subject = subjects[r["USUBJID"]]
        value = r["PPSTRESN"]
        unit = f" ({r['PPSTRESU']})" if r["PPSTRESU"] else ""
        rows.append({
            "STUDYID": r["STUDYID"], "USUBJID": r["USUBJID"], "SITEID": subject["SITEID"],
            "PPSEQ": r["PPSEQ"], "TRTA": subject["TRT01A"], "TRTAN": subject["TRT01AN"],
            "PARCAT1": r["PPCAT"], "PARAMCD": r["PPTESTCD"], "PARAM": f"{r['PPTEST']}{unit}",
            "AVAL": value, "AVISITN": r["VISITNUM"], "PPSPEC": r["PPSPEC"],
            "ANL01FL": "" if value is None or value != value else "Y",
        })
    return _frame("ADPP", rows)


def build(sdtm: dict[str, pd.DataFrame], snapshot: Snapshot) -> dict[str, pd.DataFrame]:
    subject_level = adsl(sdtm, snapshot)
    return {
        "ADSL": subject_level,
        "ADAE": adae(sdtm, subject_level),
        "ADRS": adrs(sdtm, subject_level, snapshot),
        "ADTTE": adtte(subject_level, snapshot),
        "ADPP": adpp(sdtm, subject_level),
    }
