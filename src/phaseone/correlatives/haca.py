"""Human anti-chimeric antibody (HACA) against dinutuximab: per-patient status and incidence.

Classification follows the anti-drug-antibody conventions (Shankar et al., AAPS J 2014;
the admiral ADAB template), with the thresholds in the protocol's `correlatives.haca`:

- baseline: the last sample on or before day 1; positive when the titre is at or above
  `positive_titre`;
- treatment-induced: negative (or absent titre) at baseline, positive afterwards;
- treatment-boosted: positive at baseline and a later titre at least `boost_fold` times it;
- persistent: the first and last treatment-emergent positive samples are at least
  `persistent_days` apart, or the patient's last sample is treatment-emergent positive;
  otherwise transient.

Incidence (treatment-emergent HACA) has an exact Clopper-Pearson interval. The effect on
dinutuximab exposure compares each patient's last to first trough between patients with and
without treatment-emergent HACA (the one HACA-positive patient of Desai et al. 2014 lost 41%
of AUC from course 1 to 3).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from phaseone.correlatives.records import Measurement
from phaseone.correlatives.stats import (
    ProportionResult,
    RankSumResult,
    clopper_pearson,
    rank_sum_test,
)
from phaseone.errors import InputError, Problem
from phaseone.protocol.model import HacaRules

Status = Literal["treatment-induced", "treatment-boosted", "baseline positive, not boosted",
                 "negative", "no baseline sample", "no post-baseline sample"]


@dataclass(frozen=True)
class HacaPatient:
    patient: str
    baseline_titre: float | None
    baseline_positive: bool | None
    status: Status
    emergent: bool | None  # induced or boosted; None when it cannot be told
    persistence: Literal["persistent", "transient"] | None
    first_positive_day: int | None
    last_positive_day: int | None
    peak_titre: float | None
    samples: int

    def row(self) -> dict[str, object]:
        return dict(self.__dict__)


def classify_patient(patient: str, samples: Sequence[Measurement], rules: HacaRules,
                     baseline_max_day: int = 1) -> HacaPatient:
    ordered = sorted(samples, key=lambda m: m.study_day)
    before = [m for m in ordered if m.study_day <= baseline_max_day]
    after = [m for m in ordered if m.study_day > baseline_max_day]
    baseline = before[-1].value if before else None
    peak = max((m.value for m in after), default=None)

    def done(status: Status, emergent: bool | None, positives: Sequence[Measurement] = ()
             ) -> HacaPatient:
        persistence: Literal["persistent", "transient"] | None = None
        first = positives[0].study_day if positives else None
        last = positives[-1].study_day if positives else None
        if emergent and positives:
            lasting = (last or 0) - (first or 0) >= rules.persistent_days
            persistence = "persistent" if lasting or positives[-1] is after[-1] else "transient"
        return HacaPatient(patient, baseline, None if baseline is None
                           else baseline >= rules.positive_titre, status, emergent,
                           persistence, first, last, peak, len(ordered))

    if not after:
        return done("no post-baseline sample", None)
    if baseline is None:
        return done("no baseline sample", None)
    if baseline < rules.positive_titre:
        positives = [m for m in after if m.value >= rules.positive_titre]
        return done("treatment-induced", True, positives) if positives else done("negative",
                                                                                 False)
    boosted = [m for m in after if m.value >= rules.boost_fold * baseline]
    if boosted:
        return done("treatment-boosted", True, boosted)
    return done("baseline positive, not boosted", False)


@dataclass(frozen=True)
class TroughChange:
    patient: str
    emergent: bool
    first_day: int
    first_trough: float
    last_day: int
    last_trough: float

    @property
    def ratio(self) -> float:
        return self.last_trough / self.first_trough if self.first_trough > 0 else math.nan


@dataclass(frozen=True)
class HacaAnalysis:
    patients: tuple[HacaPatient, ...]
    incidence: ProportionResult | None  # treatment-emergent among evaluable patients
    troughs: tuple[TroughChange, ...]
    trough_test: RankSumResult | None  # log trough ratio, emergent vs not
    titres: tuple[Measurement, ...]

    def titres_over_time(self) -> list[dict[str, object]]:
        """Per study day: samples, positive samples, median titre."""
        by_day: dict[int, list[float]] = {}
        for m in self.titres:
            by_day.setdefault(m.study_day, []).append(m.value)
        rows: list[dict[str, object]] = []
        for day in sorted(by_day):
            values = sorted(by_day[day])
            mid = len(values) // 2
            median = values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2
            rows.append({"study_day": day, "n": len(values), "median_titre": median,
                         "max_titre": values[-1]})
        return rows


def analyse(titres: Iterable[Measurement], rules: HacaRules,
            troughs: Iterable[Measurement] = (), baseline_max_day: int = 1) -> HacaAnalysis:
    """Classify every patient, estimate incidence, and relate HACA to trough changes.

    Raises InputError naming the line of any negative titre or trough.
    """
    titre_list = tuple(titres)
    trough_list = tuple(troughs)
    problems = [Problem("value", f"a {what} cannot be negative, got {m.value:g}", line=m.line)
                for what, rows in (("titre", titre_list), ("trough", trough_list))
                for m in rows if m.value < 0]
    if problems:
        raise InputError(problems)
    per_patient: dict[str, list[Measurement]] = {}
    for m in titre_list:
        per_patient.setdefault(m.patient, []).append(m)
    patients = tuple(classify_patient(p, per_patient[p], rules, baseline_max_day)
                     for p in sorted(per_patient))
    evaluable = [p for p in patients if p.emergent is not None]
    incidence = (clopper_pearson(sum(1 for p in evaluable if p.emergent), len(evaluable))
                 if evaluable else None)

    emergent = {p.patient: bool(p.emergent) for p in evaluable}
    trough_by_patient: dict[str, list[Measurement]] = {}
    for m in trough_list:
        trough_by_patient.setdefault(m.patient, []).append(m)
    changes: list[TroughChange] = []
    for patient, values in sorted(trough_by_patient.items()):
        if patient not in emergent or len(values) < 2:
            continue
        values.sort(key=lambda m: m.study_day)
        changes.append(TroughChange(patient, emergent[patient], values[0].study_day,
                                    values[0].value, values[-1].study_day, values[-1].value))
    usable = [c for c in changes if c.first_trough > 0 and c.last_trough > 0]
    with_haca = [math.log(c.ratio) for c in usable if c.emergent]
    without = [math.log(c.ratio) for c in usable if not c.emergent]
    test = rank_sum_test(with_haca, without) if with_haca and without else None
    return HacaAnalysis(patients, incidence, tuple(changes), test, titre_list)
