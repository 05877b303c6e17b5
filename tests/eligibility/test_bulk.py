"""Bulk screening gives, row for row, what one evaluation of each record gives.

There is one definition of each rule and one evaluation of a record
(`Screener.evaluate`); bulk runs only decide where it runs. These tests hold the bulk
stream to that: serially its rows are those of `evaluate(...).to_row()` for every
example, the bench's generated records and boldly mutated records, on every dose level
and with none; in worker processes (small chunks, so that chunks finish out of order
and must be put back in order) and on a Dask cluster its JSONL is the serial stream's,
byte for byte. A changed threshold moves
every path together, and a changed comparison inside a rule is caught.

Mutated records: fields dropped or nulled, booleans flipped, dates moved by up to two
months, values scaled, coded values swapped for others seen in the examples, so that
each rule's branches are reached.
"""

from __future__ import annotations

import copy
import datetime as dt
import importlib.util
import inspect
import io
import json
import random
import re
import textwrap
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import orjson
import pytest

from phaseone.eligibility import RULES, Screener, parse_record
from phaseone.eligibility.bulk import Detail, screen_stream, worker_pool
from phaseone.eligibility.rules import therapy
from phaseone.errors import InputError
from phaseone.protocol import bundled_protocols, parse_protocol, resolve_protocol

from .conftest import AS_OF, ago, base

