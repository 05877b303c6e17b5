"""The parameter registry: every NCA parameter, what it depends on, and how it is
summarised. The declarations live in data/parameters.yaml; the formulas in formulas.py.

Asking for a set of parameters computes the closure of their dependencies and nothing
else (see `closure`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Literal

import yaml

from phaseone.errors import InputError, Problem

Summary = Literal["geomean_cv", "median_range", "mean_sd"]
Kind = Literal["single", "open", "tau", "window"]
Routes = Literal["any", "ev", "iv", "bolus", "infusion"]


@dataclass(frozen=True)
class ParameterSpec:
    code: str
    name: str
    unit: str
    depends: tuple[str, ...]
    summary: Summary
    code_status: str
    kind: Kind = "single"
    routes: Routes = "any"


@cache
def registry() -> dict[str, ParameterSpec]:
    """All parameters by PPTESTCD, in the order of the data file."""
    text = resources.files("phaseone.pk").joinpath("data/parameters.yaml").read_text("utf-8")
    raw = yaml.safe_load(text)["parameters"]
    out: dict[str, ParameterSpec] = {}
    for item in raw:
        spec = ParameterSpec(
            code=item["code"], name=item["name"], unit=item["unit"],
            depends=tuple(item["depends"]), summary=item["summary"],
            code_status=item["code_status"], kind=item.get("kind", "single"),
            routes=item.get("routes", "any"),
        )
        out[spec.code] = spec
    return out


def closure(codes: tuple[str, ...]) -> list[str]:
    """The requested parameters and everything they depend on, dependencies first."""
    reg = registry()
    unknown = [c for c in codes if c not in reg]
    if unknown:
        raise InputError([
            Problem("parameters", f"unknown parameter {c!r}; known: {', '.join(reg)}")
            for c in unknown
        ])
    order: list[str] = []
    seen: set[str] = set()

    def visit(code: str) -> None:
        if code in seen:
            return
        seen.add(code)
        for dep in reg[code].depends if code in reg else ():
            visit(dep)
        order.append(code)

    for code in codes:
        visit(code)
    return order


def default_parameters(kinds: tuple[Kind, ...]) -> tuple[str, ...]:
    return tuple(code for code, spec in registry().items() if spec.kind in kinds)


def unit_for(kind: str, conc: str, time: str, dose: str) -> str:
    """The unit of a parameter from the data's concentration, time and dose units."""
    amount, _, volume = conc.partition("/")
    vol = volume if amount == dose and volume else f"{dose}/({conc})"
    return {
        "conc": conc,
        "time": time,
        "auc": f"{time}*{conc}",
        "aumc": f"{time}^2*{conc}",
        "rate": f"1/{time}",
        "volume": vol,
        "clearance": f"{vol}/{time}",
        "percent": "%",
        "ratio": "",
        "count": "",
        "conc_per_dose": f"{conc}/{dose}",
        "auc_per_dose": f"{time}*{conc}/{dose}",
    }[kind]
