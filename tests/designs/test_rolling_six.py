"""Rolling six against the two published readings of its grid (notes §3.2-3.4)."""

from __future__ import annotations

import pytest

from phaseone.designs import Decision, RollingSix
from phaseone.designs.rolling_six import load_grid
from phaseone.errors import InputError

E, S, D, H = Decision.ESCALATE, Decision.STAY, Decision.DEESCALATE, Decision.SUSPEND

# Frankel et al., JAMA Netw Open 2020, Table 2 "Rolling 6" (notes §3.3): (n, evaluable, DLT).
FRANKEL_ROWS = [
    ((3, 3, 0), E),
    ((4, 3, 0), S),
    ((5, 3, 0), S),
    ((6, 0, 0), H),
    ((6, 1, 0), H),
    ((6, 3, 0), H),
    ((6, 4, 0), H),
    ((6, 1, 1), H),
    ((6, 3, 1), H),
    ((6, 5, 1), H),
    ((6, 6, 1), E),
    ((3, 3, 2), D),
    ((6, 6, 2), D),
    ((6, 6, 3), D),
]

# labja/RollingSix (notes §3.2): (n, DLT, pending).
LABJA_ROWS = [
    ((1, 0, 1), S),
    ((2, 2, 0), D),
    ((2, 1, 0), S),
    ((3, 0, 0), E),
    ((3, 0, 1), S),
    ((3, 2, 1), D),
    ((4, 0, 1), E),
    ((4, 1, 0), S),
    ((5, 0, 2), E),
    ((5, 0, 3), S),
    ((6, 1, 0), E),
    ((6, 0, 1), E),  # the package's special case: five finished without DLT
    ((6, 1, 1), H),
    ((6, 0, 2), H),
    ((6, 2, 0), D),
]


@pytest.mark.parametrize(("cell", "expected"), FRANKEL_ROWS)
def test_frankel2020_rows(cell: tuple[int, int, int], expected: Decision) -> None:
    n, evaluable, dlt = cell
    assert load_grid("frankel2020").decide(n, dlt, n - evaluable) is expected


@pytest.mark.parametrize(("cell", "expected"), LABJA_ROWS)
def test_labja_rows(cell: tuple[int, int, int], expected: Decision) -> None:
    assert load_grid("labja").decide(*cell) is expected


def test_the_readings_differ_only_where_documented() -> None:
    a, b = load_grid("labja"), load_grid("frankel2020")
    differ = sorted(k for k in a.cells if a.cells[k] != b.cells[k])
    # Notes §3.4: n = 4 or 5 with 0 DLT and someone still pending.
    assert differ == [(4, 0, 1), (5, 0, 1), (5, 0, 2)]
    assert a.provenance["url"] and b.provenance["url"]


def test_never_a_seventh_patient_and_two_dlts_deescalate() -> None:
    for name in ("labja", "frankel2020"):
        grid = load_grid(name)
        for (n, dlt, _), action in grid.cells.items():
            assert not (n == 6 and action is S)
            assert (dlt >= 2) == (action is D)


def test_live_trial_suspends_and_declares_mtd_with_six() -> None:
    design = RollingSix(doses=3)
    assert design.fit("1NNP").recommended_dose == 1
    suspended = design.fit("1NNNNTP")
    assert suspended.accrual_suspended and suspended.recommended_dose == 1
    assert design.fit("1NNNNTN").recommended_dose == 2
    walk_down = design.fit("1NNNNTN 2NTT")
    assert not walk_down.should_continue and walk_down.mtd().dose == 1
    # Top dose with 3: fill it to 6 before declaring it.
    top = design.fit("1NNN 2NNN 3NNN")
    assert top.should_continue and top.recommended_dose == 3
    done = design.fit("1NNN 2NNN 3NNNNNT")
    assert not done.should_continue and done.mtd().dose == 3
    # De-escalation onto a level with 3 patients fills it.
    fill = design.fit("1NNN 2TT")
    assert (fill.recommended_dose, fill.should_continue) == (1, True)
    assert fill.admissible == (True, False, False)


def test_grids_give_different_live_decisions() -> None:
    assert RollingSix(doses=3, grid="labja").fit("1NNNP").recommended_dose == 2
    assert RollingSix(doses=3, grid="frankel2020").fit("1NNNP").recommended_dose == 1


def test_bad_input() -> None:
    with pytest.raises(InputError, match="at most 6"):
        RollingSix(doses=3).fit("1NNNNNNN")
    with pytest.raises(InputError, match="grid"):
        RollingSix(doses=3, grid="skolnik")  # type: ignore[arg-type]