ROOT = Path(__file__).parents[2]
EXAMPLES = sorted((ROOT / "examples" / "patients").glob("[0-9]*.json"))
LEVELS: tuple[int | None, ...] = (None, 1, 2, 3, 4, 5)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _bench_records(n: int) -> Iterator[dict[str, Any]]:
    """The records bench/bench_eligibility.py screens."""
    spec = importlib.util.spec_from_file_location(
        "bench_eligibility", ROOT / "bench" / "bench_eligibility.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    records: Iterator[dict[str, Any]] = module.records(n)
    return records


def _seen_values(templates: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """Every string value found under each key in the examples (to swap coded values)."""
    seen: dict[str, set[str]] = {}

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if isinstance(value, str) and not _DATE.match(value):
                    seen.setdefault(key, set()).add(value)
                visit(value)
        elif isinstance(node, list):
            for item in node:
                visit(item)

    for t in templates:
        visit(t)
    return {k: sorted(v) for k, v in seen.items() if len(v) > 1}


def _paths(node: Any, here: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """The path of every value inside a record (dict keys and list indexes)."""
    items = node.items() if isinstance(node, dict) else enumerate(node)
    for k, v in items:
        yield (*here, k)
        if isinstance(v, (dict, list)):
            yield from _paths(v, (*here, k))


def _changed(value: Any, key: Any, rng: random.Random, seen: dict[str, list[Any]]) -> Any:
    """A bold change of one value; _DROP removes it (not known / one item fewer)."""
    roll = rng.random()
    if roll < 0.2:
        return _DROP
    if roll < 0.35:
        return None
    if isinstance(value, bool):
        return not value
    if isinstance(value, (int, float)):
        scaled = value * rng.choice((0.3, 0.6, 0.9, 1.1, 1.5, 3.0))
        return round(scaled) if isinstance(value, int) else round(scaled, 3)
    if isinstance(value, str) and _DATE.match(value):
        return (dt.date.fromisoformat(value) + dt.timedelta(days=rng.randint(-60, 30))).isoformat()
    if isinstance(value, str) and key in seen:
        return rng.choice(seen[key])
    if isinstance(value, list):
        return []
    return _DROP


_DROP = object()


def _mutate(record: dict[str, Any], rng: random.Random, seen: dict[str, list[Any]]) -> None:
    """One to six changes, each kept only if the record stays valid."""
    for _ in range(rng.randint(1, 6)):
        path = rng.choice(list(_paths(record)))
        *parents, key = path
        holder: Any = record
        for part in parents:
            holder = holder[part]
        before = copy.deepcopy(record)
        value = _changed(holder[key], key, rng, seen)
        if value is _DROP:
            del holder[key]
        else:
            holder[key] = value
        try:
            parse_record(record)
        except InputError:
            record.clear()
            record.update(before)


def _mutated_records(n: int, seed: int = 7) -> Iterator[dict[str, Any]]:
    rng = random.Random(seed)
    templates = [json.loads(p.read_text(encoding="utf-8")) for p in EXAMPLES]
    seen = _seen_values(templates)
    for i in range(n):
        record = copy.deepcopy(rng.choice(templates))
        record["id"] = f"MUT-{i:05d}"
        _mutate(record, rng, seen)
        yield record


def _lines(records: list[dict[str, Any]]) -> bytes:
    return b"".join(orjson.dumps(r) + b"\n" for r in records)


def _expected(screener: Screener, text: bytes, level: int | None, detail: Detail) -> bytes:
    """Each line screened on its own, plainly: the row of its evaluation, or an error row
    naming the line (the reference the streams are held to)."""
    out = []
    for number, line in enumerate(text.splitlines(keepends=True), start=1):
        if not line.strip():
            continue
        try:
            result = screener.evaluate(parse_record(line, line=number), AS_OF, level)
        except InputError as exc:
            out.append(
                {"line": number, "overall": "error", "paths": [p.path for p in exc.problems]}
            )
            continue
        row = result.to_row(line=number) if detail is Detail.summary else result.to_dict(number)
        out.append(row)
    return orjson.dumps(out)


def _stream(
    screener: Screener, text: bytes, level: int | None, detail: Detail = Detail.summary, **kw: Any
) -> bytes:
    sink = io.BytesIO()
    screen_stream(screener, io.BytesIO(text), sink, AS_OF, level, detail, **kw)
    return sink.getvalue()


def _as_rows(stream: bytes) -> bytes:
    """The stream's rows in the reference's form (error rows by line and paths)."""
    rows = []
    for line in stream.splitlines():
        row = json.loads(line)
        if row["overall"] == "error":
            row = {
                "line": row["line"],
                "overall": "error",
                "paths": [e["path"] for e in row["errors"]],
            }
        rows.append(row)
    return orjson.dumps(rows)


@pytest.fixture(scope="module")
def pool() -> Iterator[ProcessPoolExecutor]:
    with worker_pool(2) as executor:
        yield executor


@pytest.fixture(scope="module")
def records() -> list[dict[str, Any]]:
    """Examples, generated and mutated records, one malformed line among them."""
    examples = [json.loads(p.read_text(encoding="utf-8")) for p in EXAMPLES]
    generated = list(_bench_records(400))
    mutated = list(_mutated_records(600))
    assert any(_invalid(r) for r in generated)  # the bench makes some malformed ones
    return examples + generated + mutated


def _invalid(record: dict[str, Any]) -> bool:
    try:
        parse_record(record)
    except InputError:
        return True
    return False


@pytest.mark.parametrize("level", LEVELS)
def test_serial_stream_is_each_records_evaluation(
    screener: Screener, records: list[dict[str, Any]], level: int | None
) -> None:
    text = _lines(records)
    stream = _stream(screener, text, level, chunk_lines=97)
    assert orjson.loads(_as_rows(stream)) == orjson.loads(
        _expected(screener, text, level, Detail.summary)
    )


@pytest.mark.parametrize("level", [None, 1, 2])
def test_worker_processes_give_the_serial_stream_byte_for_byte(
    screener: Screener, records: list[dict[str, Any]], pool: ProcessPoolExecutor, level: int | None
) -> None:
    text = _lines(records)
    serial = _stream(screener, text, level)
    assert _stream(screener, text, level, executor=pool, chunk_lines=13, window=6) == serial
    assert len(serial.splitlines()) == len(records)


def test_full_documents_in_workers(screener: Screener, pool: ProcessPoolExecutor) -> None:
    text = _lines([json.loads(p.read_text(encoding="utf-8")) for p in EXAMPLES])
    stream = _stream(screener, text, 2, Detail.full, executor=pool, chunk_lines=5)
    assert stream == _stream(screener, text, 2, Detail.full)
    expected = orjson.loads(_expected(screener, text, 2, Detail.full))
    assert [json.loads(line) for line in stream.splitlines()] == expected


def test_blank_lines_keep_their_numbers_across_chunks(
    screener: Screener, pool: ProcessPoolExecutor
) -> None:
    text = b"\n".join([orjson.dumps(base()), b"", b"  ", orjson.dumps(base()), b"{", b""])
    for kw in ({}, {"executor": pool, "chunk_lines": 2}):
        rows = [json.loads(line) for line in _stream(screener, text, 2, **kw).splitlines()]
        assert [(r["line"], r["overall"]) for r in rows] == [
            (1, "eligible"),
            (4, "eligible"),
            (5, "error"),
        ]


def test_progress_follows_the_bytes_read(screener: Screener, pool: ProcessPoolExecutor) -> None:
    text = _lines([base() for _ in range(10)])
    for kw in ({}, {"executor": pool}):
        seen: list[tuple[int, int]] = []
        _stream(screener, text, 2, on_progress=_record_to(seen), chunk_lines=4, **kw)
        assert seen == [(len(text) * k // 10, k) for k in (4, 8, 10)]


def _record_to(seen: list[tuple[int, int]]) -> Any:
    return lambda done, records: seen.append((done, records))


# --- a threshold moves every path; a changed comparison is caught ---------------------------


def _washout_protocol(min_days: int) -> Screener:
    text = bundled_protocols()["nant-2011-04"].read_text(encoding="utf-8")
    old = "params: {categories: [myelosuppressive_chemotherapy], min_days: 14}"
    assert text.count(old) == 1
    new = old.replace("14", str(min_days))
    return Screener(parse_protocol(text.replace(old, new)))


@pytest.mark.parametrize("min_days", [7, 14, 17, 18, 28])
def test_a_washout_threshold_moves_every_path_together(
    pool: ProcessPoolExecutor, min_days: int
) -> None:
    """The chemotherapy ended 17 days before entry: a washout of up to 17 days passes,
    18 or more fails, and the single evaluation, the serial stream and the workers agree."""
    screener = _washout_protocol(min_days)
    record = base()
    record["prior_therapies"][-2]["end"] = ago(17)
    expected = "pass" if min_days <= 17 else "fail"
    result = screener.evaluate(parse_record(record), AS_OF, 2)
    assert result.criterion("inc-washout-myelosuppressive").outcome == expected
    text = _lines([record] * 3)
    serial = _stream(screener, text, 2)
    assert _stream(screener, text, 2, executor=pool, chunk_lines=1) == serial
    for line in serial.splitlines():
        assert json.loads(line)["outcomes"]["inc-washout-myelosuppressive"] == expected


def _small_port_statuses(screener: Screener) -> dict[int, str]:
    """inc-washout-rt-small-port's status when a radiation course whose field is not recorded
    ended 12..16 days before entry (14 days needed for small-port radiation). Recent
    (under 14 days) it may be small-port: unknown; 14 days or more it cannot fail."""
    out = {}
    for days_off in range(12, 17):
        record = base()
        record["prior_therapies"].append(
            {
                "category": "radiation",
                "name": "RT",
                "start": ago(days_off + 5),
                "end": ago(days_off),
            }
        )
        result = screener.evaluate(parse_record(record), AS_OF, 2)
        out[days_off] = result.criterion("inc-washout-rt-small-port").status
    return out


SMALL_PORT = {12: "unknown", 13: "unknown", 14: "met", 15: "met", 16: "met"}


def _chemotherapy_outcomes(screener: Screener) -> dict[int, str]:
    """inc-washout-myelosuppressive's outcome when the last chemotherapy dose was 13..15
    days before entry (at least 14 days needed)."""
    out = {}
    for days_off in (13, 14, 15):
        record = base()
        record["prior_therapies"][-2]["end"] = ago(days_off)
        result = screener.evaluate(parse_record(record), AS_OF, 2)
        out[days_off] = result.criterion("inc-washout-myelosuppressive").outcome
    return out


CHEMOTHERAPY = {13: "fail", 14: "pass", 15: "pass"}


def test_unclassified_radiation_at_the_washout_boundary(screener: Screener) -> None:
    assert _small_port_statuses(screener) == SMALL_PORT


def test_chemotherapy_washout_boundary(screener: Screener) -> None:
    """A last dose 14 days before entry passes a 14-day washout, 13 days fails."""
    assert _chemotherapy_outcomes(screener) == CHEMOTHERAPY


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("recent = off is None or off < p.min_days", "recent = off is None or off <= p.min_days"),
        ("if days < p.min_days:", "if days <= p.min_days:"),
        ("if days < p.min_days:", "if days < p.min_days - 1:"),
    ],
)
def test_a_changed_washout_comparison_is_caught(
    monkeypatch: pytest.MonkeyPatch, old: str, new: str
) -> None:
    """A mutation check of the two boundary tests above: the washout rule is compiled
    from its own source with one comparison changed, and a screener built with it fails
    one of them. (The stream of that screener shows the same changed verdict: there is
    no second copy of the rule that could still hold the old one.)"""
    monkeypatch.setitem(RULES, "washout", RULES["washout"])  # restored after the test
    source = inspect.getsource(therapy.washout)
    assert source.count(old) == 1, old
    namespace = dict(vars(therapy))
    code = compile(textwrap.dedent(source.replace(old, new)), "<mutated washout>", "exec")
    exec(code, namespace)  # the @rule decorator registers the mutated rule
    assert RULES["washout"].check is not therapy.washout
    mutated = Screener(resolve_protocol("nant-2011-04"))
    caught = (
        _small_port_statuses(mutated) != SMALL_PORT,
        _chemotherapy_outcomes(mutated) != CHEMOTHERAPY,
    )
    assert any(caught)
    record = base()
    record["prior_therapies"][-2]["end"] = ago(14)
    outcome = mutated.evaluate(parse_record(record), AS_OF, 2).criterion(
        "inc-washout-myelosuppressive"
    )
    row = json.loads(_stream(mutated, _lines([record]), 2))
    assert row["outcomes"]["inc-washout-myelosuppressive"] == outcome.outcome


# --- a Dask cluster -----------------------------------------------------------------------


def test_a_dask_cluster_gives_the_serial_stream(
    screener: Screener, records: list[dict[str, Any]]
) -> None:
    distributed = pytest.importorskip("distributed")
    text = _lines(records[:300])
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        stream = _stream(screener, text, 2, executor=client, chunk_lines=17)
    assert stream == _stream(screener, text, 2)


def test_mutations_reach_each_status(screener: Screener) -> None:
    """Most criteria see more than one status among the mutated records (else comparing
    the streams on them would say little about most rules' branches)."""
    statuses: dict[str, set[str]] = {}
    for data in _mutated_records(600):
        record = parse_record(data)
        for level in (None, 2):
            for c in screener.evaluate(record, AS_OF, level).criteria:
                statuses.setdefault(c.id, set()).add(c.status)
    varied = [cid for cid, s in statuses.items() if len(s) > 1]
    assert len(varied) >= 0.9 * len(statuses), sorted(set(statuses) - set(varied))
