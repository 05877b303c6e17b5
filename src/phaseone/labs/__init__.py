"""Laboratory analytes, canonical units and unit conversion (one table, as data)."""

from phaseone.labs.catalogue import Analyte, analyte, analytes, normalise_unit, to_canonical

__all__ = ["Analyte", "analyte", "analytes", "normalise_unit", "to_canonical"]
