"""Time dose sheets and full 12-course plans for NANT 2011-04 across the BSA range.

Prints one table: the operation, how many were run, and the time per call.
"""

from __future__ import annotations

import datetime as dt
import time

from rich.console import Console
from rich.table import Table

from phaseone.dosing.calendar import treatment_plan
from phaseone.dosing.sheet import dose_sheet
from phaseone.protocol import resolve_protocol

CHILDREN = [(h, w) for h in range(50, 226, 25) for w in (4.5, 9, 12, 18.5, 30, 50, 80)]


def main() -> None:
    protocol = resolve_protocol("nant-2011-04")
    table = Table("operation", "calls", "per call (ms)", title="dosing (NANT 2011-04)")
    for name, run in (
        (
            "dose sheet (BSA, prescription, rounding)",
            lambda h, w, lv: dose_sheet(protocol, lv, h, w),
        ),
        (
            "12-course plan (336 days)",
            lambda h, w, lv: treatment_plan(protocol, lv, h, w, dt.date(2027, 1, 4)),
        ),
    ):
        calls = 0
        t0 = time.perf_counter()
        for h, w in CHILDREN:
            for level in (1, 3, 5):
                run(h, w, level)
                calls += 1
        per = (time.perf_counter() - t0) / calls * 1000
        table.add_row(name, str(calls), f"{per:.2f}")
    Console().print(table)


if __name__ == "__main__":
    main()
