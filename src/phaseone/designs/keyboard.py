"""Keyboard (Yan, Mandrekar & Yuan, Clin Cancer Res 2017) and mTPI-2 (Guo et al., Contemp
Clin Trials 2017).

Both lay equal-width intervals ("keys") around a target key [target - margin_low,
target + margin_high] until 0 and 1; a key cut short at either end is kept and scored by
posterior mass per unit width (mTPI-2's unit probability mass; Keyboard's compensation
factor for incomplete keys does the same). Under the Beta(1 + y, 1 + n - y) posterior the
key with the highest score decides: below the target key escalate, the target key stay,
above it de-escalate. Ties go to the more toxic key (Keyboard `get.boundary.kb`).
Elimination, `extrasafe` and the isotonic selection follow the BOIN conventions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.special import betainc  # the Beta CDF, without scipy.stats' start-up time

from phaseone.designs.interval import EarlyStopRule, IntervalDesign, extrasafe_min
from phaseone.designs.tables import (
    D,
    DecisionTable,
    E,
    S,
    apply_elimination,
    elimination_min,
    empty_codes,
)
from phaseone.errors import InputError, Problem

EDGE_TOL = 1e-12


def keys(target: float, margin_low: float, margin_high: float) -> tuple[NDArray[np.float64], int]:
    """Key edges from 0 to 1 and the index of the target key."""
    low, high = target - margin_low, target + margin_high
    if not 0 < low < high < 1:
        raise InputError(
            [
                Problem(
                    "margin_low/margin_high",
                    f"the target key [{low:g}, {high:g}] must lie inside (0, 1)",
                )
            ]
        )
    width = margin_low + margin_high
    below = []
    edge = low
    while edge > EDGE_TOL:
        edge -= width
        below.append(max(edge, 0.0))
    above = []
    edge = high
    while edge < 1 - EDGE_TOL:
        edge += width
        above.append(min(edge, 1.0))
    edges = np.array([*reversed(below), low, high, *above], dtype=np.float64)
    return edges, len(below)


def key_scores(edges: NDArray[np.float64], n: int, y: int) -> NDArray[np.float64]:
    cdf = betainc(y + 1, n - y + 1, edges)
    return np.asarray(np.diff(cdf) / np.diff(edges), dtype=np.float64)


@dataclass(frozen=True)
class KeyDesign(IntervalDesign):
    margin_low: float = 0.05
    margin_high: float = 0.05
    early_stop_rule: EarlyStopRule = "simple"
    name: str = "keyboard"

    def __post_init__(self) -> None:
        super().__post_init__()
        keys(self.target_rate, self.margin_low, self.margin_high)

    def describe(self) -> str:
        label = "Keyboard" if self.name == "keyboard" else "mTPI-2"
        return f"{label}(target={self.target_rate:g}, doses={self.doses})"

    def _build_table(self, max_n: int) -> DecisionTable:
        edges, target_key = keys(self.target_rate, self.margin_low, self.margin_high)
        codes = empty_codes(max_n)
        for n in range(1, max_n + 1):
            for y in range(n + 1):
                scores = key_scores(edges, n, y)
                best = int(np.flatnonzero(scores == scores.max())[-1])
                codes[n, y] = E if best < target_key else S if best == target_key else D
        apply_elimination(codes, elimination_min(self.target_rate, self.cutoff_eli, max_n))
        return DecisionTable(self.name, codes, extrasafe_min(self, max_n))


@dataclass(frozen=True)
class Keyboard(KeyDesign):
    name: str = "keyboard"


@dataclass(frozen=True)
class MTPI2(KeyDesign):
    name: str = "mtpi2"
