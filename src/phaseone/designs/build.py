"""Runnable designs from a protocol's `design` section, or from a name and parameters."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from phaseone.designs.base import Design
from phaseone.designs.boin import BOIN
from phaseone.designs.crm import CRM
from phaseone.designs.keyboard import MTPI2, Keyboard
from phaseone.designs.modifiers import StopAtN, Titration
from phaseone.designs.rolling_six import RollingSix
from phaseone.designs.three_plus_three import ThreePlusThree
from phaseone.designs.tite import TITECRM
from phaseone.errors import InputError, Problem
from phaseone.protocol.designs import (
    PARAMS_BY_DESIGN,
    BOINParams,
    CRMParams,
    IntervalKeyParams,
    RollingSixParams,
    ThreePlusThreeParams,
    TITECRMParams,
)
from phaseone.protocol.model import Protocol
from phaseone.protocol.provenance import Frozen

DESIGN_NAMES = tuple(PARAMS_BY_DESIGN)


def validate_params(name: str, params: Mapping[str, Any]) -> Frozen:
    """Check parameters against the protocol's model for the design; errors name the field."""
    if name not in PARAMS_BY_DESIGN:
        raise InputError(
            [
                Problem(
                    "design", f"unknown design {name!r}; expected one of {', '.join(DESIGN_NAMES)}"
                )
            ]
        )
    try:
        return PARAMS_BY_DESIGN[name].model_validate(dict(params))
    except ValidationError as exc:
        problems = [
            Problem(
                ".".join(str(p) for p in err["loc"]) or name,
                err["msg"].removeprefix("Value error, "),
            )
            for err in exc.errors()
        ]
        raise InputError(problems) from None


def build_design(
    name: str,
    params: Frozen | Mapping[str, Any],
    n_doses: int | None = None,
    start_dose: int = 1,
    max_patients: int | None = None,
) -> Design:
    """A runnable design for a protocol design name and its parameters.

    Interval designs stop at their maximum sample size (cohort_size x max_cohorts), CRMs
    at `max_n`; `max_patients` (the protocol's cap) applies on top.
    """
    p = params if isinstance(params, Frozen) else validate_params(name, params)
    if n_doses is None:
        if isinstance(p, CRMParams):
            n_doses = len(p.skeleton)
        else:
            raise InputError([Problem("doses", f"the number of doses is required for {name}")])
    design: Design
    if isinstance(p, ThreePlusThreeParams):
        design = ThreePlusThree(
            doses=n_doses,
            start_dose=start_dose,
            mtd_rule=p.mtd_rule,
            allow_deescalation=p.allow_deescalation,
        )
    elif isinstance(p, RollingSixParams):
        design = RollingSix(doses=n_doses, grid=p.grid, start_dose=start_dose)
    elif isinstance(p, BOINParams):
        design = BOIN(
            target_rate=p.target,
            doses=n_doses,
            start_dose=start_dose,
            early_stop_n=p.early_stop_n,
            cutoff_eli=p.cutoff_eli,
            extrasafe=p.extrasafe,
            offset=p.offset,
            phi1=p.phi1,
            phi2=p.phi2,
            bound_mtd=p.bound_mtd,
        )
        if p.titration:
            design = design | Titration(p.cohort_size)
        design = design | StopAtN(p.cohort_size * p.max_cohorts)
    elif isinstance(p, CRMParams):
        if len(p.skeleton) != n_doses:
            raise InputError(
                [
                    Problem(
                        "skeleton",
                        f"has {len(p.skeleton)} values but the design has {n_doses} doses",
                    )
                ]
            )
        common: dict[str, Any] = {
            "skeleton": p.skeleton,
            "target_rate": p.target,
            "model": p.model,
            "method": p.method,
            "prior_sd": p.prior_sd,
            "intercept": p.intercept,
            "restrict": p.restrict,
            "start_dose": start_dose,
        }
        if isinstance(p, TITECRMParams):
            design = TITECRM(**common, window_days=p.window_days, weights=p.weights)
        else:
            design = CRM(**common)
        design = design | StopAtN(p.max_n)
    elif isinstance(p, IntervalKeyParams):
        cls = Keyboard if name == "keyboard" else MTPI2
        design = cls(
            target_rate=p.target,
            doses=n_doses,
            start_dose=start_dose,
            early_stop_n=p.early_stop_n,
            cutoff_eli=p.cutoff_eli,
            extrasafe=p.extrasafe,
            offset=p.offset,
            margin_low=p.margin_low,
            margin_high=p.margin_high,
        )
        design = design | StopAtN(p.cohort_size * p.max_cohorts)
    else:  # pragma: no cover - every parameter model is handled above
        raise InputError([Problem("design", f"no runnable design for {name!r}")])
    if max_patients is not None:
        design = design | StopAtN(max_patients)
    return design


def design_from_protocol(protocol: Protocol) -> Design:
    """The protocol's design over its dose levels (in file order)."""
    spec = protocol.design
    level_ids = [level.id for level in protocol.dose_levels]
    if spec.starting_dose_level not in level_ids:
        raise InputError(
            [
                Problem(
                    "design.starting_dose_level",
                    f"level {spec.starting_dose_level} is not a dose level",
                )
            ]
        )
    start = level_ids.index(spec.starting_dose_level) + 1
    return build_design(spec.name, spec.params, len(level_ids), start, spec.max_patients)
