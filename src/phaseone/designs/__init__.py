"""Dose-escalation designs behind one interface: fit outcomes, get the next dose.

>>> from phaseone.designs import BOIN, StopAtN
>>> design = BOIN(target_rate=0.3, doses=5) | StopAtN(30)
>>> design.fit("1NNN 2NTN").recommended_dose
2
"""

from phaseone.designs.base import (
    Assessment,
    Decision,
    Design,
    DesignState,
    EscalationDesign,
    Reason,
    Selection,
)
from phaseone.designs.boin import BOIN, boin_boundaries, boin_lambdas
from phaseone.designs.build import build_design, design_from_protocol, validate_params
from phaseone.designs.crm import CRM, get_prior
from phaseone.designs.keyboard import MTPI2, Keyboard
from phaseone.designs.modifiers import (
    DemandNAtDose,
    DontSkipDoses,
    FollowPath,
    Modified,
    Modifier,
    StopAtN,
    StopWhenNAtDose,
    StopWhenTooToxic,
    Titration,
)
from phaseone.designs.outcomes import Outcomes, Patient
from phaseone.designs.rolling_six import RollingSix
from phaseone.designs.tables import DecisionTable
from phaseone.designs.three_plus_three import ThreePlusThree
from phaseone.designs.tite import TITECRM

__all__ = [
    "BOIN",
    "CRM",
    "MTPI2",
    "TITECRM",
    "Assessment",
    "Decision",
    "DecisionTable",
    "DemandNAtDose",
    "Design",
    "DesignState",
    "DontSkipDoses",
    "EscalationDesign",
    "FollowPath",
    "Keyboard",
    "Modified",
    "Modifier",
    "Outcomes",
    "Patient",
    "Reason",
    "RollingSix",
    "Selection",
    "StopAtN",
    "StopWhenNAtDose",
    "StopWhenTooToxic",
    "ThreePlusThree",
    "Titration",
    "boin_boundaries",
    "boin_lambdas",
    "build_design",
    "design_from_protocol",
    "get_prior",
    "validate_params",
]
