"""The bulk fast path (`evaluate(..., brief=True)`) gives the same verdicts as the full path.

The fast path decides every status first, with rules skipping their reasons and evidence,
then works out in full only the criteria a compact row reports. Nothing it returns may
differ from the full path: every criterion's status and outcome, the overall verdict, the
failed / unknown criteria, the missing data, and the whole compact row (whose details are
the reasons, missing data and evidence of the criteria that did not pass).

Records compared: every example in examples/patients; the bench's generated records
(jittered copies of the examples); and records mutated more boldly (fields dropped or
nulled, booleans flipped, dates moved by up to two months, values scaled, coded values
swapped for others seen in the examples) so that each rule's branches are reached. Each
on every dose level and with none.
"""

from __future__ import annotations

import copy
import datetime as dt
import importlib.util
import json
import random
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from phaseone.eligibility import EligibilityResult, PatientRecord, Screener, parse_record
from phaseone.errors import InputError

from .conftest import AS_OF

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


def _valid(records: Iterator[dict[str, Any]]) -> list[PatientRecord]:
    out = []
    for data in records:
        try:
            out.append(parse_record(data))
        except InputError:
            continue
    return out


def _same(full: EligibilityResult, brief: EligibilityResult) -> None:
    where = f"{full.record_id}, level {full.dose_level}"
    assert not full.brief and brief.brief
    for a, b in zip(full.criteria, brief.criteria, strict=True):
        assert (a.id, a.status, a.outcome) == (b.id, b.status, b.outcome), where
    assert (full.overall, full.failed, full.unknown, full.missing) == (
        brief.overall,
        brief.failed,
        brief.unknown,
        brief.missing,
    ), where
    assert full.to_row(line=1) == brief.to_row(line=1), where


def _reported(result: EligibilityResult) -> list[str]:
    """The criteria a compact row details, by the rule as documented, written plainly:
    not passed, not applicable, and not under a group that passed."""
    settled: set[str] = set()
    out = []
    for c in result.criteria:
        if c.outcome == "pass" or c.parent in settled:
            settled.add(c.id)
        elif c.outcome != "not_applicable":
            out.append(c.id)
    return out


def _compare(
    screener: Screener, records: list[PatientRecord], levels: tuple[int | None, ...]
) -> int:
    """Compare both paths on every record and level; count brief results that left out
    some passed criterion's reason (so the fast path really was taken)."""
    lean = 0
    for record in records:
        for level in levels:
            full = screener.evaluate(record, AS_OF, level)
            brief = screener.evaluate(record, AS_OF, level, brief=True)
            _same(full, brief)
            assert [d["id"] for d in full.to_row()["details"]] == _reported(full)
            row = brief.to_row()
            assert list(row["outcomes"].items()) == [(c.id, c.outcome) for c in full.criteria]
            # The bulk writer's JSON text is the row, serialised, byte for byte.
            text = orjson.dumps(full.to_row(line=1), option=orjson.OPT_APPEND_NEWLINE)
            assert brief.to_row_json(line=1) == text
            lean += any(c.outcome == "pass" and not c.reason for c in brief.criteria)
    return lean


@pytest.fixture(scope="module")
def mutated() -> list[PatientRecord]:
    records = _valid(_mutated_records(1500))
    assert len(records) == 1500
    return records


def test_examples(screener: Screener) -> None:
    records = [parse_record(p.read_bytes()) for p in EXAMPLES]
    assert len(records) >= 20
    assert _compare(screener, records, LEVELS) == len(records) * len(LEVELS)


def test_generated_records(screener: Screener) -> None:
    # Levels 2-5 give the same agents (so the same criteria apply); 1 has no isotretinoin.
    records = _valid(_bench_records(2000))
    assert len(records) >= 1950
    assert _compare(screener, records, (None, 1, 2)) == len(records) * 3


def test_mutated_records(screener: Screener, mutated: list[PatientRecord]) -> None:
    _compare(screener, mutated, LEVELS)
    verdicts = {screener.evaluate(r, AS_OF, 2, brief=True).overall for r in mutated}
    assert verdicts == {"eligible", "ineligible", "incomplete"}


def test_mutations_reach_each_status(screener: Screener, mutated: list[PatientRecord]) -> None:
    """Most criteria see more than one status among the mutated records (else the
    comparison above would say little about their fast paths)."""
    statuses: dict[str, set[str]] = {}
    for record in mutated:
        for level in (None, 2):
            for c in screener.evaluate(record, AS_OF, level, brief=True).criteria:
                statuses.setdefault(c.id, set()).add(c.status)
    varied = [cid for cid, s in statuses.items() if len(s) > 1]
    assert len(varied) >= 0.9 * len(statuses), sorted(set(statuses) - set(varied))
