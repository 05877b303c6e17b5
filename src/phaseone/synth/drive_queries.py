"""Data queries and source-data verification, as a monitor and the sites would.

The monitor raises queries (`POST /queries`) on a few records of each kind the sites entered:
a blood count's value, a dose's amount given and an adverse event's grade. The site answers
each (`POST /queries/{id}/answer`); a blood count is answered with a correction of its value
(a transcription error, through the corrections service with the answer as the reason), the
others by confirming the source. The monitor closes them; the first is re-opened once, asked
again, answered again and closed. Then the monitor marks some of the patients' forms
source-data verified (`POST /sdv`).

How many (invented): one record of each kind per four patients registered, at least one;
the forms of one patient in three, at most `SDV_FORMS` forms each.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from phaseone.synth.virtual_trial import Ack, ServiceError

if TYPE_CHECKING:
    from phaseone.synth.virtual_trial import Enrolled, VirtualTrial

# ledger folder -> (store table, field queried, the monitor's question)
QUERIED = {
    "lab-results": ("lab_results", "value", "Please check this value against the lab report."),
    "dose-administrations": ("dose_administrations", "given_dose",
                             "Please confirm the amount given against the dosing record."),
    "adverse-events": ("adverse_events", "grade",
                       "Please confirm the grade against the clinic notes."),
}  # fmt: skip
SDV_FORMS = 3
CORRECTION = 1.1  # the transcribed value was 10% off the source (invented)


def step_queries(vt: VirtualTrial) -> None:
    enrolled = vt.result.enrolled
    if not enrolled:
        return
    rng = np.random.default_rng([vt.result.seed, *b"queries"])
    per_kind = max(1, len(enrolled) // 4)
    picked: list[tuple[str, int, str]] = []  # (ledger folder, record id, writer)
    for folder in QUERIED:
        written = [(a.reader, int(a.expected)) for a in vt.ledger
                   if a.path.startswith(f"/{folder}/") and a.field == "id"]  # fmt: skip
        if not written:
            continue
        chosen = rng.choice(len(written), size=min(per_kind, len(written)), replace=False)
        picked += [(folder, written[int(i)][1], written[int(i)][0]) for i in sorted(chosen)]
    monitor = vt.users["monitor"]
    for i, (folder, record_id, writer) in enumerate(picked):
        entity, field, question = QUERIED[folder]
        raised = monitor.call("POST", "/queries", {"entity": entity, "entity_id": record_id,
                                                   "field": field, "text": question},
                              expect=201)  # fmt: skip
        _answer(vt, raised["id"], folder, record_id, writer)
        if i == 0:  # once: the monitor is not satisfied, asks again, and the site answers
            monitor.call("POST", f"/queries/{raised['id']}/close",
                         {"text": "Answer accepted."})  # fmt: skip
            monitor.call(
                "POST",
                f"/queries/{raised['id']}/reopen",
                {"text": "Re-opened: please attach the source page reference."},
            )
            vt.users[writer].call("POST", f"/queries/{raised['id']}/answer",
                                  {"text": "Source page 3 of the lab report."})  # fmt: skip
        monitor.call("POST", f"/queries/{raised['id']}/close", {"text": "Resolved."})
        vt.ledger.append(Ack("monitor", f"/queries/{raised['id']}", "status", "closed"))
        vt.result.queries += 1
        vt.tick("queries", i + 1, len(picked))
    _verify(vt, enrolled[::3])
    vt.say(f"queries: {vt.result.queries} raised, answered ({vt.result.corrections} with a "
           f"correction) and closed; {vt.result.verified_forms} forms verified")  # fmt: skip


def _answer(vt: VirtualTrial, query_id: int, folder: str, record_id: int, writer: str) -> None:
    site = vt.users[writer]
    if folder != "lab-results":
        site.call("POST", f"/queries/{query_id}/answer",
                  {"text": "Confirmed against the source; the entry is correct."})  # fmt: skip
        return
    value = float(site.call("GET", f"/lab-results/{record_id}")["value"])
    corrected = round(value * CORRECTION, 2)
    body: dict[str, Any] = {"text": "Transcription error; corrected to the lab report.",
                            "corrected": True, "value": corrected}  # fmt: skip
    site.call("POST", f"/queries/{query_id}/answer", body)
    vt.ledger.append(Ack(writer, f"/lab-results/{record_id}", "value", corrected))
    vt.result.corrections += 1


def _verify(vt: VirtualTrial, patients: list[Enrolled]) -> None:
    monitor = vt.users["monitor"]
    for e in patients:
        forms = monitor.call("GET", f"/patients/{e.patient_id}/forms")
        todo = [f for f in forms if f["state"] == "not_verified"][:SDV_FORMS]
        for form in todo:
            shown = monitor.call("POST", "/sdv", {"form_key": form["key"]}, expect=201)
            if shown is None or shown["state"] != "verified":
                raise ServiceError(f"POST /sdv {form['key']}: reads back as {shown!r}")
            vt.result.verified_forms += 1
