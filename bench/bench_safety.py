"""Speed of CTCAE lab grading: rows graded per second (prints a table)."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from phaseone.safety.labgrades import grade_labs


def main() -> None:
    rng = np.random.default_rng(1)
    rows = []
    for analyte, unit, lo, hi in [
        ("anc", "/uL", 100, 5000),
        ("alt", "U/L", 10, 600),
        ("sodium", "mmol/L", 118, 150),
        ("creatinine", "mg/dL", 0.2, 3.0),
    ]:
        for value in rng.uniform(lo, hi, 2500):
            rows.append({"analyte": analyte, "value": value, "unit": unit, "age_years": 6})
    frame = pd.DataFrame(rows)
    print(f"{'version':>8} {'rows':>8} {'seconds':>8} {'rows/s':>10}")
    for version in ("4.03", "5.0"):
        start = time.perf_counter()
        grade_labs(frame, version=version)
        took = time.perf_counter() - start
        print(f"{version:>8} {len(frame):>8} {took:>8.3f} {len(frame) / took:>10.0f}")


if __name__ == "__main__":
    main()
