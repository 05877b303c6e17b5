"""Operating characteristics of escalation designs: simulation and exact computation."""
