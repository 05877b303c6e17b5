"""Association of a yes/no patient characteristic with response, by Fisher's exact test.

Used for KIR missing-ligand status and FcγR genotypes (objective VIII). A phase I trial has
a few dozen patients and few responders, so every row carries its 2x2 counts and a note
when the numbers are too small to say much; the odds ratio is the conditional MLE with its
exact interval (as R's `fisher.test`), infinite or zero when a cell is empty.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from phaseone.correlatives.stats import FisherResult, fisher_exact

DEFAULT_RESPONSES = ("CR", "PR")


@dataclass(frozen=True)
class Association:
    characteristic: str
    with_responders: int
    with_total: int
    without_responders: int
    without_total: int
    test: FisherResult | None  # None when one group is empty
    note: str

    def row(self) -> dict[str, object]:
        t = self.test
        return {
            "characteristic": self.characteristic,
            "responders_with": self.with_responders, "n_with": self.with_total,
            "responders_without": self.without_responders, "n_without": self.without_total,
            "odds_ratio": None if t is None else t.odds_ratio,
            "or_conf_low": None if t is None else t.conf_low,
            "or_conf_high": None if t is None else t.conf_high,
            "p_value": None if t is None else t.p_value,
            "note": self.note,
        }


def responders(best: Mapping[str, str | None],
               responses: tuple[str, ...] = DEFAULT_RESPONSES) -> dict[str, bool]:
    """Patient -> responded, for patients with a best response recorded."""
    wanted = {r.upper() for r in responses}
    return {p: r.upper() in wanted for p, r in best.items() if r}


def associate(characteristic: str, has: Mapping[str, bool | None],
              responded: Mapping[str, bool]) -> Association:
    """Fisher's exact test of response in patients with vs without the characteristic.

    Patients missing either value are left out (and counted in the note).
    """
    both = [p for p in has if has[p] is not None and p in responded]
    dropped = len(set(has) | set(responded)) - len(both)
    a = sum(1 for p in both if has[p] and responded[p])
    n1 = sum(1 for p in both if has[p])
    c = sum(1 for p in both if not has[p] and responded[p])
    n0 = len(both) - n1
    notes: list[str] = []
    test = None
    if n1 == 0 or n0 == 0:
        notes.append("no comparison: every evaluable patient is in one group")
    else:
        test = fisher_exact([[a, n1 - a], [c, n0 - c]])
        expected_min = min(n1, n0) * min(a + c, len(both) - a - c) / len(both)
        if expected_min < 5:
            notes.append(f"small numbers (smallest expected cell {expected_min:.1f}): the "
                         "interval is wide and a null result says little")
    if dropped:
        notes.append(f"{dropped} patient(s) without both values left out")
    return Association(characteristic, a, n1, c, n0, test, "; ".join(notes))
