"""Simulation speed and memory beside the R peers.

Runs in one process on this machine:
1. BOIN, 5 doses, 10 cohorts of 3, early stop at 18, 10,000 trials (target <= 20 ms);
2. the same on R's stream, the very trials BOIN::get.oc runs (target >= 300x get.oc), with
   the design's state machine already built (it is cached by the design's contents, as
   the decision table is) and built inside the timed call;
3. CRM, 6 doses, 24 patients in cohorts of 3, 1,000 trials (target >= 100x dfcrm::crmsim);
4. peak memory of 1,000,000 BOIN trials (target <= 1 GB), measured in a child process;
5. the exact computation of the same BOIN configuration (state count and time);
6. the same BOIN with a modifier no compiled engine runs (DontSkipDoses), 1,000 trials
   through `fit()`: the generic path, for scale (no target).

Where R and a peer package are installed, the peer is timed in the same run (R is found on
PATH or through PHASEONE_BENCH_RSCRIPT; packages in R's library or in the directories of
PHASEONE_BENCH_R_LIBS or R_LIBS; nothing is installed). Otherwise the peer's recorded
figure is printed with its date and machine, and the table marks it "recorded".
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

from rich.console import Console
from rich.table import Table

from phaseone.designs import BOIN, CRM, DontSkipDoses, StopAtN
from phaseone.simulation import machine
from phaseone.simulation.api import simulate
from phaseone.simulation.exact_api import exact_oc

BOIN_TRUTH = [0.05, 0.15, 0.30, 0.45, 0.60]
CRM_SKELETON = (0.05, 0.10, 0.20, 0.30, 0.45, 0.60)

# Where a peer cannot run here: its figure as measured before, with when and where.
MACHINE = "2-core AMD EPYC VM, 23 GB RAM, Debian 12, R 4.2.2"
RECORDED = {
    "get.oc": (
        7.9,
        f"measured 2026-11-22 with BOIN 2.7.2 on a {MACHINE} (15.9 s in another run "
        "under heavier load)",
    ),
    "simFastBOIN": (
        0.37,
        "simFastBOIN 1.3.2, recorded on this project's build machines (date not stated)",
    ),
    "crmsim": (
        7.3,
        f"measured 2026-11-22 with dfcrm 0.2-2.1 on a {MACHINE} (7.6 s in another run "
        "under heavier load)",
    ),
}

# The peers' calls: the same configurations as ours.
R_PEERS = {
    "get.oc": (
        "BOIN",
        "BOIN::get.oc(target=0.3, p.true=c(0.05,0.15,0.3,0.45,0.6), ncohort=10, "
        "cohortsize=3, n.earlystop=18, ntrial=10000, seed=1)",
    ),
    "simFastBOIN": (
        "simFastBOIN",
        "simFastBOIN::sim_boin(target=0.3, p_true=c(0.05,0.15,0.3,0.45,0.6), n_cohort=10, "
        "cohort_size=3, n_earlystop=18, n_trials=10000, seed=1)",
    ),
    "crmsim": (
        "dfcrm",
        "dfcrm::crmsim(PI=c(0.05,0.1,0.2,0.3,0.45,0.6), prior=c(0.05,0.1,0.2,0.3,0.45,0.6), "
        "target=0.25, n=24, x0=1, nsim=1000, mcohort=3, count=FALSE)",
    ),
}

# Where to find R and the peer packages: Rscript on PATH (or PHASEONE_BENCH_RSCRIPT), the
# packages in R's own library or in the directories of PHASEONE_BENCH_R_LIBS / R_LIBS.
# Nothing is ever installed from here.
RSCRIPT_ENV = "PHASEONE_BENCH_RSCRIPT"
R_LIBS_ENV = "PHASEONE_BENCH_R_LIBS"


@dataclass(frozen=True)
class PeerTime:
    seconds: float
    measured: bool
    note: str


def best_of(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """(best, median) wall time in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times)


def r_environment() -> tuple[str | None, dict[str, str]]:
    rscript = os.environ.get(RSCRIPT_ENV) or shutil.which("Rscript")
    env = dict(os.environ)
    extra = os.environ.get(R_LIBS_ENV)
    if extra:
        env["R_LIBS"] = os.pathsep.join(p for p in (extra, env.get("R_LIBS", "")) if p)
    return rscript, env


def time_in_r(rscript: str, env: dict[str, str], package: str, call: str) -> float | None:
    """Elapsed seconds of `call` in a fresh R, the package loaded before the clock starts;
    None when the package is not installed."""
    script = (
        f"if (!suppressMessages(requireNamespace('{package}', quietly=TRUE))) quit(status=3)\n"
        f"t <- system.time(invisible({call}))\n"
        "cat('elapsed', t[['elapsed']], '\\n')\n"
    )
    out = subprocess.run(
        [rscript, "-e", script], capture_output=True, text=True, env=env, check=False
    )
    if out.returncode == 3:
        return None
    for line in out.stdout.splitlines():
        if line.startswith("elapsed "):
            return float(line.split()[1])
    raise RuntimeError(f"{package}: R failed: {out.stderr.strip()[-500:]}")


