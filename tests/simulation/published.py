"""Published reference figures the simulation tests pin to, each with its source.

Nothing here was produced by phaseone.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

# BOIN integer boundaries, target 0.30, n = 1..30 (escalate if y <=, de-escalate if y >=,
# eliminate if y >=; None = no elimination). Source: simFastBOIN vignette
# "simFastBOIN-introduction" (boin_boundary(target = 0.30, max_n = 18)) for n = 3..18 in
# steps of 3, and the BOIN formulas (get.boundary, BOIN 2.7.2) for the other n.
BOIN_030_ESCALATE = [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4,
                     4, 5, 5, 5, 5, 6, 6, 6, 6, 7]  # fmt: skip
BOIN_030_DEESCALATE = [1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 5, 5, 6, 6, 6, 7, 7, 7, 8,
                       8, 8, 9, 9, 9, 10, 10, 11, 11, 11]  # fmt: skip
BOIN_030_ELIMINATE = [None, None, 3, 3, 4, 4, 5, 5, 5, 6, 6, 7, 7, 8, 8, 8, 9, 9, 9, 10,
                      10, 11, 11, 11, 12, 12, 12, 13, 13, 14]  # fmt: skip


def boin_030_codes() -> NDArray[np.int8]:
    """The published target-0.30 table as (n, y) -> 0 E, 1 S, 2 D, 3 DE codes."""
    codes = np.full((31, 31), -1, dtype=np.int8)
    codes[0, 0] = 1
    for n in range(1, 31):
        codes[n, : n + 1] = 1
        codes[n, : BOIN_030_ESCALATE[n - 1] + 1] = 0
        codes[n, BOIN_030_DEESCALATE[n - 1] : n + 1] = 2
        elim = BOIN_030_ELIMINATE[n - 1]
        if elim is not None:
            codes[n, elim : n + 1] = 3
    return codes


# Config A: simFastBOIN vignette "simFastBOIN-introduction", section "Working with the trial
# data": boin_simulate(target = 0.30, p_true = c(0.05, 0.15, 0.30, 0.45, 0.60),
# n_cohort = 10, cohort_size = 3, n_trials = 1000, seed = 123), n_earlystop = 18; the
# package documents trial-by-trial agreement with BOIN::get.oc for the same seed.
CONFIG_A_TRUTH = (0.05, 0.15, 0.30, 0.45, 0.60)
CONFIG_A_PATIENTS = (4.17, 8.90, 10.78, 4.49, 0.77)
CONFIG_A_DLTS = (0.22, 1.37, 3.21, 2.05, 0.46)
CONFIG_A_SELECTED = (12, 246, 541, 185, 15)  # counts of 1000; 1 trial selects no dose
CONFIG_A_SELECTED_BOUND = (16, 334, 509, 132, 8)  # bound_mtd = TRUE
CONFIG_A_STOPS = {"lowest_dose_eliminated": 0.1, "max_sample_size": 79.3, "early_stop_n": 20.6}
# Free -> bounded selection cross-tab as printed (dose numbers; 0 = no MTD).
CONFIG_A_CROSSTAB = {(1, 1): 12, (2, 1): 4, (2, 2): 242, (3, 2): 92, (3, 3): 449, (4, 3): 60,
                     (4, 4): 125, (5, 4): 7, (5, 5): 8, (0, 0): 1}  # fmt: skip


# 3+3 exact OCs: simFastBOIN vignette "simFastBOIN-introduction", section "Comparing with
# the 3+3 design" (oc_3p3), p = (0.05, 0.15, 0.25, 0.45, 0.60), start at dose 1.
TPT_TRUTH = (0.05, 0.15, 0.25, 0.45, 0.60)
TPT_PREVIOUS_SELECTED_PCT = (18.1, 31.7, 36.4, 10.2, 0.9)
TPT_PREVIOUS_NO_MTD_PCT = 2.7
TPT_PREVIOUS_PATIENTS = (3.4, 3.9, 3.4, 2.0, 0.4)
TPT_PREVIOUS_TOTAL_PATIENTS = 13.1
TPT_PREVIOUS_DLTS = (0.2, 0.6, 0.8, 0.9, 0.3)
TPT_PREVIOUS_TOTAL_DLTS = 2.8
TPT_OVERDOSE_CUTOFF = 0.3333  # doses 4 and 5
TPT_PREVIOUS_OVERDOSE = {"share_patients": 18.6, "any_patient": 47.5, "select": 11.1}
TPT_EXPAND_SELECTED_PCT = (19.7, 34.4, 35.3, 7.5, 0.5)
TPT_EXPAND_TOTAL_PATIENTS = 15.52


# simFastBOIN vignette (same page), sim_boin(target = 0.30, p_true = CONFIG_A_TRUTH,
# n_cohort = 10, cohort_size = 3, n_trials = 2000, seed = 123): oc$sel_percent,
# oc$percent_no_mtd, oc$overdose$pct_patients (doses above the target).
CONFIG_A2000_SELECTED_PCT = (1.20, 24.95, 53.15, 19.10, 1.55)
CONFIG_A2000_NO_MTD_PCT = 0.05
CONFIG_A2000_OVERDOSE_PATIENTS_PCT = 18.30761

# sim_boin_multi(target = 0.30, n_cohort = 10, cohort_size = 3, n_trials = 2000,
# seed = 123), as printed (one decimal): selection %, patients, DLTs per dose; last
# entry = no MTD % / total.
MULTI_SCENARIOS = {
    "MTD at dose 2": {
        "truth": (0.15, 0.30, 0.45, 0.60, 0.75),
        "selected": (23.8, 55.9, 17.2, 1.6, 0.0, 1.5),
        "patients": (9.1, 12.2, 5.4, 0.9, 0.0, 27.6),
        "dlts": (1.3, 3.7, 2.5, 0.5, 0.0, 8.1),
    },
    "MTD at dose 4": {
        "truth": (0.02, 0.06, 0.15, 0.30, 0.50),
        "selected": (0.0, 1.6, 23.4, 62.3, 12.7, 0.0),
        "patients": (3.2, 4.2, 8.2, 10.1, 4.0, 29.8),
        "dlts": (0.1, 0.3, 1.2, 3.0, 2.1, 6.7),
    },
    "All doses toxic": {
        "truth": (0.40, 0.55, 0.65, 0.75, 0.85),
        "selected": (57.3, 2.3, 0.0, 0.0, 0.0, 40.4),
        "patients": (13.7, 2.9, 0.3, 0.0, 0.0, 16.9),
        "dlts": (5.5, 1.6, 0.2, 0.0, 0.0, 7.3),
    },
}

# Design options (same vignette, "Design options"), n_cohort = 12, cohort_size = 3,
# n_trials = 1000, n_earlystop 18:
# plain, p = SAFE_CURVE, seed = 1: mean patients per dose (n_pts_dose).
SAFE_CURVE = (0.01, 0.02, 0.05, 0.12, 0.30)
SAFE_CURVE_PATIENTS = (3.099, 3.285, 3.888, 8.136, 14.976)
# p = TOXIC_CURVE, seed = 2: percent_no_mtd without and with extrasafe.
TOXIC_CURVE = (0.35, 0.45, 0.55, 0.65, 0.75)
TOXIC_CURVE_NO_MTD_PCT = {"plain": 24.5, "extrasafe": 43.3}
