"""Casebooks signed at the end: each site's investigator signs each of its registered
patients' casebooks (`POST /patients/{id}/casebook/sign`, re-authenticating with their
password), which locks them; the lock is read back by the checks."""

from __future__ import annotations

from typing import TYPE_CHECKING

from phaseone.synth.virtual_trial import Ack, ServiceError

if TYPE_CHECKING:
    from phaseone.synth.virtual_trial import VirtualTrial


def step_casebooks(vt: VirtualTrial) -> None:
    enrolled = vt.result.enrolled
    for i, e in enumerate(enrolled):
        who = f"inv.{e.patient.site}"
        investigator = vt.users[who]
        signed = investigator.call(
            "POST", f"/patients/{e.patient_id}/casebook/sign", investigator.signature()
        )
        if not signed["locked"]:
            raise ServiceError(f"patient {e.patient_id}'s casebook was signed but not locked")
        vt.ledger.append(Ack(who, f"/patients/{e.patient_id}/casebook", "locked", True))
        vt.result.casebooks_signed += 1
        vt.tick("casebooks", i + 1, len(enrolled))
    vt.say(f"casebooks: {vt.result.casebooks_signed} signed and locked")
