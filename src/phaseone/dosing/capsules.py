"""Which whole units (capsules, tablets, vials) make up an amount, with the fewest units."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

_Entry = tuple[tuple[int, int, tuple[int, ...]], tuple[int, ...]] | None

Units = tuple[tuple[float, int], ...]
"""(strength in mg, count) pairs, largest strength first."""


def _frac(value: float) -> Fraction:
    return Fraction(repr(value))


@dataclass(frozen=True)
class Combination:
    """An amount made of whole units: e.g. 17.5 mg = 1 x 15 mg + 1 x 2.5 mg."""

    mg: float
    units: Units

    @property
    def count(self) -> int:
        return sum(n for _, n in self.units)

    def describe(self, form: str = "capsule") -> str:
        parts = [f"{n} x {s:g} mg" for s, n in self.units]
        plural = "s" if self.count > 1 else ""
        return " + ".join(parts) + f" {form}{plural}"


class CapsuleBox:
    """The strengths available for one agent, and the cheapest way to make an amount.

    "Cheapest" means the fewest units; among those, the fewest different strengths
    (one prescription line instead of two), then the larger strengths.
    """

    def __init__(self, strengths_mg: tuple[float, ...]) -> None:
        if not strengths_mg or any(s <= 0 for s in strengths_mg):
            raise ValueError("strengths must be positive")
        self.strengths = tuple(sorted(set(strengths_mg), reverse=True))
        fracs = [_frac(s) for s in self.strengths]
        # Work in integer multiples of the largest common quantum (2.5 mg -> 0.5 mg steps).
        quantum = fracs[0]
        for f in fracs[1:]:
            quantum = _gcd(quantum, f)
        self._quantum = quantum
        self._steps = tuple(int(f / quantum) for f in fracs)
        self._table: list[_Entry] = [((0, 0, ()), (0,) * len(self._steps))]

    @property
    def quantum_mg(self) -> float:
        return float(self._quantum)

    def steps_of(self, mg: float) -> int | None:
        """mg as a whole number of quanta, or None when it is not a multiple."""
        q = _frac(round(mg, 9)) / self._quantum
        return int(q) if q.denominator == 1 else None

    def combination(self, mg: float) -> Combination | None:
        """The best way to make exactly `mg` from whole units, or None if impossible."""
        steps = self.steps_of(mg)
        if steps is None or steps <= 0:
            return None
        best = _best(self._steps, self._table, steps)
        if best is None:
            return None
        units = tuple((self.strengths[i], n) for i, n in enumerate(best) if n > 0)
        return Combination(float(steps * self._quantum), units)

    def achievable(self, up_to_mg: float, max_units: int | None = None) -> list[Combination]:
        """Every amount that whole units can make, from the smallest strength up."""
        top = int(_frac(round(up_to_mg, 9)) / self._quantum)
        out: list[Combination] = []
        for steps in range(1, top + 1):
            combo = self.combination(float(steps * self._quantum))
            if combo is not None and (max_units is None or combo.count <= max_units):
                out.append(combo)
        return out


def _gcd(a: Fraction, b: Fraction) -> Fraction:
    while b:
        a, b = b, a % b
    return a


def _best(steps: tuple[int, ...], table: list[_Entry], target: int) -> tuple[int, ...] | None:
    """Counts per strength (same order as `steps`) making `target` with the fewest units."""
    # Dynamic programme over amounts, grown on demand in `table` (owned by one
    # CapsuleBox); the key orders candidates as CapsuleBox documents.
    for amount in range(len(table), target + 1):
        best: _Entry = None
        for i, step in enumerate(steps):
            prev = table[amount - step] if step <= amount else None
            if prev is None:
                continue
            counts = list(prev[1])
            counts[i] += 1
            key = _key(counts)
            if best is None or key < best[0]:
                best = (key, tuple(counts))
        table.append(best)
    found = table[target]
    return None if found is None else found[1]


def _key(counts: list[int]) -> tuple[int, int, tuple[int, ...]]:
    # Fewest units, then fewest strengths, then more of the larger strengths.
    return (sum(counts), sum(1 for c in counts if c), tuple(-c for c in counts))
