"""Tumour response: INRC 2017 (and NANTRC) component and overall responses, best response, rates.

from phaseone.response import criteria_for, parse_evaluations_json, evaluate_patients
c = criteria_for("INRC-2017", {"marrow_new_involvement_pd": ">5"})
results = evaluate_patients(parse_evaluations_json(text), c)
"""

from phaseone.response.criteria import Criteria, criteria_for, load_criteria
from phaseone.response.evaluation import (
    Evaluation,
    PatientEvaluations,
    evaluation_schema,
    parse_evaluations_json,
    parse_patient,
    parse_patients,
)
from phaseone.response.frames import (
    best_response_frame,
    evaluations_frame,
    patient_dict,
    rates_frame,
    rs_frame,
)
from phaseone.response.inrc import (
    EvaluationResponse,
    PatientResponse,
    best_response,
    combine,
    evaluate_patient,
    evaluate_patients,
)
from phaseone.response.rates import Rate, clopper_pearson, response_rates

__all__ = [
    "Criteria",
    "Evaluation",
    "EvaluationResponse",
    "PatientEvaluations",
    "PatientResponse",
    "Rate",
    "best_response",
    "best_response_frame",
    "clopper_pearson",
    "combine",
    "criteria_for",
    "evaluate_patient",
    "evaluate_patients",
    "evaluation_schema",
    "evaluations_frame",
    "load_criteria",
    "parse_evaluations_json",
    "parse_patient",
    "parse_patients",
    "patient_dict",
    "rates_frame",
    "response_rates",
    "rs_frame",
]
