"""Virtual patients: invented children, their screening records and what happens to them.

A `VirtualPatient` is drawn once from a seeded generator with everything the simulation
will need (identity, growth, disease, whether the screening is meant to fail, and a private
seed for the draws that depend on the dose level the trial later assigns). Its screening
record is built in the eligibility engine's record schema from the demo's invented template,
so the real engine judges it.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from phaseone.correlatives.records import GenotypeCall, Measurement
from phaseone.demo.records import screening_record as template_record
from phaseone.synth.models import (
    AdverseEventDraw,
    CorrelativeModel,
    GrowthModel,
    PkModels,
    PopulationModel,
    ResponseModel,
    ToxicityModel,
)


@dataclass(frozen=True)
class Models:
    """Every model a virtual trial draws from (defaults: the invented values)."""

    population: PopulationModel = field(default_factory=PopulationModel)
    growth: GrowthModel = field(default_factory=GrowthModel)
    toxicity: ToxicityModel = field(default_factory=ToxicityModel)
    pk: PkModels = field(default_factory=PkModels)
    response: ResponseModel = field(default_factory=ResponseModel)
    correlatives: CorrelativeModel = field(default_factory=CorrelativeModel)


@dataclass(frozen=True)
class VirtualPatient:
    code: str
    site: str
    age_years: float
    sex: str  # "male" / "female", as the record schema spells it
    height_cm: float
    weight_kg: float
    disease_status: str  # recurrent / refractory / persistent
    disease_site: str  # mibg_bone / marrow / soft_tissue
    intended_eligible: bool
    seed: int  # for the draws that depend on the assigned dose level

    @property
    def bsa_m2(self) -> float:
        """Mosteller, for the simulation's own dose arithmetic."""
        return math.sqrt(self.height_cm * self.weight_kg / 3600.0)

    def rng(self, purpose: str) -> np.random.Generator:
        """A generator for one purpose, the same for the same patient whatever the order."""
        return np.random.default_rng([self.seed, *purpose.encode()])

    def birth_date(self, screened_on: dt.date) -> dt.date:
        return screened_on - dt.timedelta(days=round(self.age_years * 365.25))

    def screening_record(self, screened_on: dt.date) -> dict[str, Any]:
        """The record the site enters, in the eligibility engine's schema."""
        return screening_record(self, screened_on)

    def course_one(self, models: Models, level: int) -> tuple[bool, tuple[AdverseEventDraw, ...]]:
        return models.toxicity.draw(self.rng("toxicity"), level)


def _choice(rng: np.random.Generator, weights: dict[str, float]) -> str:
    names = list(weights)
    p = np.array([weights[n] for n in names], dtype=float)
    return str(names[int(rng.choice(len(names), p=p / p.sum()))])


def make_patients(
    rng: np.random.Generator,
    count: int,
    sites: tuple[str, ...],
    models: Models | None = None,
) -> list[VirtualPatient]:
    """`count` virtual patients spread over `sites` in turn, coded SITE-NNN."""
    models = models or Models()
    pop = models.population
    patients = []
    numbers: dict[str, int] = {}
    for i in range(count):
        site = sites[i % len(sites)]
        numbers[site] = numbers.get(site, 0) + 1
        age = float(
            np.clip(
                pop.median_age_years * math.exp(rng.normal(0, pop.age_sd_log)),
                pop.min_age_years,
                pop.max_age_years,
            )
        )
        sex = "male" if rng.random() < pop.male_fraction else "female"
        height, weight = models.growth.draw(rng, age, sex)
        patients.append(
            VirtualPatient(
                code=f"{site.upper()}-{numbers[site]:03d}",
                site=site,
                age_years=round(age, 2),
                sex=sex,
                height_cm=height,
                weight_kg=weight,
                disease_status=_choice(rng, pop.disease_status),
                disease_site=_choice(rng, pop.disease_site),
                intended_eligible=bool(rng.random() >= pop.ineligible_fraction),
                seed=int(rng.integers(0, 2**31 - 1)),
            )
        )
    return patients


def _days(day: dt.date, back: int) -> str:
    return (day - dt.timedelta(days=back)).isoformat()


