"""Time the command line from a cold process: `--help`, `design next` and one-record `screen`.

Each command runs as a new process, as a user or a script runs it, so the figure includes
Python's start-up and every import. With hyperfine installed (Debian: `hyperfine`) it does
the timing (warm-up run, then RUNS runs); otherwise a plain timer loop does. Prints one
table: the command, its mean and min wall time, its mean CPU time (user + system: on a busy
machine the wall time mostly measures the wait for a core), and the goal.

    PYTHONPATH=src python bench/bench_startup.py
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
RUNS = 10
PHASEONE = [sys.executable, "-m", "phaseone"]

# (label, arguments, goal in seconds): the goals of the command line's start-up.
CASES: list[tuple[str, list[str], float]] = [
    ("phaseone --help", ["--help"], 0.3),
    (
        "phaseone design next (BOIN)",
        [
            "design",
            "next",
            "--design",
            "boin",
            "--param",
            "target=0.3",
            "--doses",
            "5",
            "--outcomes",
            "1NNN 2NTN",
        ],
        1.0,
    ),
    (
        "phaseone screen (one record)",
        [
            "screen",
            str(ROOT / "examples/patients/01-recurrent-mibg-bone.json"),
            "--as-of",
            "2024-06-03",
            "--dose-level",
            "2",
        ],
        1.0,
    ),
]


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT / "src")}


def _hyperfine(args: list[str]) -> tuple[float, float, float]:
    command = " ".join(_quote(a) for a in [*PHASEONE, *args])
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "result.json"
        subprocess.run(
            [
                "hyperfine",
                "--warmup",
                "1",
                "--runs",
                str(RUNS),
                "--style",
                "none",
                "--output",
                "null",
                "--export-json",
                str(out),
                command,
            ],
            check=True,
            env=_env(),
            stdout=subprocess.DEVNULL,
        )
        result = json.loads(out.read_text())["results"][0]
    cpu = float(result["user"]) + float(result["system"])
    return float(result["mean"]), float(result["min"]), cpu


def _timer_loop(args: list[str]) -> tuple[float, float, float]:
    times, cpus = [], []
    for i in range(RUNS + 1):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run([*PHASEONE, *args], check=True, env=_env(), stdout=subprocess.DEVNULL)
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if i:  # the first run warms the file cache
            times.append(wall)
            cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.fmean(times), min(times), statistics.fmean(cpus)


def _quote(arg: str) -> str:
    return "'" + arg.replace("'", "'\\''") + "'"


def main() -> None:
    timer = _hyperfine if shutil.which("hyperfine") else _timer_loop
    tool = "hyperfine" if timer is _hyperfine else "timer loop"
    table = Table(
        "command",
        "wall mean (s)",
        "wall min (s)",
        "CPU mean (s)",
        "goal (s)",
        "mean met",
        title=f"command-line start-up, new process each run ({RUNS} runs, {tool})",
    )
    for label, args, goal in CASES:
        mean, best, cpu = timer(args)
        table.add_row(
            label,
            f"{mean:.3f}",
            f"{best:.3f}",
            f"{cpu:.3f}",
            f"{goal:.1f}",
            "yes" if mean <= goal else "NO",
        )
    Console(width=110).print(table)


if __name__ == "__main__":
    main()
