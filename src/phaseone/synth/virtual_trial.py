"""The virtual trial: virtual patients driven through the running service's JSON API, as
sites and the study chair would, to an MTD; then checks of the whole.

Every step goes over HTTP (/api/v1) with one client per user: each site's coordinator
creates and screens its patients, its investigator signs the screening, the sites' slot
requests race (threads), held slots are registered, course 1's doses, labs and adverse
events are entered, and the chair applies the DLT rules, signs each determination and
confirms the design's decision. The service's clock is moved by a `ServiceClock` (the
service must run on a clock the driver can move: the in-process clock of the tests, or
`phaseone serve --clock-file`). At the end: the audit chain verifies, every acknowledged
write reads back, and the DLTs per level in the SDTM export equal those the chair signed.

The steps run in the order of the registry in `synth/steps.py` (accounts, escalation to
an MTD, courses 2-12, specimens and imported results, follow-up, the report and every
export, the checks of the whole); a step whose service does not exist yet is listed there
as absent.
"""

from __future__ import annotations

import datetime as dt
import io
import secrets
import tempfile
import zipfile
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import httpx
import numpy as np

from phaseone.errors import InputError, Problem
from phaseone.synth.patients import Models, VirtualPatient, make_patients
from phaseone.synth.treatment import TreatmentModel
from phaseone.trial.history import CLOSING

API = "/api/v1"
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1", "testserver"})
DEFAULT_SITES = ("chla", "chop", "seattle")


class ServiceClock(Protocol):
    """The service's clock, as the driver sees it."""

    def today(self) -> dt.date: ...

    def advance(self, days: int) -> None: ...


ClientFactory = Callable[[dict[str, str]], httpx.Client]


class ServiceError(RuntimeError):
    """The service refused a step the driver expected to succeed."""


@dataclass
class User:
    username: str
    password: str
    client: httpx.Client

    def call(self, method: str, path: str, body: Any = None, expect: int = 200) -> Any:
        response = self.client.request(method, API + path, json=body)
        if response.status_code != expect:
            raise ServiceError(
                f"{method} {path} as {self.username}: {response.status_code} {response.text[:500]}"
            )
        return response.json() if response.content else None

    def signature(self) -> dict[str, str]:
        return {"username": self.username, "password": self.password}


@dataclass
class Enrolled:
    patient: VirtualPatient
    patient_id: int
    level: int
    start: dt.date
    dlt_drawn: bool
    dlt_signed: bool | None = None
    # course number: (day 1, dose level), as started in the service
    courses: dict[int, tuple[dt.date, int]] = field(default_factory=dict)
    ended: str | None = None  # the end-of-treatment reason recorded


@dataclass(frozen=True)
class Ack:
    """An acknowledged write: what the user who made it reads back to find it."""

    reader: str
    path: str  # under /api/v1
    field: str  # dotted path into the JSON read back
    expected: Any  # equal to, or for a string the start of, the value read back


@dataclass
class StepRecord:
    name: str
    status: str  # done / absent / skipped
    seconds: float = 0.0
    cpu_seconds: float = 0.0  # this process's CPU (with an in-process service, its too)
    note: str = ""


