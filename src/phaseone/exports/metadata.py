"""The SDTM dataset definitions and controlled terminology phaseone writes, read from data."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Literal

import yaml


@dataclass(frozen=True)
class Variable:
    name: str
    label: str
    type: Literal["char", "num"]
    core: str
    origin: str
    codelist: str | None = None
    format: str | None = None  # a SAS display format, e.g. DATE9. for numeric dates


@dataclass(frozen=True)
class Domain:
    name: str
    label: str
    cls: str
    structure: str
    keys: tuple[str, ...]
    variables: tuple[Variable, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(v.name for v in self.variables)


@dataclass(frozen=True)
class Codelist:
    id: str
    code: str
    name: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Standard:
    name: str
    version: str
    domains: dict[str, Domain]


def _read(name: str) -> Any:
    text = resources.files("phaseone.exports").joinpath("data", name).read_text("utf-8")
    return yaml.safe_load(text)


@cache
def sdtm() -> Standard:
    """The SDTM datasets phaseone writes (data/sdtm.yaml)."""
    return _standard("sdtm.yaml")


@cache
def adam() -> Standard:
    """The ADaM datasets phaseone writes (data/adam.yaml)."""
    return _standard("adam.yaml")


@cache
def adam_parameters() -> dict[str, Any]:
    """The analysis conventions ADaM derivations use, each with its provenance."""
    params: dict[str, Any] = _read("adam.yaml")["parameters"]
    return params


def _standard(name: str) -> Standard:
    raw = _read(name)
    domains = {
        name: Domain(
            name=name,
            label=d["label"],
            cls=d["class"],
            structure=d["structure"],
            keys=tuple(d["keys"]),
            variables=tuple(Variable(**v) for v in d["variables"]),
        )
        for name, d in raw["domains"].items()
    }
    return Standard(raw["standard"]["name"], str(raw["standard"]["version"]), domains)


@cache
def terminology() -> dict[str, Any]:
    """The raw terminology file: codelists, the CT release and phaseone's value maps."""
    data: dict[str, Any] = _read("terminology.yaml")
    return data


@cache
def codelists() -> dict[str, Codelist]:
    return {
        cid: Codelist(cid, c["code"], c["name"], tuple(str(v) for v in c["values"]))
        for cid, c in terminology()["codelists"].items()
    }
