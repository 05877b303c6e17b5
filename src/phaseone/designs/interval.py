"""What BOIN, mTPI-2 and Keyboard share: a decision table plus BOIN's conventions for
elimination, the extra-safe stop at the lowest dose, `n.earlystop` and the end-of-trial
selection by isotonic regression (BOIN `select.mtd`)."""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from phaseone.designs.base import (
    Assessment,
    Decision,
    DesignState,
    EscalationDesign,
    Posterior,
    Reason,
    Selection,
    check_dose,
    check_n_doses,
    check_probability,
    highest_admissible_at_or_below,
)
from phaseone.designs.outcomes import Counts, Outcomes
from phaseone.designs.tables import DecisionTable, elimination_min, prob_above
from phaseone.errors import InputError, Problem

MIN_TABLE_N = 30
EarlyStopRule = Literal["boin", "simple"]


@dataclass(frozen=True)
class IntervalDesign(EscalationDesign):
    """Base for table-driven model-assisted designs. Subclasses build `_codes`."""

    target_rate: float
    doses: int
    start_dose: int = 1
    early_stop_n: int = 100
    early_stop_rule: EarlyStopRule = "boin"
    cutoff_eli: float = 0.95
    extrasafe: bool = False
    offset: float = 0.05

    def __post_init__(self) -> None:
        check_n_doses(self.doses)
        check_probability(self.target_rate, "target")
        check_probability(self.cutoff_eli, "cutoff_eli")
        check_dose(self.start_dose, self.doses, "start_dose")
        if self.early_stop_n < 1:
            raise InputError(
                [Problem("early_stop_n", f"expected 1 or more, got {self.early_stop_n}")]
            )
        if not 0 <= self.offset < self.cutoff_eli:
            raise InputError(
                [Problem("offset", f"expected 0 <= offset < cutoff_eli, got {self.offset:g}")]
            )

    @property
    def n_doses(self) -> int:
        return self.doses

    @property
    def target(self) -> float:
        return self.target_rate

    @abstractmethod
    def _build_table(self, max_n: int) -> DecisionTable: ...

    def decision_table(self, max_n: int = MIN_TABLE_N) -> DecisionTable:
        """The (n, y) -> E/S/D/DE table up to n = max_n (cached)."""
        return _cached_table(self, max(max_n, 1))

    def bound_mtd_limit(self) -> float | None:
        """BOIN's boundMTD: estimates above this cannot be selected (None = no bound)."""
        return None

    def assess(self, outcomes: Outcomes, counts: Counts) -> Assessment:
        return assess_interval(self, counts)

    def decide(self, state: DesignState, counts: Counts) -> DesignState:
        return decide_interval(self, state, counts)


@cache
def _cached_table(design: IntervalDesign, max_n: int) -> DecisionTable:
    return design._build_table(max_n)


def extrasafe_min(design: IntervalDesign, max_n: int) -> NDArray[np.int64] | None:
    if not design.extrasafe:
        return None
    return elimination_min(design.target_rate, design.cutoff_eli - design.offset, max_n)


def assess_interval(design: IntervalDesign, c: Counts) -> Assessment:
    """Elimination (and the extra-safe rule) on the data so far, estimates, selection."""
    k_doses = design.n_doses
    n, y = c.evaluable, c.tox
    table = design.decision_table(max(MIN_TABLE_N, int(n.max(initial=0))))
    elim_min = table.eliminate_min()
    reasons: list[Reason] = []
    details: dict[str, Any] = {}
    eliminated = np.zeros(k_doses, dtype=bool)
    for k in range(k_doses):
        if elim_min[n[k]] >= 0 and y[k] >= elim_min[n[k]]:
            eliminated[k:] = True
            details["lowest_eliminated"] = k + 1
            p = float(prob_above(design.target_rate, n[k : k + 1], y[k : k + 1])[0])
            reasons.append(
                Reason(
                    "elimination",
                    f"dose {k + 1}: {y[k]}/{n[k]} DLTs, P(rate > {design.target_rate:g}) = "
                    f"{p:.3f} > {design.cutoff_eli:g}; dose {k + 1} and above eliminated",
                )
            )
            break
    stop_low = table.stop_lowest_min
    if stop_low is not None and stop_low[n[0]] >= 0 and y[0] >= stop_low[n[0]]:
        eliminated[:] = True
        reasons.append(
            Reason(
                "extrasafe",
                f"dose 1: {y[0]}/{n[0]} DLTs exceed the lowest-dose cutoff "
                f"{design.cutoff_eli - design.offset:g}",
            )
        )
    return Assessment(
        admissible=tuple(bool(not e) for e in eliminated),
        estimates=isotonic_estimates(n, y),
        selection=isotonic_selection(design, n, y),
        posterior=beta_posterior(n, y),
        reasons=tuple(reasons),
        details=details,
    )


