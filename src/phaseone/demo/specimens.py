"""The demo trial's specimens and core-laboratory results, made through the workflow.

Course 1's samples are planned from the protocol, the ones already due are collected (PK
samples at clock times after a 08:00 dose; a HACA sample added at day 28; the newest
patient's PK profile is left for its times to be entered), and the central
laboratory's one results file is previewed and then committed, as a data manager would.
Every value is invented from a seeded generator: PK from the simulation's one-compartment
models (`synth.models`), immune panels, HACA titres, TLDA Ct values and genotypes from the
small tables below.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass

import numpy as np

from phaseone.store.scope import Scope
from phaseone.synth.models import PkModels
from phaseone.workflow import Trial, corrections, results
from phaseone.workflow import specimens as specimen_service

AsUser = Callable[[str], AbstractContextManager[Scope]]
DOSE_TIME = dt.time(8, 0)

# Baseline (cells/uL or pg/mL) and the rise per dose level by the last sample (fold), per
# analyte of the immune panel: invented, lenalidomide expanding NK cells and IL-2/IFN-γ.
IMMUNE = {
    "cd4": ("cells/uL", 700.0, 0.02), "cd8": ("cells/uL", 450.0, 0.05),
    "nk": ("cells/uL", 180.0, 0.12), "monocytes": ("cells/uL", 400.0, 0.0),
    "ifng": ("pg/mL", 6.0, 0.15), "il2": ("pg/mL", 2.0, 0.2),
}
TLDA_GENES = ("CHGA", "DCX", "DDC", "PHOX2B", "TH")
# Typing calls, one set per patient in turn (alleles from the KIR ligand table's classes).
TYPING = (
    {"HLA-A": "A*02:01+A*24:02", "HLA-B": "B*07:02+B*44:02", "HLA-C": "C*07:01+C*05:01",
     "KIR2DL1": "present", "KIR2DL2": "absent", "KIR2DL3": "present", "KIR3DL1": "present",
     "FCGR2A": "H/R", "FCGR3A": "V/F", "FCGR2B": "I/I"},
    {"HLA-A": "A*01:01+A*03:01", "HLA-B": "B*08:01+B*35:01", "HLA-C": "C*07:01+C*04:01",
     "KIR2DL1": "present", "KIR2DL2": "present", "KIR2DL3": "present", "KIR3DL1": "present",
     "FCGR2A": "H/H", "FCGR3A": "F/F", "FCGR2B": "I/T"},
    {"HLA-A": "A*11:01+A*02:01", "HLA-B": "B*51:01+B*15:01", "HLA-C": "C*03:04+C*01:02",
     "KIR2DL1": "present", "KIR2DL2": "absent", "KIR2DL3": "present", "KIR3DL1": "absent",
     "FCGR2A": "R/R", "FCGR3A": "V/V", "FCGR2B": "I/I"},
)


@dataclass(frozen=True)
class DemoPatient:
    patient_id: int
    site: str
    level: int
    weight_kg: float
    started: dt.date


def _clock(hours: float, jitter_min: int = 0) -> str:
    at = dt.datetime.combine(dt.date(2000, 1, 1), DOSE_TIME) + dt.timedelta(
        hours=hours, minutes=jitter_min)
    return at.strftime("%H:%M")


class SpecimenMaker:
    """Collects each demo patient's due samples and writes the laboratory's file."""

    def __init__(self, trial: Trial, as_user: AsUser, today: dt.date) -> None:
        self.trial = trial
        self.as_user = as_user
        self.today = today
        self.rng = np.random.default_rng(2011_04)
        self.pk = PkModels()
        self.lines = ["specimen_id,analyte,value,unit"]

    def _row(self, code: str, analyte: str, value: float | str, unit: str = "") -> None:
        text = value if isinstance(value, str) else f"{value:.4g}"
        self.lines.append(f"{code},{analyte},{text},{unit}")

    def patient(self, p: DemoPatient, number: int) -> None:
        with self.as_user(f"coord.{p.site}") as scope:
            planned = specimen_service.schedule_course(scope, self.trial,
                                                       patient_id=p.patient_id, course=1)
            lenalidomide_mg = self._dose_time(scope, p)
            if (self.today - p.started).days >= 27:  # a later HACA sample, on day 28
                planned.append(specimen_service.add_unscheduled(
                    scope, self.trial, patient_id=p.patient_id, course=1,
                    assessment_id="haca", day=28))
            # The newest patient's PK profile waits for its collection times to be entered.
            waiting = "pk-lenalidomide" if (self.today - p.started).days < 7 else None
            taken = [(s.assessment_id, s.course_day, s.sample_hour, s.code) for s in planned
                     if s.planned_on <= self.today and s.assessment_id != waiting
                     and self._collect(scope, s.id, s.planned_on, s.sample_hour)]
        pk_hours = sorted(h for a, _, h, _ in taken if a == "pk-lenalidomide" and h is not None)
        conc = self.pk.lenalidomide.concentrations(self.rng, p.weight_kg, lenalidomide_mg or 0.0,
                                                   tuple(pk_hours))
        level_rise = {a: 1 + rise * p.level for a, (_, _, rise) in IMMUNE.items()}
        baseline = {a: base * math.exp(self.rng.normal(0, 0.25))
                    for a, (_, base, _) in IMMUNE.items()}
        peak, trough = self.pk.dinutuximab(self.rng)
        for assessment, day, hour, code in taken:
            if assessment == "pk-lenalidomide" and hour is not None and lenalidomide_mg:
                self._row(code, "lenalidomide", 1000 * conc[pk_hours.index(hour)], "ng/mL")
            elif assessment == "pk-dinutuximab-peak":
                self._row(code, "dinutuximab", peak, "mcg/mL")
            elif assessment == "pk-dinutuximab-trough":
                self._row(code, "dinutuximab", trough, "mcg/mL")
            elif assessment == "haca":
                positive = day > 1 and number % 4 == 1
                self._row(code, "haca", 40.0 if positive else 0.0, "titre")
            elif assessment == "immune":
                for analyte, (unit, _, _) in IMMUNE.items():
                    fold = level_rise[analyte] ** ((day - 1) / 14)
                    value = baseline[analyte] * fold * math.exp(self.rng.normal(0, 0.1))
                    self._row(code, analyte, value, unit)
                if day == 1:
                    for gene, call in TYPING[number % len(TYPING)].items():
                        self._row(code, gene, call)
            elif assessment == "tlda-blood":
                self._tlda(code, number)

    def _dose_time(self, scope: Scope, p: DemoPatient) -> float | None:
        """Give day 1's lenalidomide dose its clock time (PK needs it); its amount in mg."""
        from sqlalchemy import select

        from phaseone.store.models import DoseAdministration

        dose = scope.session.scalar(select(DoseAdministration).where(
            DoseAdministration.patient_id == p.patient_id,
            DoseAdministration.agent_id == "lenalidomide",
            DoseAdministration.course_day == 1, DoseAdministration.voided.is_(False)))
        if dose is None:
            return None
        corrections.correct(scope, self.trial, "dose_administrations", dose.id,
                            {"administered_time": DOSE_TIME.strftime("%H:%M")},
                            "clock time of the dose, for pharmacokinetics", today=self.today)
        return dose.given_dose

    def _collect(self, scope: Scope, specimen_id: int, on: dt.date,
                 hour: float | None) -> bool:
        clock = None if hour is None else _clock(hour % 24, int(self.rng.integers(-5, 6)))
        specimen_service.collect(scope, specimen_id=specimen_id, collected_on=on,
                                 collected_time=clock)
        return True

    def _tlda(self, code: str, number: int) -> None:
        burden = number % 3  # 0: no tumour detected, 1: low, 2: high
        for gene in TLDA_GENES:
            if burden == 0:
                self._row(code, gene, "undetermined", "Ct")
            else:
                ct = (36.0 if burden == 1 else 30.0) + self.rng.normal(0, 0.8)
                self._row(code, gene, ct, "Ct")
        self._row(code, "GUSB", 24.0 + self.rng.normal(0, 0.3), "Ct")

    def import_results(self) -> None:
        """The central laboratory's file: previewed, then committed by the study chair."""
        data = ("\n".join(self.lines) + "\n").encode()
        with self.as_user("chair") as scope:
            results.preview(scope, data, "central-lab-results.csv")
        with self.as_user("chair") as scope:
            results.commit(scope, data, "central-lab-results.csv")


def make(trial: Trial, as_user: AsUser, today: dt.date, patients: Iterable[DemoPatient]) -> None:
    maker = SpecimenMaker(trial, as_user, today)
    for number, p in enumerate(patients):
        maker.patient(p, number)
    maker.import_results()
