"""What one batch of simulated trials leaves behind: per-trial arrays, nothing summarised."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np
from numpy.typing import NDArray

NO_DOSE = -1  # `selected` value of a trial that selects no dose


class StopReason(IntEnum):
    """Why a simulated trial ended. The integer is what the per-trial arrays hold."""

    MAX_SAMPLE_SIZE = 1  # the planned number of patients (cohorts) was reached
    EARLY_STOP_N = 2  # n at the current dose reached the early-stop size (BOIN n.earlystop)
    LOWEST_DOSE_ELIMINATED = 3  # the lowest dose is too toxic: no MTD
    EXTRASAFE = 4  # the stricter lowest-dose rule (extrasafe) stopped the trial
    MTD_DECLARED = 5  # a rule-based design (3+3, rolling six) settled on its MTD
    NO_DOSE_ACCEPTABLE = 6  # a rule-based design found every dose too toxic

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class TrialBatch:
    """Per-trial results, 0-based doses; `selected` is NO_DOSE when no MTD is chosen.

    `duration` (days) is present when the simulation ran in calendar time.
    """

    n: NDArray[np.int64]  # (trials, doses) patients treated
    y: NDArray[np.int64]  # (trials, doses) DLTs
    selected: NDArray[np.int64]  # (trials,)
    stop_reason: NDArray[np.int64]  # (trials,) StopReason values
    duration: NDArray[np.float64] | None = None

    @property
    def n_trials(self) -> int:
        return int(self.n.shape[0])

    @property
    def n_doses(self) -> int:
        return int(self.n.shape[1])

    def take(self, rows: NDArray[np.int64]) -> TrialBatch:
        return TrialBatch(
            self.n[rows],
            self.y[rows],
            self.selected[rows],
            self.stop_reason[rows],
            None if self.duration is None else self.duration[rows],
        )

    @staticmethod
    def concat(batches: list[TrialBatch]) -> TrialBatch:
        durations = [b.duration for b in batches]
        dur = None
        if all(d is not None for d in durations):
            dur = np.concatenate([d for d in durations if d is not None])
        return TrialBatch(
            np.concatenate([b.n for b in batches]),
            np.concatenate([b.y for b in batches]),
            np.concatenate([b.selected for b in batches]),
            np.concatenate([b.stop_reason for b in batches]),
            dur,
        )