def decide_interval(design: IntervalDesign, state: DesignState, c: Counts) -> DesignState:
    """The table's decision at the last cohort's dose, with elimination and early stop."""
    if not state.admissible[0]:
        return state.stopped(
            "stop",
            "the lowest dose is eliminated: no dose is acceptable",
            Selection(None, "no_mtd", "the lowest dose is too toxic"),
        )
    n, y = c.evaluable, c.tox
    table = design.decision_table(max(MIN_TABLE_N, int(n.max(initial=0))))
    d = state.current_dose
    assert d is not None  # `decide` runs only once there are patients
    nd, yd = int(n[d - 1]), int(y[d - 1])
    decision = table.decide(nd, yd)
    state = state.with_reason(
        "table", f"dose {d}: {yd}/{nd} DLTs -> {decision.name.lower()}", decision=decision
    )
    if c.pending[d - 1]:
        state = state.with_reason(
            "pending", f"{c.pending[d - 1]} patient(s) at dose {d} still pending, not counted"
        )
    at_top = d == design.n_doses or not state.admissible[d]
    if nd >= design.early_stop_n:
        if design.early_stop_rule == "simple":
            return state.stopped(
                "early_stop_n", f"{nd} patients at dose {d} >= {design.early_stop_n}"
            )
        if (
            decision is Decision.STAY
            or (d == 1 and decision in (Decision.DEESCALATE, Decision.ELIMINATE))
            or (at_top and decision is Decision.ESCALATE)
        ):
            return state.stopped(
                "early_stop_n",
                f"{nd} patients at dose {d} >= {design.early_stop_n} and the design would stay",
            )
    if decision is Decision.ESCALATE:
        nxt = d if at_top else d + 1
    elif decision is Decision.STAY:
        nxt = d
    else:
        nxt = max(d - 1, 1)
    rec = highest_admissible_at_or_below(nxt, state.admissible)
    return state.with_reason("next", f"next dose {rec}", recommended_dose=rec)


def beta_posterior(n: NDArray[np.int64], y: NDArray[np.int64]) -> Posterior:
    n, y = n.copy(), y.copy()

    def exceeds(threshold: float) -> NDArray[np.float64]:
        out = prob_above(threshold, n, y)
        return np.where(n > 0, out, np.nan)

    return Posterior(exceeds)


# --- end-of-trial selection (BOIN select.mtd) ----------------------------------------


def pava(values: NDArray[np.float64], weights: NDArray[np.float64]) -> NDArray[np.float64]:
    """Weighted isotonic (non-decreasing) regression by pooling adjacent violators."""
    blocks: list[list[float]] = []  # [mean, weight, count]
    for v, w in zip(values, weights, strict=True):
        blocks.append([float(v), float(w), 1.0])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            m2, w2, c2 = blocks.pop()
            m1, w1, c1 = blocks.pop()
            blocks.append([(m1 * w1 + m2 * w2) / (w1 + w2), w1 + w2, c1 + c2])
    return np.array([b[0] for b in blocks for _ in range(int(b[2]))], dtype=np.float64)


def _shrunk(
    n: NDArray[np.int64], y: NDArray[np.int64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    phat = (y + 0.05) / (n + 0.1)
    var = (y + 0.05) * (n - y + 0.05) / ((n + 0.1) ** 2 * (n + 1.1))
    return phat, 1.0 / var


def isotonic_estimates(n: NDArray[np.int64], y: NDArray[np.int64]) -> tuple[float | None, ...]:
    """BOIN's displayed estimates: PAVA over every treated dose (None where untreated)."""
    treated = n > 0
    out: list[float | None] = [None] * len(n)
    if treated.any():
        phat, w = _shrunk(n[treated], y[treated])
        for k, v in zip(np.flatnonzero(treated), pava(phat, w), strict=True):
            out[int(k)] = float(v)
    return tuple(out)


def isotonic_selection(
    design: IntervalDesign, n: NDArray[np.int64], y: NDArray[np.int64]
) -> Selection:
    target = design.target_rate
    k_doses = len(n)
    above = prob_above(target, n, y)
    elim = np.zeros(k_doses, dtype=bool)
    for k in range(k_doses):
        if n[k] >= 3 and above[k] > design.cutoff_eli:
            elim[k:] = True
            break
    lowest_too_toxic = n[0] >= 3 and above[0] > design.cutoff_eli - design.offset
    if design.extrasafe and lowest_too_toxic:
        elim[:] = True
    if elim[0]:
        return Selection(None, "no_mtd", "the lowest dose is eliminated")
    candidates = (n > 0) & ~elim
    if not candidates.any():
        return Selection(None, "no_mtd", "no admissible dose has been given")
    idx = np.flatnonzero(candidates)
    phat, w = _shrunk(n[idx], y[idx])
    iso = pava(phat, w)
    by_dose = dict(zip((int(k) for k in idx), (float(v) for v in iso), strict=True))
    est: tuple[float | None, ...] = tuple(by_dose.get(k) for k in range(k_doses))
    # BOIN's tie-break: k * 1e-10 added in dose order, then the first minimum wins.
    perturbed = iso + np.arange(1, len(iso) + 1) * 1e-10
    limit = design.bound_mtd_limit()
    if limit is not None:
        keep = perturbed <= limit
        if not keep.any():
            return Selection(None, "no_mtd", f"every estimate is above lambda_d = {limit:.4f}", est)
        perturbed = perturbed[keep]
        idx = idx[keep]
    best = int(np.argmin(np.abs(perturbed - target)))
    dose = int(idx[best]) + 1
    bound = "" if limit is None else f", estimates above {limit:.4f} excluded"
    return Selection(
        dose,
        "isotonic",
        f"isotonic estimate {by_dose[dose - 1]:.3f} at dose "
        f"{dose} is closest to the target {target:g}{bound}",
        est,
    )
