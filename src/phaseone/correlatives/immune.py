"""Immune monitoring: change from baseline per patient, and the "low" vs "high" dose comparison.

Primary objective III compares immune modulation between the protocol's two dose groups
(`correlatives.immune.groups`, assumed). For each analyte, specimen type and post-baseline
study day, the change from each patient's baseline is compared between the groups by the
exact Wilcoxon rank-sum test with the Hodges-Lehmann shift (second group minus first) and its
exact interval: a dose-escalation trial has a handful of patients per group. A linear
mixed-effects model (random intercept per patient) is offered as an option through
statsmodels, which is imported only when asked for.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from phaseone.correlatives.records import Measurement, PatientGroup
from phaseone.correlatives.stats import RankSumResult, rank_sum_test
from phaseone.errors import InputError, Problem
from phaseone.protocol.model import ImmuneGroups

if TYPE_CHECKING:
    import pandas as pd

ChangeScale = Literal["absolute", "relative", "log2"]


@dataclass(frozen=True)
class Change:
    patient: str
    group: str
    dose_level: int
    specimen_type: str
    analyte: str
    unit: str
    study_day: int
    value: float
    baseline: float
    change: float | None  # None when the scale cannot be applied (e.g. log of zero)


def change_value(value: float, baseline: float, scale: ChangeScale) -> float | None:
    """Value against baseline: difference, relative change, or log2 fold change."""
    if scale == "absolute":
        return value - baseline
    if baseline <= 0 or (scale == "log2" and value <= 0):
        return None
    return value / baseline - 1 if scale == "relative" else math.log2(value / baseline)


def group_of(patients: Iterable[PatientGroup], groups: ImmuneGroups) -> dict[str, str | None]:
    """Patient -> dose group name (None when the level is in no group)."""
    level_group = {level: name for name, levels in groups.groups.items() for level in levels}
    return {p.patient: level_group.get(p.dose_level) for p in patients}


def changes_from_baseline(measurements: Iterable[Measurement],
                          patients: Sequence[PatientGroup], groups: ImmuneGroups,
                          scale: ChangeScale = "absolute",
                          file: str | None = None) -> list[Change]:
    """Every post-baseline result with its patient's baseline and change.

    Baseline is the last result on or before `groups.baseline_max_day` for the same
    patient, analyte and specimen type; results without a baseline are left out.
    """
    membership = group_of(patients, groups)
    levels = {p.patient: p.dose_level for p in patients}
    problems: list[Problem] = []
    series: dict[tuple[str, str, str], list[Measurement]] = {}
    for m in measurements:
        if m.patient not in membership:
            problems.append(Problem("patient", f"patient {m.patient!r} is not in the patients "
                                    "file (no dose level)", file=file, line=m.line))
            continue
        series.setdefault((m.patient, m.specimen_type, m.analyte), []).append(m)
    if problems:
        raise InputError(problems)
    out: list[Change] = []
    for (patient, specimen_type, analyte), values in sorted(series.items()):
        group = membership[patient]
        if group is None:
            continue
        values.sort(key=lambda m: m.study_day)
        before = [m for m in values if m.study_day <= groups.baseline_max_day]
        if not before:
            continue
        base = before[-1]
        for m in values:
            if m.study_day > groups.baseline_max_day:
                out.append(Change(patient, group, levels[patient], specimen_type, analyte,
                                  m.unit, m.study_day, m.value, base.value,
                                  change_value(m.value, base.value, scale)))
    return out


@dataclass(frozen=True)
class GroupComparison:
    analyte: str
    specimen_type: str
    unit: str
    study_day: int
    first: str  # group names, in the protocol's order
    second: str
    first_values: tuple[float, ...]
    second_values: tuple[float, ...]
    test: RankSumResult | None  # None when a group has no patient at this day

    def row(self) -> dict[str, object]:
        t = self.test

        def median(values: Sequence[float]) -> float | None:
            if not values:
                return None
            s = sorted(values)
            k = len(s) // 2
            return s[k] if len(s) % 2 else (s[k - 1] + s[k]) / 2

        return {
            "analyte": self.analyte, "specimen_type": self.specimen_type, "unit": self.unit,
            "study_day": self.study_day,
            f"n_{self.first}": len(self.first_values),
            f"median_change_{self.first}": median(self.first_values),
            f"n_{self.second}": len(self.second_values),
            f"median_change_{self.second}": median(self.second_values),
            "shift": None if t is None else t.estimate,
            "shift_conf_low": None if t is None else t.conf_low,
            "shift_conf_high": None if t is None else t.conf_high,
            # Exact intervals from tiny groups cannot reach every level: say what they reach.
            "conf_achieved": None if t is None else round(t.achieved_conf_level, 4),
            "p_value": None if t is None else t.p_value,
            "ties": None if t is None else t.ties,
        }


def compare_groups(changes: Sequence[Change], groups: ImmuneGroups,
                   conf_level: float = 0.95) -> list[GroupComparison]:
    """Second group vs first at each analyte, specimen type and post-baseline day."""
    first, second = list(groups.groups)
    cells: dict[tuple[str, str, str, int], dict[str, list[float]]] = {}
    for c in changes:
        if c.change is None:
            continue
        cell = cells.setdefault((c.analyte, c.specimen_type, c.unit, c.study_day),
                                {first: [], second: []})
        cell[c.group].append(c.change)
    out: list[GroupComparison] = []
    for (analyte, specimen_type, unit, day), values in sorted(cells.items()):
        a, b = values[first], values[second]
        test = rank_sum_test(b, a, conf_level) if a and b else None
        out.append(GroupComparison(analyte, specimen_type, unit, day, first, second,
                                   tuple(a), tuple(b), test))
    return out


def mixed_model(changes: Sequence[Change], analyte: str, specimen_type: str | None = None,
                groups: ImmuneGroups | None = None) -> pd.DataFrame:
    """Change ~ group * day (days as categories), random intercept per patient.

    Terms read `group[T.high]`, `day[T.15]`...: against the first group of `groups` (else
    the first name alphabetically) and the earliest post-baseline day.

    Needs statsmodels (`pip install phaseone[stats]`). Returns one row per fixed-effect
    term: estimate, standard error, z, p-value and 95% interval.
    """
    try:
        import statsmodels.formula.api as smf
    except ImportError:  # pragma: no cover - depends on the installation
        raise InputError([Problem("--mixed", "the mixed-effects model needs statsmodels; "
                                  "install it with: pip install 'phaseone[stats]'")]) from None
    import pandas as pd

    rows = [c for c in changes if c.analyte == analyte and c.change is not None
            and (specimen_type is None or c.specimen_type == specimen_type)]
    frame = pd.DataFrame({"patient": [c.patient for c in rows], "group": [c.group for c in rows],
                          "day": [str(c.study_day) for c in rows],
                          "change": [c.change for c in rows]})
    if frame["patient"].nunique() < 3 or frame["group"].nunique() < 2:
        raise InputError([Problem("--mixed", f"{analyte}: the mixed model needs at least three "
                                  "patients across both groups")])
    # Reference levels: the protocol's first group and the earliest post-baseline day.
    first_group = next(iter(groups.groups)) if groups is not None else sorted(
        frame["group"].unique())[0]
    first_day = str(min(c.study_day for c in rows))
    group_term = f"C(group, Treatment(reference={first_group!r}))"
    day_term = f"C(day, Treatment(reference={first_day!r}))"
    fit = smf.mixedlm(f"change ~ {group_term} * {day_term}", frame,
                      groups=frame["patient"]).fit(reml=True)
    ci = fit.conf_int()
    names = list(fit.fe_params.index)
    shown = [n.replace(group_term, "group").replace(day_term, "day") for n in names]
    return pd.DataFrame({
        "analyte": analyte, "term": shown,
        "estimate": [float(fit.fe_params[n]) for n in names],
        "std_error": [float(fit.bse_fe[n]) for n in names],
        "z": [float(fit.tvalues[n]) for n in names],
        "p_value": [float(fit.pvalues[n]) for n in names],
        "conf_low": [float(ci.loc[n, 0]) for n in names],
        "conf_high": [float(ci.loc[n, 1]) for n in names],
    })


def change_rows(changes: Sequence[Change]) -> list[dict[str, object]]:
    return [dict(c.__dict__) for c in changes]


def groups_label(groups: ImmuneGroups) -> Mapping[str, str]:
    """Group name -> 'levels 1, 2, 3', for titles and table headers."""
    return {name: "levels " + ", ".join(map(str, levels))
            for name, levels in groups.groups.items()}
