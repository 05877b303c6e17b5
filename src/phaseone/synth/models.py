"""The simulation models of virtual patients: every form and parameter, invented for simulation.

Nothing here is a clinical fact or a published estimate. Each dataclass holds one model's
parameters (change them by building another instance); each draw takes a
`numpy.random.Generator`, so a seed reproduces a virtual trial. docs/synth.md gives every
model's form.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

PROVENANCE = "invented for simulation"


@dataclass(frozen=True)
class GrowthModel:
    """Height and weight by age and sex (invented; not a growth reference).

    Median height rises linearly with age to an adult plateau; height varies log-normally
    around it. Weight = BMI x height^2, with a median BMI flat in childhood and rising in
    adolescence, also log-normal.
    """

    height_at_birth_cm: float = 75.0  # intercept of the linear part (cm)
    height_gain_cm_per_year: float = 6.2
    adult_height_cm: tuple[float, float] = (176.0, 163.0)  # male, female
    height_cv: float = 0.04
    child_bmi: float = 16.0
    bmi_rise_from_age: float = 8.0
    bmi_gain_per_year: float = 0.45
    bmi_cv: float = 0.12

    def median_height_cm(self, age_years: float, sex: str) -> float:
        adult = self.adult_height_cm[0 if sex == "male" else 1]
        return min(self.height_at_birth_cm + self.height_gain_cm_per_year * age_years, adult)

    def median_bmi(self, age_years: float) -> float:
        return self.child_bmi + self.bmi_gain_per_year * max(
            0.0, age_years - self.bmi_rise_from_age
        )

    def draw(self, rng: np.random.Generator, age_years: float, sex: str) -> tuple[float, float]:
        """(height_cm, weight_kg), rounded as a clinic would record them."""
        height = self.median_height_cm(age_years, sex) * math.exp(rng.normal(0, self.height_cv))
        bmi = self.median_bmi(age_years) * math.exp(rng.normal(0, self.bmi_cv))
        weight = bmi * (height / 100.0) ** 2
        return round(height, 1), round(weight, 1)


@dataclass(frozen=True)
class PopulationModel:
    """Who is screened (invented proportions)."""

    median_age_years: float = 6.0  # log-normal age, clipped to [min_age, max_age]
    age_sd_log: float = 0.5
    min_age_years: float = 4.0  # the template history starts 3.75 years before screening
    max_age_years: float = 20.5
    male_fraction: float = 0.55
    # recurrent / refractory / persistent
    disease_status: dict[str, float] = field(
        default_factory=lambda: {"recurrent": 0.6, "refractory": 0.25, "persistent": 0.15}
    )
    # the evaluable site: MIBG-avid bone, marrow on morphology, soft-tissue target lesion
    disease_site: dict[str, float] = field(
        default_factory=lambda: {"mibg_bone": 0.7, "marrow": 0.15, "soft_tissue": 0.15}
    )
    ineligible_fraction: float = 0.1  # screened with platelets below the entry limit


@dataclass(frozen=True)
class AdverseEventDraw:
    """One adverse event a virtual patient has in course 1."""

    term: str  # a CTCAE term the safety engine knows
    grade: int
    onset_day: int  # course day
    resolved_day: int
    attribution: dict[str, str]


@dataclass(frozen=True)
class ToxicityModel:
    """Dose-toxicity: the probability of a DLT in course 1 per dose level (invented), the
    term and grade of the toxicity that is a DLT, and the mild events everybody may have.

    A patient has a DLT with probability `dlt_probability[level]`; the DLT is a grade-3
    non-haematological event at least possibly related to lenalidomide (a DLT under the
    protocol's `nonheme-grade3` rule). Mild events: a Poisson number (mean `mild_mean`),
    each grade 1 or 2 (grade 2 with probability `grade_2_probability`).
    """

    dlt_probability: dict[int, float] = field(
        default_factory=lambda: {1: 0.05, 2: 0.10, 3: 0.20, 4: 0.35, 5: 0.50}
    )
    dlt_terms: tuple[str, ...] = ("Diarrhea", "Rash maculo-papular", "Mucositis oral")
    mild_terms: tuple[str, ...] = ("Nausea", "Fatigue", "Vomiting", "Neuralgia", "Dry skin")
    mild_mean: float = 1.5
    grade_2_probability: float = 0.3

    def draw(
        self, rng: np.random.Generator, level: int
    ) -> tuple[bool, tuple[AdverseEventDraw, ...]]:
        """(has a DLT, the course-1 adverse events)."""
        dlt = bool(rng.random() < self.dlt_probability.get(level, 0.0))
        events: list[AdverseEventDraw] = []
        if dlt:
            onset = int(rng.integers(5, 22))
            events.append(
                AdverseEventDraw(
                    str(rng.choice(self.dlt_terms)),
                    3,
                    onset,
                    onset + 4,
                    {"lenalidomide": "probable", "dinutuximab": "unlikely"},
                )
            )
        for _ in range(int(rng.poisson(self.mild_mean))):
            onset = int(rng.integers(1, 25))
            grade = 2 if rng.random() < self.grade_2_probability else 1
            events.append(
                AdverseEventDraw(
                    str(rng.choice(self.mild_terms)),
                    grade,
                    onset,
                    onset + 2,
                    {"lenalidomide": "possible", "dinutuximab": "possible"},
                )
            )
        return dlt, tuple(events)


@dataclass(frozen=True)
class OneCompartment:
    """Oral (first-order absorption) one-compartment PK with log-normal between-subject
    variability on CL, V and ka, and proportional residual error (invented values).

    C(t) = F·D·ka / (V·(ka − ke)) · (e^(−ke·t) − e^(−ka·t)), ke = CL/V, for a single dose;
    at steady state each exponential is divided by (1 − e^(−k·tau)).
    CL and V scale allometrically with weight/70 kg (exponents 0.75 and 1).
    """

    cl_l_per_h: float
    v_l: float
    ka_per_h: float
    bioavailability: float = 1.0
    omega_cl: float = 0.3
    omega_v: float = 0.2
    omega_ka: float = 0.4
    residual_cv: float = 0.1

    def individual(self, rng: np.random.Generator, weight_kg: float) -> tuple[float, float, float]:
        """(CL, V, ka) of one virtual patient."""
        size = weight_kg / 70.0
        eta = rng.normal(0.0, (self.omega_cl, self.omega_v, self.omega_ka))
        return (
            self.cl_l_per_h * size**0.75 * math.exp(eta[0]),
            self.v_l * size * math.exp(eta[1]),
            self.ka_per_h * math.exp(eta[2]),
        )

    def concentrations(
        self,
        rng: np.random.Generator,
        weight_kg: float,
        dose_mg: float,
        hours: tuple[float, ...],
        tau_h: float | None = None,
    ) -> tuple[float, ...]:
        """mg/L at `hours` after a dose (single dose, or steady state every `tau_h`)."""
        cl, v, ka = self.individual(rng, weight_kg)
        ke = cl / v
        if abs(ka - ke) < 1e-9:
            ka *= 1.001  # the formula's singular point; move off it
        scale = self.bioavailability * dose_mg * ka / (v * (ka - ke))
        out = []
        for t in hours:
            e_ke, e_ka = math.exp(-ke * t), math.exp(-ka * t)
            if tau_h is not None:
                e_ke /= 1 - math.exp(-ke * tau_h)
                e_ka /= 1 - math.exp(-ka * tau_h)
            value = max(scale * (e_ke - e_ka), 0.0)
            out.append(value * math.exp(rng.normal(0.0, self.residual_cv)))
        return tuple(out)


@dataclass(frozen=True)
class PkModels:
    """Lenalidomide (single oral dose, day 1), isotretinoin (steady state, 12-hourly) and
    dinutuximab peak and trough (log-normal around a typical value): invented values."""

    lenalidomide: OneCompartment = field(
        default_factory=lambda: OneCompartment(cl_l_per_h=12.0, v_l=75.0, ka_per_h=2.0)
    )
    isotretinoin: OneCompartment = field(
        default_factory=lambda: OneCompartment(
            cl_l_per_h=10.0, v_l=60.0, ka_per_h=0.8, bioavailability=0.25
        )
    )
    isotretinoin_tau_h: float = 12.0
    dinutuximab_peak_ug_per_ml: float = 11.0
    dinutuximab_trough_ug_per_ml: float = 2.0
    dinutuximab_cv: float = 0.35

    def dinutuximab(self, rng: np.random.Generator) -> tuple[float, float]:
        """(peak, trough) in ug/mL."""
        peak = self.dinutuximab_peak_ug_per_ml * math.exp(rng.normal(0, self.dinutuximab_cv))
        trough = self.dinutuximab_trough_ug_per_ml * math.exp(rng.normal(0, self.dinutuximab_cv))
        return peak, trough


@dataclass(frozen=True)
class ResponseModel:
    """Best overall response and time to progression (invented).

    Objective response (CR or PR) with probability `response_probability[level]`, split CR
    vs PR by `cr_share`; the rest SD or PD (`pd_share` of them PD). Time to progression is
    exponential with median `median_ttp_days` (doubled for responders), censored at
    `follow_up_days`.
    """

    response_probability: dict[int, float] = field(
        default_factory=lambda: {1: 0.10, 2: 0.15, 3: 0.20, 4: 0.25, 5: 0.30}
    )
    cr_share: float = 0.4
    pd_share: float = 0.3
    median_ttp_days: float = 200.0
    follow_up_days: float = 730.0

    def draw(self, rng: np.random.Generator, level: int) -> tuple[str, float, bool]:
        """(best response, days to progression or censoring, progressed)."""
        responded = rng.random() < self.response_probability.get(level, 0.0)
        if responded:
            best = "CR" if rng.random() < self.cr_share else "PR"
        else:
            best = "PD" if rng.random() < self.pd_share else "SD"
        median = self.median_ttp_days * (2.0 if responded else 1.0)
        if best == "PD":
            median = 56.0  # progression at the first evaluation, near the end of course 2
        ttp = float(rng.exponential(median / math.log(2)))
        if ttp >= self.follow_up_days:
            return best, self.follow_up_days, False
        return best, round(ttp, 1), True


@dataclass(frozen=True)
class CorrelativeModel:
    """Immune cell counts, HACA titres, FcγR genotypes and TLDA Ct values (invented).

    Immune: NK cells (cells/uL) log-normal at baseline, multiplied on day 15 by
    1 + `nk_gain_per_10mg` x (lenalidomide mg/m2/day / 10). HACA: positive with probability
    `haca_probability`, titre log-normal. Genotypes: Hardy-Weinberg with the allele
    frequencies given. TLDA: Ct of each gene normal around `tlda_ct_mean` (40 = undetected
    when the patient has no detectable tumour).
    """

    nk_baseline: float = 250.0
    nk_cv: float = 0.4
    nk_gain_per_10mg: float = 0.15
    haca_probability: float = 0.15
    haca_median_titre: float = 8.0
    allele_frequency: dict[str, tuple[str, str, float]] = field(
        default_factory=lambda: {"FCGR2A": ("H", "R", 0.5), "FCGR3A": ("V", "F", 0.35)}
    )
    tlda_genes: tuple[str, ...] = ("CHGA", "DCX", "DDC", "PHOX2B", "TH", "GUSB")
    tlda_ct_mean: float = 31.0
    tlda_ct_sd: float = 2.5
    tlda_undetected_probability: float = 0.3

    def genotype(self, rng: np.random.Generator, gene: str) -> str:
        first, second, p = self.allele_frequency[gene]
        alleles = sorted(
            (first if rng.random() < p else second for _ in range(2)),
            key=(first, second).index,
        )
        return "/".join(alleles)
