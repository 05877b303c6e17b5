"""The study report and every export, downloaded as the chair would and saved; then the
checks that compare them with the engines' answers recomputed outside the service.

- DLTs per dose level: the SDTM export (DM, SUPPAE) against the determinations the chair
  signed (in `VirtualTrial.step_checks`), and the report's two tables of patients and DLTs
  per level against that export and the patients registered.
- NCA: lenalidomide course-1 parameters recomputed with the NCA engine (the same path as
  `phaseone nca`) from the concentrations the driver sent to the core lab and the doses in
  the SDTM EX domain, against the service's `GET /pk/lenalidomide`.
- Dose intensity: mg given per patient, course and agent summed from SDTM EX, and the
  number of doses given as the driver recorded them, against `GET /dose-intensity`.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections import Counter
from typing import TYPE_CHECKING, Any

import pandas as pd

from phaseone.synth.virtual_trial import API, ServiceError, sdtm_domains

if TYPE_CHECKING:
    from phaseone.synth.virtual_trial import VirtualTrial

EXPORTS = ("sdtm", "adam", "odm", "fhir")
NCA_CODES = ("CMAX", "TMAX", "AUCLST", "AUCIFO", "LAMZHL")
TOLERANCE = 1e-6  # relative: the same engine on the same numbers


def step_outputs(vt: VirtualTrial) -> None:
    chair = vt.users["chair"].client
    wanted = [("report-html", "/reports/study?format=html", "study-report.html")]
    wanted += [(f, f"/exports/{f}", f"export-{f}.zip") for f in EXPORTS]
    for i, (key, path, name) in enumerate(wanted):
        vt.tick("outputs", i, len(wanted))
        response = chair.get(API + path)
        if response.status_code != 200:
            raise ServiceError(f"GET {path}: {response.status_code} {response.text[:300]}")
        vt.files[key] = response.content
        _save(vt, name, response.content)
    if vt.pdf:
        pdf = chair.get(API + "/reports/study?format=pdf")
        if pdf.status_code == 200:
            vt.files["report-pdf"] = pdf.content
            _save(vt, "study-report.pdf", pdf.content)
        else:  # the PDF needs WeasyPrint on the server; the HTML is the same report
            vt.say(f"study report PDF not available: {pdf.status_code} {pdf.text[:120]}")
    vt.tick("outputs", len(wanted), len(wanted))


def _save(vt: VirtualTrial, name: str, content: bytes) -> None:
    if vt.output is None:
        return
    vt.output.mkdir(parents=True, exist_ok=True)
    target = vt.output / name
    target.write_bytes(content)
    vt.result.outputs[name] = target


def check_whole(vt: VirtualTrial) -> None:
    """The checks beyond the audit chain, the ledger and the DLTs (results in
    `result.checks`: each name with the disagreements found)."""
    sdtm = vt.files.get("sdtm")
    if sdtm is None:
        return
    from phaseone.synth import check_outcomes as outcomes
    from phaseone.synth.report_tables import report_tables

    sd = sdtm_domains(sdtm, "ex", "rs", "pc", "pp")
    ex = sd.get("ex")
    found: dict[str, outcomes.Outcome] = {}
    if "report-html" in vt.files:
        found["report DLTs"] = _report_dlts(vt, vt.files["report-html"].decode())
    found["dose intensity"] = _dose_intensity(vt, ex)
    if getattr(vt, "pk_sent", None) is not None and not vt.pk_sent.empty:
        found["lenalidomide NCA"] = _nca(vt, ex)
    report = report_tables(vt.files["report-html"].decode()) if "report-html" in vt.files else {}
    adam = sdtm_domains(vt.files["adam"], "adrs", "adtte") if "adam" in vt.files else {}
    if vt.intended:
        found["evaluations as built"] = outcomes.evaluations_as_built(vt)
        found["response rate"] = outcomes.responses(sd.get("rs"), adam.get("adrs"), report)
        found["EFS median"] = outcomes.efs(
            adam.get("adtte"), report, vt.users["chair"].call("GET", "/survival")
        )
    if sd.get("pc") is not None:
        found["NCA from PC"] = outcomes.nca_from_pc(sd.get("pc"), ex, sd.get("pp"), report)
    for name, (problems, compared) in found.items():
        vt.result.checks[name] = problems
        vt.result.compared[name] = compared
    _save(vt, "checks.json", json.dumps(summary(vt), indent=2, default=str).encode())


def _report_dlts(vt: VirtualTrial, document: str) -> tuple[list[str], int]:
    """The report's patients and DLTs per level (its DLT table and the trial aggregate's)
    against the DLTs recomputed from the SDTM export and the patients the driver registered."""
    from phaseone.synth.report_tables import report_tables

    tables = report_tables(document)
    problems: list[str] = []
    compared = 0
    exported = vt.result.dlts_exported
    registered = {level: n for level, (n, _) in vt.result.per_level().items()}
    wanted = {
        "Dose-limiting toxicities by dose level": ("registered", "patients with a DLT"),
        "Patients and DLTs by dose level (the trial aggregate's count)": ("enrolled", "DLTs"),
    }
    for title, (count, dlts) in wanted.items():
        table = tables.get(title)
        if table is None:
            problems.append(f"the report has no table '{title}'")
            continue
        for row in table.to_dict(orient="records"):
            level = int(row["dose level"])
            compared += 2
            if int(row[dlts]) != exported.get(level, 0):
                problems.append(f"{title}, level {level}: {row[dlts]} DLTs in the report, "
                                f"{exported.get(level, 0)} in the SDTM export")  # fmt: skip
            if int(row[count]) != registered.get(level, 0):
                problems.append(f"{title}, level {level}: {row[count]} patients in the "
                                f"report, {registered.get(level, 0)} registered")  # fmt: skip
    return problems, compared


def _dose_intensity(vt: VirtualTrial, ex: pd.DataFrame | None) -> tuple[list[str], int]:
    served = vt.users["chair"].call("GET", "/dose-intensity")["items"]
    problems: list[str] = []
    if ex is None:
        return ["the SDTM export has no EX domain"], 0
    given = ex[ex["EXDOSE"].fillna(0) > 0]
    course = given["VISITNUM"] if "VISITNUM" in given else given.get("EXVISIT")
    if course is None:
        return ["EX has no VISITNUM to place a dose in its course"], 0
    grouped = given.assign(course=course.astype(int)).groupby(["USUBJID", "course", "EXTRT"])
    sums = {key: float(value) for key, value in grouped["EXDOSE"].sum().items()}
    by_code = {str(code).split("-")[-2] + "-" + str(code).split("-")[-1]: str(code)
               for code in ex["USUBJID"].unique()}  # fmt: skip
    code_of = {e.patient_id: e.patient.code for e in vt.result.enrolled}
    driver = Counter(
        (code_of[pid], course, agent) for (pid, course, agent, _day) in vt.dose_ids
    )
    compared = 0
    for row in served:
        subject = by_code.get(row["subject_code"])
        key = (subject, int(row["course"]), _treatment_name(row["agent_id"]))
        if subject is None or key not in sums:
            if row["given_mg"]:
                problems.append(f"{row['subject_code']} course {row['course']} "
                                f"{row['agent_id']}: not in EX")  # fmt: skip
            continue
        total = sums[key]
        compared += 1
        if not math.isclose(total, float(row["given_mg"]), rel_tol=1e-9, abs_tol=1e-6):
            problems.append(f"{row['subject_code']} course {row['course']} {row['agent_id']}: "
                            f"EX sums {total} mg, the service {row['given_mg']} mg")  # fmt: skip
        recorded = driver[(row["subject_code"], int(row["course"]), row["agent_id"])]
        if int(row["recorded_days"]) != recorded:
            problems.append(f"{row['subject_code']} course {row['course']} {row['agent_id']}: "
                            f"{recorded} doses entered, the service counts "
                            f"{row['recorded_days']}")  # fmt: skip
    if not compared:
        problems.append("no patient, course and agent in both EX and the service's table")
    return problems, compared


def _treatment_name(agent_id: str) -> str:
    return agent_id.upper()


def _nca(vt: VirtualTrial, ex: pd.DataFrame | None) -> tuple[list[str], int]:
    from phaseone.pk import read_concentrations, read_doses
    from phaseone.pk.nca import run_nca

    sent = vt.pk_sent[vt.pk_sent["assessment_id"] == "pk-lenalidomide"]
    doses = []
    for e in vt.result.enrolled:
        if e.patient.code not in set(sent["subject"]):
            continue
        view = vt.users["chair"].call("GET", f"/patients/{e.patient_id}/courses/1/doses")
        day1 = next(d for d in view["days"] if d["agent_id"] == "lenalidomide" and d["day"] == 1)
        doses.append({"subject": e.patient.code, "time": 8.0, "dose": day1["given_mg"],
                      "route": "extravascular", "duration": 0.0,
                      "analyte": "lenalidomide"})  # fmt: skip
    conc_frame = sent[["subject", "time", "conc", "analyte"]]
    dose_frame = pd.DataFrame(doses)
    _save(vt, "pk-lenalidomide-concentrations.csv", conc_frame.to_csv(index=False).encode())
    _save(vt, "pk-lenalidomide-doses.csv", dose_frame.to_csv(index=False).encode())
    expected = run_nca(
        read_concentrations(conc_frame, analyte="analyte", conc_unit="ng/mL"),
        read_doses(dose_frame, analyte="analyte"),
    ).parameters
    served = pd.DataFrame(vt.users["chair"].call("GET", "/pk/lenalidomide")["parameters"])
    problems: list[str] = []
    compared = 0
    if expected.empty:
        return ["no lenalidomide profile to recompute"], 0
    for code in NCA_CODES:
        mine = expected[expected["PPTESTCD"] == code].set_index("subject")["value"]
        theirs = served[served["PPTESTCD"] == code].set_index("subject")["value"]
        for subject, value in mine.items():
            other = theirs.get(subject)
            compared += 1
            if other is None or not _same(float(value), other):
                problems.append(f"{subject} {code}: recomputed {value}, served {other}")
    return problems, compared


def _same(a: float, b: Any) -> bool:
    if b is None:
        return math.isnan(a)
    b = float(b)
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return math.isclose(a, b, rel_tol=TOLERANCE, abs_tol=1e-9)


def summary(vt: VirtualTrial) -> dict[str, Any]:
    r = vt.result
    return {
        "seed": r.seed,
        "as_of": dt.date.isoformat(vt.clock.today()),
        "screened": r.screened,
        "screen_failures": r.screen_failures,
        "slot_requests": r.slot_requests,
        "waitlisted": r.waitlisted,
        "per_level": {str(k): {"patients": n, "dlts": d} for k, (n, d) in r.per_level().items()},
        "mtd": r.mtd,
        "decisions": r.decisions,
        "courses": r.courses,
        "delays": r.delays,
        "modifications": r.modifications,
        "off_treatment": dict(r.ended),
        "specimens": r.specimens,
        "follow_ups": r.follow_ups,
        "progressions": r.progressions,
        "results_imported": r.results_imported,
        "acknowledged": r.acknowledged,
        "missing": r.missing,
        "audit_verified": r.audit_verified,
        "dlts_signed": r.dlts_signed,
        "dlts_exported": r.dlts_exported,
        "checks": r.checks,
        "compared": r.compared,
        "evaluations": r.evaluations,
        "queries": r.queries,
        "corrections": r.corrections,
        "verified_forms": r.verified_forms,
        "casebooks_signed": r.casebooks_signed,
        "steps": [vars(s) for s in r.steps],
    }
