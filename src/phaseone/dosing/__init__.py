"""Dosing: body surface area, prescribed doses, rounding to capsules, course calendars.

Pure functions over a Protocol and one child's measurements:

- body_surface_area(height_cm, weight_kg, formula) -> Bsa
- dose_sheet(protocol, level, height_cm, weight_kg) -> DoseSheet
- treatment_plan(protocol, level, height_cm, weight_kg, start) -> TreatmentPlan
- modify_dose_level(plan, to_level, effective, reason) -> TreatmentPlan
"""

from phaseone.dosing.bsa import Bsa, body_surface_area
from phaseone.dosing.calendar import TreatmentPlan, treatment_plan
from phaseone.dosing.modification import modify_dose_level
from phaseone.dosing.sheet import DoseSheet, dose_sheet

__all__ = [
    "Bsa",
    "DoseSheet",
    "TreatmentPlan",
    "body_surface_area",
    "dose_sheet",
    "modify_dose_level",
    "treatment_plan",
]
