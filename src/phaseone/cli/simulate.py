"""`phaseone simulate`: operating characteristics of an escalation design."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from phaseone.cli.output import console, err_console, print_json
from phaseone.designs import build_design, design_from_protocol
from phaseone.designs.base import Design
from phaseone.errors import InputError, Problem
from phaseone.protocol import resolve_protocol
from phaseone.protocol.designs import PARAMS_BY_DESIGN
from phaseone.simulation.api import Backend
from phaseone.simulation.api import simulate as run_simulation
from phaseone.simulation.exact_api import exact_oc
from phaseone.simulation.results import OperatingCharacteristics
from phaseone.simulation.scenarios import DesignEntry, Grid, load_grid, run_grid
from phaseone.simulation.timeline import Timeline

DESIGNS = ("boin", "keyboard", "mtpi2", "crm", "tite_crm", "three_plus_three", "rolling_six")
INTERVAL = ("boin", "keyboard", "mtpi2")


class SimFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


class RngChoice(StrEnum):
    numpy = "numpy"
    r = "r"


class BackendChoice(StrEnum):
    local = "local"
    dask = "dask"


def _floats(text: str, name: str) -> list[float]:
    try:
        return [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise InputError(
            [Problem(name, f"expected comma-separated numbers, got {text!r}")]
        ) from None


def _extra_params(items: list[str]) -> dict[str, Any]:
    import yaml

    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InputError([Problem("--param", f"expected KEY=VALUE, got {item!r}")])
        out[key.strip()] = yaml.safe_load(value)
    return out


def design_params(
    name: str,
    target: float | None,
    cohort_size: int | None,
    cohorts: int | None,
    early_stop: int | None,
    extrasafe: bool,
    titration: bool,
    bound_mtd: bool,
    skeleton: str | None,
    extra: dict[str, Any],
) -> dict[str, Any]:
    if name not in DESIGNS:
        raise InputError(
            [Problem("--design", f"unknown design {name!r}; expected one of {', '.join(DESIGNS)}")]
        )
    params: dict[str, Any] = {}
    if target is not None:
        params["target"] = target
    if name in INTERVAL:
        params["cohort_size"] = 3 if cohort_size is None else cohort_size
        params["max_cohorts"] = 10 if cohorts is None else cohorts
        if early_stop is not None:
            params["early_stop_n"] = early_stop
        if extrasafe:
            params["extrasafe"] = True
        if name == "boin":
            params["titration"] = titration
            params["bound_mtd"] = bound_mtd
    elif name in ("crm", "tite_crm"):
        if skeleton is not None:
            params["skeleton"] = tuple(_floats(skeleton, "--skeleton"))
        cs = 1 if cohort_size is None else cohort_size
        params["cohort_size"] = cs
        if cohorts is not None:
            params["max_n"] = cs * cohorts
    known = set(PARAMS_BY_DESIGN[name].model_fields) - {"provenance", "field_provenance"}
    for key in extra:
        if key not in known:
            raise InputError(
                [
                    Problem(
                        f"--param {key}",
                        f"unknown option for {name}; expected one of {', '.join(sorted(known))}",
                    )
                ]
            )
    params.update(extra)
    if name in INTERVAL and params.get("max_cohorts", 1) < 1:
        raise InputError([Problem("--cohorts", "expected at least 1 cohort")])
    return params


@contextmanager
def progress_bar(enabled: bool) -> Iterator[Any]:
    """A rich progress bar on stderr; `start(label)` returns a callback (done, total)."""
    if not enabled:
        yield lambda label: None
        return
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,.0f}/{task.total:,.0f} trials"),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
    )
    with bar:

        def start(label: str) -> Any:
            task = bar.add_task(label, total=None)

            def update(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            return update

        yield start


def make_backend(kind: BackendChoice, scheduler: str | None, workers: int | None) -> Backend | None:
    if kind is BackendChoice.local:
        if scheduler is not None:
            raise InputError([Problem("--scheduler", "needs --backend dask")])
        return None
    from phaseone.simulation.dask_backend import DaskBackend

    return DaskBackend(scheduler, workers)


def simulate(
    design: str | None = typer.Option(
        None, "--design", help=f"Design: {', '.join(DESIGNS)}. Not with --protocol."
    ),
    target: float | None = typer.Option(None, "--target", help="Target DLT rate."),
    truth: str | None = typer.Option(
        None, "--truth", help="True DLT probability per dose, comma-separated."
    ),
    cohort_size: int | None = typer.Option(None, "--cohort-size", help="Patients per cohort."),
    cohorts: int | None = typer.Option(
        None, "--cohorts", help="Maximum number of cohorts (max sample size / cohort size)."
    ),
    early_stop: int | None = typer.Option(
        None, "--early-stop", help="Stop when this many patients are at the current dose."
    ),
    extrasafe: bool = typer.Option(False, "--extrasafe", help="Stricter stop at dose 1."),
    titration: bool = typer.Option(False, "--titration", help="BOIN accelerated titration."),
    bound_mtd: bool = typer.Option(False, "--bound-mtd", help="BOIN boundMTD selection."),
    skeleton: str | None = typer.Option(None, "--skeleton", help="CRM skeleton, comma-separated."),
    param: list[str] = typer.Option(
        [], "--param", help="Any other design parameter, KEY=VALUE (repeatable)."
    ),
    trials: int = typer.Option(10_000, "--trials", help="Simulated trials (per scenario)."),
    seed: int = typer.Option(1, "--seed", help="Random seed: same seed, same result."),
    rng: RngChoice = typer.Option(
        RngChoice.numpy, "--rng", help="numpy (fast) or r: R's set.seed/runif stream."
    ),
    exact: bool = typer.Option(
        False,
        "--exact",
        help=(
            "Exact operating characteristics (3+3 in closed form; interval designs by "
            "dynamic programming)."
        ),
    ),
    protocol: str | None = typer.Option(
        None, "--protocol", help="Take the design and dose levels from a protocol (id or file)."
    ),
    scenarios: Path | None = typer.Option(
        None, "--scenarios", help="A YAML or CSV scenario grid; writes one tidy table."
    ),
    plot: Path | None = typer.Option(None, "--plot", help="Write a grid plot (.png or .svg)."),
    arrival: str = typer.Option(
        "exponential", "--arrival", help="Calendar time: fixed or exponential arrivals."
    ),
    arrival_days: float = typer.Option(7.0, "--arrival-days", help="Mean days between patients."),
    window_days: float = typer.Option(28.0, "--window-days", help="DLT window in days."),
    calendar: bool = typer.Option(
        False, "--calendar", help="Simulate in calendar time (always on for waiting designs)."
    ),
    overdose_cutoff: float | None = typer.Option(
        None, "--overdose-cutoff", help="Doses with true rate above this are overdoses."
    ),
    margin: float = typer.Option(0.1, "--margin", help="Also report P(select > target+margin)."),
    backend: BackendChoice = typer.Option(
        BackendChoice.local, "--backend", help="local, or dask (LocalCluster by default)."
    ),
    scheduler: str | None = typer.Option(
        None, "--scheduler", help="Address of an existing Dask scheduler."
    ),
    workers: int | None = typer.Option(None, "--workers", help="LocalCluster workers."),
    fmt: SimFormat = typer.Option(SimFormat.table, "--format", help="table, json or csv."),
) -> None:
    """Operating characteristics by simulation (or exactly, with --exact).

    Reports, per dose, the probability of selection, mean patients and DLTs, each with
    its Monte Carlo standard error; and per trial the sample size, stop reasons,
    overdose measures and, for designs that wait for outcomes, trial duration.

    Example: phaseone simulate --design boin --target 0.3
    --truth 0.05,0.15,0.3,0.45,0.6 --cohort-size 3 --cohorts 10 --early-stop 18
    --trials 10000 --seed 1
    """
    extra = _extra_params(param)
    timeline = Timeline(arrival, arrival_days, window_days)  # type: ignore[arg-type]
    backend_obj = make_backend(backend, scheduler, workers)
    show_bar = fmt is SimFormat.table and sys.stderr.isatty()
    if scenarios is not None:
        _run_grid(
            scenarios, design, target, cohort_size, cohorts, early_stop, extrasafe,
            titration, bound_mtd, skeleton, extra, trials, seed, rng, backend_obj, plot, fmt,
            show_bar,
        )  # fmt: skip
        return
    if plot is not None:
        raise InputError([Problem("--plot", "plots are drawn for scenario grids (--scenarios)")])
    if truth is None:
        raise InputError([Problem("--truth", "give the true DLT probability of every dose")])
    p = _floats(truth, "--truth")
    chosen, cs, n_cohorts = _design(
        design, protocol, target, cohort_size, cohorts, early_stop, extrasafe, titration,
        bound_mtd, skeleton, extra, len(p),
    )  # fmt: skip
    if exact:
        oc = exact_oc(
            chosen,
            p,
            cohort_size=cs,
            cohorts=n_cohorts,
            overdose_cutoff=overdose_cutoff,
            margin=margin,
        )
    else:
        with _backend_ctx(backend_obj), progress_bar(show_bar) as start:
            oc = run_simulation(
                chosen,
                p,
                trials,
                seed,
                cohort_size=cs,
                cohorts=n_cohorts,
                rng="r" if rng is RngChoice.r else "numpy",
                backend=backend_obj,
                progress=start(chosen.describe()),
                timeline=timeline if calendar else None,
                overdose_cutoff=overdose_cutoff,
                margin=margin,
            )
    _emit(oc, fmt)


@contextmanager
def _backend_ctx(backend: Backend | None) -> Iterator[None]:
    if backend is not None and hasattr(backend, "__enter__"):
        with backend:  # type: ignore[attr-defined]
            yield
    else:
        yield


def _design(
    name: str | None,
    protocol: str | None,
    target: float | None,
    cohort_size: int | None,
    cohorts: int | None,
    early_stop: int | None,
    extrasafe: bool,
    titration: bool,
    bound_mtd: bool,
    skeleton: str | None,
    extra: dict[str, Any],
    n_doses: int,
) -> tuple[Design, int | None, int | None]:
    if protocol is not None:
        if name is not None:
            raise InputError([Problem("--design", "give --design or --protocol, not both")])
        proto = resolve_protocol(protocol)
        if len(proto.dose_levels) != n_doses:
            raise InputError(
                [
                    Problem(
                        "--truth",
                        f"protocol {proto.id} has {len(proto.dose_levels)} dose levels; "
                        f"got {n_doses} true probabilities",
                    )
                ]
            )
        return design_from_protocol(proto), None, None
    if name is None:
        raise InputError([Problem("--design", "give --design (or --protocol)")])
    params = design_params(
        name, target, cohort_size, cohorts, early_stop, extrasafe, titration, bound_mtd,
        skeleton, extra,
    )  # fmt: skip
    built = build_design(name, params, n_doses)
    if name in INTERVAL:
        return built, params["cohort_size"], params["max_cohorts"]
    if name in ("crm", "tite_crm"):
        return built, params["cohort_size"], None
    return built, None, None


def _run_grid(
    path: Path,
    name: str | None,
    target: float | None,
    cohort_size: int | None,
    cohorts: int | None,
    early_stop: int | None,
    extrasafe: bool,
    titration: bool,
    bound_mtd: bool,
    skeleton: str | None,
    extra: dict[str, Any],
    trials: int,
    seed: int,
    rng: RngChoice,
    backend: Backend | None,
    plot: Path | None,
    fmt: SimFormat,
    show_bar: bool,
) -> None:
    grid = load_grid(path)
    if not grid.designs:
        if name is None:
            raise InputError([Problem("--design", "the scenario file has no designs; give one")])
        params = design_params(
            name, target, cohort_size, cohorts, early_stop, extrasafe, titration, bound_mtd,
            skeleton, extra,
        )  # fmt: skip
        grid = Grid(
            grid.scenarios,
            (DesignEntry(name, name, params),),
            trials,
            seed,
            "r" if rng is RngChoice.r else "numpy",
            grid.source,
        )
    with _backend_ctx(backend), progress_bar(show_bar) as start:
        tidy, results = run_grid(grid, backend, lambda s, d: start(f"{s} / {d}"))
    if plot is not None:
        from phaseone.simulation.plots import plot_grid

        plot_grid(tidy, {s.name: s.truth for s in grid.scenarios}, plot)
        err_console.print(f"plot written to {plot}")
    if fmt is SimFormat.csv:
        sys.stdout.write(tidy.to_csv(index=False))
    elif fmt is SimFormat.json:
        print_json(
            {
                "trials": grid.trials,
                "seed": grid.seed,
                "results": [
                    {"scenario": s.name, "label": e.label, **oc.to_dict()} for s, e, oc in results
                ],
            }
        )
    else:
        for s, e, oc in results:
            console.print(f"[bold]{s.name}[/] — {e.label}")
            _table(oc)


def _emit(oc: OperatingCharacteristics, fmt: SimFormat) -> None:
    if fmt is SimFormat.json:
        print_json(oc.to_dict())
    elif fmt is SimFormat.csv:
        sys.stdout.write(oc.tidy_frame().to_csv(index=False))
    else:
        _table(oc)


def _pm(value: float, se: float, digits: int, pct: bool = False) -> str:
    scale = 100 if pct else 1
    text = f"{scale * value:.{digits}f}"
    return text if se == 0 else f"{text} ± {scale * se:.{digits}f}"


def _table(oc: OperatingCharacteristics) -> None:
    how = "exact" if oc.method == "exact" else f"{oc.n_trials:,} simulated trials"
    table = Table("dose", "true p", "selected %", "patients", "DLTs", title=f"{oc.design} ({how})")
    for i in range(oc.n_doses):
        table.add_row(
            str(i + 1),
            f"{oc.truth[i]:.2f}",
            _pm(oc.selection[i].value, oc.selection[i].se, 1, pct=True),
            _pm(oc.patients[i].value, oc.patients[i].se, 2),
            _pm(oc.dlts[i].value, oc.dlts[i].se, 2),
        )
    table.add_row(
        "none/all",
        "",
        _pm(oc.no_mtd.value, oc.no_mtd.se, 1, pct=True),
        _pm(oc.sample_size.value, oc.sample_size.se, 2),
        _pm(oc.total_dlts.value, oc.total_dlts.se, 2),
    )
    console.print(table)
    lines = [
        f"patients above p={oc.overdose_cutoff:g}: "
        + _pm(oc.share_patients_overdosed.value, oc.share_patients_overdosed.se, 1, pct=True)
        + "%",
        "trials treating anyone there: "
        + _pm(oc.prob_any_overdosed.value, oc.prob_any_overdosed.se, 1, pct=True)
        + "%",
        f"selecting a dose above p={oc.margin_cutoff:g}: "
        + _pm(oc.prob_select_above_margin.value, oc.prob_select_above_margin.se, 1, pct=True)
        + "%",
    ]
    lines += [
        f"stop, {name.replace('_', ' ')}: " + _pm(f.value, f.se, 1, pct=True) + "%"
        for name, f in oc.stop_reasons.items()
    ]
    if oc.duration is not None:
        lines.append("duration (days): " + _pm(oc.duration.value, oc.duration.se, 1))
    for line in lines:
        console.print(line, highlight=False)
