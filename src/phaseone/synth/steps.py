"""The virtual trial's steps, in order: a small registry.

Each step is a function of the running `VirtualTrial`. A step whose service the system does
not offer yet is listed with `run=None` and says what is missing; the driver records it as
absent rather than imitating it.
"""

from __future__ import annotations

from typing import Any

from phaseone.synth import (
    drive_casebooks,
    drive_evaluations,
    drive_followup,
    drive_outputs,
    drive_queries,
    drive_specimens,
    drive_treatment,
)
from phaseone.synth.virtual_trial import ServiceClock, Step, VirtualTrial, VirtualTrialResult


def _accounts(vt: VirtualTrial) -> None:
    vt.step_accounts()


def _escalation(vt: VirtualTrial) -> None:
    vt.step_escalation()


def _checks(vt: VirtualTrial) -> None:
    vt.step_checks()
    drive_outputs.check_whole(vt)


STEPS: tuple[Step, ...] = (
    Step("accounts", "the chair, a monitor, and a coordinator and investigator per site",
         _accounts),
    Step("escalation", "screening, racing slot requests, registration, course 1, signed DLT "
         "determinations and decisions to an MTD", _escalation),
    Step("courses", "courses 2-12: new height and weight, delays, dose modifications, doses, "
         "labs, adverse events, end of treatment with its reason", drive_treatment.step_courses),
    Step("specimens", "specimens planned, collected (PK at clock times), shipped, received, "
         "and the core labs' results imported", drive_specimens.step_specimens),
    Step("evaluations", "disease evaluations: a baseline and one after each scheduled course "
         "(MIBG Curie scores, CT/MRI lesions, marrow) following the response model",
         drive_evaluations.step_evaluations),
    Step("follow-up", "follow-up contacts every three months after treatment and "
         "progression events with the evaluation that found them", drive_followup.step_follow_up),
    Step("queries", "queries raised by the monitor, answered by the sites (some with a "
         "correction) and closed; forms source-data verified", drive_queries.step_queries),
    Step("casebooks", "casebooks signed by the investigators (re-authenticated) and locked",
         drive_casebooks.step_casebooks),
    Step("outputs", "the study report and every export, saved", drive_outputs.step_outputs),
    Step("checks", "audit chain, acknowledged writes, report and exports vs the engines",
         _checks),
)  # fmt: skip

NAMES = tuple(s.name for s in STEPS)


def run_virtual_trial(
    base_url: str,
    clock: ServiceClock,
    *,
    admin: tuple[str, str],
    patients: int = 12,
    seed: int = 0,
    **options: Any,
) -> VirtualTrialResult:
    """Drive a virtual trial through the service at `base_url` (loopback only), every step."""
    trial = VirtualTrial(base_url, clock, admin=admin, patients=patients, seed=seed, **options)
    return trial.run(STEPS)