def screening_record(patient: VirtualPatient, screened_on: dt.date) -> dict[str, Any]:
    """The patient's screening record as of `screened_on` (see the module docstring)."""
    record = template_record(patient.code, patient.site, screened_on, sex=patient.sex)
    record["birth_date"] = patient.birth_date(screened_on).isoformat()
    record["measurements"] = [
        {
            "date": _days(screened_on, 6),
            "height_cm": patient.height_cm,
            "weight_kg": patient.weight_kg,
        }
    ]
    history = record["disease_history"]
    sites = record["disease_sites"]
    scan = sites["mibg_scans"][0]
    if patient.disease_status == "refractory":
        history.update(frontline_response="SD", relapses=[])
    elif patient.disease_status == "persistent":
        # at least 3 MIBG-avid lesions, so no biopsy is needed
        history.update(frontline_response="PR", induction_cycles=6, relapses=[])
    if patient.disease_site == "marrow":
        scan.update(avid_bone_sites=0, avid_soft_tissue_sites=0, curie_score=0)
        sites["marrow_samples"][0].update(morphology="positive", immunocytochemistry="positive")
        if patient.disease_status == "persistent":
            history.update(frontline_response="SD")  # persistent needs MIBG; call it refractory
    elif patient.disease_site == "soft_tissue":
        scan.update(avid_bone_sites=0, avid_soft_tissue_sites=1, curie_score=0)
        sites["soft_tissue_lesions"] = [
            {
                "id": "para-aortic node",
                "date": _days(screened_on, 14),
                "site": "retroperitoneum",
                "lymph_node": True,
                "short_axis_mm": 18,
                "longest_diameter_mm": 27,
                "mibg_avid": True,
                "fdg_avid": True,
            }
        ]
        if patient.disease_status == "persistent":
            history.update(frontline_response="SD")
    if patient.age_years > 16:  # Karnofsky above 16 years, Lansky at or below
        record["performance"][0].update(scale="karnofsky", value=80)
    if not patient.intended_eligible:
        for lab in record["labs"]:
            if lab["analyte"] == "platelets":
                lab["value"] = 30  # below the 50 x 10^9/L entry limit
    return record


def pk_samples(
    patient: VirtualPatient,
    models: Models,
    doses_mg_m2: dict[str, float],
    protocol_hours: dict[str, tuple[float, ...]],
) -> dict[str, tuple[tuple[float, float], ...]]:
    """(hour, concentration) per agent at the protocol's sample hours: lenalidomide (mg/L,
    day 1), isotretinoin (mg/L, steady state; only if given), dinutuximab (ug/mL, peak at
    the first hour listed for it, trough at 0)."""
    rng = patient.rng("pk")
    out: dict[str, tuple[tuple[float, float], ...]] = {}
    bsa = patient.bsa_m2
    if "lenalidomide" in doses_mg_m2:
        hours = protocol_hours.get("lenalidomide", (0.0, 1.0, 2.0, 4.0, 8.0, 24.0))
        conc = models.pk.lenalidomide.concentrations(
            rng, patient.weight_kg, doses_mg_m2["lenalidomide"] * bsa, hours
        )
        out["lenalidomide"] = tuple(zip(hours, conc, strict=True))
    if "isotretinoin" in doses_mg_m2:
        hours = protocol_hours.get("isotretinoin", (0.0, 2.0, 4.0, 8.0, 12.0))
        per_dose = doses_mg_m2["isotretinoin"] * bsa / 2  # twice daily
        conc = models.pk.isotretinoin.concentrations(
            rng, patient.weight_kg, per_dose, hours, tau_h=models.pk.isotretinoin_tau_h
        )
        out["isotretinoin"] = tuple(zip(hours, conc, strict=True))
    if "dinutuximab" in doses_mg_m2:
        peak, trough = models.pk.dinutuximab(rng)
        out["dinutuximab"] = ((protocol_hours.get("dinutuximab", (10.0,))[0], peak), (0.0, trough))
    return out


def correlatives(
    patient: VirtualPatient, models: Models, lenalidomide_mg_m2: float
) -> tuple[list[Measurement], list[GenotypeCall]]:
    """Immune (NK cells, days 1 and 15), HACA (day 28), TLDA Ct (blood, day 1) and FcγR
    genotypes, in the shapes the correlative engines read."""
    rng = patient.rng("correlatives")
    m = models.correlatives
    code = patient.code
    nk0 = m.nk_baseline * math.exp(rng.normal(0, m.nk_cv))
    nk15 = nk0 * (1 + m.nk_gain_per_10mg * lenalidomide_mg_m2 / 10) * math.exp(rng.normal(0, 0.1))
    rows = [
        Measurement(code, "blood", 1, "NK cells", round(nk0, 1), "cells/uL"),
        Measurement(code, "blood", 15, "NK cells", round(nk15, 1), "cells/uL"),
    ]
    haca = rng.random() < m.haca_probability
    titre = m.haca_median_titre * math.exp(rng.normal(0, 0.8)) if haca else 0.0
    rows.append(Measurement(code, "serum", 28, "HACA", round(titre, 2), "titre"))
    detected = rng.random() >= m.tlda_undetected_probability
    for gene in m.tlda_genes:
        ct = float(rng.normal(m.tlda_ct_mean, m.tlda_ct_sd))
        if gene == "GUSB":
            ct = float(rng.normal(26.0, 1.0))  # the reference gene always amplifies
        elif not detected:
            ct = math.inf
        rows.append(
            Measurement(code, "blood", 1, gene, round(ct, 2) if ct != math.inf else ct, "Ct")
        )
    calls = [GenotypeCall(code, gene, m.genotype(rng, gene)) for gene in m.allele_frequency]
    return rows, calls


def response(patient: VirtualPatient, models: Models, level: int) -> tuple[str, float, bool]:
    """(best response, days to progression or censoring, progressed)."""
    return models.response.draw(patient.rng("response"), level)
