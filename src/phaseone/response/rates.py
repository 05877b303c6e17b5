"""Response rates per dose level and overall, with exact (Clopper-Pearson) intervals."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from phaseone.response.inrc import PatientResponse

RESPONDERS: tuple[str, ...] = ("CR", "PR")


@dataclass(frozen=True)
class Rate:
    """Responders among evaluable patients of one dose level (None: all levels)."""

    dose_level: int | None
    responders: int
    evaluable: int
    not_evaluable: int  # evaluable patients whose best response is NE (non-responders)
    excluded: int  # no disease at baseline: outside the denominator
    rate: float | None
    lower: float | None
    upper: float | None
    counts: dict[str, int]


def clopper_pearson(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """The exact binomial interval for k successes in n trials (equal tails)."""
    from scipy.stats import beta  # heavy import kept inside

    if n <= 0 or not 0 <= k <= n:
        raise ValueError(f"need 0 <= k <= n and n > 0 (got k={k}, n={n})")
    alpha = 1 - level
    lower = 0.0 if k == 0 else float(beta.ppf(alpha / 2, k, n - k + 1))
    upper = 1.0 if k == n else float(beta.ppf(1 - alpha / 2, k + 1, n - k))
    return lower, upper


def _rate(
    level: int | None,
    group: Sequence[PatientResponse],
    responders: tuple[str, ...],
    conf: float,
) -> Rate:
    evaluable = [p for p in group if p.disease_at_baseline]
    k = sum(1 for p in evaluable if p.best in responders)
    n = len(evaluable)
    counts = {cat: sum(1 for p in evaluable if p.best == cat) for cat in RANK_ORDER}
    lower, upper = clopper_pearson(k, n, conf) if n else (None, None)
    return Rate(
        level,
        k,
        n,
        counts["NE"],
        len(group) - n,
        k / n if n else None,
        lower,
        upper,
        counts,
    )


RANK_ORDER = ("CR", "PR", "MR", "SD", "PD", "NE")


def response_rates(
    patients: Iterable[PatientResponse],
    responders: tuple[str, ...] = RESPONDERS,
    conf: float = 0.95,
) -> list[Rate]:
    """One rate per dose level (in level order), then the overall rate (dose_level None).

    The denominator is every patient with disease at baseline; a best response of NE counts
    as not responding. Patients without disease at baseline (entered in CR) are excluded
    and counted apart.
    """
    people = list(patients)
    levels = sorted({p.dose_level for p in people if p.dose_level is not None})
    out = [_rate(lv, [p for p in people if p.dose_level == lv], responders, conf) for lv in levels]
    out.append(_rate(None, people, responders, conf))
    return out