@dataclass
class VirtualTrialResult:
    """What the driver did and what the checks found."""

    seed: int
    screened: int = 0
    screen_failures: int = 0
    slot_requests: int = 0
    waitlisted: int = 0
    enrolled: list[Enrolled] = field(default_factory=list)
    decisions: list[str] = field(default_factory=list)
    mtd: int | None = None
    closed: bool = False  # the chair confirmed an MTD, or that no level is tolerable
    acknowledged: int = 0
    missing: list[str] = field(default_factory=list)
    audit_verified: bool = False
    dlts_signed: dict[int, int] = field(default_factory=dict)
    dlts_exported: dict[int, int] = field(default_factory=dict)
    courses: int = 0  # courses started, course 1 included
    delays: int = 0
    modifications: int = 0
    ended: Counter[str] = field(default_factory=Counter)
    specimens: int = 0
    results_imported: int = 0
    follow_ups: int = 0
    progressions: int = 0
    evaluations: int = 0
    queries: int = 0
    corrections: int = 0  # queries answered with a correction
    verified_forms: int = 0  # forms the monitor marked source-data verified
    casebooks_signed: int = 0
    outputs: dict[str, Path] = field(default_factory=dict)
    # the other checks of the whole: name -> problems found (empty list = it agrees)
    checks: dict[str, list[str]] = field(default_factory=dict)
    compared: dict[str, int] = field(default_factory=dict)  # check name -> values compared
    steps: list[StepRecord] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (
            self.audit_verified
            and not self.missing
            and self.dlts_signed == self.dlts_exported
            and not any(self.checks.values())
        )

    def per_level(self) -> dict[int, tuple[int, int]]:
        """Level: (patients, DLTs signed)."""
        count = Counter(e.level for e in self.enrolled)
        return {lvl: (n, self.dlts_signed.get(lvl, 0)) for lvl, n in sorted(count.items())}

    def patients(self) -> Any:
        """One row per registered patient (a pandas DataFrame): site, level, course 1's day,
        the DLT drawn and signed, courses started, the end-of-treatment reason."""
        import pandas as pd

        return pd.DataFrame(
            [
                {
                    "subject": e.patient.code, "site": e.patient.site, "dose_level": e.level,
                    "start": e.start, "dlt_drawn": e.dlt_drawn, "dlt_signed": e.dlt_signed,
                    "courses": len(e.courses), "off_treatment": e.ended,
                }
                for e in self.enrolled
            ],
            columns=["subject", "site", "dose_level", "start", "dlt_drawn", "dlt_signed",
                     "courses", "off_treatment"],
        )  # fmt: skip


def _loopback_only(base_url: str) -> None:
    host = httpx.URL(base_url).host
    if host not in LOOPBACK:
        raise InputError(
            [
                Problem(
                    "url",
                    f"the virtual trial writes invented data; {host!r} is not a "
                    "loopback address (use 127.0.0.1)",
                )
            ]
        )


@dataclass(frozen=True)
class Step:
    """One named step of the virtual trial: a function of the running trial, or `run=None`
    with what is missing when the system does not offer its service yet."""

    name: str
    does: str
    run: Callable[[VirtualTrial], None] | None
    absent: str = ""  # why the step cannot run yet (run is None)


