"""Edit checks: the protocol's data-quality rules, applied to a record as it would be saved."""

from phaseone.editchecks.engine import KINDS, Facts, Finding, check_problems, run

__all__ = ["KINDS", "Facts", "Finding", "check_problems", "run"]