def peer_time(key: str) -> PeerTime:
    """Time the R peer here if R and its package are installed; else its recorded figure."""
    package, call = R_PEERS[key]
    rscript, env = r_environment()
    if rscript is not None:
        seconds = time_in_r(rscript, env, package, call)
        if seconds is not None:
            return PeerTime(seconds, True, f"measured in this run ({package}, {rscript})")
    recorded, where = RECORDED[key]
    missing = "R" if rscript is None else f"R package {package}"
    return PeerTime(recorded, False, f"RECORDED, not measured ({missing} not found here): {where}")


def peak_memory_mb(trials: int) -> float:
    """Peak resident memory of a child process that simulates `trials` BOIN trials."""
    code = (
        "import resource\n"
        "from phaseone.designs import BOIN\n"
        "from phaseone.simulation.api import simulate\n"
        f"simulate(BOIN(target_rate=0.3, doses=5, early_stop_n=18), {BOIN_TRUTH}, {trials}, 1,"
        " cohort_size=3, cohorts=10)\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return int(out.stdout.strip()) / 1024  # Linux reports kilobytes


def main() -> None:
    console = Console()
    boin = BOIN(target_rate=0.3, doses=5, early_stop_n=18)
    crm = CRM(skeleton=CRM_SKELETON, target_rate=0.25) | StopAtN(24)

    def run_boin() -> object:
        return simulate(boin, BOIN_TRUTH, 10_000, 1, cohort_size=3, cohorts=10)

    def run_boin_r() -> object:
        return simulate(boin, BOIN_TRUTH, 10_000, 1, cohort_size=3, cohorts=10, rng="r")

    def run_boin_r_cold() -> object:
        machine.clear_cache()
        return run_boin_r()

    def run_crm() -> object:
        return simulate(crm, list(CRM_SKELETON), 1_000, 1, cohort_size=3)

    generic = boin | DontSkipDoses(when_deescalating=True) | StopAtN(30)

    def run_generic() -> object:
        return simulate(generic, BOIN_TRUTH, 1_000, 1, cohort_size=3)

    run_boin()  # warm up imports and caches
    run_boin_r()
    boin_best, boin_med = best_of(run_boin, 15)
    boin_r_best, boin_r_med = best_of(run_boin_r, 15)
    cold_best, cold_med = best_of(run_boin_r_cold, 7)
    crm_best, crm_med = best_of(run_crm, 5)
    generic_s = best_of(run_generic, 1)[0]
    start = time.perf_counter()
    exact = exact_oc(boin, BOIN_TRUTH, cohort_size=3, cohorts=10)
    exact_s = time.perf_counter() - start
    mem = peak_memory_mb(1_000_000)

    getoc = peer_time("get.oc")
    fast = peer_time("simFastBOIN")
    crmsim = peer_time("crmsim")

    def peer(name: str, t: PeerTime, digits: int) -> str:
        return f"{name} {t.seconds:.{digits}f} s" + ("" if t.measured else " (recorded)")

    table = Table("benchmark", "phaseone", "peer", "speed-up", title="simulation")
    table.add_row(
        "BOIN 10,000 trials (numpy stream)",
        f"{boin_best * 1e3:.1f} ms (median {boin_med * 1e3:.1f})",
        peer("get.oc", getoc, 2),
        f"{getoc.seconds / boin_best:,.0f}x",
    )
    table.add_row("", "", peer("simFastBOIN", fast, 2), f"{fast.seconds / boin_best:,.1f}x")
    table.add_row(
        "BOIN 10,000 trials (R stream, = get.oc)",
        f"{boin_r_best * 1e3:.1f} ms (median {boin_r_med * 1e3:.1f})",
        peer("get.oc", getoc, 2),
        f"{getoc.seconds / boin_r_best:,.0f}x",
    )
    table.add_row(
        "  same, state machine built in the call",
        f"{cold_best * 1e3:.1f} ms (median {cold_med * 1e3:.1f})",
        peer("get.oc", getoc, 2),
        f"{getoc.seconds / cold_best:,.0f}x",
    )
    table.add_row(
        "CRM 1,000 trials, 24 pts, cohorts of 3",
        f"{crm_best * 1e3:.1f} ms (median {crm_med * 1e3:.1f})",
        peer("crmsim", crmsim, 1),
        f"{crmsim.seconds / crm_best:,.0f}x",
    )
    table.add_row(
        "BOIN | DontSkipDoses, 1,000 trials via fit()",
        f"{generic_s:.2f} s",
        "no compiled engine: the generic path",
        "",
    )
    table.add_row("BOIN 1,000,000 trials, peak RSS", f"{mem:,.0f} MB", "target <= 1,024 MB", "")
    states = exact.details["states"]
    table.add_row(
        "BOIN exact (DP), same configuration",
        f"{exact_s * 1e3:.0f} ms",
        f"{states['peak_running']:,} peak / {states['final']:,} final states",
        "",
    )
    console.print(table)
    for name, t in (("get.oc", getoc), ("simFastBOIN", fast), ("crmsim", crmsim)):
        console.print(f"{name}: {t.note}", highlight=False)
    targets = [
        ("BOIN <= 20 ms", boin_best <= 0.020),
        ("R stream >= 300x get.oc", getoc.seconds / boin_r_best >= 300),
        ("CRM >= 100x crmsim", crmsim.seconds / crm_best >= 100),
        ("1M trials <= 1 GB", mem <= 1024),
    ]
    console.print(
        "targets: " + ", ".join(f"{t} {'met' if ok else 'NOT met'}" for t, ok in targets),
        highlight=False,
    )


if __name__ == "__main__":
    main()
