"""The Python API returns DataFrames, from file names or from records."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from phaseone.correlatives import api
from phaseone.correlatives.records import GenotypeCall, Measurement, PatientGroup

EXAMPLES = Path(__file__).parents[2] / "examples" / "correlatives"


def test_immune_from_file_names() -> None:
    report = api.immune(str(EXAMPLES / "immune.csv"), str(EXAMPLES / "patients.csv"))
    assert isinstance(report.comparison, pd.DataFrame)
    assert {"analyte", "study_day", "shift", "p_value"} <= set(report.comparison.columns)
    assert set(report.changes["group"]) == {"low", "high"}
    model = report.mixed_model("NK cells")
    assert "group[T.high]" in set(model["term"])


def test_records_in_frames_out() -> None:
    data = [Measurement(p, "blood", d, "NK", v, "cells/uL") for p, d, v in [
        ("a", 1, 100), ("a", 8, 150), ("b", 1, 80), ("b", 8, 200)]]
    people = [PatientGroup("a", 1), PatientGroup("b", 5)]
    report = api.immune(data, people, change="log2")
    assert report.changes.set_index("patient")["change"].to_dict() == {
        "a": approx_log2(1.5), "b": approx_log2(2.5)}
    typing = [GenotypeCall("a", "FCGR3A", "176F/F"), GenotypeCall("b", "FCGR3A", "V/F")]
    frame = api.fcgr(typing).patients
    assert list(frame["genotype"]) == ["158F/F", "158V/F"]


def approx_log2(ratio: float) -> object:
    return pytest.approx(math.log2(ratio))


def test_haca_and_tlda_reports() -> None:
    report = api.haca(EXAMPLES / "haca.csv", trough="dinutuximab trough")
    assert report.incidence is not None
    assert len(report.troughs) == 12 and "ratio" in report.troughs.columns
    tlda = api.tlda(EXAMPLES / "tlda.csv", evaluations=EXAMPLES / "evaluations.csv")
    assert tlda.trajectory is not None and "response" in set(tlda.trajectory["kind"])
    assert set(tlda.specimens["call"]) <= {"positive", "negative", "unevaluable",
                                           "incomplete"}