class VirtualTrial:
    """One virtual trial against one service; run() calls the steps in order."""

    def __init__(
        self,
        base_url: str,
        clock: ServiceClock,
        *,
        admin: tuple[str, str],
        patients: int = 12,
        seed: int = 0,
        sites: tuple[str, ...] = DEFAULT_SITES,
        models: Models | None = None,
        client_factory: ClientFactory | None = None,
        progress: Callable[[str], None] | None = None,
        max_rounds: int = 40,
        courses: int = 12,
        output: Path | None = None,
        tick: Callable[[str, int, int], None] | None = None,
        treatment: TreatmentModel | None = None,
        steps: tuple[str, ...] | None = None,
        pdf: bool = True,
    ) -> None:
        _loopback_only(base_url)
        self.base_url = base_url
        self.clock = clock
        self.admin_login = admin
        self.models = models or Models()
        self.queue = make_patients(np.random.default_rng(seed), patients, sites, self.models)
        self.sites = sites
        self.factory = client_factory or (
            lambda headers: httpx.Client(base_url=base_url, headers=headers, timeout=60.0)
        )
        self.say = progress or (lambda _message: None)
        self.max_rounds = max_rounds
        self.result = VirtualTrialResult(seed=seed)
        self.ledger: list[Ack] = []
        self.users: dict[str, User] = {}
        self.tag = secrets.token_hex(3)
        self.courses = courses
        self.output = output
        self.tick = tick or (lambda _step, _done, _total: None)
        self.treatment = treatment or TreatmentModel()
        self.only = steps
        self.pdf = pdf  # also fetch the report as PDF (rendered by the server)
        # (patient id, course, agent, day) -> dose administration id
        self.dose_ids: dict[tuple[int, int, str, int], int] = {}
        self.files: dict[str, bytes] = {}  # downloads the checks read (report, exports)
        self.pk_sent: Any = None  # the PK concentrations sent to the core lab (a DataFrame)
        self.disease: dict[int, Any] = {}  # patient id -> baseline disease (synth.disease)
        # (patient id, ISO date) -> the overall response the evaluation was built to show
        self.intended: dict[tuple[int, str], str] = {}

    # --- accounts -----------------------------------------------------------------------

    def _token_client(self, username: str, password: str) -> httpx.Client:
        """Log in (session cookie + CSRF), create an API token, return a client using it."""
        with self.factory({}) as browser:
            login = browser.post(
                API + "/auth/login", json={"username": username, "password": password}
            )
            if login.status_code != 200:
                raise ServiceError(f"login as {username}: {login.status_code} {login.text[:300]}")
            made = browser.post(
                API + "/auth/tokens",
                json={"name": "virtual trial", "expires_days": 1},
                headers={"X-CSRF-Token": login.json()["csrf_token"]},
            )
            if made.status_code != 201:
                raise ServiceError(f"token for {username}: {made.status_code} {made.text[:300]}")
        return self.factory({"Authorization": f"Bearer {made.json()['token']}"})

    def step_accounts(self) -> None:
        """The administrator adds the chair and a coordinator and investigator per site."""
        name, password = self.admin_login
        admin = User(name, password, self._token_client(name, password))
        self.users["admin"] = admin
        wanted: list[tuple[str, str, str | None]] = [
            ("chair", "study_chair", None),
            ("monitor", "monitor", None),
        ]
        for site in self.sites:
            wanted += [
                (f"coord.{site}", "site_coordinator", site),
                (f"inv.{site}", "site_investigator", site),
            ]
        for key, role, home in wanted:
            username = f"vt-{self.tag}.{key}"
            secret = f"virtual trial {secrets.token_urlsafe(12)}"
            body = {
                "username": username,
                "full_name": f"Virtual {key}",
                "role": role,
                "password": secret,
                "site_id": home,
            }
            admin.call("POST", "/users", body, expect=201)
            self.users[key] = User(username, secret, self._token_client(username, secret))
        self.say(f"accounts: {len(wanted)} users at {len(self.sites)} sites")

    # --- screening, slots, registration ---------------------------------------------------

    def _ack(self, reader: str, path: str, record: dict[str, Any]) -> dict[str, Any]:
        self.ledger.append(Ack(reader, f"/{path}/{record['id']}", "id", int(record["id"])))
        return record

    def ack(self, reader: str, path: str, record: dict[str, Any]) -> dict[str, Any]:
        """Remember a record the service acknowledged (read back by the checks)."""
        return self._ack(reader, path, record)

    def level_labels(self) -> dict[int, str]:
        levels = self.users["chair"].call("GET", "/trial")["levels"]
        return {int(lvl["level"]): str(lvl.get("label", "")) for lvl in levels}

    def _screen(self, vp: VirtualPatient) -> int | None:
        """Create and screen one patient; the investigator signs if eligible. Patient id or
        None (screen failure)."""
        coord, inv = self.users[f"coord.{vp.site}"], self.users[f"inv.{vp.site}"]
        today = self.clock.today()
        patient = self._ack(
            f"coord.{vp.site}",
            "patients",
            coord.call(
                "POST",
                "/patients",
                {
                    "site_id": vp.site,
                    "subject_code": vp.code,
                    "initials": "VP",
                    "birth_date": vp.birth_date(today).isoformat(),
                    "sex": "M" if vp.sex == "male" else "F",
                    "consent_date": (today - dt.timedelta(days=3)).isoformat(),
                },
                expect=201,
            ),
        )
        body = {"record": vp.screening_record(today), "as_of": today.isoformat()}
        evaluation = self._ack(
            f"coord.{vp.site}",
            "screening-evaluations",
            coord.call("POST", f"/patients/{patient['id']}/screenings", body, expect=201),
        )
        self.result.screened += 1
        if evaluation["overall"] != "eligible":
            self.result.screen_failures += 1
            return None
        sign = {"meaning_id": "eligibility-confirmed", **inv.signature()}
        inv.call("POST", f"/screening-evaluations/{evaluation['id']}/signatures", sign, expect=201)
        return int(patient["id"])

    def step_accrue(self) -> list[Enrolled]:
        """Sites screen as many patients as slots are open (plus one, so requests race),
        request slots at once from threads, and register the patients whose slots are held.
        A site whose request is waitlisted releases it and asks again in a later round."""
        trial = self.users["chair"].call("GET", "/trial")
        wanted = trial["slots"]["free"]
        if wanted <= 0 or not self.queue:
            return []
        ready: list[tuple[VirtualPatient, int]] = []
        while self.queue and len(ready) < wanted + 1:
            vp = self.queue.pop(0)
            patient_id = self._screen(vp)
            if patient_id is not None:
                ready.append((vp, patient_id))

        def ask(item: tuple[VirtualPatient, int]) -> dict[str, Any]:
            vp, _ = item
            answer: dict[str, Any] = self.users[f"coord.{vp.site}"].call(
                "POST", "/slot-requests", {"reference": vp.code}, expect=201
            )
            return answer

        with ThreadPoolExecutor(max_workers=max(1, len(ready))) as pool:
            answers = list(pool.map(ask, ready))
        self.result.slot_requests += len(answers)
        enrolled, again = [], []
        today = self.clock.today()
        for (vp, patient_id), slot in zip(ready, answers, strict=True):
            coord = self.users[f"coord.{vp.site}"]
            self._ack(f"coord.{vp.site}", "slot-requests", slot)
            if slot["status"] != "held":
                self.result.waitlisted += 1
                coord.call(
                    "POST",
                    f"/slot-requests/{slot['id']}/release",
                    {"reason": "no slot free; the site will ask again"},
                )
                again.append(vp)
                continue
            made = coord.call(
                "POST",
                f"/patients/{patient_id}/registration",
                {
                    "slot_request_id": slot["id"],
                    "start_date": today.isoformat(),
                    "height_cm": vp.height_cm,
                    "weight_kg": vp.weight_kg,
                },
                expect=201,
            )
            self._ack(f"coord.{vp.site}", "registrations", made["registration"])
            self._ack(f"coord.{vp.site}", "courses", made["course"])
            level = int(made["registration"]["dose_level"])
            dlt, _ = vp.course_one(self.models, level)
            enrolled.append(Enrolled(vp, patient_id, level, today, dlt))
        # a waitlisted patient is screened again when the site next asks
        self.queue[:0] = [self._fresh(vp) for vp in again]
        self.result.enrolled += enrolled
        for e in enrolled:
            self.say(f"registered {e.patient.code} at level {e.level}")
        return enrolled

    def _fresh(self, vp: VirtualPatient) -> VirtualPatient:
        """The same child under a new subject code (its first code stays on the first entry)."""
        from dataclasses import replace

        return replace(vp, code=vp.code + "R")

    # --- course 1 ---------------------------------------------------------------------

    def step_course_one(self, cohort: list[Enrolled]) -> None:
        """Course 1 entered after the fact: doses on the calendar, blood counts, AEs."""
        levels = {
            int(lvl["level"]): lvl for lvl in self.users["chair"].call("GET", "/trial")["levels"]
        }
        for e in cohort:
            who = f"coord.{e.patient.site}"
            coord = self.users[who]
            has_iso = "ISO" in str(levels.get(e.level, {}).get("label", ""))
            schedule = [("lenalidomide", d) for d in range(1, 22)]
            schedule += [("dinutuximab", d) for d in range(8, 12)]
            if has_iso:
                schedule += [("isotretinoin", d) for d in range(15, 29)]
            e.courses[1] = (e.start, e.level)
            self.result.courses += 1
            for agent, day in schedule:
                body = {"course": 1, "day": day, "agent_id": agent}
                made = self._ack(
                    who,
                    "dose-administrations",
                    coord.call("POST", f"/patients/{e.patient_id}/doses", body, expect=201),
                )
                self.dose_ids[(e.patient_id, 1, agent, day)] = int(made["id"])
            rng = e.patient.rng("labs")
            for day in (8, 15, 22):
                on = (e.start + dt.timedelta(days=day - 1)).isoformat()
                for analyte, value, unit in (
                    ("anc", round(float(rng.uniform(1.0, 3.0)), 2), "10^9/L"),
                    ("platelets", round(float(rng.uniform(90, 300))), "10^9/L"),
                ):
                    body = {
                        "analyte": analyte,
                        "value": value,
                        "unit": unit,
                        "collected_on": on,
                        "course": 1,
                    }
                    made = coord.call("POST", f"/patients/{e.patient_id}/labs", body, expect=201)
                    self._ack(who, "lab-results", made["lab"])
            _, events = e.patient.course_one(self.models, e.level)
            for ae in events:
                body = {
                    "term": ae.term,
                    "grade": ae.grade,
                    "course": 1,
                    "onset": (e.start + dt.timedelta(days=ae.onset_day - 1)).isoformat(),
                    "resolved": (e.start + dt.timedelta(days=ae.resolved_day - 1)).isoformat(),
                    "attribution": ae.attribution,
                }
                self._ack(
                    who,
                    "adverse-events",
                    coord.call(
                        "POST", f"/patients/{e.patient_id}/adverse-events", body, expect=201
                    ),
                )

    # --- the chair ----------------------------------------------------------------------

    def step_adjudicate(self) -> None:
        """The chair applies the DLT rules to the windows that are over, signs each
        determination, and confirms the design's decision."""
        chair = self.users["chair"]
        queue = chair.call("POST", "/dlt-determinations/proposals")
        by_patient = {e.patient_id: e for e in self.result.enrolled}
        for det in queue["awaiting_signature"]:
            signed = chair.call("POST", f"/dlt-determinations/{det['id']}/sign", chair.signature())
            self._ack("chair", "dlt-determinations", signed["determination"])
            enrolled = by_patient.get(int(det["patient_id"]))
            if enrolled is not None:
                enrolled.dlt_signed = bool(signed["determination"]["is_dlt"])
        if queue["awaiting_signature"]:
            proposed = chair.call("POST", "/escalation-decisions/proposals")
            decision = proposed["decision"]
            confirmed = chair.call(
                "POST", f"/escalation-decisions/{decision['id']}/confirm", chair.signature()
            )
            self._ack("chair", "escalation-decisions", confirmed["decision"])
            self.result.decisions.append(str(proposed["proposal"]["summary"]))
            self.result.mtd = confirmed["trial"]["mtd"]
            self.result.closed = confirmed["decision"]["decision"] in CLOSING
            self.say(f"decision confirmed: {self.result.decisions[-1]}")

    # --- checks of the whole --------------------------------------------------------------

    def step_escalation(self) -> None:
        """Rounds of accrual, course 1 and the chair's decisions until an MTD is declared,
        no level is tolerable, or the patients run out."""
        total = len(self.queue)
        for _ in range(self.max_rounds):
            if self.result.closed:
                break
            cohort = self.step_accrue()
            self.tick("escalation", total - len(self.queue), total)
            if not cohort:
                if not self.queue:
                    break
                self.clock.advance(days=7)
                continue
            self.clock.advance(days=29)  # the DLT window (28 days) is over
            self.step_course_one(cohort)
            self.step_adjudicate()
        self.tick("escalation", total, total)

    def step_checks(self) -> None:
        """Audit chain, the ledger read back, DLTs per level from the SDTM export."""
        verify = self.users["monitor"].call("GET", "/audit/verify")
        self.result.audit_verified = bool(verify["ok"])
        self.result.acknowledged = len(self.ledger)
        listed = self._listed()
        for i, ack in enumerate(self.ledger):
            if i % 200 == 0:
                self.tick("checks", i, len(self.ledger))
            if ack.expected in listed.get((ack.reader, _folder(ack), ack.field), ()):
                continue  # in the list its writer sees
            response = self.users[ack.reader].client.get(API + ack.path)
            if response.status_code != 200 or not _matches(response.json(), ack):
                self.result.missing.append(ack.path)
        self.tick("checks", len(self.ledger), len(self.ledger))
        signed = Counter(e.level for e in self.result.enrolled if e.dlt_signed)
        self.result.dlts_signed = {
            lvl: signed.get(lvl, 0) for lvl, _ in self.result.per_level().items()
        }
        sdtm = self.files.get("sdtm")
        self.result.dlts_exported = (
            dlts_from_sdtm(self.users["chair"].client) if sdtm is None else dlts_in_sdtm(sdtm)
        )
        for lvl in self.result.dlts_signed:
            self.result.dlts_exported.setdefault(lvl, 0)

    def _listed(self) -> dict[tuple[str, str, str], set[Any]]:
        """The record ids (specimen codes) each writer's lists show, for the record types
        with a list: one page of 500 per request instead of one read per record."""
        wanted = {(a.reader, _folder(a), a.field) for a in self.ledger}
        found: dict[tuple[str, str, str], set[Any]] = {}
        for reader, folder, key in sorted(wanted):
            user = self.users[reader]
            if folder == "specimens" and key == "code":
                found[(reader, folder, key)] = {s["code"] for s in user.call("GET", "/specimens")}
                continue
            if folder not in LISTED or key != "id":
                continue
            ids: set[Any] = set()
            offset: int | None = 0
            while offset is not None:
                page = user.call("GET", f"/{folder}?limit=500&offset={offset}")
                ids.update(int(item["id"]) for item in page["items"])
                offset = page["next_offset"]
            found[(reader, folder, key)] = ids
        return found

    # --- the whole ------------------------------------------------------------------------

    def run(self, registry: Sequence[Step]) -> VirtualTrialResult:
        """Every step of the registry in order (only those named in `steps`, if given)."""
        import time

        for step in registry:
            if step.run is None:
                self.result.steps.append(StepRecord(step.name, "absent", note=step.absent))
                continue
            if self.only is not None and step.name not in self.only:
                self.result.steps.append(StepRecord(step.name, "skipped"))
                continue
            began, cpu = time.perf_counter(), time.process_time()
            self.say(f"step {step.name}: {step.does}")
            step.run(self)
            self.result.steps.append(
                StepRecord(step.name, "done", round(time.perf_counter() - began, 2),
                           round(time.process_time() - cpu, 2))
            )  # fmt: skip
        return self.result


