"""NCA speed: 10,000 simulated subjects x 12 samples, every default single-dose parameter.

Profiles follow a one-compartment oral model with log-normal between-subject variability
and proportional residual error, drawn from a seeded generator. The peer figure is from a
PKNCA user report: 1,000 single-dose profiles took over an hour (2019;
https://github.com/humanpred/pknca/issues/117; later releases are faster).
Run: .venv/bin/python bench/bench_pk.py
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table

from phaseone.pk import Dose, read_concentrations, run_nca

N_SUBJECTS = 10_000
TIMES = np.array([0, 0.25, 0.5, 1, 2, 3, 4, 6, 8, 12, 16, 24], dtype=float)


def simulate(rng: np.random.Generator, n: int) -> pd.DataFrame:
    ka = 1.5 * np.exp(rng.normal(0, 0.3, n))
    ke = 0.1 * np.exp(rng.normal(0, 0.3, n))
    v = 30 * np.exp(rng.normal(0, 0.2, n))
    dose = 320.0
    t = TIMES[None, :]
    c = (
        dose
        * ka[:, None]
        / (v[:, None] * (ka - ke)[:, None])
        * (np.exp(-ke[:, None] * t) - np.exp(-ka[:, None] * t))
    )
    c = c * np.exp(rng.normal(0, 0.1, c.shape))
    return pd.DataFrame(
        {
            "subject": np.repeat(np.arange(n), TIMES.size).astype(str),
            "time": np.tile(TIMES, n),
            "conc": c.ravel(),
        }
    )


def main() -> None:
    frame = simulate(np.random.default_rng(20240601), N_SUBJECTS)
    doses = [Dose(str(s), 0.0, 320.0) for s in range(N_SUBJECTS)]
    t0 = time.perf_counter()
    conc = read_concentrations(frame)
    t1 = time.perf_counter()
    result = run_nca(conc, doses)
    t2 = time.perf_counter()
    table = Table(title=f"NCA, {N_SUBJECTS:,} subjects x {TIMES.size} samples (one core)")
    table.add_column("step")
    table.add_column("seconds", justify="right")
    table.add_column("values", justify="right")
    table.add_row("read profiles", f"{t1 - t0:.2f}", "")
    table.add_row("all default parameters", f"{t2 - t1:.2f}", f"{len(result.parameters):,}")
    table.add_row("total", f"{t2 - t0:.2f}", "")
    table.add_row("PKNCA user report (1,000 profiles, 2019)", "> 3600", "")
    Console().print(table)


if __name__ == "__main__":
    main()
