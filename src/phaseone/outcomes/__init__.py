"""Event-free and overall survival: endpoints from follow-up records, Kaplan-Meier, plots."""
