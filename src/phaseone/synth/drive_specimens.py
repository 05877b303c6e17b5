"""Specimens from plan to result, as the sites and the central laboratories would.

For every course started, the site plans the protocol's specimens
(`POST /patients/{id}/specimens`), records each collection (PK samples at their clock time:
the dose at 08:00 and each sample the protocol's hours later, the dose's clock time added to
its record with the reason), and ships one manifest per laboratory; the chair, for the
central laboratories, records each receipt and imports one results file per laboratory
(`POST /result-imports`). The values come from the synth models: one-compartment PK,
dinutuximab peak and trough, NK cells, HACA, FcγR genotypes and TLDA Ct values.
"""

from __future__ import annotations

import datetime as dt
import io
import math
from collections import defaultdict
from typing import TYPE_CHECKING, Any

import pandas as pd

from phaseone.synth.patients import correlatives, pk_samples
from phaseone.synth.virtual_trial import API, Ack, ServiceError

if TYPE_CHECKING:
    from phaseone.synth.virtual_trial import Enrolled, VirtualTrial

DOSE_CLOCK = dt.time(8, 0)  # every timed dose is given at 08:00
OTHER_CLOCK = dt.time(9, 0)  # untimed samples are drawn at 09:00
PK_DOSES = {  # assessment -> (agent, course day of the dose whose clock time PK needs)
    "pk-lenalidomide": ("lenalidomide", 1),
    "pk-isotretinoin-ss": ("isotretinoin", 28),
}
Value = tuple[str, float | str, str | None]  # analyte, value (or a call), unit


def step_specimens(vt: VirtualTrial) -> None:
    planned: list[tuple[Enrolled, dict[str, Any]]] = []
    for e in vt.result.enrolled:
        coord = vt.users[f"coord.{e.patient.site}"]
        for number in sorted(e.courses):
            made = coord.call(
                "POST", f"/patients/{e.patient_id}/specimens", {"course": number}, expect=201
            )
            planned += [(e, s) for s in made]
    total = len(planned)
    values: dict[str, list[Value]] = {}
    pk_rows: list[dict[str, Any]] = []
    timed: set[tuple[int, str]] = set()
    by_patient: dict[int, _Draws] = {}
    for i, (e, s) in enumerate(planned):
        draws = by_patient.get(e.patient_id) or by_patient.setdefault(e.patient_id, _Draws(vt, e))
        at = _moment(e, s)
        who = f"coord.{e.patient.site}"
        body = {
            "collected_on": at.date().isoformat(),
            "collected_time": at.strftime("%H:%M") if s["sample_hour"] is not None else None,
        }
        vt.users[who].call("POST", f"/specimens/{s['code']}/collection", body)
        vt.ledger.append(Ack(who, f"/specimens/{s['code']}", "code", s["code"]))
        got = draws.values(s)
        if got:
            values[s["code"]] = got
        if s["assessment_id"] in PK_DOSES and got:
            timed.add((e.patient_id, s["assessment_id"]))
            start = e.courses[1][0]
            pk_rows.append({
                "subject": e.patient.code, "assessment_id": s["assessment_id"],
                "time": (at - dt.datetime.combine(start, dt.time(0, 0))).total_seconds() / 3600,
                "conc": got[0][1], "analyte": got[0][0], "specimen_id": s["code"],
            })  # fmt: skip
        vt.tick("specimens", i + 1, total)
    vt.result.specimens = total
    for patient_id, assessment in sorted(timed):
        _time_dose(vt, patient_id, *PK_DOSES[assessment])
    vt.pk_sent = pd.DataFrame(pk_rows)
    vt.clock.advance(days=3)  # shipped, received and assayed after the last collection
    _ship_receive_import(vt, planned, values)


