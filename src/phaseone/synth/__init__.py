"""Virtual patients and a virtual trial driven through the running service (for simulation)."""
