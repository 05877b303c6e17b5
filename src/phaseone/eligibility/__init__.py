"""Eligibility screening: a patient record against a protocol's criteria.

from phaseone.eligibility import evaluate, parse_record
result = evaluate(protocol, parse_record(text), as_of=date(2024, 5, 1), dose_level=2)
result.overall            # 'eligible' | 'ineligible' | 'incomplete'
result.to_frame()         # one row per criterion
"""

from phaseone.eligibility.engine import ENGINE_VERSION, Screener, check_rules, evaluate
from phaseone.eligibility.record import PatientRecord, parse_record, record_data, record_schema
from phaseone.eligibility.result import CriterionResult, EligibilityResult
from phaseone.eligibility.rules import RULES

__all__ = [
    "ENGINE_VERSION",
    "RULES",
    "CriterionResult",
    "EligibilityResult",
    "PatientRecord",
    "Screener",
    "check_rules",
    "evaluate",
    "parse_record",
    "record_data",
    "record_schema",
]
