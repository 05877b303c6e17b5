"""TITE-CRM (Cheung & Chappell, Biometrics 2000; dfcrm `titecrm`).

Patients still inside the DLT window enter the CRM likelihood with a weight w in [0, 1]:
p^y (1 - w p)^(1 - y). A DLT or a completed window has weight 1.

- linear: w = follow-up / window, capped at 1;
- adaptive: with z DLTs so far at (sorted) times t_1..t_z, a pending patient followed u
  days with m of those times at or before u gets w = (m + (u - t_m) / (t_{m+1} - t_m)) / (z + 1),
  where t_0 = 0 and t_{z+1} = window; with no DLT yet it is the linear weight.

The outcome grammar carries the days: ``P(12)`` is pending after 12 days, ``T(9)`` a DLT
on day 9 (the adaptive scheme needs the DLT days). `restrict` here is dfcrm `titesim`'s:
never more than one dose above the current one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from phaseone.designs.crm import CRM, _arrays
from phaseone.designs.outcomes import Outcomes, Patient
from phaseone.errors import InputError, Problem

Scheme = Literal["linear", "adaptive"]


def tite_weights(patients: list[Patient], window: float, scheme: Scheme) -> list[float]:
    """Weights for evaluable-or-pending patients in order; DLTs and completed windows get 1."""
    dlt_times = sorted(p.days for p in patients if p.dlt and p.days is not None)
    if scheme == "adaptive" and any(p.dlt and p.days is None for p in patients):
        raise InputError(
            [Problem("outcomes", "adaptive weights need the day of every DLT, e.g. T(9)")]
        )
    z = len(dlt_times)
    out: list[float] = []
    for i, p in enumerate(patients):
        if p.status != "P":
            out.append(1.0)
            continue
        if p.days is None:
            raise InputError(
                [
                    Problem(
                        "outcomes",
                        f"patient {i + 1} is pending without follow-up days; write P(days)",
                    )
                ]
            )
        u = min(p.days, window)
        if scheme == "linear" or z == 0:
            w = u / window
        else:
            times = [t / window for t in dlt_times]
            v = u / window
            m = sum(1 for t in times if t <= v)
            if m == 0:
                w = v / times[0] / (z + 1)
            elif m == z:
                w = (z + (v - times[-1]) / (1 - times[-1])) / (z + 1) if times[-1] < 1 else 1.0
            else:
                w = (m + (v - times[m - 1]) / (times[m] - times[m - 1])) / (z + 1)
        out.append(min(w, 1.0))
    return out


@dataclass(frozen=True)
class TITECRM(CRM):
    window_days: float = 28.0
    weights: Scheme = "linear"
    name: str = "tite_crm"

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.window_days > 0:
            raise InputError(
                [Problem("window_days", f"expected a positive number, got {self.window_days:g}")]
            )

    def describe(self) -> str:
        return (
            f"TITE-CRM({self.model}, {self.weights} weights, target={self.target_rate:g}, "
            f"doses={self.n_doses})"
        )

    def observations(
        self, outcomes: Outcomes
    ) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]:
        patients = list(outcomes.patients)
        return _arrays(patients, tite_weights(patients, self.window_days, self.weights))

    def restriction(self, outcomes: Outcomes) -> tuple[int, str] | None:
        d = outcomes.last_dose
        if not self.restrict or d is None:
            return None
        return min(d + 1, self.n_doses), f"no skipping: at most one dose above the current dose {d}"