LISTED = frozenset({
    "patients", "screening-evaluations", "registrations", "courses", "dose-administrations",
    "lab-results", "adverse-events", "dlt-determinations", "escalation-decisions",
})  # fmt: skip


def _folder(ack: Ack) -> str:
    return ack.path.strip("/").split("/")[0]


def _matches(found: Any, ack: Ack, keys: Sequence[str] | None = None) -> bool:
    """The value at `ack.field` read back equals what was written; a list on the way
    matches when any of its items does (e.g. "evaluations.id")."""
    keys = ack.field.split(".") if keys is None else keys
    for i, key in enumerate(keys):
        if isinstance(found, list):
            return any(_matches(item, ack, keys[i:]) for item in found)
        if not isinstance(found, dict):
            return False
        found = found.get(key)
    if isinstance(ack.expected, str):
        return isinstance(found, str) and found.startswith(ack.expected)
    return bool(found == ack.expected)


def dlts_from_sdtm(client: httpx.Client) -> dict[int, int]:
    """Patients with a DLT per dose level, from the SDTM export (DM ACTARMCD, SUPPAE AEDLT)."""
    response = client.get(API + "/exports/sdtm")
    if response.status_code != 200:
        raise ServiceError(f"GET /exports/sdtm: {response.status_code} {response.text[:300]}")
    return dlts_in_sdtm(response.content)


