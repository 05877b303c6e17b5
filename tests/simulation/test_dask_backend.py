"""A small scenario grid on a Dask LocalCluster equals the local result for the same seed."""

from __future__ import annotations

import pandas as pd

from phaseone.simulation.api import CHUNK_TRIALS
from phaseone.simulation.dask_backend import DaskBackend
from phaseone.simulation.scenarios import DesignEntry, Grid, Scenario, run_grid


def test_grid_on_local_cluster_equals_local_run() -> None:
    grid = Grid(
        scenarios=(
            Scenario("MTD at 3", (0.05, 0.15, 0.30, 0.45, 0.60)),
            Scenario("toxic", (0.35, 0.45, 0.55, 0.65, 0.75)),
        ),
        designs=(
            DesignEntry("BOIN", "boin", {"target": 0.3, "max_cohorts": 10, "early_stop_n": 18}),
            DesignEntry("Keyboard", "keyboard", {"target": 0.3, "max_cohorts": 10}),
        ),
        trials=CHUNK_TRIALS + 5_000,  # more than one chunk per run
        seed=17,
    )
    local, _ = run_grid(grid)
    with DaskBackend(n_workers=2) as backend:
        distributed, _ = run_grid(grid, backend)
    pd.testing.assert_frame_equal(local, distributed)
