"""Safety: CTCAE grading, adverse events, DLT determination, toxicity tables and the
comparison with historical studies. Pure functions over plain data."""
