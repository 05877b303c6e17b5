"""Operating characteristics: the result model, with a Monte Carlo standard error by every figure.

Simulation batches reduce to `OCStats`, sums that add across chunks (and across Dask
workers) without keeping every trial. `OperatingCharacteristics` turns sums into figures:

- selection probability of each dose and of no MTD;
- mean patients and DLTs per dose, mean total sample size and its distribution;
- share of trials ending for each stop reason;
- overdose measures: the share of patients treated at doses whose true rate exceeds the
  overdose cutoff (a ratio of means, with a delta-method standard error), the probability
  that a trial treats anyone there, the probability of selecting such a dose, and the
  probability of selecting a dose above target + margin;
- trial duration in days when the simulation ran in calendar time.

Exact results carry standard errors of 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from phaseone.simulation.batch import NO_DOSE, StopReason, TrialBatch

N_REASONS = len(StopReason) + 1


@dataclass(frozen=True)
class Thresholds:
    """Which doses count as overdoses, given the truth."""

    overdose_cutoff: float  # a dose is "above the true MTD" when its true rate > this
    margin_cutoff: float  # selection above target + margin

    def above(self, truth: NDArray[np.float64]) -> NDArray[np.bool_]:
        return truth > self.overdose_cutoff + 1e-12

    def above_margin(self, truth: NDArray[np.float64]) -> NDArray[np.bool_]:
        return truth > self.margin_cutoff + 1e-12


@dataclass
class OCStats:
    """Additive sums over simulated trials (merge with `+`)."""

    n_doses: int
    trials: int = 0
    selected: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    n_sum: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    n_sq: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    y_sum: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    y_sq: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    size_hist: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    dlt_sum: float = 0.0
    dlt_sq: float = 0.0
    stops: NDArray[np.int64] = field(default_factory=lambda: np.zeros(N_REASONS, np.int64))
    over_sum: float = 0.0  # patients above the cutoff
    over_sq: float = 0.0
    over_n: float = 0.0  # sum of (patients above) x (total patients)
    any_over: int = 0
    select_over: int = 0
    select_margin: int = 0
    durations: list[NDArray[np.float64]] = field(default_factory=list)

    def __post_init__(self) -> None:
        k = self.n_doses
        if self.selected.size == 0:
            self.selected = np.zeros(k + 1, np.int64)
            for name in ("n_sum", "n_sq", "y_sum", "y_sq"):
                setattr(self, name, np.zeros(k))

    @classmethod
    def from_batch(
        cls, batch: TrialBatch, truth: NDArray[np.float64], thresholds: Thresholds
    ) -> OCStats:
        k = batch.n_doses
        n = batch.n.astype(np.float64)
        y = batch.y.astype(np.float64)
        total = batch.n.sum(axis=1)
        dlt = y.sum(axis=1)
        above = thresholds.above(truth)
        over = n[:, above].sum(axis=1)
        sel = np.where(batch.selected == NO_DOSE, k, batch.selected)
        chosen = batch.selected[batch.selected != NO_DOSE]
        return cls(
            n_doses=k,
            trials=batch.n_trials,
            selected=np.bincount(sel, minlength=k + 1).astype(np.int64),
            n_sum=n.sum(axis=0),
            n_sq=(n * n).sum(axis=0),
            y_sum=y.sum(axis=0),
            y_sq=(y * y).sum(axis=0),
            size_hist=np.bincount(total).astype(np.int64),
            dlt_sum=float(dlt.sum()),
            dlt_sq=float((dlt * dlt).sum()),
            stops=np.bincount(batch.stop_reason, minlength=N_REASONS).astype(np.int64),
            over_sum=float(over.sum()),
            over_sq=float((over * over).sum()),
            over_n=float((over * total).sum()),
            any_over=int((over > 0).sum()),
            select_over=int(above[chosen].sum()),
            select_margin=int(thresholds.above_margin(truth)[chosen].sum()),
            durations=[] if batch.duration is None else [batch.duration],
        )

    def __add__(self, other: OCStats) -> OCStats:
        width = max(self.size_hist.size, other.size_hist.size)
        return OCStats(
            n_doses=self.n_doses,
            trials=self.trials + other.trials,
            selected=self.selected + other.selected,
            n_sum=self.n_sum + other.n_sum,
            n_sq=self.n_sq + other.n_sq,
            y_sum=self.y_sum + other.y_sum,
            y_sq=self.y_sq + other.y_sq,
            size_hist=np.pad(self.size_hist, (0, width - self.size_hist.size))
            + np.pad(other.size_hist, (0, width - other.size_hist.size)),
            dlt_sum=self.dlt_sum + other.dlt_sum,
            dlt_sq=self.dlt_sq + other.dlt_sq,
            stops=self.stops + other.stops,
            over_sum=self.over_sum + other.over_sum,
            over_sq=self.over_sq + other.over_sq,
            over_n=self.over_n + other.over_n,
            any_over=self.any_over + other.any_over,
            select_over=self.select_over + other.select_over,
            select_margin=self.select_margin + other.select_margin,
            durations=self.durations + other.durations,
        )


def _mean_se(total: NDArray[np.float64] | float, sq: NDArray[np.float64] | float, t: int) -> Any:
    mean = np.asarray(total) / t
    var = np.maximum(np.asarray(sq) / t - mean * mean, 0.0)
    se = np.sqrt(var * t / max(t - 1, 1) / t)
    return mean, se


def _prop_se(p: NDArray[np.float64] | float, t: int) -> Any:
    p = np.asarray(p, dtype=np.float64)
    return np.sqrt(p * (1 - p) / t)


@dataclass(frozen=True)
class Figure:
    """One number with its Monte Carlo standard error (0 for exact results)."""

    value: float
    se: float

    def to_dict(self) -> dict[str, float]:
        return {"value": self.value, "se": self.se}


@dataclass(frozen=True)
class OperatingCharacteristics:
    """Operating characteristics of one design under one truth. Doses are 1-based in output."""

    design: str
    truth: tuple[float, ...]
    method: Literal["simulation", "exact"]
    n_trials: int | None
    selection: tuple[Figure, ...]
    no_mtd: Figure
    patients: tuple[Figure, ...]
    dlts: tuple[Figure, ...]
    sample_size: Figure
    total_dlts: Figure
    sample_size_distribution: dict[int, float]
    stop_reasons: dict[str, Figure]
    overdose_cutoff: float
    margin_cutoff: float
    share_patients_overdosed: Figure
    prob_any_overdosed: Figure
    prob_select_overdose: Figure
    prob_select_above_margin: Figure
    duration: Figure | None = None
    duration_quantiles: dict[str, float] | None = None
    details: dict[str, Any] = field(default_factory=dict)
    trials: TrialBatch | None = field(default=None, compare=False, repr=False)

    @property
    def n_doses(self) -> int:
        return len(self.truth)

    @classmethod
    def from_stats(
        cls,
        design: str,
        truth: NDArray[np.float64],
        stats: OCStats,
        thresholds: Thresholds,
        details: dict[str, Any] | None = None,
    ) -> OperatingCharacteristics:
        t = stats.trials
        k = stats.n_doses
        p = stats.selected / t
        pse = _prop_se(p, t)
        n_mean, n_se = _mean_se(stats.n_sum, stats.n_sq, t)
        y_mean, y_se = _mean_se(stats.y_sum, stats.y_sq, t)
        sizes = np.arange(stats.size_hist.size, dtype=np.float64)
        size_sum = float((sizes * stats.size_hist).sum())
        size_sq = float((sizes * sizes * stats.size_hist).sum())
        size_mean, size_se = _mean_se(size_sum, size_sq, t)
        dlt_mean, dlt_se = _mean_se(stats.dlt_sum, stats.dlt_sq, t)
        share, share_se = _ratio_se(
            stats.over_sum, stats.over_sq, size_sum, size_sq, stats.over_n, t
        )
        stops = {
            r.label: Figure(float(stats.stops[r] / t), float(_prop_se(stats.stops[r] / t, t)))
            for r in StopReason
            if stats.stops[r] > 0
        }

        def prop(count: int) -> Figure:
            return Figure(count / t, float(_prop_se(count / t, t)))

        duration = None
        quantiles = None
        if stats.durations:
            d = np.concatenate(stats.durations)
            spread = float(d.std(ddof=1) / math.sqrt(d.size)) if d.size > 1 else 0.0
            duration = Figure(float(d.mean()), spread)
            qs = (0.05, 0.25, 0.5, 0.75, 0.95)
            values = np.quantile(d, qs)
            quantiles = {f"q{round(q * 100)}": float(v) for q, v in zip(qs, values, strict=True)}
        return cls(
            design=design,
            truth=tuple(float(v) for v in truth),
            method="simulation",
            n_trials=t,
            selection=tuple(Figure(float(p[i]), float(pse[i])) for i in range(k)),
            no_mtd=Figure(float(p[k]), float(pse[k])),
            patients=tuple(Figure(float(n_mean[i]), float(n_se[i])) for i in range(k)),
            dlts=tuple(Figure(float(y_mean[i]), float(y_se[i])) for i in range(k)),
            sample_size=Figure(float(size_mean), float(size_se)),
            total_dlts=Figure(float(dlt_mean), float(dlt_se)),
            sample_size_distribution={
                int(s): float(c / t) for s, c in enumerate(stats.size_hist) if c > 0
            },
            stop_reasons=stops,
            overdose_cutoff=thresholds.overdose_cutoff,
            margin_cutoff=thresholds.margin_cutoff,
            share_patients_overdosed=Figure(share, share_se),
            prob_any_overdosed=prop(stats.any_over),
            prob_select_overdose=prop(stats.select_over),
            prob_select_above_margin=prop(stats.select_margin),
            duration=duration,
            duration_quantiles=quantiles,
            details=details or {},
        )

    def with_trials(self, batch: TrialBatch | None) -> OperatingCharacteristics:
        return replace(self, trials=batch)

    # --- views -----------------------------------------------------------------------

    def trials_frame(self) -> pd.DataFrame:
        """One row per simulated trial (kept with keep_trials=True); doses 1-based."""
        if self.trials is None:
            raise ValueError("per-trial results were not kept; simulate with keep_trials=True")
        b = self.trials
        frame = pd.DataFrame(
            {
                "trial": np.arange(1, b.n_trials + 1),
                "selected": np.where(b.selected == NO_DOSE, 0, b.selected + 1),
                "stop_reason": [StopReason(int(r)).label for r in b.stop_reason],
                "patients": b.n.sum(axis=1),
                "dlts": b.y.sum(axis=1),
            }
        )
        for i in range(b.n_doses):
            frame[f"n{i + 1}"] = b.n[:, i]
            frame[f"y{i + 1}"] = b.y[:, i]
        if b.duration is not None:
            frame["duration_days"] = b.duration
        return frame

    def to_frame(self) -> pd.DataFrame:
        """One row per dose (and a final row for no MTD): selection, patients, DLTs, SEs."""
        rows = []
        for i in range(self.n_doses):
            rows.append(
                {
                    "dose": str(i + 1),
                    "true_dlt_rate": self.truth[i],
                    "selected_pct": 100 * self.selection[i].value,
                    "selected_pct_se": 100 * self.selection[i].se,
                    "patients": self.patients[i].value,
                    "patients_se": self.patients[i].se,
                    "dlts": self.dlts[i].value,
                    "dlts_se": self.dlts[i].se,
                }
            )
        rows.append(
            {
                "dose": "none",
                "true_dlt_rate": float("nan"),
                "selected_pct": 100 * self.no_mtd.value,
                "selected_pct_se": 100 * self.no_mtd.se,
                "patients": self.sample_size.value,
                "patients_se": self.sample_size.se,
                "dlts": self.total_dlts.value,
                "dlts_se": self.total_dlts.se,
            }
        )
        return pd.DataFrame(rows)

    def summary_frame(self) -> pd.DataFrame:
        """One row per trial-level measure: name, value, se."""
        items: list[tuple[str, Figure]] = [
            ("no_mtd", self.no_mtd),
            ("sample_size", self.sample_size),
            ("total_dlts", self.total_dlts),
            ("share_patients_overdosed", self.share_patients_overdosed),
            ("prob_any_overdosed", self.prob_any_overdosed),
            ("prob_select_overdose", self.prob_select_overdose),
            ("prob_select_above_margin", self.prob_select_above_margin),
        ]
        items += [(f"stop:{k}", v) for k, v in self.stop_reasons.items()]
        if self.duration is not None:
            items.append(("duration_days", self.duration))
        return pd.DataFrame(
            {
                "measure": [m for m, _ in items],
                "value": [f.value for _, f in items],
                "se": [f.se for _, f in items],
            }
        )

    def tidy_frame(self) -> pd.DataFrame:
        """Long format: one row per (measure, dose) with value and se; trial-level
        measures have an empty dose. Doses are 1-based; "none" is no MTD."""
        rows: list[dict[str, Any]] = []
        for i in range(self.n_doses):
            for measure, fig in (
                ("selected", self.selection[i]),
                ("patients", self.patients[i]),
                ("dlts", self.dlts[i]),
            ):
                rows.append(
                    {"measure": measure, "dose": str(i + 1), "value": fig.value, "se": fig.se}
                )
        rows.append(
            {
                "measure": "selected",
                "dose": "none",
                "value": self.no_mtd.value,
                "se": self.no_mtd.se,
            }
        )
        for _, row in self.summary_frame().iterrows():
            if row["measure"] != "no_mtd":
                rows.append(
                    {"measure": row["measure"], "dose": "", "value": row["value"], "se": row["se"]}
                )
        frame = pd.DataFrame(rows)
        frame.insert(0, "design", self.design)
        frame.insert(1, "method", self.method)
        return frame

    def to_dict(self) -> dict[str, Any]:
        """The documented JSON shape (docs/simulation.md)."""
        return {
            "design": self.design,
            "method": self.method,
            "n_trials": self.n_trials,
            "truth": list(self.truth),
            "doses": [
                {
                    "dose": i + 1,
                    "true_dlt_rate": self.truth[i],
                    "selected": self.selection[i].to_dict(),
                    "patients": self.patients[i].to_dict(),
                    "dlts": self.dlts[i].to_dict(),
                }
                for i in range(self.n_doses)
            ],
            "no_mtd": self.no_mtd.to_dict(),
            "sample_size": self.sample_size.to_dict(),
            "sample_size_distribution": {
                str(k): v for k, v in self.sample_size_distribution.items()
            },
            "total_dlts": self.total_dlts.to_dict(),
            "stop_reasons": {k: v.to_dict() for k, v in self.stop_reasons.items()},
            "overdose": {
                "cutoff": self.overdose_cutoff,
                "margin_cutoff": self.margin_cutoff,
                "share_patients_above_cutoff": self.share_patients_overdosed.to_dict(),
                "prob_any_patient_above_cutoff": self.prob_any_overdosed.to_dict(),
                "prob_select_above_cutoff": self.prob_select_overdose.to_dict(),
                "prob_select_above_margin": self.prob_select_above_margin.to_dict(),
            },
            "duration_days": None if self.duration is None else self.duration.to_dict(),
            "duration_quantiles_days": self.duration_quantiles,
            "details": self.details,
        }


def _ratio_se(
    a_sum: float, a_sq: float, b_sum: float, b_sq: float, ab: float, t: int
) -> tuple[float, float]:
    """Ratio of means sum(a)/sum(b) and its delta-method standard error."""
    if b_sum <= 0:
        return 0.0, 0.0
    r = a_sum / b_sum
    # var(a - r b) per trial, from the sums.
    mean_d = (a_sum - r * b_sum) / t
    sq_d = (a_sq - 2 * r * ab + r * r * b_sq) / t
    var_d = max(sq_d - mean_d * mean_d, 0.0) * t / max(t - 1, 1)
    return r, math.sqrt(var_d / t) / (b_sum / t)
