"""The service's clock for simulation: the time read from a file that a virtual trial moves.

`phaseone serve --clock-file PATH` runs the workflow on this clock instead of real time,
so a virtual trial can end DLT windows and lapse holds in seconds. It is for simulations on
a loopback address only; the file holds one ISO 8601 UTC date-time.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path


def read_clock_file(path: Path) -> dt.datetime:
    text = path.read_text("utf-8").strip()
    moment = dt.datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def write_clock_file(path: Path, moment: dt.datetime) -> None:
    """Replace the file in one step, so the service never reads half a time."""
    partial = path.with_suffix(path.suffix + ".new")
    partial.write_text(moment.astimezone(dt.UTC).isoformat() + "\n", "utf-8")
    partial.replace(path)


class FileClock:
    """Called by the service for the time of each workflow step."""

    def __init__(self, path: Path) -> None:
        self.path = path
        read_clock_file(path)  # fail at start, not on the first request

    def __call__(self) -> dt.datetime:
        return read_clock_file(self.path)
