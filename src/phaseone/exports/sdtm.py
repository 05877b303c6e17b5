"""SDTM datasets (DM, EX, AE, SUPPAE, LB, PC, PP, IS, CP, GF, VS, DS, SV, RS, TU, TR, TS) built
from a snapshot of the trial.

Pure functions: a snapshot in, one pandas DataFrame per domain out, columns in the order the
dataset definitions give. Dates are ISO 8601 text; study days count from the first dose
(RFSTDTC) and skip day 0. A de-identified snapshot gives de-identified datasets: its dates
are already shifted per patient and its free text withheld.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from phaseone.errors import InputError, Problem
from phaseone.exports.metadata import sdtm, terminology
from phaseone.exports.snapshot import Row, Snapshot
from phaseone.safety.ranges import position

if TYPE_CHECKING:
    import pandas as pd

PHASES = {"PHASE1": "PHASE I TRIAL", "PHASE2": "PHASE II TRIAL", "PHASE3": "PHASE III TRIAL"}
# Strength of an attribution, weakest first: AEREL takes the strongest across the agents.
ATTRIBUTION_ORDER = ("unrelated", "unlikely", "possible", "probable", "definite")


def study_day(on: dt.date | None, reference: dt.date | None) -> int | None:
    """SDTM study day: day 1 is the reference date and there is no day 0."""
    if on is None or reference is None:
        return None
    delta = (on - reference).days
    return delta + 1 if delta >= 0 else delta


def iso(on: dt.date | None) -> str:
    return "" if on is None else on.isoformat()


def number_text(value: float | None) -> str:
    """A result as text without a trailing '.0' (1500.0 -> '1500', 0.25 -> '0.25')."""
    if value is None:
        return ""
    return format(value, ".10g")


@dataclass(frozen=True)
class Subject:
    """What every domain needs to know about one patient."""

    usubjid: str
    first_dose: dt.date | None
    last_dose: dt.date | None
    treatment_end: dt.date | None
    course_numbers: dict[int, int]  # course id -> course number

    def day(self, on: dt.date | None) -> int | None:
        return study_day(on, self.first_dose)

    def epoch(self, on: dt.date | None) -> str:
        if on is None:
            return ""
        if self.first_dose is None or on < self.first_dose:
            return "SCREENING"
        if self.treatment_end is not None and on > self.treatment_end:
            return "FOLLOW-UP"
        return "TREATMENT"

    def visit(self, course_id: int | None) -> int | None:
        return None if course_id is None else self.course_numbers.get(course_id)


class Builder:
    """Builds every domain from one snapshot; subjects are worked out once."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.snap = snapshot
        self.protocol = snapshot.protocol
        self.studyid = snapshot.protocol.id.upper()
        self.terms = terminology()
        self.patients = {p["id"]: p for p in snapshot.rows("patients")}
        doses = snapshot.by_patient("dose_administrations")
        courses = snapshot.by_patient("courses")
        ends = {e["patient_id"]: e for e in snapshot.rows("treatment_ends")}
        self.subjects: dict[int, Subject] = {}
        for pid, patient in self.patients.items():
            given = sorted(d["administered_on"] for d in doses.get(pid, []) if d["given"])
            end = ends.get(pid)
            self.subjects[pid] = Subject(
                usubjid=f"{self.studyid}-{patient['subject_code']}",
                first_dose=given[0] if given else None,
                last_dose=given[-1] if given else None,
                treatment_end=end["ended_on"] if end else None,
                course_numbers={c["id"]: c["number"] for c in courses.get(pid, [])},
            )

    # --- helpers --------------------------------------------------------------------

    def _frame(self, domain: str, rows: list[dict[str, Any]], seq: str | None) -> pd.DataFrame:
        import pandas as pd

        definition = sdtm().domains[domain]
        rows.sort(key=lambda r: tuple(str(r.get(k, "")) for k in definition.keys))
        if seq is not None:
            counters: dict[str, int] = {}
            for row in rows:
                counters[row["USUBJID"]] = counters.get(row["USUBJID"], 0) + 1
                row[seq] = counters[row["USUBJID"]]
        base = {"STUDYID": self.studyid, "DOMAIN": domain}
        columns = definition.names
        records = [{**base, **row} for row in rows]
        frame = pd.DataFrame.from_records(
            [[r.get(c) for c in columns] for r in records], columns=list(columns)
        )
        for var in definition.variables:
            if var.type == "num":
                frame[var.name] = pd.to_numeric(frame[var.name], errors="raise").astype("float64")
        return frame

    def _per_record(
        self, entity: str, make: Callable[[Subject, Row], dict[str, Any] | None]
    ) -> list[dict[str, Any]]:
        out = []
        for row in self.snap.rows(entity):
            made = make(self.subjects[row["patient_id"]], row)
            if made is not None:
                out.append(made)
        return out

    # --- domains --------------------------------------------------------------------

    def dm(self) -> pd.DataFrame:
        registrations = {r["patient_id"]: r for r in self.snap.rows("registrations")}
        courses = self.snap.by_patient("courses")
        deaths = {
            e["patient_id"]: e["event_date"]
            for e in self.snap.rows("clinical_events")
            if e["kind"] == "death"
        }
        off_study = {
            e["patient_id"]: e["event_date"]
            for e in self.snap.rows("clinical_events")
            if e["kind"] == "off_study"
        }
        rows = []
        for pid, patient in self.patients.items():
            subject = self.subjects[pid]
            reg = registrations.get(pid)
            first_course = min(courses.get(pid, []), key=lambda c: c["number"], default=None)
            age_on = patient["consent_date"] or (reg["registered_on"] if reg else None)
            row: dict[str, Any] = {
                "USUBJID": subject.usubjid,
                "SUBJID": patient["subject_code"],
                "RFSTDTC": iso(subject.first_dose),
                "RFENDTC": iso(off_study.get(pid) or subject.treatment_end or subject.last_dose),
                "RFXSTDTC": iso(subject.first_dose),
                "RFXENDTC": iso(subject.last_dose),
                "RFICDTC": iso(patient["consent_date"]),
                "DTHDTC": iso(deaths.get(pid)),
                "DTHFL": "Y" if pid in deaths else "",
                "SITEID": patient["site_id"],
                "BRTHDTC": iso(patient["birth_date"]),
                "AGE": _age(patient["birth_date"], age_on),
                "AGEU": "YEARS" if age_on is not None and patient["birth_date"] else "",
                "SEX": patient["sex"],
                "COUNTRY": self._country(patient["site_id"]),
            }
            row.update(self._arms(reg, first_course))
            rows.append(row)
        return self._frame("DM", rows, None)

    def _arms(self, reg: Row | None, first_course: Row | None) -> dict[str, str]:
        # SDTMIG 3.3: arm codes are null (blank text in XPT) when ARMNRS gives the reason.
        none = {"ARMCD": "", "ARM": "", "ACTARMCD": "", "ACTARM": ""}
        if reg is None:
            return {**none, "ARMNRS": "NOT ASSIGNED"}
        planned = self._arm(reg["dose_level"])
        arms = {"ARMCD": planned[0], "ARM": planned[1]}
        if first_course is None:
            return {**none, **arms, "ARMNRS": "ASSIGNED, NOT TREATED"}
        actual = self._arm(first_course["dose_level"])
        return {**arms, "ACTARMCD": actual[0], "ACTARM": actual[1], "ARMNRS": ""}

    def _arm(self, level_id: int) -> tuple[str, str]:
        level = self.protocol.dose_level(level_id)
        code = f"DL{level_id}" if level_id >= 0 else f"DLM{-level_id}"
        return code, level.label or f"Dose level {level_id}"

    def _country(self, site_id: str) -> str:
        name = self.snap.site_countries.get(site_id)
        code = self.terms["country"].get(name)
        if code is None:
            raise InputError(
                [Problem(f"sites.{site_id}.country", f"no ISO 3166 code known for {name!r}")]
            )
        return str(code)

    def ex(self) -> pd.DataFrame:
        agents = {a.id: a for a in self.protocol.agents}
        per_day = {s.agent: s.times_per_day for s in self.protocol.course.schedule}

        def make(subject: Subject, dose: Row) -> dict[str, Any] | None:
            if not dose["given"] or dose["given_dose"] is None:
                return None  # EX holds what was given; a dose not taken is not exposure
            agent = agents[dose["agent_id"]]
            form = agent.formulations[0].form if agent.formulations else None
            on = dose["administered_on"]
            return {
                "USUBJID": subject.usubjid,
                "EXTRT": agent.name.upper(),
                "EXDOSE": dose["given_dose"],
                "EXDOSU": dose["unit"],
                "EXDOSFRM": self.terms["dose_form"].get(form, ""),
                "EXDOSFRQ": self.terms["frequency"].get(per_day.get(agent.id, 1), ""),
                "EXROUTE": self.terms["route"][agent.route],
                "EXADJ": dose["adjustment_reason"] or "",
                "EPOCH": subject.epoch(on),
                "VISITNUM": subject.visit(dose["course_id"]),
                "EXSTDTC": iso(on),
                "EXENDTC": iso(on),
                "EXSTDY": subject.day(on),
                "EXENDY": subject.day(on),
            }

        return self._frame("EX", self._per_record("dose_administrations", make), "EXSEQ")

    def ae(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        dlt_events = {
            d["adverse_event_id"]
            for d in self.snap.rows("dlt_determinations")
            if d["is_dlt"] and d["adverse_event_id"] is not None
        }

        def make(subject: Subject, ae: Row) -> dict[str, Any]:
            detail = ae["grading_detail"] or {}
            return {
                "USUBJID": subject.usubjid,
                "AESPID": str(ae["id"]),
                # The verbatim term is free text, withheld from de-identified copies; the
                # CTCAE term stands in for it there.
                "AETERM": ae["term_verbatim"] or ae["meddra_term"] or "",
                "AELLT": ae["meddra_term"] or "",
                "AELLTCD": float(ae["meddra_code"]) if ae["meddra_code"] else None,
                "AEDECOD": ae["meddra_term"] or "",
                "AEBODSYS": detail.get("soc", ""),
                "AESER": "Y" if ae["serious"] else "N",
                "AEREL": self._relation(ae["attribution"] or {}),
                "AETOXGR": str(ae["grade"]),
                "EPOCH": subject.epoch(ae["onset_date"]),
                "VISITNUM": subject.visit(ae["course_id"]),
                "AESTDTC": iso(ae["onset_date"]),
                "AEENDTC": iso(ae["resolved_date"]),
                "AESTDY": subject.day(ae["onset_date"]),
                "AEENDY": subject.day(ae["resolved_date"]),
            }

        rows = self._per_record("adverse_events", make)
        ae = self._frame("AE", rows, "AESEQ")  # numbers each row's AESEQ in place
        supp = [
            {
                "RDOMAIN": "AE",
                "USUBJID": row["USUBJID"],
                "IDVAR": "AESEQ",
                "IDVARVAL": str(row["AESEQ"]),
                "QNAM": "AEDLT",
                "QLABEL": "Dose-Limiting Toxicity",
                "QVAL": "Y",
                "QORIG": "Assigned",
                "QEVAL": "STUDY CHAIR",
            }
            for row in rows
            if int(row["AESPID"]) in dlt_events
        ]
        return ae, self._frame("SUPPAE", supp, None)

    def _relation(self, attribution: dict[str, str]) -> str:
        if not attribution:
            return ""
        strongest = max(attribution.values(), key=ATTRIBUTION_ORDER.index)
        return str(self.terms["attribution"][strongest])

    def lb(self) -> pd.DataFrame:
        from phaseone.labs import analyte as lookup_analyte
        from phaseone.safety.ctcae import grade_value

        version = self.protocol.response.ctcae_version
        tests = self.terms["lab_tests"]

        def make(subject: Subject, lab: Row) -> dict[str, Any] | None:
            test = tests[lab["analyte"]]
            if test is None:
                return None
            spec = lookup_analyte(lab["analyte"])
            value, unit = lab["value"], lab["unit"]
            low, high = lab["lower_normal"], lab["upper_normal"]
            try:
                grade = str(
                    grade_value(spec.id, value, unit, version=version, lln=low, uln=high).grade
                )
            except InputError:
                grade = ""  # no CTCAE grading for this analyte
            standard = spec.to_canonical(value, unit)
            on = lab["collected_on"]
            return {
                "USUBJID": subject.usubjid,
                "LBREFID": "",
                "LBTESTCD": test[0],
                "LBTEST": test[1],
                "LBCAT": test[2],
                "LBORRES": number_text(value),
                "LBORRESU": unit,
                "LBORNRLO": number_text(low),
                "LBORNRHI": number_text(high),
                "LBSTRESC": number_text(standard),
                "LBSTRESN": standard,
                "LBSTRESU": spec.unit,
                "LBNRIND": position(value, low, high) or "",
                "LBNAM": "",
                "LBSPEC": "",
                "LBTOXGR": grade,
                "EPOCH": subject.epoch(on),
                "VISITNUM": subject.visit(lab["course_id"]),
                "LBDTC": iso(on),
                "LBDY": subject.day(on),
            }

        rows = self._per_record("lab_results", make) + self._cytokines()
        return self._frame("LB", rows, "LBSEQ")

    def _cytokines(self) -> list[dict[str, Any]]:
        """The immune panel's cytokines and chemokines from the core laboratory (LB, not CP:
        no cell population is phenotyped; see exports/data/terminology.yaml)."""
        tests = self.terms["immune_lab_tests"]["tests"]
        rows = []
        for subject, s, r in self._core_lab("LB"):
            code, name, category = tests[r["analyte"]]
            on = s["collected_on"]
            rows.append({
                "USUBJID": subject.usubjid, "LBREFID": s["code"], "LBTESTCD": code,
                "LBTEST": name, "LBCAT": category, "LBORRES": number_text(r["value"]),
                "LBORRESU": r["unit"] or "", "LBORNRLO": "", "LBORNRHI": "",
                "LBSTRESC": number_text(r["value"]), "LBSTRESN": r["value"],
                "LBSTRESU": r["unit"] or "", "LBNRIND": "", "LBNAM": s["lab"],
                "LBSPEC": s["specimen_type"].upper(), "LBTOXGR": "",
                "EPOCH": subject.epoch(on), "VISITNUM": subject.visit(s["course_id"]),
                "LBDTC": self._collected_at(s), "LBDY": subject.day(on),
            })
        return rows

    # --- specimens: drug concentrations and immunogenicity ------------------------------

    def _specimens(self) -> dict[int, Row]:
        return {s["id"]: s for s in self.snap.rows("specimens")}

    def _collected_at(self, specimen: Row) -> str:
        on = specimen["collected_on"]
        if on is None:
            return ""
        clock = specimen["collected_time"]
        return f"{on.isoformat()}T{clock[:5]}" if clock else on.isoformat()

    def _dose_at(self) -> dict[tuple[int, int, str], str]:
        """The clock time of the first given dose per (course id, day, agent), ISO 8601."""
        out: dict[tuple[int, int, str], str] = {}
        for d in sorted(self.snap.rows("dose_administrations"),
                        key=lambda d: d["administered_time"] or ""):
            key = (d["course_id"], d["course_day"], d["agent_id"])
            if d["given"] and d["administered_time"] and key not in out:
                out[key] = f"{d['administered_on'].isoformat()}T{d['administered_time'][:5]}"
        return out

    def pc(self) -> pd.DataFrame:
        """Drug concentrations of the PK specimens: collected ones with their result, and
        those not collected (PCSTAT NOT DONE)."""
        tests = self.terms["pk_tests"]
        plans = {a.id: a for a in self.protocol.assessments
                 if a.specimen is not None and a.agent in tests}
        found = {r["specimen_id"]: r for r in self.snap.rows("specimen_results")
                 if r["analyte"] in tests}
        dose_at = self._dose_at()
        rows = []
        for s in self._specimens().values():
            plan = plans.get(s["assessment_id"])
            if plan is None:
                continue
            agent = str(plan.agent)
            result = found.get(s["id"])
            if result is None and s["status"] != "missed":
                continue  # planned, or awaiting its result
            subject = self.subjects[s["patient_id"]]
            code, name = tests[agent]
            hour = s["sample_hour"]
            value = None if result is None else result["value"]
            on = s["collected_on"]
            rows.append({
                "USUBJID": subject.usubjid, "PCREFID": s["code"], "PCTESTCD": code,
                "PCTEST": name, "PCCAT": "ANALYTE",
                "PCORRES": number_text(value), "PCORRESU": "" if result is None
                else result["unit"] or "",
                "PCSTRESC": number_text(value), "PCSTRESN": value,
                "PCSTRESU": "" if result is None else result["unit"] or "",
                "PCSTAT": "NOT DONE" if result is None else "",
                "PCREASND": (s["missed_reason"] or "") if result is None else "",
                "PCNAM": s["lab"], "PCSPEC": s["specimen_type"].upper(),
                "EPOCH": subject.epoch(on), "VISITNUM": subject.visit(s["course_id"]),
                "PCDTC": self._collected_at(s), "PCDY": subject.day(on),
                "PCTPT": "" if hour is None else _time_point(hour),
                "PCTPTNUM": hour, "PCELTM": "" if hour is None else _elapsed(hour),
                "PCTPTREF": f"{agent.upper()} DOSE, COURSE {s['course_number']} DAY "
                            f"{s['course_day']}",
                "PCRFTDTC": dose_at.get((s["course_id"], s["course_day"], agent), ""),
            })
        return self._frame("PC", rows, "PCSEQ")

    def pp(self) -> pd.DataFrame:
        """NCA parameters of each PK profile (lenalidomide course 1 day 1, isotretinoin at
        steady state), from the same tables and engine as the report's PK sections. An agent
        whose records do not allow NCA yet (no concentration, a dose without its clock time)
        has no rows; the report's section says what is missing."""
        from phaseone.pk.nca import NCAResult
        from phaseone.workflow import trial_pk

        course_days = self.protocol.course.length_days
        def lenalidomide(t: trial_pk.PKTables) -> NCAResult:
            return trial_pk.lenalidomide_from(t).nca

        def isotretinoin(t: trial_pk.PKTables) -> NCAResult:
            return trial_pk.isotretinoin_from(t, course_days)

        runs = {"lenalidomide": lenalidomide, "isotretinoin": isotretinoin}
        pid = {p["subject_code"]: p["id"] for p in self.patients.values()}
        codes = {p["id"]: p["subject_code"] for p in self.patients.values()}
        dose_at = self._dose_at()
        rows = []
        for agent, run in runs.items():
            try:
                tables = trial_pk.tables_from_rows(
                    self.protocol, trial_pk.PK_ASSESSMENTS[agent],
                    specimens=self.snap.rows("specimens"),
                    results=self.snap.rows("specimen_results"),
                    courses=self.snap.rows("courses"),
                    doses=self.snap.rows("dose_administrations"), subject_codes=codes)
                if tables.conc.empty:
                    continue
                result = run(tables)
            except InputError:
                continue
            sampled = {str(r["subject"]): int(r["course"])
                       for r in tables.conc.drop_duplicates("subject").to_dict("records")}
            given: dict[str, Any] = {
                r["subject"]: (int(r["course"]), int(r["day"]))
                for r in tables.doses.drop_duplicates("subject").to_dict("records")}
            [plan] = [a for a in self.protocol.assessments
                      if a.id in trial_pk.PK_ASSESSMENTS[agent]]
            spec = plan.specimen.type.upper() if plan.specimen else ""
            for p in result.parameters.to_dict("records"):
                code = str(p["subject"])
                patient = pid[code]
                value = None if p["value"] != p["value"] else float(p["value"])  # NaN: none
                ref = ""
                if code in given:
                    course, day = given[code]
                    ids = {c["number"]: c["id"] for c in self.snap.by_patient("courses")[patient]}
                    ref = dose_at.get((ids.get(course, -1), day, agent), "")
                rows.append({
                    "USUBJID": self.subjects[patient].usubjid,
                    "PPGRPID": f"{agent.upper()} {p['interval']}",
                    "PPTESTCD": p["PPTESTCD"], "PPTEST": p["PPTEST"], "PPCAT": agent.upper(),
                    "PPORRES": number_text(value), "PPORRESU": p["unit"],
                    "PPSTRESC": number_text(value), "PPSTRESN": value, "PPSTRESU": p["unit"],
                    "PPSTAT": "NOT DONE" if value is None else "",
                    "PPREASND": p["exclusion_reason"] if value is None else "",
                    "PPSPEC": spec, "VISITNUM": int(sampled[code]), "PPRFTDTC": ref,
                })
        return self._frame("PP", rows, "PPSEQ")

    def is_(self) -> pd.DataFrame:
        """Anti-drug antibody results (HACA titres against dinutuximab)."""
        tests = self.terms["immunogenicity_tests"]
        specimens = self._specimens()
        rows = []
        for r in self.snap.rows("specimen_results"):
            s = specimens.get(r["specimen_id"])
            if r["analyte"] not in tests or s is None:
                continue
            code, name, agent = tests[r["analyte"]]
            subject = self.subjects[r["patient_id"]]
            on = s["collected_on"]
            rows.append({
                "USUBJID": subject.usubjid, "ISREFID": s["code"], "ISTESTCD": code,
                "ISTEST": name, "ISCAT": "ANTI-DRUG ANTIBODY", "ISBDAGNT": agent,
                "ISORRES": number_text(r["value"]), "ISORRESU": r["unit"] or "",
                "ISSTRESC": number_text(r["value"]), "ISSTRESN": r["value"],
                "ISSTRESU": r["unit"] or "", "ISNAM": s["lab"],
                "ISSPEC": s["specimen_type"].upper(), "EPOCH": subject.epoch(on),
                "VISITNUM": subject.visit(s["course_id"]), "ISDTC": self._collected_at(s),
                "ISDY": subject.day(on),
            })
        return self._frame("IS", rows, "ISSEQ")

    # --- correlative science: cell phenotypes, genotypes, gene expression ----------------

    def _core_lab(self, domain: str) -> list[tuple[Subject, Row, Row]]:
        """(subject, specimen, result) of each core-laboratory result that goes to `domain`,
        from collected specimens."""
        specimens = self._specimens()
        out = []
        for r in self.snap.rows("specimen_results"):
            s = specimens.get(r["specimen_id"])
            if s is None or s["collected_on"] is None:
                continue
            if core_lab_domain(r["analyte"], self.protocol) == domain:
                out.append((self.subjects[r["patient_id"]], s, r))
        return out

    def cp(self) -> pd.DataFrame:
        """Flow-cytometry counts of the immune panel's cell populations (SDTMIG 3.4 CP)."""
        tests = self.terms["cell_phenotypes"]["tests"]
        units = self.terms["cell_units"]
        rows = []
        for subject, s, r in self._core_lab("CP"):
            code, name, markers = tests[r["analyte"]]
            unit = r["unit"] or ""
            if unit not in units:
                raise InputError([Problem(f"specimen_results.{r['id']}.unit",
                                          f"expected one of {', '.join(units)}, got {unit!r}")])
            standard_unit, factor = units[unit]
            standard = r["value"] * factor
            on = s["collected_on"]
            rows.append({
                "USUBJID": subject.usubjid, "CPREFID": s["code"], "CPTESTCD": code,
                "CPTEST": name, "CPMRKSTR": markers, "CPCAT": "IMMUNOPHENOTYPING",
                "CPORRES": number_text(r["value"]), "CPORRESU": unit,
                "CPRESSCL": "QUANTITATIVE", "CPRESTYP": "NUMBER CONCENTRATION",
                "CPSTRESC": number_text(standard), "CPSTRESN": standard,
                "CPSTRESU": standard_unit, "CPNAM": s["lab"],
                "CPSPEC": s["specimen_type"].upper(), "CPMETHOD": "FLOW CYTOMETRY",
                "EPOCH": subject.epoch(on), "VISITNUM": subject.visit(s["course_id"]),
                "CPDTC": self._collected_at(s), "CPDY": subject.day(on),
            })
        return self._frame("CP", rows, "CPSEQ")

    def gf(self) -> pd.DataFrame:
        """Genotypes (HLA, KIR, FcγR) and the NB5 TLDA panel's cycle thresholds (SDTMIG 3.4
        GF): one record per gene per specimen."""
        typing = self.terms["genotyping"]
        expression = self.terms["transcription"]
        rows = []
        for subject, s, r in self._core_lab("GF"):
            on = s["collected_on"]
            row: dict[str, Any] = {
                "USUBJID": subject.usubjid, "GFREFID": s["code"], "GFSYM": r["analyte"],
                "GFSYMTYP": "GENE WITH PROTEIN PRODUCT", "GFNAM": s["lab"],
                "VISITNUM": subject.visit(s["course_id"]), "GFDTC": self._collected_at(s),
                "GFDY": subject.day(on),
            }
            if r["call"] is not None:
                code, category, chromosome = typing["genes"][r["analyte"]]
                row.update({
                    "GFTESTCD": code, "GFTEST": typing["tests"][code], "GFTSTDTL": "GENOTYPE",
                    "GFCAT": category, "GFORRES": r["call"],
                    "GFSTRESC": _standard_genotype(r["analyte"], r["call"]),
                    "GFINHERT": "GERMLINE VARIATION", "GFCHROM": chromosome,
                    "GFPVRID": _variant_id(r["analyte"]), "GFSPEC": "DNA",
                })
            else:
                code, name = expression["test"]
                ct = "UNDETERMINED" if r["undetected"] else number_text(r["value"])
                row.update({
                    "GFTESTCD": code, "GFTEST": name, "GFTSTDTL": expression["detail"],
                    "GFCAT": expression["category"], "GFORRES": ct, "GFSTRESC": ct,
                    "GFSTRESN": None if r["undetected"] else r["value"], "GFSPEC": "RNA",
                    "GFMETHOD": "REAL-TIME POLYMERASE CHAIN REACTION",
                })
            rows.append(row)
        return self._frame("GF", rows, "GFSEQ")

    def vs(self) -> pd.DataFrame:
        measures = (
            ("HEIGHT", "Height", "height_cm", "cm"),
            ("WEIGHT", "Weight", "weight_kg", "kg"),
            ("BSA", "Body Surface Area", "bsa_m2", "m2"),
        )
        rows = []
        for course in self.snap.rows("courses"):
            subject = self.subjects[course["patient_id"]]
            on = course["start_date"]
            for code, name, column, unit in measures:
                if course[column] is None:
                    continue
                rows.append(
                    {
                        "USUBJID": subject.usubjid,
                        "VSTESTCD": code,
                        "VSTEST": name,
                        "VSORRES": number_text(course[column]),
                        "VSORRESU": unit,
                        "VSSTRESC": number_text(course[column]),
                        "VSSTRESN": course[column],
                        "VSSTRESU": unit,
                        "EPOCH": subject.epoch(on),
                        "VISITNUM": course["number"],
                        "VSDTC": iso(on),
                        "VSDY": subject.day(on),
                    }
                )
        return self._frame("VS", rows, "VSSEQ")

    def ds(self) -> pd.DataFrame:
        decode = self.terms["off_treatment"]
        rows = []

        def add(pid: int, term: str, decod: str, cat: str, on: dt.date, epoch: str) -> None:
            subject = self.subjects[pid]
            rows.append(
                {
                    "USUBJID": subject.usubjid,
                    "DSTERM": term,
                    "DSDECOD": decod,
                    "DSCAT": cat,
                    "EPOCH": epoch or subject.epoch(on),
                    "DSSTDTC": iso(on),
                    "DSSTDY": subject.day(on),
                }
            )

        for pid, patient in self.patients.items():
            if patient["consent_date"] is not None:
                consent = "INFORMED CONSENT OBTAINED"
                add(pid, consent, consent, "PROTOCOL MILESTONE", patient["consent_date"], "")
        for end in self.snap.rows("treatment_ends"):
            reason = end["reason"]
            term = reason.replace("_", " ").upper()
            add(
                end["patient_id"],
                term,
                decode[reason],
                "DISPOSITION EVENT",
                end["ended_on"],
                "TREATMENT",
            )
        for event in self.snap.rows("clinical_events"):
            if event["kind"] == "off_study":
                cause = (event["cause"] or "").strip()
                decod = decode.get(cause, "OTHER")
                add(
                    event["patient_id"],
                    cause.upper() or "OFF STUDY",
                    decod,
                    "DISPOSITION EVENT",
                    event["event_date"],
                    "FOLLOW-UP",
                )
            elif event["kind"] == "death":
                add(
                    event["patient_id"],
                    "DEATH",
                    "DEATH",
                    "DISPOSITION EVENT",
                    event["event_date"],
                    "",
                )
        return self._frame("DS", rows, "DSSEQ")

    def sv(self) -> pd.DataFrame:
        length = self.protocol.course.length_days
        rows = []
        for pid, screenings in self.snap.by_patient("screening_evaluations").items():
            subject = self.subjects[pid]
            first = min(s["evaluated_on"] for s in screenings)
            rows.append(self._visit(subject, 0, "SCREENING", first, first, "SCREENING"))
        for course in self.snap.rows("courses"):
            subject = self.subjects[course["patient_id"]]
            start = course["start_date"]
            end = start + dt.timedelta(days=length - 1)
            if subject.treatment_end is not None and subject.treatment_end < end:
                end = max(start, subject.treatment_end)
            name = f"COURSE {course['number']}"
            rows.append(self._visit(subject, course["number"], name, start, end, "TREATMENT"))
        return self._frame("SV", rows, None)

    def _visit(
        self, subject: Subject, number: int, name: str, start: dt.date, end: dt.date, epoch: str
    ) -> dict[str, Any]:
        return {
            "USUBJID": subject.usubjid,
            "VISITNUM": number,
            "VISIT": name,
            "EPOCH": epoch,
            "SVSTDTC": iso(start),
            "SVENDTC": iso(end),
            "SVSTDY": subject.day(start),
        }

    # --- disease response -------------------------------------------------------------

    def _responses(self) -> list[tuple[int, Any]]:
        from phaseone.workflow.evaluations import responses_from_rows

        return responses_from_rows(self.protocol, self.snap.tables)

    def rs(self) -> pd.DataFrame:
        """Component and overall responses per evaluation after baseline as the response
        engine computes them from the stored measurements (RSEVAL COMPUTED), and the
        investigator's own overall call beside them (RSEVAL INVESTIGATOR)."""
        from phaseone.response.frames import RS_TESTS

        rows: list[dict[str, Any]] = []
        for pid, result in self._responses():
            subject = self.subjects[pid]
            for e in result.evaluations:
                if e.kind == "baseline":
                    continue
                tests = [(*RS_TESTS[c.component], c.response, "COMPUTED") for c in e.components]
                tests.append(("OVRLRESP", "Overall Response", e.overall.response, "COMPUTED"))
                if e.investigator_response:
                    tests.append(
                        ("OVRLRESP", "Overall Response", e.investigator_response, "INVESTIGATOR")
                    )
                for code, name, value, evaluator in tests:
                    rows.append(
                        {
                            "USUBJID": subject.usubjid,
                            "RSTESTCD": code,
                            "RSTEST": name,
                            "RSCAT": result.criteria,
                            "RSORRES": value,
                            "RSSTRESC": value,
                            "RSEVAL": evaluator,
                            "EPOCH": subject.epoch(e.date),
                            "VISIT": (e.label or e.kind).upper(),
                            "RSDTC": iso(e.date),
                            "RSDY": subject.day(e.date),
                        }
                    )
        return self._frame("RS", rows, "RSSEQ")

    def _lesion_rows(self) -> list[tuple[Subject, Row, Row]]:
        """(subject, evaluation, lesion measurement) in date order."""
        evaluations = {e["id"]: e for e in self.snap.rows("disease_evaluations")}
        out = []
        for m in self.snap.rows("lesion_measurements"):
            e = evaluations.get(m["evaluation_id"])
            if e is not None:
                out.append((self.subjects[m["patient_id"]], e, m))
        out.sort(key=lambda t: (t[0].usubjid, t[1]["evaluated_on"], t[2]["lesion_code"]))
        return out

    def tu(self) -> pd.DataFrame:
        """Each CT/MRI lesion once, where it was first measured (its code is its link)."""
        rows: list[dict[str, Any]] = []
        seen: set[tuple[str, str]] = set()
        for subject, e, m in self._lesion_rows():
            key = (subject.usubjid, m["lesion_code"])
            if key in seen:
                continue
            seen.add(key)
            term = "NEW" if m["new"] else ("TARGET" if m["target"] else "NON-TARGET")
            rows.append(
                {
                    "USUBJID": subject.usubjid,
                    "TULNKID": m["lesion_code"],
                    "TUTESTCD": "TUMIDENT",
                    "TUTEST": "Tumor Identification",
                    "TUORRES": term,
                    "TUSTRESC": term,
                    "TULOC": _lesion_term(m["site"]),
                    "TUDTC": iso(e["evaluated_on"]),
                    "TUDY": subject.day(e["evaluated_on"]),
                }
            )
        return self._frame("TU", rows, "TUSEQ")

    def tr(self) -> pd.DataFrame:
        """Each lesion's diameter at each evaluation (longest; short axis for nodes)."""
        rows: list[dict[str, Any]] = []
        for subject, e, m in self._lesion_rows():
            node = m["site"] == "lymph_node"
            rows.append(
                {
                    "USUBJID": subject.usubjid,
                    "TRLNKID": m["lesion_code"],
                    "TRTESTCD": "SAXIS" if node else "LDIAM",
                    "TRTEST": "Short Axis" if node else "Longest Diameter",
                    "TRORRES": number_text(m["diameter_mm"]),
                    "TRORRESU": "mm",
                    "TRSTRESC": number_text(m["diameter_mm"]),
                    "TRSTRESN": m["diameter_mm"],
                    "TRSTRESU": "mm",
                    "VISIT": (e["label"] or e["kind"]).upper(),
                    "TRDTC": iso(e["evaluated_on"]),
                    "TRDY": subject.day(e["evaluated_on"]),
                }
            )
        return self._frame("TR", rows, "TRSEQ")

    def ts(self) -> pd.DataFrame:
        ident = self.protocol.identity
        params: list[tuple[str, str, str]] = [
            ("TITLE", "Trial Title", ident.official_title or ident.brief_title),
            ("REGID", "Registry Identifier", ident.nct_id),
            ("SPONSOR", "Clinical Study Sponsor", ident.sponsor),
            ("STYPE", "Study Type", ident.study_type),
        ]
        params += [("TPHASE", "Trial Phase Classification", PHASES.get(p, p)) for p in ident.phases]
        if ident.target_enrollment is not None:
            params.append(("PLANSUB", "Planned Number of Subjects", str(ident.target_enrollment)))
        params += [
            ("TRT", "Investigational Therapy or Treatment", a.name.upper())
            for a in self.protocol.agents
        ]
        if ident.min_age_years is not None:
            params.append(
                ("AGEMIN", "Planned Minimum Age of Subjects", _iso_age(ident.min_age_years))
            )
        if ident.max_age_years is not None:
            params.append(
                ("AGEMAX", "Planned Maximum Age of Subjects", _iso_age(ident.max_age_years))
            )
        rows = [
            {
                "TSSEQ": _count(params[: i + 1], code),
                "TSPARMCD": code,
                "TSPARM": name,
                "TSVAL": value,
            }
            for i, (code, name, value) in enumerate(params)
        ]
        return self._frame("TS", rows, None)


def core_lab_domain(analyte: str, protocol: Any) -> str:
    """The SDTM domain a core-laboratory analyte's results go to (the reasons are in
    exports/data/terminology.yaml): PC, IS, CP, LB or GF."""
    terms = terminology()
    tlda = protocol.correlatives.tlda
    wells = set() if tlda is None else {*tlda.genes, *tlda.reference_genes}
    for domain, known in (
        ("PC", terms["pk_tests"]),
        ("IS", terms["immunogenicity_tests"]),
        ("CP", terms["cell_phenotypes"]["tests"]),
        ("LB", terms["immune_lab_tests"]["tests"]),
        ("GF", {**terms["genotyping"]["genes"], **dict.fromkeys(wells)}),
    ):
        if analyte in known:
            return domain
    raise InputError([Problem("specimen_results.analyte",
                              f"no SDTM domain is known for the core-lab analyte {analyte!r}")])


def _standard_genotype(gene: str, call: str) -> str:
    """A typing call in a standard form: an FcγR genotype at the mature-protein position
    (e.g. 131H/R, whichever numbering the laboratory used), a KIR gene's presence in
    capitals, an HLA allele pair as given. A call that cannot be read is left blank here
    (GFORRES keeps it as reported)."""
    from phaseone.correlatives.fcgr import POLYMORPHISMS, parse_genotype

    if gene in POLYMORPHISMS:
        try:
            return parse_genotype(gene, call).label("mature")
        except ValueError:
            return ""
    if gene.startswith("KIR"):
        return call.strip().upper()
    return call.strip()


def _variant_id(gene: str) -> str:
    from phaseone.correlatives.fcgr import POLYMORPHISMS

    return POLYMORPHISMS[gene].rsid if gene in POLYMORPHISMS else ""


def _lesion_term(site: str) -> str:
    return {"primary": "PRIMARY TUMOR", "soft_tissue": "SOFT TISSUE LESION",
            "lymph_node": "LYMPH NODE"}[site]


def _time_point(hour: float) -> str:
    """A PK sample's planned time point: PRE-DOSE or e.g. 0.5 H POST-DOSE."""
    return "PRE-DOSE" if hour == 0 else f"{hour:g} H POST-DOSE"


def _elapsed(hour: float) -> str:
    """The planned elapsed time as an ISO 8601 duration: PT0H, PT30M, PT1H30M, PT24H."""
    minutes = round(hour * 60)
    whole, rest = divmod(abs(minutes), 60)
    text = "PT" + (f"{whole}H" if whole or not rest else "") + (f"{rest}M" if rest else "")
    return ("-" if minutes < 0 else "") + text


def _count(params: Iterable[tuple[str, str, str]], code: str) -> int:
    return sum(1 for p in params if p[0] == code)


def _iso_age(years: float) -> str:
    """An age as an ISO 8601 duration: whole years as PnY, anything else in months."""
    if float(years).is_integer():
        return f"P{int(years)}Y"
    return f"P{round(years * 12)}M"


def _age(birth: dt.date | None, on: dt.date | None) -> int | None:
    if birth is None or on is None:
        return None
    years = on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))
    return years


def build(snapshot: Snapshot) -> dict[str, pd.DataFrame]:
    """Every SDTM domain phaseone writes, by domain name, in the definitions' order."""
    builder = Builder(snapshot)
    ae, suppae = builder.ae()
    frames = {
        "DM": builder.dm(),
        "EX": builder.ex(),
        "AE": ae,
        "SUPPAE": suppae,
        "LB": builder.lb(),
        "PC": builder.pc(),
        "PP": builder.pp(),
        "IS": builder.is_(),
        "CP": builder.cp(),
        "GF": builder.gf(),
        "VS": builder.vs(),
        "DS": builder.ds(),
        "SV": builder.sv(),
        "RS": builder.rs(),
        "TU": builder.tu(),
        "TR": builder.tr(),
        "TS": builder.ts(),
    }
    return {name: frames[name] for name in sdtm().domains}
