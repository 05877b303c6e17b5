from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
import yaml

from phaseone.protocol import Protocol, bundled_protocols, resolve_protocol


@pytest.fixture(scope="session")
def nant() -> Protocol:
    return resolve_protocol("nant-2011-04")


@pytest.fixture(scope="session")
def nant_data() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(bundled_protocols()["nant-2011-04"].read_text())
    return data


@pytest.fixture
def variant(nant_data: dict[str, Any]) -> Callable[[Callable[[dict[str, Any]], None]], Protocol]:
    """The bundled protocol with one edit applied to its data."""

    def make(edit: Callable[[dict[str, Any]], None]) -> Protocol:
        data = copy.deepcopy(nant_data)
        edit(data)
        return Protocol.model_validate(data)

    return make
