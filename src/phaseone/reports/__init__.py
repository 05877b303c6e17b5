"""Documents made from the trial: the dose-escalation meeting pack (HTML and PDF)."""
