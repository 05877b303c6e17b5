"""The reference trial's three PK objectives (NANT 2011-04 secondary objectives I-III).

1. Lenalidomide: single-dose NCA of the first oral dose (course 1, day 1).
2. Isotretinoin: steady state on day 28 of course 1, over the 12-h dosing interval (AUCTAU,
   Cmax, Cmin, Ctrough, Cavg, fluctuation, swing, CL/F), with how each dose was taken.
3. Dinutuximab: peak (end of the day-11 infusion) and trough (before the next course) per
   course, compared with historical values stored in data/trial_pk.yaml with their source.

Times are hours from the start of course 1 (day 1 at 0 h); course c starts at
(c - 1) x the protocol's course length (`course.length_days`, 28 days in NANT 2011-04),
which callers pass in. Sampling timings are assumptions (see the data file) until the
protocol's schedule is known.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd
import yaml

from phaseone.errors import InputError, Problem
from phaseone.pk.data import Concentrations, Dose, Interval, Route
from phaseone.pk.nca import NCAResult, run_nca
from phaseone.pk.options import NCAOptions

_MCG_PER_ML = {"mcg/ml", "ug/ml", "µg/ml", "μg/ml", "mg/l"}


@cache
def trial_pk_data() -> dict[str, Any]:
    """Sampling assumptions and historical values (data/trial_pk.yaml)."""
    text = resources.files("phaseone.pk").joinpath("data/trial_pk.yaml").read_text("utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


def day_start(course: int, day: int, course_days: int) -> float:
    """Hours from course 1 day 1 to 0 h on the given course day, courses `course_days` long
    (the protocol's `course.length_days`)."""
    return ((course - 1) * course_days + (day - 1)) * 24.0


def lenalidomide_single_dose(
    conc: Concentrations, doses: Sequence[Dose], options: NCAOptions | None = None
) -> NCAResult:
    """Single-dose NCA after the first lenalidomide dose (oral, so extravascular)."""
    bad = [d for d in doses if d.route is not Route.EXTRAVASCULAR]
    if bad:
        raise InputError([Problem("dose.route", f"lenalidomide is oral; subject {d.subject} "
                                  f"has a {d.route.value} dose") for d in bad])
    return run_nca(conc, doses, options=options)


def isotretinoin_steady_state(
    conc: Concentrations, doses: Sequence[Dose], options: NCAOptions | None = None,
    course: int | None = None, day: int | None = None, tau: float | None = None, *,
    course_days: int,
) -> NCAResult:
    """Steady-state NCA over the dosing interval that starts with each subject's first dose
    on the sampling day (default: course 1, day 28, tau 12 h), courses `course_days` long."""
    plan = trial_pk_data()["sampling"]["isotretinoin"]
    course = course or int(plan["course"])
    day = day or int(plan["day"])
    tau = tau or float(plan["tau_h"])
    lo = day_start(course, day, course_days)
    results = []
    problems = []
    for profile in conc.profiles:
        on_day = sorted(
            (d for d in doses if d.subject == profile.subject and lo <= d.time < lo + 24),
            key=lambda d: d.time,
        )
        if not on_day:
            problems.append(Problem("doses", f"subject {profile.subject}: no dose on course "
                                    f"{course} day {day}"))
            continue
        start = on_day[0].time
        results.append(run_nca(
            Concentrations((profile,)), doses, options=options,
            intervals=[Interval(start=start, tau=tau, label=f"C{course}D{day} tau {tau:g} h")],
        ))
    if problems:
        raise InputError(problems)
    return NCAResult(
        parameters=pd.concat([r.parameters for r in results], ignore_index=True),
        lambda_z_points=pd.concat([r.lambda_z_points for r in results], ignore_index=True),
        profiles=pd.concat([r.profiles for r in results], ignore_index=True),
        options=results[0].options if results else (options or NCAOptions()),
    )


@dataclass(frozen=True)
class PeakTrough:
    """Dinutuximab peak and trough per subject and course, and the comparison."""

    per_course: pd.DataFrame
    comparison: pd.DataFrame
    references: tuple[dict[str, Any], ...]


def _nearest(times: np.ndarray, values: np.ndarray, target: float, window: float
             ) -> tuple[float, float]:
    if times.size == 0:
        return math.nan, math.nan
    i = int(np.argmin(np.abs(times - target)))
    if abs(times[i] - target) > window:
        return math.nan, math.nan
    return float(values[i]), float(times[i])


def dinutuximab_peak_trough(
    samples: pd.DataFrame, *, course_days: int, conc_unit: str = "mcg/mL",
    infusion_start_h: float = 8.0,
) -> PeakTrough:
    """Peak and trough per course from a table of samples (subject, time, conc; time in hours
    from course 1 day 1), courses `course_days` long (the protocol's `course.length_days`).

    Peak: the sample nearest the end of the day-11 infusion (infusions start at
    `infusion_start_h` on each day and last 10 h); trough: the sample nearest 0 h on day 28
    of the same course. A sample further than the window (2 h) from its nominal time is not
    used. With a `role` column ("peak" / "trough", as specimens collected for one or the
    other are labelled), each is chosen among its own samples only and the time window is
    not applied (the specimen's own collection window has been checked when collected).
    Values are compared with each historical reference as a ratio to its mean.
    """
    if conc_unit.strip().lower() not in _MCG_PER_ML:
        raise InputError([Problem("conc_unit", f"dinutuximab comparisons need mcg/mL "
                                  f"(or an equal unit), got {conc_unit!r}")])
    missing = {"subject", "time", "conc"} - set(samples.columns)
    if missing:
        raise InputError([Problem("samples", f"missing columns: {', '.join(sorted(missing))}")])
    plan = trial_pk_data()["sampling"]["dinutuximab"]
    refs = tuple(trial_pk_data()["historical"]["dinutuximab"])
    window = float(plan["window_h"])
    t = samples["time"].to_numpy(dtype=float)
    if course_days < 1:
        raise InputError([Problem("course_days", f"expected at least 1 day, got {course_days}")])
    courses = np.floor(t / (course_days * 24)).astype(int) + 1
    rows = []
    for key, group in samples.assign(course=courses).groupby(["subject", "course"], sort=True):
        subject, course = str(key[0]), int(str(key[1]))
        peak_at = (day_start(int(course), int(plan["peak_day"]), course_days)
                   + infusion_start_h + float(plan["infusion_hours"]))
        trough_at = day_start(int(course), int(plan["trough_day"]), course_days)
        found = {}
        for what, nominal in (("peak", peak_at), ("trough", trough_at)):
            rows_of = group[group["role"] == what] if "role" in group else group
            found[what] = _nearest(rows_of["time"].to_numpy(dtype=float),
                                   rows_of["conc"].to_numpy(dtype=float), nominal,
                                   math.inf if "role" in group else window)
        (peak, peak_t), (trough, trough_t) = found["peak"], found["trough"]
        rows.append({"subject": str(subject), "course": int(course), "peak": peak,
                     "peak_time": peak_t, "peak_nominal": peak_at, "trough": trough,
                     "trough_time": trough_t, "trough_nominal": trough_at, "unit": conc_unit})
    per_course = pd.DataFrame(rows)
    comp = []
    for ref in refs:
        for what in ("peak", "trough"):
            value = ref.get(what)
            if not value or per_course.empty:
                continue
            for course_no in sorted(per_course["course"].unique()):
                group = per_course[per_course["course"] == course_no]
                observed = group[what].dropna().to_numpy(dtype=float)
                mean = float(observed.mean()) if observed.size else math.nan
                comp.append({
                    "course": int(course_no), "measure": what, "n": int(observed.size),
                    "observed_mean": mean, "reference": ref["id"],
                    "reference_mean": float(value["value"]),
                    "ratio_to_reference": mean / float(value["value"]),
                    "reference_regimen": ref["regimen"], "source": ref["source"],
                    "url": ref["url"],
                })
    return PeakTrough(per_course, pd.DataFrame(comp), refs)
