"""Escalation designs as the protocol states them: a name and its parameters.

Each design name has a parameter model, so a protocol file with a parameter the design
does not take, or a value outside its range, is rejected with the field named. The
designs engine builds runnable designs from these specs.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from phaseone.protocol.provenance import Frozen

Probability = Annotated[float, Field(gt=0, lt=1)]


class ThreePlusThreeParams(Frozen):
    cohort_size: Literal[3] = 3
    allow_deescalation: bool = False
    mtd_rule: Literal["previous", "expand"] = "expand"


class RollingSixParams(Frozen):
    # Two published readings of the rolling-six grid disagree in a few cells; name one.
    grid: Literal["labja", "frankel2020"] = "frankel2020"
    max_per_level: Literal[6] = 6


class BOINParams(Frozen):
    target: Probability
    phi1: Probability | None = None
    phi2: Probability | None = None
    cohort_size: int = Field(default=3, ge=1, le=12)
    max_cohorts: int = Field(default=10, ge=1)
    early_stop_n: int = Field(default=100, ge=1)
    cutoff_eli: Probability = 0.95
    extrasafe: bool = False
    offset: float = Field(default=0.05, ge=0, lt=0.5)
    titration: bool = False
    bound_mtd: bool = False

    @model_validator(mode="after")
    def _ordered(self) -> BOINParams:
        phi1 = self.phi1 if self.phi1 is not None else 0.6 * self.target
        phi2 = self.phi2 if self.phi2 is not None else 1.4 * self.target
        if not phi1 < self.target < phi2:
            raise ValueError(
                f"expected phi1 < target < phi2, got phi1={phi1:g}, target={self.target:g}, "
                f"phi2={phi2:g}"
            )
        return self


class CRMParams(Frozen):
    target: Probability
    skeleton: tuple[Probability, ...] = Field(min_length=2)
    model: Literal["empiric", "logistic"] = "empiric"
    method: Literal["bayes", "mle"] = "bayes"
    prior_sd: float = Field(default=1.34**0.5, gt=0)
    intercept: float = 3.0
    cohort_size: int = Field(default=1, ge=1, le=12)
    max_n: int = Field(default=24, ge=1)
    restrict: bool = True

    @model_validator(mode="after")
    def _increasing(self) -> CRMParams:
        if any(b <= a for a, b in zip(self.skeleton, self.skeleton[1:], strict=False)):
            raise ValueError(
                f"skeleton must be strictly increasing, got {', '.join(map(str, self.skeleton))}"
            )
        return self


class TITECRMParams(CRMParams):
    window_days: int = Field(default=28, ge=1)
    weights: Literal["linear", "adaptive"] = "linear"


class IntervalKeyParams(Frozen):
    """Shared by mTPI-2 and Keyboard: equal-width keys around a target interval."""

    target: Probability
    margin_low: float = Field(default=0.05, gt=0, lt=0.5)
    margin_high: float = Field(default=0.05, gt=0, lt=0.5)
    cohort_size: int = Field(default=3, ge=1, le=12)
    max_cohorts: int = Field(default=10, ge=1)
    early_stop_n: int = Field(default=100, ge=1)
    cutoff_eli: Probability = 0.95
    extrasafe: bool = False
    offset: float = Field(default=0.05, ge=0, lt=0.5)


PARAMS_BY_DESIGN: dict[str, type[Frozen]] = {
    "three_plus_three": ThreePlusThreeParams,
    "rolling_six": RollingSixParams,
    "boin": BOINParams,
    "crm": CRMParams,
    "tite_crm": TITECRMParams,
    "mtpi2": IntervalKeyParams,
    "keyboard": IntervalKeyParams,
}

DesignName = Literal[
    "three_plus_three", "rolling_six", "boin", "crm", "tite_crm", "mtpi2", "keyboard"
]


def parse_design_params(name: str, params: dict[str, Any]) -> Frozen:
    """Validate a design's parameters against the model for its name."""
    return PARAMS_BY_DESIGN[name].model_validate(params)
