"""What the study report's analyses read and give, and the registry that names them.

An analysis is a function from the report's data to a finding, registered under the name a
protocol's objective gives (`analysis:`), beside its code (reports/analyses.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from phaseone.exports.snapshot import Snapshot
from phaseone.protocol.model import Protocol
from phaseone.trial import TrialState

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class Table:
    title: str
    frame: pd.DataFrame
    source: str  # the datasets and selection the numbers come from
    note: str = ""
    number: int = 0
    figure: str = ""  # an image data URI drawn beside the table, if any


@dataclass(frozen=True)
class Finding:
    """What an analysis gives: text, tables, or the reason it cannot be given yet."""

    paragraphs: tuple[str, ...] = ()
    tables: tuple[Table, ...] = ()
    unavailable: str | None = None


@dataclass(frozen=True)
class Decision:
    decided_on: dt.date
    summary: str  # the design's recommendation, in its words
    design: str
    signed_by: str | None
    signed_at: dt.datetime | None
    action: str = ""  # escalate, stay, de-escalate, ...
    from_level: int | None = None
    to_level: int | None = None


@dataclass(frozen=True)
class StudyData:
    """Everything the analyses read."""

    protocol: Protocol
    snapshot: Snapshot
    sdtm: dict[str, pd.DataFrame]
    adam: dict[str, pd.DataFrame]
    state: TrialState
    decisions: tuple[Decision, ...]

    def treated(self) -> pd.DataFrame:
        adsl = self.adam["ADSL"]
        return adsl[adsl.SAFFL == "Y"]


Analysis = Callable[[StudyData], Finding]
ANALYSES: dict[str, Analysis] = {}


def analysis(name: str) -> Callable[[Analysis], Analysis]:
    """Register an analysis under the name a protocol's objective gives."""

    def register(fn: Analysis) -> Analysis:
        ANALYSES[name] = fn
        return fn

    return register


def level_counts(frame: pd.DataFrame, column: str) -> dict[int, int]:
    """Rows per value of a numeric column (a dose level or course number)."""
    sizes: Any = frame.groupby(column).size()
    return {int(k): int(v) for k, v in sizes.items()}
