"""Invariants checked on random inputs: what must hold whatever the data."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from phaseone.correlatives.fcgr import POLYMORPHISMS, FcgrGenotype, parse_genotype
from phaseone.correlatives.stats import rank_sum_test

values = st.lists(st.integers(min_value=-20, max_value=20).map(lambda v: v / 2),
                  min_size=1, max_size=9)


@settings(max_examples=150, deadline=None)
@given(values, values)
def test_rank_sum_invariants(x: list[float], y: list[float]) -> None:
    r = rank_sum_test(x, y)
    assert 0 < r.p_value <= 1
    assert r.conf_low <= r.estimate <= r.conf_high
    assert 0 <= r.w <= len(x) * len(y)
    # Swapping the groups negates the shift and its interval, and keeps p.
    s = rank_sum_test(y, x)
    assert s.p_value == pytest.approx(r.p_value)
    assert s.estimate == pytest.approx(-r.estimate)
    assert (s.conf_low, s.conf_high) == pytest.approx((-r.conf_high, -r.conf_low))
    # Shifting x by a constant shifts the estimate by it (location equivariance).
    t = rank_sum_test([v + 3 for v in x], y)
    assert t.estimate == pytest.approx(r.estimate + 3)


@given(st.sampled_from(sorted(POLYMORPHISMS)), st.integers(0, 1), st.integers(0, 1),
       st.sampled_from(["mature", "precursor", "rsid"]))
def test_genotype_written_any_way_reads_back(gene: str, i: int, j: int, how: str) -> None:
    p = POLYMORPHISMS[gene]
    g = FcgrGenotype(gene, tuple(sorted((p.alleles[i], p.alleles[j]),
                                        key=p.alleles.index)))  # type: ignore[arg-type]
    if how == "precursor" and p.precursor is None:
        return
    text = f"{p.rsid} {g.nucleotides()}" if how == "rsid" else g.label(how)
    assert parse_genotype(gene, text) == g
