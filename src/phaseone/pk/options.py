"""Choices that change NCA numbers: AUC method, λz rule and controls, BLQ handling.

Every choice has a default and is reported with the results, so a table of parameters
always says how it was made.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from phaseone.errors import InputError, Problem


class AUCMethod(StrEnum):
    """How the area of one segment between two samples is computed."""

    LINEAR = "linear"
    """Linear trapezoid everywhere."""
    LINUP_LOGDOWN = "linup-logdown"
    """Log trapezoid where the concentration falls and both ends are > 0; linear otherwise."""
    LINLOG = "linlog"
    """Linear up to Tmax, then log trapezoid on falling segments with both ends > 0."""


class LambdaZRule(StrEnum):
    """The two published conventions for automatic terminal-slope point selection.

    They differ in two places (pk-nca documentation, PKNCA training vignette):
    PKNCA takes the best adjusted R² over all fits before requiring a negative slope,
    and never uses the Tmax point; WinNonlin first drops fits with a non-negative slope
    and, for an IV bolus, may start the fit at Tmax.
    """

    PKNCA = "pknca"
    WINNONLIN = "winnonlin"


class BLQAction(StrEnum):
    """What to do with a below-LLOQ (or zero) concentration at one position."""

    ZERO = "zero"
    DROP = "drop"
    LLOQ = "lloq"
    HALF_LLOQ = "half-lloq"


@dataclass(frozen=True)
class BLQRules:
    """BLQ handling by position: before the first, between, and after the last measurable
    concentration. The default is PKNCA's: zero, drop, zero."""

    first: BLQAction = BLQAction.ZERO
    middle: BLQAction = BLQAction.DROP
    last: BLQAction = BLQAction.ZERO


@dataclass(frozen=True)
class LambdaZControls:
    """User controls for the λz fit.

    `min_points`: fewest points a fit may use (3). `max_points`: most points (None: no cap).
    `earliest_time`: no point before this time (relative to the dose) enters the fit.
    `adj_r2_tolerance`: fits whose adjusted R² is within this of the best are ties, and
    the one with most points wins (1e-4 in both PKNCA and WinNonlin).
    """

    rule: LambdaZRule = LambdaZRule.PKNCA
    min_points: int = 3
    max_points: int | None = None
    earliest_time: float | None = None
    adj_r2_tolerance: float = 1e-4


@dataclass(frozen=True)
class QualityFlags:
    """Opt-in acceptance limits. A parameter that fails one keeps its value and gets a
    reason in the exclusion column (values are never deleted)."""

    min_r2adj: float | None = None
    max_aucpext: float | None = None
    min_span_ratio: float | None = None


@dataclass(frozen=True)
class NCAOptions:
    auc_method: AUCMethod = AUCMethod.LINUP_LOGDOWN
    lambda_z: LambdaZControls = field(default_factory=LambdaZControls)
    blq: BLQRules = field(default_factory=BLQRules)
    flags: QualityFlags = field(default_factory=QualityFlags)

    def __post_init__(self) -> None:
        problems = []
        lz = self.lambda_z
        if lz.min_points < 2:
            problems.append(Problem("lambda_z.min_points", "must be at least 2"))
        if lz.max_points is not None and lz.max_points < lz.min_points:
            problems.append(Problem("lambda_z.max_points", "must be >= min_points"))
        if not lz.adj_r2_tolerance >= 0:
            problems.append(Problem("lambda_z.adj_r2_tolerance", "must be >= 0"))
        if problems:
            raise InputError(problems)

    def describe(self) -> dict[str, Any]:
        """The options as plain data, for reports and JSON output."""
        return asdict(self)
