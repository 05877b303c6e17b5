"""ADaM datasets (ADSL, ADAE, ADPP) derived from phaseone's SDTM datasets.

ADaM is derived from SDTM, never from the store directly, so an analysis dataset can always be
traced to its tabulation. The one convention no public source fixes for this trial (the
treatment-emergent window) is data marked assumed (data/adam.yaml).
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
    return {"ADSL": subject_level, "ADAE": adae(sdtm, subject_level),
            "ADPP": adpp(sdtm, subject_level)}
