"""Bulk eligibility screening: records per second and memory, streaming JSONL.

Generates N invented records (default 100,000) from the example records in
examples/patients (each copy gets a new id and jittered lab values and dates), writes
them to a JSONL file, then screens the file the way `phaseone screen FILE.jsonl` does:
one line read, parsed, evaluated and written at a time. Prints records/s (wall and CPU),
the resident memory after 10% and after 100% of the records (flat = streaming), and
the peak RSS.

    python bench/bench_eligibility.py [N]

Target: >= 5,000 records/s of CPU time on one core (run it pinned: `taskset -c 0`),
memory flat. CPU time is the measure: on a shared machine wall time also counts the
time other processes hold the core.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import resource
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from phaseone.cli.screen import Detail, screen_stream
from phaseone.eligibility import Screener
from phaseone.protocol import resolve_protocol

EXAMPLES = Path(__file__).parents[1] / "examples" / "patients"
AS_OF = dt.date(2024, 6, 3)
TARGET = 5000.0


def records(n: int, seed: int = 20240603) -> Iterator[dict[str, Any]]:
    """n invented records: copies of the examples with new ids, jittered labs and dates,
    and now and then a malformed one (a unit the analyte does not accept)."""
    rng = random.Random(seed)
    templates = [json.loads(p.read_text()) for p in sorted(EXAMPLES.glob("[0-9]*.json"))]
    for i in range(n):
        record = json.loads(json.dumps(rng.choice(templates)))
        record["id"] = f"GEN-{i:06d}"
        for lab in record["labs"]:
            lab["value"] = round(lab["value"] * rng.uniform(0.75, 1.25), 3)
            shift = rng.randint(0, 5)
            lab["date"] = (
                dt.date.fromisoformat(lab["date"]) - dt.timedelta(days=shift)
            ).isoformat()
        if rng.random() < 0.01:
            record["labs"][0]["unit"] = "mg/dL"
        yield record


def generate(path: Path, n: int, seed: int = 20240603) -> None:
    """Write n generated records to a JSONL file."""
    with path.open("wb") as out:
        for record in records(n, seed):
            out.write(orjson.dumps(record) + b"\n")


def rss_kib() -> int:
    """Current resident set size in KiB (Linux)."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * (resource.getpagesize() // 1024)


def screen_file(source: Path, target: Path, n: int) -> tuple[float, float, int, int, int]:
    """Screen the file through the same streaming function as `phaseone screen`."""
    screener = Screener(resolve_protocol("nant-2011-04"))
    rss_early = 0

    def progress(done_bytes: int, records: int) -> None:
        nonlocal rss_early
        if not rss_early and records >= n // 10:
            rss_early = rss_kib()

    wall, cpu = time.perf_counter(), time.process_time()
    with source.open("rb", buffering=1 << 20) as lines, target.open("wb") as sink:
        counts, _ = screen_stream(
            screener, lines, sink, AS_OF, 2, Detail.summary, on_progress=progress, every=1000
        )
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return wall, cpu, rss_early, rss_kib(), counts["error"]


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    with tempfile.TemporaryDirectory() as tmp:
        source, target = Path(tmp) / "records.jsonl", Path(tmp) / "results.jsonl"
        t = time.perf_counter()
        generate(source, n)
        made = time.perf_counter() - t
        wall, cpu, rss_early, rss_late, errors = screen_file(source, target, n)
        size = source.stat().st_size / 1e6
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    rate_wall, rate_cpu = n / wall, n / cpu
    rows = [
        ("records", f"{n:,} ({size:.0f} MB JSONL, {errors} malformed)"),
        ("generation", f"{made:.1f} s (not timed below)"),
        ("screening, wall", f"{wall:.1f} s = {rate_wall:,.0f} records/s"),
        ("screening, CPU", f"{cpu:.1f} s = {rate_cpu:,.0f} records/s (one core)"),
        ("RSS after 10% / 100%", f"{rss_early / 1024:.0f} MiB / {rss_late / 1024:.0f} MiB"),
        ("peak RSS", f"{peak / 1024:.0f} MiB"),
        ("target", f">= {TARGET:,.0f} records/s CPU: {'met' if rate_cpu >= TARGET else 'NOT met'}"),
    ]
    width = max(len(k) for k, _ in rows)
    print("bench_eligibility: phaseone screen, NANT 2011-04, dose level 2, summary rows")
    for key, value in rows:
        print(f"  {key.ljust(width)}  {value}")


if __name__ == "__main__":
    main()