class _Draws:
    """One patient's invented laboratory values, drawn once."""

    def __init__(self, vt: VirtualTrial, e: Enrolled) -> None:
        self.vt, self.e = vt, e
        planned = _planned_mg(vt, e, 1)
        bsa = e.patient.bsa_m2
        hours = {"lenalidomide": (0.0, 0.5, 1.0, 2.0, 4.0, 6.0, 8.0, 24.0),
                 "isotretinoin": (0.0, 1.0, 2.0, 4.0, 6.0, 8.0, 12.0),
                 "dinutuximab": (10.0,)}  # fmt: skip
        self.hours = hours
        self.pk = pk_samples(
            e.patient, vt.models, {a: mg / bsa for a, mg in planned.items()}, hours
        )
        measures, calls = correlatives(e.patient, vt.models, planned.get("lenalidomide", 0) / bsa)
        self.nk = {m.study_day: m.value for m in measures if m.analyte == "NK cells"}
        self.haca = next(m.value for m in measures if m.analyte == "HACA")
        self.ct = [(m.analyte, m.value) for m in measures if m.unit == "Ct"]
        self.calls = [(c.gene, c.call) for c in calls]

    def values(self, s: dict[str, Any]) -> list[Value]:
        kind, course, day = s["assessment_id"], int(s["course_number"]), int(s["course_day"])
        hour = s["sample_hour"]
        if kind in PK_DOSES and course == 1:
            agent = PK_DOSES[kind][0]
            conc = dict(self.pk.get(agent, ()))
            if hour not in conc:
                return []
            return [(agent, round(conc[hour] * 1000, 3), "ng/mL")]  # mg/L -> ng/mL
        if kind in ("pk-dinutuximab-peak", "pk-dinutuximab-trough"):
            if course == 1:
                (_, peak), (_, trough) = self.pk["dinutuximab"]
            else:
                peak, trough = self.vt.models.pk.dinutuximab(self.e.patient.rng(f"pk{course}"))
            value = peak if kind.endswith("peak") else trough
            return [("dinutuximab", round(value, 3), "mcg/mL")]
        if kind == "haca":
            return [("haca", 0.0 if course == 1 else self.haca, "titre")]
        if kind == "immune":
            nk = {1: self.nk[1], 8: (self.nk[1] + self.nk[15]) / 2, 15: self.nk[15]}[day]
            out: list[Value] = [("nk", round(nk, 1), "cells/uL")]
            if course == 1 and day == 1:
                out += [(gene, call, None) for gene, call in self.calls]
            return out
        if kind in ("tlda-blood", "marrow"):
            return [(g, "undetermined" if math.isinf(ct) else ct, "Ct") for g, ct in self.ct]
        return []


def _planned_mg(vt: VirtualTrial, e: Enrolled, course: int) -> dict[str, float]:
    """The first planned daily amount per agent in a course, as the service computed it."""
    view = vt.users[f"coord.{e.patient.site}"].call(
        "GET", f"/patients/{e.patient_id}/courses/{course}/doses"
    )
    out: dict[str, float] = {}
    for day in view["days"]:
        out.setdefault(day["agent_id"], float(day["planned_mg"]))
    return out


def _moment(e: Enrolled, s: dict[str, Any]) -> dt.datetime:
    day1 = e.courses[int(s["course_number"])][0]
    on = day1 + dt.timedelta(days=int(s["course_day"]) - 1)
    if s["sample_hour"] is None:
        return dt.datetime.combine(on, OTHER_CLOCK)
    return dt.datetime.combine(on, DOSE_CLOCK) + dt.timedelta(hours=float(s["sample_hour"]))


def _time_dose(vt: VirtualTrial, patient_id: int, agent: str, day: int) -> None:
    """The clock time of the dose a PK profile follows, from the site's PK worksheet."""
    dose_id = vt.dose_ids.get((patient_id, 1, agent, day))
    if dose_id is None:
        return
    e = next(x for x in vt.result.enrolled if x.patient_id == patient_id)
    who = f"coord.{e.patient.site}"
    body = {"administered_time": DOSE_CLOCK.strftime("%H:%M"),
            "reason": "clock time of the dose from the PK worksheet"}  # fmt: skip
    vt.users[who].call("PATCH", f"/dose-administrations/{dose_id}", body)


def _ship_receive_import(
    vt: VirtualTrial, planned: list[tuple[Enrolled, dict[str, Any]]], values: dict[str, list[Value]]
) -> None:
    groups: dict[tuple[str, str], list[str]] = defaultdict(list)
    for e, s in planned:
        groups[(e.patient.site, s["lab"])].append(s["code"])
    today = vt.clock.today()
    chair = vt.users["chair"]
    for (site, _lab), codes in sorted(groups.items()):
        for start in range(0, len(codes), 500):  # a manifest lists at most 500 specimens
            body = {"codes": codes[start : start + 500],
                    "shipped_on": (today - dt.timedelta(days=2)).isoformat()}  # fmt: skip
            made = vt.users[f"coord.{site}"].call("POST", "/shipments", body, expect=201)
            chair.call(
                "POST", f"/shipments/{made['id']}/receipt",
                {"received_on": (today - dt.timedelta(days=1)).isoformat()},
            )  # fmt: skip
    files: dict[str, list[str]] = defaultdict(list)
    lab_of = {s["code"]: s["lab"] for _, s in planned}
    for code, rows in values.items():
        for analyte, value, unit in rows:
            files[lab_of[code]].append(f"{code},{analyte},{value},{unit or ''}")
    imported = 0
    for lab, lines in sorted(files.items()):
        text = "specimen_id,analyte,value,unit\n" + "\n".join(lines) + "\n"
        name = f"{lab}-{vt.tag}.csv"
        response = chair.client.post(
            API + "/result-imports",
            files={"file": (name, io.BytesIO(text.encode()), "text/csv")},
        )
        if response.status_code != 201:
            raise ServiceError(f"import {name}: {response.status_code} {response.text[:500]}")
        imported += len(lines)
        vt.files[f"results-{lab}.csv"] = text.encode()
    vt.result.results_imported = imported
    vt.say(f"specimens: {len(planned)} collected and shipped; {imported} results imported")
