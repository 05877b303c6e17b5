"""What changed between two patient records: each value added, removed or changed, by
its path in the record (the same paths the record's errors use)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Change:
    """One value of a record that differs; None on a side means absent (not known)."""

    path: str
    old: Any
    new: Any


def flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    """Every leaf value of JSON data by its path ('labs[0].value'); an empty list or
    mapping is a leaf (an empty list says "known: none")."""
    out: dict[str, Any] = {}
    if isinstance(data, dict) and data:
        for key, value in data.items():
            out.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(data, list) and data:
        for i, value in enumerate(data):
            out.update(flatten(value, f"{prefix}[{i}]"))
    else:
        out[prefix] = data
    return out


def record_changes(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    """The values that differ between two records, in the order of the newer record (then
    the ones it no longer has)."""
    before, after = flatten(old), flatten(new)
    paths = list(after) + [p for p in before if p not in after]
    return [Change(p, before.get(p), after.get(p)) for p in paths if before.get(p) != after.get(p)]
