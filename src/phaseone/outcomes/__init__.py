"""Event-free and overall survival: endpoints from follow-up records, Kaplan-Meier, plots.

from phaseone.outcomes import analyse, parse_follow_up_json
result = analyse(records, protocol.endpoint("efs"), protocol.survival)
result.summary_frame()
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from phaseone.outcomes.endpoints import TimeToEvent, time_to_event, times_to_event
from phaseone.outcomes.followup import DueVisit, schedule
from phaseone.outcomes.km import KaplanMeier, kaplan_meier, quantile_time
from phaseone.outcomes.records import (
    Event,
    FollowUpRecord,
    follow_up_schema,
    parse_follow_up,
    parse_follow_up_json,
)
from phaseone.outcomes.survival import Curve, SurvivalResult, analyse

if TYPE_CHECKING:
    import pandas as pd


def summary_frame(result: SurvivalResult) -> pd.DataFrame:
    """Medians and landmark estimates per curve as a DataFrame."""
    import pandas as pd

    return pd.DataFrame(result.summary_rows())


def curves_frame(result: SurvivalResult) -> pd.DataFrame:
    """Every curve's steps (time, at risk, events, S, SE, interval) as a DataFrame."""
    import pandas as pd

    return pd.DataFrame(result.curve_rows())


def adtte_frame(result: SurvivalResult) -> pd.DataFrame:
    """One row per patient: ADaM ADTTE-like (PARAMCD, STARTDT, ADT, AVAL, CNSR, EVNTDESC)."""
    import pandas as pd

    return pd.DataFrame(
        {
            "USUBJID": t.patient_id,
            "PARAMCD": t.endpoint.upper(),
            "STARTDT": t.origin,
            "ADT": t.end,
            "AVAL": t.days,
            "AVALU": "DAYS",
            "CNSR": t.cnsr,
            "EVNTDESC": t.description,
            "DOSE_LEVEL": t.dose_level,
            "STRATUM": t.stratum,
        }
        for t in result.times
    )


__all__ = [
    "Curve",
    "DueVisit",
    "Event",
    "FollowUpRecord",
    "KaplanMeier",
    "SurvivalResult",
    "TimeToEvent",
    "adtte_frame",
    "analyse",
    "curves_frame",
    "follow_up_schema",
    "kaplan_meier",
    "parse_follow_up",
    "parse_follow_up_json",
    "quantile_time",
    "schedule",
    "summary_frame",
    "time_to_event",
    "times_to_event",
]
