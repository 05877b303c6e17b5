"""Exact dose paths: every way a trial can unfold over given cohort sizes, and the
probability of each under a true toxicity curve (as escalation's `get_dose_paths` and
`calculate_probabilities`). With c patients per cohort and k cohorts there are at most
sum((c + 1) ** j, j = 0..k) nodes; within a cohort only the number of DLTs matters to
every design here, so a cohort with y DLTs is written N...NT...T.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from math import comb

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from phaseone.designs.base import Design, DesignState
from phaseone.designs.outcomes import Outcomes
from phaseone.errors import InputError, Problem


@dataclass(frozen=True)
class PathNode:
    index: int
    parent: int | None
    depth: int
    dose: int | None  # the dose the cohort leading here was given (None at the root)
    dlts: int  # DLTs in that cohort
    size: int
    state: DesignState

    @property
    def terminal(self) -> bool:
        return not self.state.should_continue or self.state.recommended_dose is None

    @property
    def cohort(self) -> str:
        if self.dose is None:
            return ""
        return f"{self.dose}{'N' * (self.size - self.dlts)}{'T' * self.dlts}"


@dataclass(frozen=True)
class DosePaths:
    design: Design
    cohort_sizes: tuple[int, ...]
    nodes: tuple[PathNode, ...]

    def leaves(self) -> list[PathNode]:
        has_child = {n.parent for n in self.nodes}
        return [n for n in self.nodes if n.index not in has_child]

    def probabilities(self, true_tox: Sequence[float]) -> NDArray[np.float64]:
        """P(reaching each node) under the true DLT probabilities."""
        p = _check_curve(true_tox, self.design.n_doses)
        out = np.zeros(len(self.nodes))
        for node in self.nodes:
            if node.parent is None:
                out[node.index] = 1.0
                continue
            assert node.dose is not None
            q = p[node.dose - 1]
            ways = comb(node.size, node.dlts)
            out[node.index] = (
                out[node.parent] * ways * q**node.dlts * (1 - q) ** (node.size - node.dlts)
            )
        return out

    def operating_characteristics(self, true_tox: Sequence[float]) -> ExactOC:
        """Exact selection probabilities and expected patients/DLTs per dose."""
        probs = self.probabilities(true_tox)
        k = self.design.n_doses
        select = np.zeros(k)
        no_mtd = 0.0
        n_exp = np.zeros(k)
        tox_exp = np.zeros(k)
        for leaf in self.leaves():
            w = probs[leaf.index]
            dose = (
                leaf.state.selection.dose
                if leaf.state.should_continue
                else leaf.state.recommended_dose
            )
            if dose is None:
                no_mtd += w
            else:
                select[dose - 1] += w
            n_exp += w * np.asarray(leaf.state.treated, dtype=np.float64)
            tox_exp += w * np.asarray(leaf.state.tox, dtype=np.float64)
        return ExactOC(
            select, no_mtd, n_exp, tox_exp, float(probs[[n.index for n in self.leaves()]].sum())
        )

    def to_frame(self, true_tox: Sequence[float] | None = None) -> pd.DataFrame:
        rows = []
        probs = None if true_tox is None else self.probabilities(true_tox)
        for node in self.nodes:
            st = node.state
            row: dict[str, object] = {
                "node": node.index,
                "parent": node.parent,
                "depth": node.depth,
                "cohort": node.cohort,
                "outcomes": st.outcomes.to_string(),
                "next_dose": st.recommended_dose,
                "continue": st.should_continue,
            }
            if probs is not None:
                row["probability"] = float(probs[node.index])
            rows.append(row)
        return pd.DataFrame(rows)


@dataclass(frozen=True)
class ExactOC:
    select: NDArray[np.float64]  # P(dose d is selected)
    no_mtd: float
    expected_n: NDArray[np.float64]
    expected_tox: NDArray[np.float64]
    total_probability: float  # 1 up to rounding: a check that the paths are complete

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "dose": range(1, len(self.select) + 1),
                "p_select": self.select,
                "expected_n": self.expected_n,
                "expected_dlt": self.expected_tox,
            }
        )


def _check_curve(true_tox: Sequence[float], n_doses: int) -> NDArray[np.float64]:
    p = np.asarray(true_tox, dtype=np.float64)
    if p.shape != (n_doses,):
        raise InputError([Problem("true_tox", f"expected {n_doses} probabilities, got {len(p)}")])
    if ((p < 0) | (p > 1)).any():
        raise InputError([Problem("true_tox", "every probability must be within [0, 1]")])
    return p


MAX_NODES = 2_000_000


def dose_paths(
    design: Design, cohort_sizes: Sequence[int], previous: Outcomes | str = ""
) -> DosePaths:
    """Enumerate every path of `len(cohort_sizes)` further cohorts after `previous`."""
    sizes = tuple(int(c) for c in cohort_sizes)
    if not sizes or any(c < 1 for c in sizes):
        raise InputError(
            [Problem("cohort_sizes", "expected one or more cohort sizes, each at least 1")]
        )
    bound = sum(int(np.prod([c + 1 for c in sizes[:j]])) for j in range(len(sizes) + 1))
    if bound > MAX_NODES:
        raise InputError(
            [Problem("cohort_sizes", f"up to {bound} paths; at most {MAX_NODES} are enumerated")]
        )
    root_outcomes = Outcomes.coerce(previous, design.n_doses)
    nodes: list[PathNode] = [PathNode(0, None, 0, None, 0, 0, design.fit(root_outcomes))]
    frontier = [0]
    for depth, size in enumerate(sizes, start=1):
        nxt: list[int] = []
        for idx in frontier:
            node = nodes[idx]
            if node.terminal:
                continue
            dose = node.state.recommended_dose
            assert dose is not None
            for y in range(size + 1):
                outcomes = node.state.outcomes.then(dose, "N" * (size - y) + "T" * y)
                child = PathNode(len(nodes), idx, depth, dose, y, size, design.fit(outcomes))
                nodes.append(child)
                nxt.append(child.index)
        frontier = nxt
    return DosePaths(design, sizes, tuple(nodes))
