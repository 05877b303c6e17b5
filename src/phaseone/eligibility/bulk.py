"""Bulk screening: JSONL records in, one JSONL row per record out, in input order.

Every row comes from `Screener.evaluate`, the one evaluation of a record; this module
only decides where it runs. Lines are cut into chunks; a chunk is screened here (no
executor), in worker processes (`worker_pool(n)`, a `concurrent.futures` executor) or
on a Dask cluster (a `distributed.Client`: anything with `submit(fn, *args)` returning
a future with `.result()`). At most `window` chunks are in flight and their rows are
written in input order, so memory stays flat however long the file.

A worker receives the protocol as pickled bytes with a content key and builds its
`Screener` once per protocol (`_screener`), then only the chunk's lines travel.
"""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import json
import os
import pickle
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from itertools import islice
from typing import IO, TYPE_CHECKING, Any, NamedTuple, Protocol

import orjson

from phaseone.eligibility.engine import Screener
from phaseone.eligibility.record import parse_record
from phaseone.eligibility.result import ROW_FORMAT
from phaseone.errors import InputError, PhaseoneError
from phaseone.protocol.model import Protocol as TrialProtocol

if TYPE_CHECKING:
    from concurrent.futures import Future, ProcessPoolExecutor

# Lines per chunk: large enough that sending a chunk to a worker costs little beside
# screening it (~100 ms of work), small enough that a few in flight keep memory flat.
CHUNK_LINES = 500


class Detail(StrEnum):
    summary = "summary"
    full = "full"


class Submitter(Protocol):
    """What the stream needs of an executor: `concurrent.futures.Executor` and
    `distributed.Client` both have it."""

    def submit(self, fn: Callable[..., Any], /, *args: Any) -> Any: ...


@dataclass(frozen=True, slots=True)
class Job:
    """What every chunk of one run shares. The protocol travels pickled, with a key of
    its content, so that a worker builds its Screener once per protocol, not per chunk."""

    protocol: bytes
    key: str
    as_of: dt.date
    dose_level: int | None
    detail: Detail

    @classmethod
    def of(
        cls, protocol: TrialProtocol, as_of: dt.date, dose_level: int | None, detail: Detail
    ) -> Job:
        data = pickle.dumps(protocol, protocol=pickle.HIGHEST_PROTOCOL)
        return cls(data, hashlib.sha256(data).hexdigest(), as_of, dose_level, detail)


class Chunk(NamedTuple):
    """The rows of a chunk of lines (JSONL text), the count of each overall verdict and
    of each failed criterion, and the bytes of input the chunk held."""

    text: bytes
    counts: Counter[str]
    failures: Counter[str]
    size: int


def screen_line(
    screener: Screener,
    line: bytes,
    number: int,
    as_of: dt.date,
    dose_level: int | None,
    detail: Detail,
) -> tuple[bytes, str, tuple[str, ...]]:
    """One JSONL line to one output line (JSON and its newline), with the overall verdict
    and the failed criteria; a bad record becomes an error row."""
    try:
        record = parse_record(line, line=number)
        result = screener.evaluate(record, as_of, dose_level)
    except InputError as exc:
        row: dict[str, Any] = {
            "format": ROW_FORMAT,
            "line": number,
            "record_id": _guess_id(line),
            "overall": "error",
            "errors": [{"path": p.path, "message": p.message} for p in exc.problems],
        }
        return orjson.dumps(row, option=orjson.OPT_APPEND_NEWLINE), "error", ()
    except PhaseoneError as exc:  # pragma: no cover - defensive: never stop a bulk run
        row = {"format": ROW_FORMAT, "line": number, "overall": "error", "errors": [str(exc)]}
        return orjson.dumps(row, option=orjson.OPT_APPEND_NEWLINE), "error", ()
    if detail is Detail.summary:
        text = result.to_row_json(line=number)
    else:
        text = orjson.dumps(result.to_dict(line=number), option=orjson.OPT_APPEND_NEWLINE)
    return text, result.overall, result.failed


def _guess_id(line: bytes) -> str | None:
    """The record's id if the line is JSON with a string id (for error rows)."""
    try:
        data = json.loads(line)
    except ValueError:
        return None
    value = data.get("id") if isinstance(data, dict) else None
    return value if isinstance(value, str) else None


