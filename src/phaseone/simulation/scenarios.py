"""Scenario grids: many true dose-toxicity curves x many designs, one tidy table.

A grid file is YAML:

    trials: 2000            # per scenario and design
    seed: 1
    rng: numpy              # or r
    designs:
      - label: BOIN 30%
        name: boin          # a design name of the protocol format
        params: {target: 0.3, cohort_size: 3, max_cohorts: 10, early_stop_n: 18}
      - label: 3+3
        name: three_plus_three
    scenarios:
      - name: MTD at dose 3
        truth: [0.05, 0.15, 0.30, 0.45, 0.60]

or CSV with a `scenario` column and one column per dose (`p1`, `p2`, ...); the designs
then come from the command line. Every (scenario, design) pair uses the same seed, so
designs are compared on the same simulated patients (common random numbers).
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from phaseone.designs import build_design
from phaseone.designs.base import Design
from phaseone.designs.three_plus_three import ThreePlusThree
from phaseone.errors import InputError, Problem
from phaseone.simulation.api import Backend, Progress, RngKind, simulate
from phaseone.simulation.compile import unwrap
from phaseone.simulation.exact_api import exact_oc
from phaseone.simulation.results import OperatingCharacteristics


@dataclass(frozen=True)
class DesignEntry:
    label: str
    name: str
    params: dict[str, Any]
    cohort_size: int | None = None
    cohorts: int | None = None

    def build(self, n_doses: int) -> Design:
        return build_design(self.name, self.params, n_doses)


@dataclass(frozen=True)
class Scenario:
    name: str
    truth: tuple[float, ...]


@dataclass(frozen=True)
class Grid:
    scenarios: tuple[Scenario, ...]
    designs: tuple[DesignEntry, ...] = ()
    trials: int = 1000
    seed: int = 1
    rng: RngKind = "numpy"
    source: str = ""
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def runs(self) -> int:
        return len(self.scenarios) * len(self.designs)


def _problem(path: str, message: str, file: str) -> InputError:
    return InputError([Problem(path, message, file=file)])


def _truth(value: Any, path: str, file: str) -> tuple[float, ...]:
    if not isinstance(value, list | tuple) or not value:
        raise _problem(path, "expected a list of true DLT probabilities", file)
    try:
        out = tuple(float(v) for v in value)
    except (TypeError, ValueError):
        raise _problem(path, f"expected numbers, got {value!r}", file) from None
    bad = [f"{v:g}" for v in out if not 0 <= v <= 1]
    if bad:
        raise _problem(path, f"probabilities must lie in [0, 1], got {', '.join(bad)}", file)
    return out


def load_grid(path: Path) -> Grid:
    """Read a YAML or CSV scenario file; errors name the file and the field."""
    file = str(path)
    if not path.exists():
        raise _problem("scenarios", "file not found", file)
    if path.suffix.lower() == ".csv":
        return _load_csv(path)
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise _problem("", f"not valid YAML: {exc}", file) from None
    if not isinstance(data, dict):
        raise _problem("", "expected a mapping with `scenarios` (and `designs`)", file)
    unknown = set(data) - {"trials", "seed", "rng", "designs", "scenarios"}
    if unknown:
        raise _problem(", ".join(sorted(unknown)), "unknown key", file)
    scen_raw = data.get("scenarios")
    if not isinstance(scen_raw, list) or not scen_raw:
        raise _problem("scenarios", "expected a non-empty list", file)
    scenarios = []
    for i, item in enumerate(scen_raw):
        if not isinstance(item, dict) or "truth" not in item:
            raise _problem(f"scenarios[{i}]", "expected {name, truth}", file)
        name = str(item.get("name", f"scenario {i + 1}"))
        scenarios.append(Scenario(name, _truth(item["truth"], f"scenarios[{i}].truth", file)))
    designs = []
    for i, item in enumerate(data.get("designs") or []):
        if not isinstance(item, dict) or "name" not in item:
            raise _problem(f"designs[{i}]", "expected {name, params}", file)
        params = dict(item.get("params") or {})
        designs.append(DesignEntry(str(item.get("label", item["name"])), str(item["name"]), params))
    rng = str(data.get("rng", "numpy"))
    if rng not in ("numpy", "r"):
        raise _problem("rng", f"expected numpy or r, got {rng!r}", file)
    return Grid(
        tuple(scenarios),
        tuple(designs),
        int(data.get("trials", 1000)),
        int(data.get("seed", 1)),
        "r" if rng == "r" else "numpy",
        file,
    )


def _load_csv(path: Path) -> Grid:
    file = str(path)
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    if not rows or "scenario" not in rows[0]:
        raise _problem("scenario", "expected a header with `scenario` and p1, p2, ...", file)
    dose_cols = [c for c in rows[0] if c != "scenario"]
    scenarios = []
    for i, row in enumerate(rows, start=2):
        values = [row[c] for c in dose_cols if row[c] not in ("", None)]
        try:
            truth = _truth([float(v) for v in values], f"line {i}", file)
        except ValueError:
            raise _problem(f"line {i}", f"expected numbers, got {values}", file) from None
        scenarios.append(Scenario(row["scenario"], truth))
    return Grid(tuple(scenarios), source=file)


def run_design(
    design: Design,
    truth: Sequence[float],
    trials: int,
    seed: int,
    *,
    rng: RngKind = "numpy",
    cohort_size: int | None = None,
    cohorts: int | None = None,
    backend: Backend | None = None,
    progress: Progress | None = None,
    **summary: Any,
) -> OperatingCharacteristics:
    """Simulate, or compute exactly when simulation adds nothing (3+3 in closed form)."""
    if isinstance(unwrap(design).base, ThreePlusThree):
        oc = exact_oc(design, truth, **summary)
        if progress is not None:
            progress(trials, trials)
        return oc
    return simulate(
        design,
        truth,
        trials,
        seed,
        rng=rng,
        cohort_size=cohort_size,
        cohorts=cohorts,
        backend=backend,
        progress=progress,
        **summary,
    )


def cohort_settings(entry: DesignEntry) -> tuple[int | None, int | None]:
    p = entry.params
    cs = entry.cohort_size if entry.cohort_size is not None else p.get("cohort_size")
    cohorts = entry.cohorts if entry.cohorts is not None else p.get("max_cohorts")
    if entry.name in ("boin", "keyboard", "mtpi2"):
        cs = 3 if cs is None else cs
        cohorts = 10 if cohorts is None else cohorts
    return cs, cohorts


def run_grid(
    grid: Grid,
    backend: Backend | None = None,
    on_run: Callable[[str, str], Progress | None] | None = None,
) -> tuple[pd.DataFrame, list[tuple[Scenario, DesignEntry, OperatingCharacteristics]]]:
    """Run every (scenario, design); return the tidy table and the results."""
    if not grid.designs:
        raise InputError([Problem("designs", "the grid has no designs", file=grid.source)])
    results = []
    frames = []
    for scenario in grid.scenarios:
        for entry in grid.designs:
            design = entry.build(len(scenario.truth))
            cs, cohorts = cohort_settings(entry)
            progress = on_run(scenario.name, entry.label) if on_run else None
            oc = run_design(
                design,
                scenario.truth,
                grid.trials,
                grid.seed,
                rng=grid.rng,
                cohort_size=cs,
                cohorts=cohorts,
                backend=backend,
                progress=progress,
            )
            results.append((scenario, entry, oc))
            frame = oc.tidy_frame()
            frame.insert(0, "scenario", scenario.name)
            frame.insert(1, "label", entry.label)
            frames.append(frame)
    return pd.concat(frames, ignore_index=True), results