def sdtm_domains(archive: bytes, *wanted: str) -> dict[str, Any]:
    """The named domains (e.g. "dm") of an SDTM export zip as DataFrames; absent ones left out."""
    import pyreadstat

    frames: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as folder, zipfile.ZipFile(io.BytesIO(archive)) as z:
        names = {Path(n).name.lower(): n for n in z.namelist()}
        for domain in wanted:
            name = f"{domain}.xpt"
            if name in names:
                target = Path(folder) / name
                target.write_bytes(z.read(names[name]))
                frames[domain], _ = pyreadstat.read_xport(str(target))
    return frames


def dlts_in_sdtm(archive: bytes) -> dict[int, int]:
    """Patients with a DLT per dose level in an SDTM export zip."""
    frames = sdtm_domains(archive, "dm", "suppae")
    if "dm" not in frames:
        raise ServiceError("the SDTM export has no dm.xpt")
    if "suppae" not in frames:
        return {}
    dm, supp = frames["dm"], frames["suppae"]
    arm = dict(zip(dm["USUBJID"], dm["ACTARMCD"], strict=True))
    with_dlt = set(supp.loc[(supp["QNAM"] == "AEDLT") & (supp["QVAL"] == "Y"), "USUBJID"])
    counts: Counter[int] = Counter()
    for subject in with_dlt:
        code = str(arm[subject])
        counts[
            int(code[2:])
            if code.startswith("DL") and not code.startswith("DLM")
            else -int(code[3:])
        ] += 1
    return dict(counts)
