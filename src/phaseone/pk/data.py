"""The NCA data model: concentration profiles, doses and intervals, read from DataFrames
or CSV files.

A profile is one subject's (and one analyte's) concentration-time series. Times are
sorted on input; a repeated time within a profile is an error, never silently merged.
BLQ is a flag plus the LLOQ, never an invented number: the analysis options decide what a
BLQ sample becomes.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from phaseone.errors import InputError, Problem

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]


class Route(StrEnum):
    EXTRAVASCULAR = "extravascular"
    IV_BOLUS = "iv-bolus"
    IV_INFUSION = "iv-infusion"


@dataclass(frozen=True, eq=False)
class Profile:
    """One subject's concentrations for one analyte, sorted by time.

    `lambda_z_include` forces exactly those points into the λz fit (no search);
    `lambda_z_exclude` keeps points out of it. `excluded` drops points from the whole
    analysis; `exclude_reason` says why (empty string: not excluded).
    """

    subject: str
    analyte: str
    times: FloatArray
    conc: FloatArray
    blq: BoolArray
    lloq: FloatArray
    excluded: BoolArray
    exclude_reason: tuple[str, ...]
    lambda_z_include: BoolArray
    lambda_z_exclude: BoolArray
    conc_unit: str = "mg/L"
    time_unit: str = "h"

    @property
    def key(self) -> tuple[str, str]:
        return (self.subject, self.analyte)


@dataclass(frozen=True)
class Dose:
    """A dose. `duration` > 0 makes an IV infusion; `amount` None means not recorded."""

    subject: str
    time: float
    amount: float | None
    route: Route = Route.EXTRAVASCULAR
    duration: float = 0.0
    unit: str = "mg"
    analyte: str | None = None
    method: str = ""
    """How the dose was taken (e.g. swallowed, opened capsule); reported, not used."""


@dataclass(frozen=True)
class Interval:
    """A time window for parameters.

    `start` None means "from the dose" (single-dose analysis to infinity by default).
    With `tau`, the interval is a steady-state dosing interval [start, start + tau].
    `parameters` empty means the default set for the interval's kind.
    """

    start: float | None = None
    end: float = math.inf
    parameters: tuple[str, ...] = ()
    tau: float | None = None
    label: str = ""

    def __post_init__(self) -> None:
        if self.tau is not None:
            if not self.tau > 0:
                raise InputError([Problem("interval.tau", f"must be > 0, got {self.tau}")])
            if self.start is not None and math.isinf(self.end):
                object.__setattr__(self, "end", self.start + self.tau)
        if self.start is not None and not self.end > self.start:
            raise InputError(
                [Problem("interval.end", f"must be after start ({self.start}), got {self.end}")]
            )

    @property
    def name(self) -> str:
        if self.label:
            return self.label
        start = "dose" if self.start is None else f"{self.start:g}"
        end = "inf" if math.isinf(self.end) else f"{self.end:g}"
        return f"{start}-{end}" + (f" (tau {self.tau:g})" if self.tau else "")


@dataclass(frozen=True)
class Concentrations:
    """All profiles of an analysis, keyed by (subject, analyte)."""

    profiles: tuple[Profile, ...]
    source: str = ""
    by_key: Mapping[tuple[str, str], Profile] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_key", {p.key: p for p in self.profiles})


# --- reading ---------------------------------------------------------------------------

_TRUE = {"1", "true", "t", "yes", "y", "blq", "x"}


def _flags(series: pd.Series) -> BoolArray:
    text = series.fillna("").astype(str).str.strip().str.lower()
    return np.asarray(text.isin(_TRUE).to_numpy(), dtype=np.bool_)


def _require(frame: pd.DataFrame, columns: Mapping[str, str | None], where: str) -> None:
    missing = [
        Problem(role, f"column {col!r} not found; columns are {', '.join(map(str, frame.columns))}",
                file=where or None)
        for role, col in columns.items()
        if col is not None and col not in frame.columns
    ]
    if missing:
        raise InputError(missing)


def _numeric(frame: pd.DataFrame, col: str, where: str, allow_nan: bool) -> FloatArray:
    values = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=float)
    raw = frame[col]
    bad = np.isnan(values) & ~raw.isna().to_numpy() if allow_nan else np.isnan(values)
    if bad.any():
        problems = [
            Problem(col, f"expected a number, got {raw.iloc[i]!r}", file=where or None, line=i + 2)
            for i in np.flatnonzero(bad)[:10]
        ]
        raise InputError(problems)
    return values


def read_concentrations(
    source: pd.DataFrame | str | Path,
    *,
    subject: str = "subject",
    time: str = "time",
    conc: str = "conc",
    analyte: str | None = None,
    blq: str | None = None,
    lloq: str | None = None,
    exclude: str | None = None,
    lambda_z: str | None = None,
    conc_unit: str = "mg/L",
    time_unit: str = "h",
    default_analyte: str = "analyte",
) -> Concentrations:
    """Build profiles from a long table (one row per sample).

    Optional columns: `analyte`; `blq` (true/false) and `lloq`; `exclude` (a reason: the
    row is kept out of the analysis); `lambda_z` ("include" or "exclude" for the λz fit).
    Missing columns that are named raise an error listing the columns present.
    """
    where = str(source) if isinstance(source, str | Path) else ""
    frame = pd.read_csv(source) if isinstance(source, str | Path) else source.reset_index(drop=True)
    roles = {"subject": subject, "time": time, "conc": conc, "analyte": analyte, "blq": blq,
             "lloq": lloq, "exclude": exclude, "lambda_z": lambda_z}
    _require(frame, roles, where)
    n = len(frame)
    t = _numeric(frame, time, where, allow_nan=False)
    blq_flag = _flags(frame[blq]) if blq else np.zeros(n, dtype=bool)
    c = _numeric(frame, conc, where, allow_nan=True)
    problems: list[Problem] = []
    for i in np.flatnonzero(np.isnan(c) & ~blq_flag)[:10]:
        problems.append(Problem(conc, "missing concentration; flag the sample BLQ or exclude it",
                                file=where or None, line=int(i) + 2))
    for i in np.flatnonzero(c < 0)[:10]:
        problems.append(Problem(conc, f"negative concentration {c[i]:g}", file=where or None,
                                line=int(i) + 2))
    c = np.where(blq_flag, 0.0, c)
    c = np.where(np.isnan(c), 0.0, c)
    ll = _numeric(frame, lloq, where, allow_nan=True) if lloq else np.full(n, np.nan)
    reasons = (
        frame[exclude].fillna("").astype(str).str.strip().to_numpy() if exclude
        else np.full(n, "", dtype=object)
    )
    lz = (frame[lambda_z].fillna("").astype(str).str.strip().str.lower().to_numpy() if lambda_z
          else np.full(n, "", dtype=object))
    for i in np.flatnonzero(~np.isin(lz, ["", "include", "exclude"]))[:10]:
        problems.append(Problem(str(lambda_z),
                                f"expected 'include', 'exclude' or empty, got {lz[i]!r}",
                                file=where or None, line=int(i) + 2))
    subjects = frame[subject].astype(str).to_numpy()
    analytes = (frame[analyte].astype(str).to_numpy() if analyte
                else np.full(n, default_analyte, dtype=object))
    if problems:
        raise InputError(problems)

    # Numeric subject ids sort as numbers (2 before 10); others as text.
    numeric = pd.to_numeric(pd.Series(subjects), errors="coerce").to_numpy(dtype=float)
    subject_key = numeric if not np.isnan(numeric).any() else subjects
    order = np.lexsort((t, analytes, subject_key))
    keys = np.char.add(np.char.add(subjects[order].astype(str), "\x00"),
                       analytes[order].astype(str))
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    bounds = np.r_[starts, n]
    ts = t[order]
    dup = np.flatnonzero((ts[1:] == ts[:-1]) & (keys[1:] == keys[:-1]))
    if dup.size:
        raise InputError([
            Problem(time, f"subject {subjects[order][i]} ({analytes[order][i]}) has two samples "
                    f"at time {ts[i]:g}; each time may appear once per profile",
                    file=where or None, line=int(order[i + 1]) + 2)
            for i in dup[:10]
        ])
    cs, bs, ls = c[order], blq_flag[order], ll[order]
    rs, zs = reasons[order], lz[order]
    subj_sorted, ana_sorted = subjects[order], analytes[order]
    profiles = []
    for a, b in itertools.pairwise(bounds):
        r = tuple(rs[a:b].tolist())
        profiles.append(Profile(
            subject=str(subj_sorted[a]), analyte=str(ana_sorted[a]),
            times=ts[a:b], conc=cs[a:b], blq=bs[a:b], lloq=ls[a:b],
            excluded=rs[a:b] != "", exclude_reason=r,
            lambda_z_include=zs[a:b] == "include", lambda_z_exclude=zs[a:b] == "exclude",
            conc_unit=conc_unit, time_unit=time_unit,
        ))
    return Concentrations(tuple(profiles), source=where)


_ROUTES = {
    "extravascular": Route.EXTRAVASCULAR, "ev": Route.EXTRAVASCULAR, "oral": Route.EXTRAVASCULAR,
    "po": Route.EXTRAVASCULAR, "iv-bolus": Route.IV_BOLUS, "bolus": Route.IV_BOLUS,
    "iv bolus": Route.IV_BOLUS, "iv-infusion": Route.IV_INFUSION, "infusion": Route.IV_INFUSION,
    "iv infusion": Route.IV_INFUSION, "intravascular": Route.IV_BOLUS, "iv": Route.IV_BOLUS,
}


def read_doses(
    source: pd.DataFrame | str | Path,
    *,
    subject: str = "subject",
    time: str = "time",
    amount: str = "dose",
    route: str | None = "route",
    duration: str | None = "duration",
    analyte: str | None = None,
    method: str | None = None,
    unit: str = "mg",
) -> tuple[Dose, ...]:
    """Doses from a table: one row per dose. `route` (extravascular/oral, iv-bolus,
    iv-infusion) and `duration` columns are optional; a duration > 0 means an infusion."""
    where = str(source) if isinstance(source, str | Path) else ""
    frame = pd.read_csv(source) if isinstance(source, str | Path) else source.reset_index(drop=True)
    route = route if route in frame.columns else None
    duration = duration if duration in frame.columns else None
    _require(frame, {"subject": subject, "time": time, "dose": amount, "analyte": analyte,
                     "method": method}, where)
    t = _numeric(frame, time, where, allow_nan=False)
    amt = _numeric(frame, amount, where, allow_nan=True)
    dur = _numeric(frame, duration, where, allow_nan=True) if duration else np.zeros(len(frame))
    dur = np.where(np.isnan(dur), 0.0, dur)
    problems: list[Problem] = []
    doses = []
    for i in range(len(frame)):
        r = str(frame[route].iloc[i]).strip().lower() if route else ""
        if r in ("", "nan"):
            rt = Route.IV_INFUSION if dur[i] > 0 else Route.EXTRAVASCULAR
        elif r in _ROUTES:
            rt = _ROUTES[r]
            if rt is Route.IV_BOLUS and dur[i] > 0:
                rt = Route.IV_INFUSION
        else:
            problems.append(Problem(route or "route", f"unknown route {r!r}; expected "
                                    "extravascular, iv-bolus or iv-infusion",
                                    file=where or None, line=i + 2))
            continue
        if rt is Route.IV_INFUSION and not dur[i] > 0:
            problems.append(Problem(duration or "duration", "an infusion needs a duration > 0",
                                    file=where or None, line=i + 2))
            continue
        if dur[i] < 0 or (not np.isnan(amt[i]) and amt[i] < 0):
            problems.append(Problem(amount, "dose and duration must be >= 0",
                                    file=where or None, line=i + 2))
            continue
        doses.append(Dose(
            subject=str(frame[subject].iloc[i]), time=float(t[i]),
            amount=None if np.isnan(amt[i]) else float(amt[i]), route=rt,
            duration=float(dur[i]), unit=unit,
            analyte=str(frame[analyte].iloc[i]) if analyte else None,
            method=str(frame[method].iloc[i]) if method and not pd.isna(frame[method].iloc[i])
            else "",
        ))
    if problems:
        raise InputError(problems)
    return tuple(doses)


def doses_for(doses: Sequence[Dose], subject: str, analyte: str) -> list[Dose]:
    """The doses that apply to a profile, in time order."""
    return sorted(
        (d for d in doses if d.subject == subject and d.analyte in (None, analyte)),
        key=lambda d: d.time,
    )
