"""The conduct simulation: hand-checkable trials, and the same table wherever it runs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from phaseone.designs.build import design_from_protocol
from phaseone.designs.three_plus_three import ThreePlusThree
from phaseone.errors import InputError
from phaseone.protocol import resolve_protocol
from phaseone.simulation.conduct import (
    DAYS_PER_MONTH,
    Accrual,
    conduct_trial,
    protocol_accrual,
    simulate_conduct,
)

ZERO = np.zeros(5)


def _every(days: float, **more: float) -> Accrual:
    """Referrals exactly `days` apart, nobody failing screening, patient families."""
    values = {"screen_failure": 0.0, "patience_days": 10_000.0, **more}
    return Accrual(referrals_per_month=DAYS_PER_MONTH / days, arrival="fixed", **values)  # type: ignore[arg-type]


def _rolling_six():  # type: ignore[no-untyped-def]
    return design_from_protocol(resolve_protocol("nant-2011-04"))


def test_rolling_six_with_a_referral_every_30_days_and_no_toxicity() -> None:
    # Each window (28 days) is over before the next referral: three evaluable patients
    # without a DLT escalate (rolling six), so levels 1-4 take three patients each, at
    # days 0, 30, ..., 330; level 5's first patient comes on day 360. Six patients there
    # (days 360-510) without a DLT declare it; the last window ends on day 510 + 28 = 538.
    row = conduct_trial(_rolling_six(), ZERO, _every(30), np.random.SeedSequence(1))
    assert row["days_to_top_dose"] == pytest.approx(360)
    assert row["days_to_decision"] == pytest.approx(538)
    assert [row[f"n_{k}"] for k in range(1, 6)] == [3, 3, 3, 3, 6]
    assert row["selected"] == 5 and row["stop_reason"] == "mtd_declared"
    assert row["waited"] == 0 and row["max_waitlist"] == 0 and row["dlts"] == 0


def test_three_plus_three_with_a_referral_every_week_queues_the_next_cohort() -> None:
    # Cohort 1 enrols on days 0, 7, 14 and its windows end on day 42. Referrals of days
    # 21, 28 and 35 wait; cohort 2 enrols all three on day 42 (waits 21, 14, 7 days).
    # Each later cohort opens 28 days after the one before: level 5 on day 42 + 3 x 28.
    design = ThreePlusThree(doses=5)
    row = conduct_trial(design, ZERO, _every(7), np.random.SeedSequence(2))
    assert row["days_to_top_dose"] == pytest.approx(126)
    assert row["n_1"] == 3 and row["n_2"] == 3
    assert row["max_wait_days"] >= 21
    assert row["max_waitlist"] >= 3


def test_a_short_patience_loses_the_waiting_patients() -> None:
    # The same weekly referrals, but a family waits at most 10 days: of the referrals on
    # days 21, 28 and 35 only day 35's is still there on day 42 (day 21's left on day 31,
    # day 28's on day 38).
    design = ThreePlusThree(doses=5)
    row = conduct_trial(design, ZERO, _every(7, patience_days=10), np.random.SeedSequence(2))
    assert row["lost_from_waitlist"] >= 2
    assert row["max_wait_days"] <= 10


def test_the_same_seed_gives_the_same_table_in_chunks_and_on_a_local_cluster() -> None:
    distributed = pytest.importorskip("dask.distributed")
    from phaseone.simulation.dask_backend import DaskBackend

    truth = [0.05, 0.1, 0.2, 0.35, 0.5]
    design, accrual = _rolling_six(), protocol_accrual()
    here = simulate_conduct(design, truth, accrual, 40, seed=7)
    small = simulate_conduct(design, truth, accrual, 40, seed=7, chunk=3)
    # a LocalCluster reached by its address, as `--scheduler ADDRESS` reaches a cluster
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        DaskBackend(scheduler=cluster.scheduler_address) as backend,
    ):
        there = simulate_conduct(design, truth, accrual, 40, seed=7, backend=backend, chunk=6)
    pd.testing.assert_frame_equal(here, small)
    pd.testing.assert_frame_equal(here, there)
    other = simulate_conduct(design, truth, accrual, 40, seed=8)
    assert not here.equals(other)
    assert list(here["trial"]) == list(range(40))


def test_bad_accrual_names_the_field() -> None:
    with pytest.raises(InputError) as caught:
        Accrual(referrals_per_month=0, screen_failure=1.5)
    assert {p.path for p in caught.value.problems} == {"referrals_per_month", "screen_failure"}


def test_the_shipped_accrual_is_marked_assumed() -> None:
    accrual = protocol_accrual()
    assert accrual.assumed
    assert protocol_accrual(referrals_per_month=2.0).referrals_per_month == 2.0


def test_the_command_writes_the_table_and_names_bad_input(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from typer.testing import CliRunner

    from phaseone.cli import app

    table = tmp_path / "conduct.csv"
    out = CliRunner().invoke(
        app,
        ["simulate-conduct", "--truth", "0.05,0.1,0.2,0.35,0.5", "--trials", "30",
         "--seed", "3", "--output", str(table), "--plot", str(tmp_path / "conduct.svg")],
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    written = pd.read_csv(table)
    assert len(written) == 30 and "days_to_decision" in written
    assert "accrual (assumed)" in out.output
    assert (tmp_path / "conduct.svg").stat().st_size > 0
    # five levels, two probabilities: refused naming the field (`phaseone` exits 2 on it)
    wrong = CliRunner().invoke(app, ["simulate-conduct", "--truth", "0.1,0.2"])
    assert isinstance(wrong.exception, InputError)
    assert wrong.exception.problems[0].path == "truth"
