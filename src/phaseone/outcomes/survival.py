"""Survival analysis of one endpoint: Kaplan-Meier overall and per stratum, medians, landmarks.

`analyse(records, endpoint, settings)` derives each patient's time to event by the
protocol's rules (endpoints.py), fits one curve for all patients and one per level of each
stratum the protocol names (disease status at entry, dose level), and reports the median
with its interval and the estimates at the landmark days, all with the CI method named.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from phaseone.outcomes.endpoints import TimeToEvent, times_to_event
from phaseone.outcomes.km import KaplanMeier, SeMethod, kaplan_meier
from phaseone.outcomes.records import FollowUpRecord
from phaseone.protocol.model import Endpoint, Survival


@dataclass(frozen=True)
class Curve:
    """One fitted group: which stratum it is, and its curve."""

    stratum: str  # "all", "disease at entry", "CR at entry", "dose level 2"...
    km: KaplanMeier
    family: str = "all"  # "all", "disease_at_entry" or "dose_level"


@dataclass(frozen=True)
class SurvivalResult:
    endpoint: Endpoint
    times: tuple[TimeToEvent, ...]
    curves: tuple[Curve, ...]
    landmark_days: tuple[int, ...]
    excluded: tuple[TimeToEvent, ...]  # no origin

    @property
    def method(self) -> str:
        km = self.curves[0].km
        return (
            f"Kaplan-Meier; {km.conf_level:.0%} log(-log) intervals, "
            f"{'Peto' if km.se_method == 'peto' else 'Greenwood'} standard errors"
        )

    def summary_rows(self) -> list[dict[str, Any]]:
        """One row per curve: n, events, median with interval, landmark estimates."""
        rows = []
        for c in self.curves:
            km = c.km
            lo, hi = km.median_ci
            row: dict[str, Any] = {
                "endpoint": self.endpoint.id,
                "stratum": c.stratum,
                "n": km.n,
                "events": km.events,
                "median_days": _clean(km.median),
                "median_lower": _clean(lo),
                "median_upper": _clean(hi),
            }
            for day in self.landmark_days:
                s, slo, shi, at_risk = km.at(day)
                row[f"surv_{day}d"] = _clean(s)
                row[f"lower_{day}d"] = _clean(slo)
                row[f"upper_{day}d"] = _clean(shi)
                row[f"at_risk_{day}d"] = km.at_risk(day)
                del at_risk
            rows.append(row)
        return rows

    def curve_rows(self) -> list[dict[str, Any]]:
        """The step function of every curve, one row per distinct time."""
        rows = []
        for c in self.curves:
            km = c.km
            for i, t in enumerate(km.time):
                rows.append(
                    {
                        "endpoint": self.endpoint.id,
                        "stratum": c.stratum,
                        "time": float(t),
                        "n_risk": int(km.n_risk[i]),
                        "n_event": int(km.n_event[i]),
                        "n_censor": int(km.n_censor[i]),
                        "surv": float(km.survival[i]),
                        "std_err": _clean(float(km.std_err[i])),
                        "lower": _clean(float(km.lower[i])),
                        "upper": _clean(float(km.upper[i])),
                    }
                )
        return rows


def _clean(x: float) -> float | None:
    return None if math.isnan(x) else x


def _group_key(t: TimeToEvent, stratum: str) -> str:
    if stratum == "dose_level":
        return f"dose level {t.dose_level if t.dose_level is not None else 'unknown'}"
    return t.stratum


def analyse(
    records: Iterable[FollowUpRecord],
    endpoint: Endpoint,
    settings: Survival,
    *,
    strata: Sequence[str] | None = None,
    se_method: SeMethod | None = None,
) -> SurvivalResult:
    """Curves for all patients and for each stratum (the protocol's unless given)."""
    all_times = times_to_event(records, endpoint)
    usable = [t for t in all_times if t.days is not None]
    excluded = tuple(t for t in all_times if t.days is None)
    method: SeMethod = se_method or settings.se_method
    if not usable:
        raise ValueError(f"no patient has an origin for endpoint {endpoint.id!r}")

    def fit(group: Sequence[TimeToEvent], label: str, family: str = "all") -> Curve:
        km = kaplan_meier(
            [float(t.days or 0.0) for t in group],
            [t.event for t in group],
            label=label,
            se_method=method,
            conf_level=settings.conf_level,
        )
        return Curve(label, km, family)

    curves = [fit(usable, "all")]
    for stratum in settings.strata if strata is None else strata:
        groups: dict[str, list[TimeToEvent]] = {}
        for t in usable:
            groups.setdefault(_group_key(t, stratum), []).append(t)
        for key in sorted(groups):
            curves.append(fit(groups[key], key, stratum))
    return SurvivalResult(
        endpoint, tuple(all_times), tuple(curves), settings.landmark_days, excluded
    )