def screen_lines(
    screener: Screener,
    first: int,
    lines: list[bytes],
    as_of: dt.date,
    dose_level: int | None,
    detail: Detail,
) -> Chunk:
    """Screen consecutive lines, the first being line number `first`; blank lines are
    skipped (and keep their numbers).

    Records hold no reference cycles, so the cyclic garbage collector is paused over the
    chunk: it would otherwise rescan the heap many times per second for nothing."""
    out: list[bytes] = []
    counts: Counter[str] = Counter()
    failures: Counter[str] = Counter()
    size = 0
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        for number, line in enumerate(lines, start=first):
            size += len(line)
            if not line.strip():
                continue
            text, overall, failed = screen_line(screener, line, number, as_of, dose_level, detail)
            out.append(text)
            counts[overall] += 1
            failures.update(failed)
    finally:
        if was_enabled:
            gc.enable()
    return Chunk(b"".join(out), counts, failures, size)


# A worker's screeners, by protocol key (a worker serves one run at a time: keep few).
_SCREENERS: dict[str, Screener] = {}


def _screener(job: Job) -> Screener:
    found = _SCREENERS.get(job.key)
    if found is None:
        if len(_SCREENERS) >= 4:
            _SCREENERS.clear()
        found = _SCREENERS[job.key] = Screener(pickle.loads(job.protocol))
    return found


def screen_chunk(job: Job, first: int, lines: list[bytes]) -> Chunk:
    """What a worker runs: one chunk of lines of a job."""
    return screen_lines(_screener(job), first, lines, job.as_of, job.dose_level, job.detail)


def _chunks(source: Iterable[bytes], size: int) -> Iterator[tuple[int, list[bytes]]]:
    """(number of the first line, lines) of `size` lines at a time."""
    lines = iter(source)
    first = 1
    while batch := list(islice(lines, size)):
        yield first, batch
        first += len(batch)


def screen_stream(
    screener: Screener,
    source: Iterable[bytes],
    sink: IO[bytes],
    as_of: dt.date,
    dose_level: int | None,
    detail: Detail,
    on_progress: Callable[[int, int], None] | None = None,
    *,
    executor: Submitter | None = None,
    chunk_lines: int = CHUNK_LINES,
    window: int = 8,
) -> tuple[Counter[str], Counter[str]]:
    """Screen JSONL records, writing one JSONL row each in input order; flat memory.

    Without an executor the chunks are screened here, one after another; with one, up
    to `window` chunks are in flight at once (give a cluster of many workers a wider
    window). `on_progress(bytes read, records written)` follows each chunk.
    Returns the count of each verdict and of each failed criterion."""
    counts: Counter[str] = Counter()
    failures: Counter[str] = Counter()
    done = 0

    def write(chunk: Chunk) -> None:
        nonlocal done
        sink.write(chunk.text)
        counts.update(chunk.counts)
        failures.update(chunk.failures)
        done += chunk.size
        if on_progress is not None:
            on_progress(done, sum(counts.values()))

    if executor is None:
        gc.freeze()  # the protocol, the screener and the modules: long-lived, never garbage
        try:
            for first, lines in _chunks(source, chunk_lines):
                write(screen_lines(screener, first, lines, as_of, dose_level, detail))
                gc.collect(0)
        finally:
            gc.unfreeze()
        return counts, failures
    job = Job.of(screener.protocol, as_of, dose_level, detail)
    pending: deque[Future[Chunk]] = deque()
    try:
        for first, lines in _chunks(source, chunk_lines):
            pending.append(executor.submit(screen_chunk, job, first, lines))
            if len(pending) >= window:
                write(pending.popleft().result())
        while pending:
            write(pending.popleft().result())
    finally:
        for future in pending:  # an error stopped the run: drop what is still queued
            future.cancel()
    return counts, failures


def usable_cores() -> int:
    """The cores this process may run on (taskset and container limits included)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def worker_pool(workers: int) -> ProcessPoolExecutor:
    """Worker processes for screen_stream. They are started fresh ('spawn'): a forked
    copy of a process that runs threads (a progress bar's, say) may deadlock."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
