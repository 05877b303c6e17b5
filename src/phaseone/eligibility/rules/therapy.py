"""Rules about prior therapy: washout windows, transplants, prior agents."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import Field

from phaseone.eligibility.context import Context
from phaseone.eligibility.record import RadiationField, Therapy
from phaseone.eligibility.rules.base import (
    Categories,
    Days,
    NoParams,
    Params,
    rule,
    therapies_unknown,
)
from phaseone.eligibility.verdict import (
    Outcome,
    met,
    not_applicable,
    not_met,
    unknown,
)

# --- prior therapy -------------------------------------------------------------------------


class WashoutParams(Params):
    categories: Categories
    min_days: Days
    radiation_fields: Annotated[tuple[RadiationField, ...], Field(min_length=1)] | None = None
    myeloablative_only: bool = False


@rule("washout", WashoutParams)
def washout(ctx: Context, p: WashoutParams) -> Outcome:
    """The last dose of these therapies was at least `min_days` before entry."""
    if ctx.record.prior_therapies is None:
        return therapies_unknown()
    worst: tuple[int, Therapy, int | None] | None = None  # the most recent (ongoing first)
    doubts: list[str] = []
    for i, t, off in ctx.therapies(p.categories):
        kind = _of_kind(t, p)
        if kind is False:
            continue
        recent = off is None or off < p.min_days
        if kind is None:
            if recent:
                field = (
                    "myeloablative"
                    if p.myeloablative_only and t.myeloablative is None
                    else "radiation_field"
                )
                doubts.append(f"prior_therapies[{i}].{field}")
            continue
        if worst is None or off is None or (worst[2] is not None and off < worst[2]):
            worst = (i, t, off)
    ev: dict[str, Any] = {"min_days": p.min_days}
    if worst is not None:
        i, therapy, _ = worst
        label = therapy.name or therapy.category
        last = ctx.last_dose(therapy)
        if last is None:
            return not_met(f"{label} still being given", therapy=i, last_dose=None, **ev)
        days = ctx.days_before(last)
        ready = last + dt.timedelta(days=p.min_days)
        ev.update(therapy=i, last_dose=last, days_since=days, earliest_entry=ready)
        if days < p.min_days:
            return not_met(f"{label} last {last}: {days} days < {p.min_days}", **ev)
        if not doubts:
            return met(f"{label} last {last}: {days} days", **ev)
    if doubts:
        return unknown("a recent therapy is not fully classified", doubts, **ev)
    return met("none given", **ev)


def _of_kind(t: Therapy, p: WashoutParams) -> bool | None:
    """Whether a therapy is of the kind the washout is about; None: not classified."""
    known = True
    if p.radiation_fields is not None:
        if t.radiation_field is None:
            known = False
        elif t.radiation_field not in p.radiation_fields:
            return False
    if p.myeloablative_only:
        if t.myeloablative is None:
            known = False
        elif not t.myeloablative:
            return False
    return True if known else None


class AntibodyWashoutParams(Params):
    categories: Categories
    min_days: Days
    half_lives: float = Field(gt=0)


@rule("antibody_washout", AntibodyWashoutParams)
def antibody_washout(ctx: Context, p: AntibodyWashoutParams) -> Outcome:
    """Last antibody dose at least max(min_days, half_lives x half-life) before entry."""
    if ctx.record.prior_therapies is None:
        return therapies_unknown()
    missing: list[str] = []
    passed: list[dict[str, Any]] = []
    for i, t, days in ctx.therapies(p.categories):
        if days is None or days < p.min_days:
            label = t.name or t.category
            if days is None:
                return not_met(f"{label} still being given", therapy=i)
            return not_met(f"{label} last {t.end}: {days} days < {p.min_days}", therapy=i)
        if t.half_life_days is None:
            missing.append(f"prior_therapies[{i}].half_life_days")
            continue
        need = max(float(p.min_days), p.half_lives * t.half_life_days)
        last = t.end
        label = t.name or t.category
        ev = {
            "therapy": i,
            "last_dose": last,
            "days_since": days,
            "half_life_days": t.half_life_days,
            "required_days": need,
        }
        if days < need:
            return not_met(
                f"{label} last {last}: {days} days < {need:g} "
                f"({p.half_lives:g} x {t.half_life_days:g}-day half-life)",
                **ev,
            )
        passed.append(ev)
    if missing:
        return unknown("antibody half-life not given", missing)
    if not passed:
        return met("no monoclonal antibody given")
    return met(f"{len(passed)} antibody course(s) washed out", antibodies=passed)


class CategoriesParams(Params):
    categories: Categories


@rule("no_prior", CategoriesParams)
def no_prior(ctx: Context, p: CategoriesParams) -> Outcome:
    """None of these therapies was ever given."""
    if ctx.record.prior_therapies is None:
        return therapies_unknown()
    given = ctx.therapies(p.categories)
    if given:
        i, t, _ = given[0]
        return not_met(f"prior {t.name or t.category}", therapy=i)
    return met("none given")


@rule("autologous_non_myeloablative", NoParams)
def autologous_non_myeloablative(ctx: Context, p: NoParams) -> Outcome:
    """A permission: autologous infusion supporting non-myeloablative therapy needs no wait."""
    if ctx.record.prior_therapies is None:
        return therapies_unknown()
    infusions = ctx.therapies(("autologous_stem_cell_infusion",))
    doubts = [
        f"prior_therapies[{i}].myeloablative" for i, t, _ in infusions if t.myeloablative is None
    ]
    if doubts:
        return unknown("not known whether an autologous infusion followed myeloablation", doubts)
    supporting = [i for i, t, _ in infusions if t.myeloablative is False]
    if supporting:
        return met(
            "autologous infusion(s) after non-myeloablative therapy: no wait", therapies=supporting
        )
    return not_applicable("no autologous infusion after non-myeloablative therapy")


@rule("anti_gd2_no_progression", NoParams)
def anti_gd2_no_progression(ctx: Context, p: NoParams) -> Outcome:
    """No relapse/progression while on prior anti-GD2 antibody therapy."""
    if ctx.record.prior_therapies is None:
        return therapies_unknown()
    courses = ctx.therapies(("anti_gd2_antibody",))
    if not courses:
        return not_applicable("no prior anti-GD2 antibody")
    for i, t, _ in courses:
        if t.progressed_during:
            return not_met(f"progressed during {t.name or 'anti-GD2 antibody'}", therapy=i)
    doubts = [
        f"prior_therapies[{i}].progressed_during"
        for i, t, _ in courses
        if t.progressed_during is None
    ]
    if doubts:
        return unknown("not known whether disease progressed during anti-GD2 therapy", doubts)
    return met(f"{len(courses)} anti-GD2 course(s) without progression")


@rule("not_concomitant", CategoriesParams)
def not_concomitant(ctx: Context, p: CategoriesParams) -> Outcome:
    """The listed agents were never given at overlapping times."""
    if ctx.record.prior_therapies is None:
        return therapies_unknown()
    groups = {c: ctx.therapies((c,)) for c in p.categories}
    present = [c for c, items in groups.items() if items]
    if len(present) < 2:
        if present:
            return met(f"only {present[0]} given")
        return not_applicable("none of them given")
    doubts: list[str] = []
    pairs = [(a, b) for k, a in enumerate(present) for b in present[k + 1 :]]
    for a, b in pairs:
        for i, x, _ in groups[a]:
            for j, y, _ in groups[b]:
                if x.start is None or y.start is None:
                    doubts.append(f"prior_therapies[{i if x.start is None else j}].start")
                    continue
                x_end = x.end or ctx.as_of
                y_end = y.end or ctx.as_of
                if x.start <= y_end and y.start <= x_end:
                    return not_met(
                        f"{a} ({x.start}-{x.end or 'ongoing'}) overlapped {b} "
                        f"({y.start}-{y.end or 'ongoing'})",
                        therapies=[i, j],
                    )
    if doubts:
        return unknown("start dates needed to rule out concomitant use", dict.fromkeys(doubts))
    return met(f"{' and '.join(present)} given at separate times")


@rule("no_current_therapy", CategoriesParams)
def no_current_therapy(ctx: Context, p: CategoriesParams) -> Outcome:
    """No anticancer therapy being given on the entry date."""
    if ctx.record.prior_therapies is None:
        return therapies_unknown()
    for i, t, off in ctx.therapies(p.categories):
        if off is None:
            return not_met(f"{t.name or t.category} is being given", therapy=i)
    return met("no anticancer therapy ongoing")
