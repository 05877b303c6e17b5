"""BOIN: the Bayesian optimal interval design (Liu & Yuan, JRSS C 2015; R package BOIN).

Escalate when the observed DLT rate at the current dose is at or below lambda_e,
de-escalate when it is at or above lambda_d, otherwise stay. The integer boundaries per
number of patients, the elimination rule, `extrasafe`, `n.earlystop` and the isotonic
end-of-trial selection follow BOIN 2.7.2 (`get.boundary`, `get.oc`, `select.mtd`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from phaseone.designs.interval import IntervalDesign, extrasafe_min
from phaseone.designs.tables import (
    D,
    DecisionTable,
    E,
    apply_elimination,
    elimination_min,
    empty_codes,
)
from phaseone.errors import InputError, Problem

INTEGER_TOL = 1e-12


def boin_lambdas(
    target: float, phi1: float | None = None, phi2: float | None = None
) -> tuple[float, float]:
    """(lambda_e, lambda_d) for a target; phi1/phi2 default to 0.6 and 1.4 times the target."""
    p1 = 0.6 * target if phi1 is None else phi1
    p2 = 1.4 * target if phi2 is None else phi2
    if not 0 < p1 < target < p2 < 1:
        raise InputError(
            [
                Problem(
                    "phi1/phi2",
                    f"expected 0 < phi1 < target < phi2 < 1, got {p1:g}, {target:g}, {p2:g}",
                )
            ]
        )
    lam_e = math.log((1 - p1) / (1 - target)) / math.log(target * (1 - p1) / (p1 * (1 - target)))
    lam_d = math.log((1 - target) / (1 - p2)) / math.log(p2 * (1 - target) / (target * (1 - p2)))
    return lam_e, lam_d


def boin_boundaries(
    target: float,
    max_n: int,
    phi1: float | None = None,
    phi2: float | None = None,
    cutoff_eli: float = 0.95,
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """Per n = 0..max_n: escalate if y <= b_e, de-escalate if y >= b_d, eliminate if y >= b_elim.

    b_d is floor(lambda_d n) + 1 (ceiling, except one more when lambda_d n is an integer),
    capped at b_elim; b_elim is -1 (none) below 3 patients.
    """
    lam_e, lam_d = boin_lambdas(target, phi1, phi2)
    ns = np.arange(max_n + 1)
    b_e = np.floor(lam_e * ns).astype(np.int64)
    raw = lam_d * ns
    b_d = np.where(
        np.abs(np.round(raw) - raw) < INTEGER_TOL, np.round(raw) + 1, np.ceil(raw)
    ).astype(np.int64)
    b_elim = elimination_min(target, cutoff_eli, max_n)
    b_d = np.where((b_elim >= 0) & (b_d > b_elim), b_elim, b_d)
    return b_e, b_d, b_elim


@dataclass(frozen=True)
class BOIN(IntervalDesign):
    """BOIN for a single agent. `bound_mtd` forbids selecting a dose estimated above lambda_d."""

    phi1: float | None = None
    phi2: float | None = None
    bound_mtd: bool = False
    name: str = "boin"

    def __post_init__(self) -> None:
        super().__post_init__()
        boin_lambdas(self.target_rate, self.phi1, self.phi2)

    @property
    def lambdas(self) -> tuple[float, float]:
        return boin_lambdas(self.target_rate, self.phi1, self.phi2)

    def describe(self) -> str:
        return f"BOIN(target={self.target_rate:g}, doses={self.doses})"

    def bound_mtd_limit(self) -> float | None:
        return self.lambdas[1] if self.bound_mtd else None

    def _build_table(self, max_n: int) -> DecisionTable:
        b_e, b_d, b_elim = boin_boundaries(
            self.target_rate, max_n, self.phi1, self.phi2, self.cutoff_eli
        )
        codes = empty_codes(max_n)
        for n in range(1, max_n + 1):
            codes[n, : b_e[n] + 1] = E
            codes[n, b_d[n] : n + 1] = D
        apply_elimination(codes, b_elim)
        return DecisionTable("boin", codes, extrasafe_min(self, max_n))
