"""Speed of the INRC response engine and of survival analysis (prints two tables).

Response: 10,000 evaluations (2,000 patients x baseline + 4 evaluations), parsed from
JSON-like data and evaluated; no open tool computes INRC, so there is no peer to run.
Survival: 10,000 follow-up records to EFS with strata (ours), beside lifelines'
KaplanMeierFitter alone on the same times, and R survfit (log-log) when Rscript is here.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from phaseone.outcomes import analyse, parse_follow_up, times_to_event
from phaseone.protocol import resolve_protocol
from phaseone.response import criteria_for, evaluate_patients, parse_patients

REF = dt.date(2014, 1, 6)


def _evaluations(n_patients: int, rng: np.random.Generator) -> list[dict]:
    out = []
    for i in range(n_patients):
        primary = float(rng.uniform(10, 90))
        bone = {"pelvis": int(rng.integers(0, 4)), "thighs": int(rng.integers(0, 4))}
        marrow = float(rng.choice([0, 0, 3, 15, 40]))
        evaluations = []
        for k in range(5):
            shrink = float(rng.uniform(0.4, 1.3)) if k else 1.0
            evaluations.append(
                {
                    "date": (REF + dt.timedelta(days=56 * k - 7 * (k == 0))).isoformat(),
                    "kind": "baseline" if k == 0 else "scheduled",
                    "lesions": [
                        {"id": "T1", "site": "primary", "diameter_mm": primary * shrink},
                        {"id": "N1", "site": "lymph_node", "diameter_mm": 20 * shrink},
                    ],
                    "mibg": {
                        "avid": True,
                        "curie": {s: min(3, int(v * shrink)) for s, v in bone.items()},
                    },
                    "marrow": [
                        {"side": side, "kind": kind, "tumour_percent": min(100, marrow * shrink)}
                        for side in ("left", "right")
                        for kind in ("aspirate", "biopsy")
                    ],
                }
            )
        out.append(
            {
                "patient_id": f"P{i}",
                "reference_date": REF.isoformat(),
                "dose_level": int(rng.integers(1, 6)),
                "evaluations": evaluations,
            }
        )
    return out


def _follow_up(n: int, rng: np.random.Generator) -> list[dict]:
    rows = []
    for i in range(n):
        event_day = int(rng.exponential(400)) + 1
        contact_day = int(rng.uniform(30, 1100))
        rec = {
            "patient_id": f"P{i}",
            "registration_date": REF.isoformat(),
            "dose_level": int(rng.integers(1, 6)),
            "disease_at_entry": str(rng.choice(["measurable", "evaluable", "complete_response"])),
            "last_known_alive": (REF + dt.timedelta(days=min(event_day, contact_day))).isoformat(),
        }
        if event_day <= contact_day:
            rec["events"] = [
                {"kind": "progression", "date": (REF + dt.timedelta(days=event_day)).isoformat()}
            ]
        rows.append(rec)
    return rows


CPU: dict[str, float] = {}


def _timed(fn):  # type: ignore[no-untyped-def]
    """(value, wall seconds); the process CPU seconds are kept in CPU["last"] (on a shared
    machine the wall time measures the queue, the CPU time the work)."""
    start, cpu = time.perf_counter(), time.process_time()
    value = fn()
    CPU["last"] = time.process_time() - cpu
    return value, time.perf_counter() - start


def bench_response() -> None:
    rng = np.random.default_rng(2017)
    data = _evaluations(2000, rng)
    c = criteria_for("INRC-2017")
    patients, t_parse = _timed(lambda: parse_patients(data))
    c_parse = CPU["last"]
    results, t_eval = _timed(lambda: evaluate_patients(patients, c))
    c_eval = CPU["last"]
    n = sum(len(p.evaluations) for p in patients)
    print("INRC response (no open peer computes INRC)")
    print(f"{'step':>22} {'evaluations':>12} {'seconds':>8} {'CPU s':>7} {'per second':>11}")
    print(f"{'parse + validate':>22} {n:>12} {t_parse:>8.3f} {c_parse:>7.3f} {n / t_parse:>11.0f}")
    print(f"{'components + overall':>22} {n:>12} {t_eval:>8.3f} {c_eval:>7.3f} {n / t_eval:>11.0f}")
    total, cpu = t_parse + t_eval, c_parse + c_eval
    print(f"{'total':>22} {n:>12} {total:>8.3f} {cpu:>7.3f} {n / total:>11.0f}")
    assert len(results) == 2000


def _r_survfit(days: list[float], events: list[bool]) -> float | None:
    if shutil.which("Rscript") is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "t.csv"
        path.write_text(
            "time,event\n" + "".join(f"{d},{int(e)}\n" for d, e in zip(days, events, strict=True))
        )
        script = (
            "suppressMessages(library(survival)); d <- read.csv('" + str(path) + "'); "
            "t0 <- proc.time()[[3]]; f <- survfit(Surv(time, event) ~ 1, data = d, "
            "conf.type = 'log-log'); s <- summary(f); cat(proc.time()[[3]] - t0)"
        )
        out = subprocess.run(["Rscript", "-e", script], capture_output=True, text=True, check=False)
        try:
            return float(out.stdout.strip())
        except ValueError:
            return None


def bench_survival() -> None:
    from lifelines import KaplanMeierFitter

    rng = np.random.default_rng(7)
    data = _follow_up(10_000, rng)
    proto = resolve_protocol("nant-2011-04")
    assert proto.survival is not None
    efs = proto.endpoint("efs")
    records, t_parse = _timed(lambda: parse_follow_up(data))
    _, t_all = _timed(lambda: analyse(records, efs, proto.survival, strata=()))
    _, t_strata = _timed(lambda: analyse(records, efs, proto.survival))
    times = times_to_event(records, efs)
    days = [float(t.days or 0) for t in times]
    events = [t.event for t in times]
    _, t_lifelines = _timed(lambda: KaplanMeierFitter().fit(days, events))
    t_r = _r_survfit(days, events)
    print()
    print("Survival, 10,000 patients")
    print(f"{'what':>42} {'seconds':>8}")
    print(f"{'parse + validate records (ours)':>42} {t_parse:>8.3f}")
    print(f"{'EFS, one curve, log(-log) CI, median (ours)':>42} {t_all:>8.3f}")
    print(f"{'EFS, all + 7 strata curves (ours)':>42} {t_strata:>8.3f}")
    print(f"{'lifelines KaplanMeierFitter.fit (peer)':>42} {t_lifelines:>8.3f}")
    r = "n/a" if t_r is None else f"{t_r:.3f}"
    print(f"{'R survfit + summary, in R (peer)':>42} {r:>8}")


if __name__ == "__main__":
    load = os.getloadavg()[0]
    print(f"machine: {os.cpu_count()} cores, load average {load:.1f} (figures scale with load)")
    bench_response()
    bench_survival()
