"""The registry of eligibility rules: each a named, versioned function with typed params.

A protocol leaf names a rule (`rule: washout`) and gives its parameters; the engine
validates the parameters against the rule's model once, when the protocol is compiled.
A rule reads the record through a Context and returns an Outcome: met / not_met /
unknown (naming the missing data) / not_applicable, with the evidence it used.

Rules never guess. A value the record leaves out makes the outcome `unknown`, unless the
answer is already decided without it (a chemotherapy dose 3 days ago fails a 14-day
washout whatever else is missing).
"""

from phaseone.eligibility.rules import clinical, disease, labs, therapy
from phaseone.eligibility.rules.base import (
    FOR_EACH_COLLECTIONS,
    RULES,
    RULES_VERSION,
    NoParams,
    Params,
    Rule,
)

__all__ = [
    "FOR_EACH_COLLECTIONS",
    "RULES",
    "RULES_VERSION",
    "NoParams",
    "Params",
    "Rule",
    "clinical",
    "disease",
    "labs",
    "therapy",
]
