"""Non-compartmental pharmacokinetic analysis (NCA), pinned to Phoenix WinNonlin and
PKNCA conventions, and the reference trial's PK objectives."""

from phaseone.pk.data import (
    Concentrations,
    Dose,
    Interval,
    Profile,
    Route,
    read_concentrations,
    read_doses,
)
from phaseone.pk.nca import NCAResult, run_nca
from phaseone.pk.options import (
    AUCMethod,
    BLQAction,
    BLQRules,
    LambdaZControls,
    LambdaZRule,
    NCAOptions,
    QualityFlags,
)
from phaseone.pk.registry import ParameterSpec, registry

__all__ = [
    "AUCMethod",
    "BLQAction",
    "BLQRules",
    "Concentrations",
    "Dose",
    "Interval",
    "LambdaZControls",
    "LambdaZRule",
    "NCAOptions",
    "NCAResult",
    "ParameterSpec",
    "Profile",
    "QualityFlags",
    "Route",
    "read_concentrations",
    "read_doses",
    "registry",
    "run_nca",
]
