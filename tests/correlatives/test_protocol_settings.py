"""The protocol's correlatives section: bundled values marked assumed, cross-checks."""

from __future__ import annotations

import pytest

from phaseone.errors import ProtocolError
from phaseone.protocol import resolve_protocol


def test_bundled_settings_are_present_and_assumed() -> None:
    c = resolve_protocol("nant-2011-04").correlatives
    assert c.immune is not None and list(c.immune.groups) == ["low", "high"]
    assert c.immune.provenance.is_assumed
    assert c.haca is not None and c.haca.provenance.is_assumed
    assert c.tlda is not None and c.tlda.genes == ("CHGA", "DCX", "DDC", "PHOX2B", "TH")
    for name in ("reference_genes", "undetected_ct", "delta_ct_cutoff"):
        assert c.tlda.provenance_of(name).is_assumed


def test_groups_must_name_distinct_known_levels() -> None:
    protocol = resolve_protocol("nant-2011-04")
    data = protocol.model_dump(mode="json")
    data["correlatives"]["immune"]["groups"] = {"low": [1, 2, 9], "high": [2, 3]}
    with pytest.raises(ProtocolError) as err:
        type(protocol).model_validate(data)
    text = str(err.value)
    assert "correlatives.immune.groups.low: unknown dose level 9" in text
    assert "correlatives.immune.groups.high: dose level 2 is already in group 'low'" in text


def test_tlda_reference_cannot_be_a_panel_gene() -> None:
    protocol = resolve_protocol("nant-2011-04")
    data = protocol.model_dump(mode="json")
    data["correlatives"]["tlda"]["reference_genes"] = ["TH"]
    with pytest.raises(ProtocolError, match="TH is also a panel gene"):
        type(protocol).model_validate(data)
