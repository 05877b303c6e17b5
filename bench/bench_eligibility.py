"""Bulk eligibility screening: records per second and memory, streaming JSONL.

Generates N invented records (default 100,000) from the example records in
examples/patients (each copy gets a new id and jittered lab values and dates), writes
them to a JSONL file, then screens the file the way `phaseone screen FILE.jsonl` does
(phaseone.eligibility.bulk.screen_stream): in worker processes, chunks of lines out and
rows back in input order. Prints records/s of wall time and of CPU time (this process
and its workers), the resident memory of this process and of the workers after 10% and
100% of the records (flat = streaming), and the time to screen one record.

    python bench/bench_eligibility.py [N] [--workers W]     # W: default one per core

Target: >= 5,000 records/s of wall time on this 2-core machine, memory flat, one record
<= 20 ms. On a shared machine wall time also counts the time other processes hold the
cores: note the load (printed) beside the figure. `taskset -c 0` gives the one-core
figure (W defaults to 1 there).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import resource
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from phaseone.eligibility import Screener, parse_record
from phaseone.eligibility.bulk import Detail, screen_stream, usable_cores, worker_pool
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


def rss_kib(pid: int | str = "self") -> int:
    """Resident set size of a process in KiB (Linux)."""
    with open(f"/proc/{pid}/statm") as f:
        pages = int(f.read().split()[1])
    return pages * (resource.getpagesize() // 1024)


def children() -> list[int]:
    """The process ids of this process's children (the workers)."""
    found: list[int] = []
    for task in os.listdir("/proc/self/task"):
        with open(f"/proc/self/task/{task}/children") as f:
            found += [int(pid) for pid in f.read().split()]
    return found


def worker_rss_kib() -> int:
    """The largest resident set of the workers."""
    sizes = []
    for pid in children():
        try:
            sizes.append(rss_kib(pid))
        except OSError:
            continue
    return max(sizes, default=0)


def cpu_seconds() -> tuple[float, float]:
    """CPU time of this process, and of its children that have ended (the workers)."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime, kids.ru_utime + kids.ru_stime


class Run:
    def __init__(self, n: int) -> None:
        self.n = n
        self.rss_early = (0, 0)

    def progress(self, done_bytes: int, records: int) -> None:
        if not self.rss_early[0] and records >= self.n // 10:
            self.rss_early = (rss_kib(), worker_rss_kib())


def screen_file(source: Path, target: Path, n: int, workers: int) -> dict[str, Any]:
    """Screen the file through the same streaming function as `phaseone screen`."""
    screener = Screener(resolve_protocol("nant-2011-04"))
    run = Run(n)
    wall, cpu = time.perf_counter(), cpu_seconds()
    pool = worker_pool(workers) if workers > 1 else None
    with source.open("rb", buffering=1 << 20) as lines, target.open("wb") as sink:
        counts, _ = screen_stream(
            screener, lines, sink, AS_OF, 2, Detail.summary, run.progress, executor=pool
        )
    late = (rss_kib(), worker_rss_kib())
    if pool is not None:
        pool.shutdown()
    (me, kids), (me_before, kids_before) = cpu_seconds(), cpu
    return {
        "wall": time.perf_counter() - wall,
        "cpu": (me - me_before, kids - kids_before),
        "early": run.rss_early,
        "late": late,
        "errors": counts["error"],
    }


def one_record() -> dict[str, float]:
    """Milliseconds to screen one example record (evaluation and its JSON document): the
    first record after the screener is built (cold caches), the median of the examples
    after it, and what comes before: loading the protocol file, building the screener."""
    paths = sorted(EXAMPLES.glob("[0-9]*.json"))
    t0 = time.perf_counter()
    protocol = resolve_protocol("nant-2011-04")
    t1 = time.perf_counter()
    screener = Screener(protocol)
    t2 = time.perf_counter()
    screener.evaluate(parse_record(paths[0].read_bytes()), AS_OF, 2).to_json()
    t3 = time.perf_counter()
    times = []
    for path in paths:
        t = time.perf_counter()
        screener.evaluate(parse_record(path.read_bytes()), AS_OF, 2).to_json()
        times.append(time.perf_counter() - t)
    times.sort()
    ms = 1000.0
    return {
        "load": ms * (t1 - t0),
        "build": ms * (t2 - t1),
        "first": ms * (t3 - t2),
        "median": ms * times[len(times) // 2],
    }


def main() -> None:
    args = sys.argv[1:]
    workers = usable_cores()
    if "--workers" in args:
        k = args.index("--workers")
        workers = int(args[k + 1])
        del args[k : k + 2]
    n = int(args[0]) if args else 100_000
    one = one_record()
    with tempfile.TemporaryDirectory() as tmp:
        source, target = Path(tmp) / "records.jsonl", Path(tmp) / "results.jsonl"
        t = time.perf_counter()
        generate(source, n)
        made = time.perf_counter() - t
        load = os.getloadavg()[0]
        got = screen_file(source, target, n, workers)
        size = source.stat().st_size / 1e6
    me_cpu, kids_cpu = got["cpu"]
    rate_wall, rate_cpu = n / got["wall"], n / (me_cpu + kids_cpu)
    (me_early, kids_early), (me_late, kids_late) = got["early"], got["late"]
    rows = [
        ("records", f"{n:,} ({size:.0f} MB JSONL, {got['errors']} malformed)"),
        ("generation", f"{made:.1f} s (not timed below)"),
        ("cores / workers", f"{usable_cores()} / {workers} (load average {load:.1f} at start)"),
        ("screening, wall", f"{got['wall']:.1f} s = {rate_wall:,.0f} records/s"),
        (
            "screening, CPU",
            f"{me_cpu + kids_cpu:.1f} s = {rate_cpu:,.0f} records/s of one core "
            f"(streaming {me_cpu:.1f} s, workers {kids_cpu:.1f} s)",
        ),
        ("RSS after 10% / 100%", f"{me_early / 1024:.0f} MiB / {me_late / 1024:.0f} MiB"),
        ("worker RSS 10% / 100%", f"{kids_early / 1024:.0f} MiB / {kids_late / 1024:.0f} MiB"),
        (
            "one record",
            f"{one['first']:.1f} ms first, {one['median']:.1f} ms median after "
            f"(protocol load {one['load']:.0f} ms, screener build {one['build']:.0f} ms, before)",
        ),
        (
            "target",
            f">= {TARGET:,.0f} records/s wall: {'met' if rate_wall >= TARGET else 'NOT met'}",
        ),
    ]
    width = max(len(k) for k, _ in rows)
    print("bench_eligibility: phaseone screen, NANT 2011-04, dose level 2, summary rows")
    for key, value in rows:
        print(f"  {key.ljust(width)}  {value}")


if __name__ == "__main__":
    main()
