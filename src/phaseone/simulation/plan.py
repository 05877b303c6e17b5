"""What every vectorised engine plan offers the simulation driver."""

from __future__ import annotations

from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from phaseone.simulation.batch import TrialBatch


class Plan(Protocol):
    """A compiled design: runs a batch of trials from rows of latent uniforms."""

    @property
    def name(self) -> str: ...

    @property
    def n_doses(self) -> int: ...

    @property
    def target(self) -> float: ...

    @property
    def uniforms_per_trial(self) -> int: ...

    @property
    def r_offset_step(self) -> int: ...

    def run(
        self, truth: NDArray[np.float64], u: NDArray[np.float64]
    ) -> tuple[TrialBatch, NDArray[np.int64]]: ...
