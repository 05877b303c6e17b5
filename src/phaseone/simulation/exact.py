"""Exact operating characteristics, without simulation.

- 3+3 in closed form. With P0 = (1 - p)^3 and P1 = 3 p (1 - p)^2 at a dose, the trial
  escalates out of it with probability e = P0 + P1 P0; it reaches dose d with the product
  of e below d; it treats 3 + 3 P1 patients there on average and sees 3 p (1 + P1) DLTs.
  Rule "previous" selects the dose below the first too-toxic one. Rule "expand" walks down
  from it: a dose with 6 patients is accepted; a dose with 3 gets 3 more and is accepted
  with at most 1 DLT in 6, otherwise the walk goes on down (the top dose is expanded too
  when escalation runs past it). The distribution of the total sample size is a product
  of per-dose polynomials in the number of patients.
- Interval designs (BOIN, mTPI-2, Keyboard) by dynamic programming over trial states
  (`interval_exact`, in exact_dp.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from phaseone.errors import InputError, Problem
from phaseone.simulation.batch import StopReason
from phaseone.simulation.results import Figure, OperatingCharacteristics, Thresholds

MtdRule = Literal["previous", "expand"]


@dataclass(frozen=True)
class ExactMoments:
    """Exact expectations over all trial paths (doses 0-based; `selected[k]` = no MTD)."""

    selected: NDArray[np.float64]
    patients: NDArray[np.float64]
    dlts: NDArray[np.float64]
    size_dist: NDArray[np.float64]  # P(total patients = index)
    stops: dict[StopReason, float]
    expected_over: float  # E[patients at doses above the overdose cutoff]
    prob_any_over: float


def _poly(**mass: float) -> NDArray[np.float64]:
    """A distribution over patient counts from keyword masses like n3=0.2, n6=0.1."""
    out = np.zeros(7)
    for key, value in mass.items():
        out[int(key[1:])] = value
    return out


def three_plus_three_moments(
    truth: NDArray[np.float64], rule: MtdRule, cutoff: float
) -> ExactMoments:
    p = np.asarray(truth, dtype=np.float64)
    k = p.size
    p0 = (1 - p) ** 3
    p1 = 3 * p * (1 - p) ** 2
    esc = p0 + p1 * p0
    reach = np.concatenate([[1.0], np.cumprod(esc)])  # reach[d], reach[k] = past the top
    patients = reach[:k] * (3 + 3 * p1)
    dlts = reach[:k] * 3 * p * (1 + p1)
    selected = np.zeros(k + 1)

    # Per-dose polynomials in the number of patients.
    esc_poly = [_poly(n3=p0[j], n6=p1[j] * p0[j]) for j in range(k)]
    tox_poly = [_poly(n3=1 - p0[j] - p1[j], n6=p1[j] * (1 - p0[j])) for j in range(k)]
    below = [np.array([1.0])]  # distribution of patients on doses < j, all escalated
    for j in range(k):
        below.append(np.convolve(below[-1], esc_poly[j]))

    if rule == "previous":
        selected[k] = 1 - esc[0]
        for d in range(k - 1):
            selected[d] = reach[d] * esc[d] * (1 - esc[d + 1])
        selected[k - 1] = reach[k - 1] * esc[k - 1]
        size = below[k]
        for j in range(k):
            size = _add(size, np.convolve(below[j], tox_poly[j]))
    else:
        accept = p0 + p1  # at most 1 DLT among 3 more, after 0/3
        expanded = np.zeros(k)  # P(dose j is expanded in the walk-down)
        starts = [(j - 1, reach[j] * (1 - esc[j])) for j in range(k)] + [(k - 1, reach[k])]
        for start, mass in starts:
            w = mass
            for j in range(start, -1, -1):
                # Given the trial escalated out of dose j: did it have 6 there?
                had_six = p1[j] * p0[j] / esc[j] if esc[j] > 0 else 0.0
                selected[j] += w * (had_six + (1 - had_six) * accept[j])
                expanded[j] += w * (1 - had_six)
                w *= (1 - had_six) * (1 - accept[j])
            selected[k] += w
        patients = patients + 3 * expanded
        dlts = dlts + 3 * p * expanded
        size = np.zeros(1)
        for j in range(k):
            size = _add(size, np.convolve(tox_poly[j], _walk_down(j - 1, below, p0, p1, accept)))
        size = _add(size, _walk_down(k - 1, below, p0, p1, accept))

    above = p > cutoff + 1e-12
    first_above = int(np.argmax(above)) if above.any() else k
    return ExactMoments(
        selected=selected,
        patients=patients,
        dlts=dlts,
        size_dist=size,
        stops={
            StopReason.MTD_DECLARED: float(selected[:k].sum()),
            StopReason.NO_DOSE_ACCEPTABLE: float(selected[k]),
        },
        expected_over=float(patients[above].sum()),
        prob_any_over=float(reach[first_above]) if first_above < k else 0.0,
    )


def _walk_down(
    j: int,
    below: list[NDArray[np.float64]],
    p0: NDArray[np.float64],
    p1: NDArray[np.float64],
    accept: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Patients on doses 0..j (escalation plus walk-down expansions), walking down from j."""
    if j < 0:
        return np.array([1.0])
    settle = np.convolve(below[j], _poly(n6=p1[j] * p0[j] + p0[j] * accept[j]))
    onward = np.convolve(
        _poly(n6=p0[j] * (1 - accept[j])), _walk_down(j - 1, below, p0, p1, accept)
    )
    return _add(settle, onward)


