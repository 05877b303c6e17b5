"""TLDA ΔCt and calls, computed by hand from the formula in the module docstring."""

from __future__ import annotations

import math

import pytest

from phaseone.correlatives.records import Measurement, read_measurements
from phaseone.correlatives.tlda import score, trajectory
from phaseone.errors import InputError
from phaseone.protocol.model import TldaRules
from phaseone.protocol.provenance import Provenance

GENES = ("CHGA", "DCX", "DDC", "PHOX2B", "TH")


def rules(**kw: object) -> TldaRules:
    base: dict[str, object] = dict(provenance=Provenance(source="assumed", note="test"),
                                   genes=GENES, reference_genes=("GUSB",), undetected_ct=40)
    base.update(kw)
    return TldaRules.model_validate(base)


def wells(patient: str, kind: str, day: int, cts: dict[str, float]) -> list[Measurement]:
    return [Measurement(patient, kind, day, g, v, "Ct") for g, v in cts.items()]


def test_delta_ct_is_panel_mean_minus_reference() -> None:
    cts = {"CHGA": 30, "DCX": 32, "DDC": 31, "PHOX2B": 29, "TH": 33, "GUSB": 24}
    [s] = score(wells("p", "marrow", 1, cts), rules())
    assert s.delta_ct == pytest.approx(31 - 24)
    assert s.genes_detected == 5 and s.call == "positive"


def test_undetected_wells_take_the_configured_ct() -> None:
    cts = {"CHGA": math.inf, "DCX": math.inf, "DDC": 35, "PHOX2B": math.inf, "TH": 45,
           "GUSB": 25}
    [s] = score(wells("p", "blood", 1, cts), rules())
    # 40, 40, 35, 40, 40 (a Ct past the last cycle counts as undetected too).
    assert s.delta_ct == pytest.approx((40 * 4 + 35) / 5 - 25)
    assert s.genes_detected == 1 and s.call == "positive"
    [neg] = score(wells("p", "blood", 1, cts), rules(min_genes_detected=2))
    assert neg.call == "negative"


def test_cutoff_per_specimen_type() -> None:
    cts = {"CHGA": 34, "DCX": 34, "DDC": 34, "PHOX2B": 34, "TH": 34, "GUSB": 24}
    r = rules(delta_ct_cutoff={"blood": 9.5, "marrow": 10.5})
    blood, marrow = score(wells("p", "blood", 1, cts) + wells("p", "marrow", 1, cts), r)
    assert (blood.specimen_type, blood.call) == ("blood", "negative")  # ΔCt 10 > 9.5
    assert (marrow.specimen_type, marrow.call) == ("marrow", "positive")  # 10 <= 10.5


def test_unevaluable_and_incomplete_specimens() -> None:
    cts = {"CHGA": 30, "DCX": 30, "DDC": 30, "PHOX2B": 30, "TH": 30, "GUSB": math.inf}
    [s] = score(wells("p", "blood", 1, cts), rules())
    assert s.call == "unevaluable" and s.delta_ct is None
    del cts["TH"]
    cts["GUSB"] = 24
    [s] = score(wells("p", "blood", 1, cts), rules())
    assert s.call == "incomplete" and "TH" in s.reason
    [s] = score(wells("p", "blood", 1, {**cts, "TH": 30, "GUSB": 31}),
                rules(reference_ct_max=30))
    assert s.call == "unevaluable" and "above 30" in s.reason


def test_bad_wells_name_their_line() -> None:
    text = ("patient,specimen_type,study_day,analyte,value,unit\n"
            "p,blood,1,CHGA,undetermined,Ct\n"
            "p,blood,1,MYCN,30,Ct\n"
            "p,serum,1,TH,30,Ct\n"
            "p,blood,1,DCX,30,copies\n")
    data = read_measurements(text, name="t.csv", undetected=True)
    assert math.isinf(data[0].value)
    with pytest.raises(InputError) as err:
        score(data, rules(), file="t.csv")
    got = [str(p) for p in err.value.problems]
    assert got[0].startswith("t.csv:3: analyte: 'MYCN' is neither a panel gene")
    assert got[1].startswith("t.csv:4: specimen_type: expected blood or marrow")
    assert got[2] == "t.csv:5: unit: expected Ct (cycles), got 'copies'"


def test_trajectory_puts_evaluations_after_same_day_specimens() -> None:
    cts = {"CHGA": 30, "DCX": 30, "DDC": 30, "PHOX2B": 30, "TH": 30, "GUSB": 24}
    specimens = score(wells("p", "marrow", 56, cts) + wells("p", "marrow", 0, cts), rules())
    rows = trajectory(specimens, [("p", 56, "PR")])
    assert [(r["study_day"], r["kind"]) for r in rows] == [
        (0, "marrow"), (56, "marrow"), (56, "response")]
