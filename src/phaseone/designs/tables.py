"""Decision tables: (patients evaluated n, DLTs y) at the current dose -> E, S, D or DE.

Interval designs (3+3, BOIN, mTPI-2, Keyboard) reduce to such a table. The table is a
NumPy array so that a vectorised simulation can index it across many trials at once;
`fit()` of those designs reads its decision from the same array.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.special import betaincc

from phaseone.designs.base import Decision

E, S, D, DE = (
    d.code for d in (Decision.ESCALATE, Decision.STAY, Decision.DEESCALATE, Decision.ELIMINATE)
)
INVALID = -1


@dataclass(frozen=True)
class DecisionTable:
    """`codes[n, y]` holds the decision code (0 E, 1 S, 2 D, 3 DE; -1 where y > n)."""

    design: str
    codes: NDArray[np.int8]
    # Extra stop at the lowest dose (BOIN/Keyboard `extrasafe`): stop if y >= this; -1 = never.
    stop_lowest_min: NDArray[np.int64] | None = None

    @property
    def max_n(self) -> int:
        return int(self.codes.shape[0]) - 1

    def decide(self, n: int, y: int) -> Decision:
        if n > self.max_n:
            raise ValueError(f"table covers n <= {self.max_n}, asked for n = {n}")
        return Decision.from_code(int(self.codes[n, y]))

    def escalate_max(self) -> NDArray[np.int64]:
        """Per n: the largest y that escalates (-1 if none)."""
        return _last_with(self.codes, E)

    def deescalate_min(self) -> NDArray[np.int64]:
        """Per n: the smallest y that de-escalates or eliminates (-1 if none)."""
        return _first_with(self.codes, (D, DE))

    def eliminate_min(self) -> NDArray[np.int64]:
        """Per n: the smallest y that eliminates (-1 if none)."""
        return self._eliminate_min

    @cached_property
    def _eliminate_min(self) -> NDArray[np.int64]:
        # Read by every fit(): computed once per table, and read-only since it is shared.
        out = _first_with(self.codes, (DE,))
        out.setflags(write=False)
        return out

    def boundaries(self, max_n: int | None = None) -> pd.DataFrame:
        top = self.max_n if max_n is None else min(max_n, self.max_n)
        rows = range(1, top + 1)
        frame = pd.DataFrame(
            {
                "n": list(rows),
                "escalate_if_y_le": [int(v) for v in self.escalate_max()[1 : top + 1]],
                "deescalate_if_y_ge": [int(v) for v in self.deescalate_min()[1 : top + 1]],
                # None where no count of DLTs eliminates (BOIN: n < 3)
                "eliminate_if_y_ge": pd.Series(
                    [int(v) if v >= 0 else None for v in self.eliminate_min()[1 : top + 1]],
                    dtype=object,
                ),
            }
        )
        if self.stop_lowest_min is not None:
            frame["stop_at_lowest_if_y_ge"] = [int(v) for v in self.stop_lowest_min[1 : top + 1]]
        return frame

    def grid(self, max_n: int | None = None) -> pd.DataFrame:
        """Rows y = 0..max_n, columns n = 1..max_n, cells E/S/D/DE (blank where y > n)."""
        top = self.max_n if max_n is None else min(max_n, self.max_n)
        labels = {
            c.code: c.value
            for c in (Decision.ESCALATE, Decision.STAY, Decision.DEESCALATE, Decision.ELIMINATE)
        }
        data = {
            n: [
                "" if self.codes[n, y] == INVALID else labels[int(self.codes[n, y])]
                for y in range(top + 1)
            ]
            for n in range(1, top + 1)
        }
        return pd.DataFrame(data, index=pd.Index(range(top + 1), name="y"))


def _last_with(codes: NDArray[np.int8], code: int) -> NDArray[np.int64]:
    """Per n: the largest y <= n whose cell is `code`; -1 if none."""
    n, y = np.indices(codes.shape)
    hit = (codes == code) & (y <= n)
    last = codes.shape[1] - 1 - np.argmax(hit[:, ::-1], axis=1)
    return np.where(hit.any(axis=1), last, -1).astype(np.int64)


def _first_with(codes: NDArray[np.int8], wanted: tuple[int, ...]) -> NDArray[np.int64]:
    """Per n: the smallest y <= n whose cell is one of `wanted`; -1 if none."""
    n, y = np.indices(codes.shape)
    hit = np.isin(codes, wanted) & (y <= n)
    return np.where(hit.any(axis=1), np.argmax(hit, axis=1), -1).astype(np.int64)


def empty_codes(max_n: int) -> NDArray[np.int8]:
    codes = np.full((max_n + 1, max_n + 1), INVALID, dtype=np.int8)
    n, y = np.indices(codes.shape)
    codes[y <= n] = S
    return codes


def prob_above(target: float, n: NDArray[np.int64], y: NDArray[np.int64]) -> NDArray[np.float64]:
    """P(p > target) under the Beta(1 + y, 1 + n - y) posterior (Beta(1, 1) prior).

    The regularised upper incomplete beta function, which is what `scipy.stats.beta.sf`
    evaluates, called directly: fit() asks for it several times per call."""
    return np.asarray(betaincc(y + 1, n - y + 1, target), dtype=np.float64)


def elimination_min(target: float, cutoff: float, max_n: int, min_n: int = 3) -> NDArray[np.int64]:
    """Per n: the smallest y with P(p > target | y, n) > cutoff; -1 below min_n or if none."""
    out = np.full(max_n + 1, -1, dtype=np.int64)
    for n in range(min_n, max_n + 1):
        ys = np.arange(n + 1)
        hits = np.flatnonzero(prob_above(target, np.full(n + 1, n), ys) > cutoff)
        if hits.size:
            out[n] = hits[0]
    return out


def apply_elimination(codes: NDArray[np.int8], elim_min: NDArray[np.int64]) -> None:
    for n in range(codes.shape[0]):
        if elim_min[n] >= 0:
            codes[n, elim_min[n] : n + 1] = DE