def _add(a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
    width = max(a.size, b.size)
    return np.pad(a, (0, width - a.size)) + np.pad(b, (0, width - b.size))


def exact_result(
    design: str,
    truth: NDArray[np.float64],
    m: ExactMoments,
    thresholds: Thresholds,
    details: dict[str, object] | None = None,
) -> OperatingCharacteristics:
    """Wrap exact moments in the common result model (standard errors are 0)."""
    k = truth.size
    zero = 0.0
    sizes = np.arange(m.size_dist.size)
    mean_size = float((sizes * m.size_dist).sum())
    sel_above = float(m.selected[:k][thresholds.above(truth)].sum())
    sel_margin = float(m.selected[:k][thresholds.above_margin(truth)].sum())
    return OperatingCharacteristics(
        design=design,
        truth=tuple(float(v) for v in truth),
        method="exact",
        n_trials=None,
        selection=tuple(Figure(float(v), zero) for v in m.selected[:k]),
        no_mtd=Figure(float(m.selected[k]), zero),
        patients=tuple(Figure(float(v), zero) for v in m.patients),
        dlts=tuple(Figure(float(v), zero) for v in m.dlts),
        sample_size=Figure(mean_size, zero),
        total_dlts=Figure(float(m.dlts.sum()), zero),
        sample_size_distribution={int(s): float(v) for s, v in enumerate(m.size_dist) if v > 1e-15},
        stop_reasons={r.label: Figure(v, zero) for r, v in m.stops.items() if v > 0},
        overdose_cutoff=thresholds.overdose_cutoff,
        margin_cutoff=thresholds.margin_cutoff,
        share_patients_overdosed=Figure(m.expected_over / mean_size if mean_size else 0.0, zero),
        prob_any_overdosed=Figure(m.prob_any_over, zero),
        prob_select_overdose=Figure(sel_above, zero),
        prob_select_above_margin=Figure(sel_margin, zero),
        details=dict(details or {}),
    )


def three_plus_three_exact(
    truth: NDArray[np.float64] | list[float] | tuple[float, ...],
    rule: MtdRule = "expand",
    overdose_cutoff: float = 1 / 3,
    margin_cutoff: float | None = None,
) -> OperatingCharacteristics:
    """Exact OCs of 3+3 starting at dose 1, cohorts of 3, at most 6 per dose.

    The overdose cutoff defaults to 1/3 (more than 1 DLT in 3 expected).
    """
    p = np.asarray(truth, dtype=np.float64)
    _check_truth(p)
    if rule not in ("previous", "expand"):
        raise InputError([Problem("mtd_rule", f"expected 'previous' or 'expand', got {rule!r}")])
    thresholds = Thresholds(
        overdose_cutoff, overdose_cutoff if margin_cutoff is None else margin_cutoff
    )
    moments = three_plus_three_moments(p, rule, overdose_cutoff)
    return exact_result(f"3+3 (mtd_rule={rule})", p, moments, thresholds, {"mtd_rule": rule})


def _check_truth(p: NDArray[np.float64]) -> None:
    if p.ndim != 1 or p.size == 0:
        raise InputError([Problem("truth", "expected one true DLT probability per dose")])
    bad = [f"{v:g}" for v in p if not 0.0 <= v <= 1.0]
    if bad or np.isnan(p).any():
        raise InputError(
            [Problem("truth", f"probabilities must lie in [0, 1], got {', '.join(bad)}")]
        )
