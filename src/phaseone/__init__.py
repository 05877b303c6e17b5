"""phaseone: run and analyse pediatric phase I dose-escalation trials."""

__version__ = "0.1.0"
