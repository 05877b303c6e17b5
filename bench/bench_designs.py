"""Speed of live decisions and exact path enumeration for the designs.

Peer figures (dose-finding notes §11.2): escalation needs 1,365 model fits for 5 cohorts of
3 and refits from scratch each time; dfcrm does 3 numerical integrals per CRM fit.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from rich.console import Console
from rich.table import Table

from phaseone.designs import BOIN, CRM, ThreePlusThree
from phaseone.designs.paths import dose_paths


def timed(fn: Callable[[], object], repeat: int) -> float:
    start = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - start) / repeat


def main() -> None:
    boin = BOIN(target_rate=0.3, doses=5)
    crm = CRM(skeleton=(0.1, 0.2, 0.33, 0.45, 0.6), target_rate=0.3)
    outcomes = "1NNN 2NNN 3NTT 2NTN 3NNN 3NNN 4TTT 3NTN"
    table = Table("what", "count", "time", title="designs: live fits and exact paths")
    boin_ms = timed(lambda: boin.fit(outcomes), 200) * 1e3
    crm_ms = timed(lambda: crm.fit(outcomes), 50) * 1e3
    table.add_row("BOIN fit, 24 patients", "1", f"{boin_ms:.2f} ms")
    table.add_row("CRM fit (4001-point grid)", "1", f"{crm_ms:.2f} ms")
    for name, design, cohorts in (
        ("BOIN paths, 5 cohorts of 3", boin, [3] * 5),
        ("3+3 (expand) paths, 10 cohorts", ThreePlusThree(doses=5), [3] * 10),
        ("CRM paths, 4 cohorts of 3", crm, [3] * 4),
    ):
        start = time.perf_counter()
        paths = dose_paths(design, cohorts)
        elapsed = time.perf_counter() - start
        table.add_row(name, f"{len(paths.nodes)} nodes", f"{elapsed:.2f} s")
    Console().print(table)


if __name__ == "__main__":
    main()
