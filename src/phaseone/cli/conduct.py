"""`phaseone simulate-conduct`: the conduct of many virtual trials in calendar time."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from phaseone.cli.output import console
from phaseone.cli.simulate import BackendChoice, _floats, make_backend, progress_bar


def simulate_conduct(
    truth: str = typer.Option(
        ..., "--truth", help="True DLT probability per dose level, comma-separated."
    ),
    protocol: str = typer.Option(
        "nant-2011-04", "--protocol", help="The design and dose levels come from this protocol."
    ),
    trials: int = typer.Option(1000, "--trials", min=1, help="Simulated trials."),
    seed: int = typer.Option(1, "--seed", help="Random seed: same seed, same table."),
    referrals: float | None = typer.Option(
        None,
        "--referrals-per-month",
        help="Referrals a month across the sites (default: the shipped assumption).",
    ),
    arrival: str | None = typer.Option(None, "--arrival", help="fixed or exponential gaps."),
    screen_failure: float | None = typer.Option(
        None, "--screen-failure", help="Share of referrals that fail screening."
    ),
    patience: float | None = typer.Option(
        None, "--patience-days", help="Days a waitlisted patient waits before leaving."
    ),
    backend: BackendChoice = typer.Option(
        BackendChoice.local, "--backend", help="local (this process) or dask."
    ),
    scheduler: str | None = typer.Option(
        None, "--scheduler", help="Address of an existing Dask scheduler (with --backend dask)."
    ),
    workers: int | None = typer.Option(None, "--workers", help="LocalCluster workers."),
    output: Path | None = typer.Option(None, "--output", help="Write the tidy table (CSV)."),
    plot: Path | None = typer.Option(None, "--plot", help="Write histograms (.png or .svg)."),
) -> None:
    """Simulate the conduct of many trials in calendar time: referrals at the protocol's
    accrual rate, screen failures, slots opened by the design (rolling six holds accrual
    while outcomes are pending), a first-come waitlist that patients leave after
    --patience-days, DLT windows, to the design's decision.

    Prints the median and 10th-90th percentiles of the time to the decision and to the
    top dose, waits for a slot and waitlist lengths, and how often each level is chosen;
    --output writes one row per trial. Accrual values not given are the shipped
    assumptions (simulation/data/conduct.yaml, marked assumed).

    Example: phaseone simulate-conduct --truth 0.05,0.1,0.2,0.35,0.5 --trials 1000
    --backend dask --output conduct.csv --plot conduct.png
    """
    from rich.table import Table

    from phaseone.designs.build import design_from_protocol
    from phaseone.protocol import resolve_protocol
    from phaseone.simulation.conduct import protocol_accrual, simulate_conduct, summarise

    proto = resolve_protocol(protocol)
    design = design_from_protocol(proto)
    accrual = protocol_accrual(
        referrals_per_month=referrals, arrival=arrival, screen_failure=screen_failure,
        patience_days=patience,
    )  # fmt: skip
    runner = make_backend(backend, scheduler, workers)
    with progress_bar(sys.stderr.isatty()) as start:
        table = simulate_conduct(
            design, _floats(truth, "--truth"), accrual, trials, seed, backend=runner,
            progress=start(f"{trials} trials"),
        )  # fmt: skip
    if output is not None:
        table.to_csv(output, index=False)
        console.print(f"wrote {output} ({len(table)} trials)")
    if plot is not None:
        from phaseone.simulation.conduct_plots import plot_conduct

        console.print(f"wrote {plot_conduct(table, plot)}")
    shown = Table(title=f"Conduct of {trials} trials ({design.describe()}, seed {seed})")
    for column in ("measure", "p10", "median", "p90", "mean"):
        shown.add_column(column, justify="right" if column != "measure" else "left")
    for row in summarise(table).to_dict(orient="records"):
        numbers = (float(row[k]) for k in ("p10", "median", "p90", "mean"))
        shown.add_row(str(row["measure"]), *(f"{v:.1f}" for v in numbers))
    console.print(shown)
    chosen = table["selected"].value_counts(normalize=True).sort_index()
    levels = [level.id for level in proto.dose_levels]
    console.print(
        "selected: "
        + ", ".join(
            f"{'none' if k == 0 else f'level {levels[int(str(k)) - 1]}'} {100 * v:.1f}%"
            for k, v in chosen.items()
        )
    )
    assumed = " (assumed)" if accrual.assumed else ""
    console.print(
        f"accrual{assumed}: {accrual.referrals_per_month:g} referrals a month ({accrual.arrival}), "
        f"screen failure {accrual.screen_failure:g}, patience {accrual.patience_days:g} days, "
        f"DLT window {accrual.window_days:g} days"
    )
