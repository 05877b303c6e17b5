"""A virtual patient's measurable disease at each evaluation (pure, seeded; invented).

The baseline follows the patient's evaluable site (`VirtualPatient.disease_site`):

- mibg_bone: MIBG-avid bone disease, two to four Curie skeletal segments scored 1 or 2 (at
  least one 2); marrow clear.
- marrow: marrow involvement of 10-40% in each of two aspirates and two biopsies; MIBG-avid
  tumour with no scored segment.
- soft_tissue: one soft-tissue target lesion of 20-50 mm, MIBG-avid (Curie soft tissue 1);
  marrow clear.

Every evaluation has bilateral aspirates and biopsies, so marrow is always assessed. A later
evaluation is built to show a wanted overall response under INRC 2017 with the rule set's
shipped parameters (PR: relative bone score <= 0.5, soft-tissue sum -30%, marrow <= 5% as
minimal disease; PD: a new avid bone site, marrow doubling above 20%, or lesion growth of 20%
and 5 mm), the other components staying not involved:

| wanted | mibg_bone               | marrow     | soft_tissue                       |
|--------|-------------------------|------------|-----------------------------------|
| CR     | every segment 0         | 0%         | 0 mm, uptake gone                 |
| PR     | one segment 1, others 0 | 3% (MD)    | half the diameter                 |
| SD     | as at baseline          | as baseline| as at baseline                    |
| PD     | + a new avid bone site  | 2x, >= 25% | 1.5x the diameter                 |

The trajectory follows the response model (`ResponseModel.draw`): each evaluation before the
time to progression shows the best response (stable disease if the best is PD but progression
comes later); the evaluation that finds progression (on the day the follow-up records it)
shows PD.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from phaseone.response.evaluation import CURIE_SKELETAL
from phaseone.synth.patients import VirtualPatient

MARROW_SAMPLES = (("left", "aspirate"), ("right", "aspirate"), ("left", "biopsy"),
                  ("right", "biopsy"))  # fmt: skip


@dataclass(frozen=True)
class Disease:
    """The baseline disease of one patient."""

    site: str  # mibg_bone / marrow / soft_tissue
    curie: dict[str, int]  # scored skeletal segments (the others 0)
    marrow_percent: float
    lesion_mm: float  # 0: no soft-tissue lesion

    @property
    def disease_at_entry(self) -> str:
        """As the baseline form asks: a measurable lesion, else evaluable disease."""
        return "measurable" if self.lesion_mm > 0 else "evaluable"


def baseline_disease(patient: VirtualPatient) -> Disease:
    rng = patient.rng("disease")
    curie: dict[str, int] = {}
    marrow, lesion = 0.0, 0.0
    if patient.disease_site == "mibg_bone":
        count = int(rng.integers(2, 5))
        chosen = rng.choice(len(CURIE_SKELETAL), size=count, replace=False)
        scores = [int(rng.integers(1, 3)) for _ in chosen]
        scores[0] = 2  # at least one segment of 2: PR keeps a score of 1 (relative <= 0.5)
        curie = {CURIE_SKELETAL[int(i)]: s for i, s in zip(chosen, scores, strict=True)}
    elif patient.disease_site == "marrow":
        marrow = float(round(rng.uniform(10, 40)))
    else:
        lesion = float(round(rng.uniform(20, 50)))
    return Disease(patient.disease_site, curie, marrow, lesion)


def evaluation_body(
    disease: Disease, on: dt.date, wanted: str | None, label: str, kind: str = "scheduled"
) -> dict[str, Any]:
    """The evaluation (the response engine's input model, as JSON) on `on` showing
    `wanted` (CR/PR/SD/PD), or the baseline when `wanted` is None."""
    curie = dict(disease.curie)
    soft_tissue = 1 if disease.lesion_mm > 0 else 0
    marrow = disease.marrow_percent
    lesion_mm, lesion_avid = disease.lesion_mm, True
    new_bone_site = False
    if wanted == "CR":
        curie, soft_tissue, marrow, lesion_mm, lesion_avid = {}, 0, 0.0, 0.0, False
    elif wanted == "PR":
        first = max(curie, key=lambda k: curie[k]) if curie else None
        curie = {} if first is None else {first: 1}
        marrow = 3.0 if marrow > 0 else 0.0
        lesion_mm = round(lesion_mm / 2, 1)
    elif wanted == "PD":
        new_bone_site = disease.site == "mibg_bone"
        marrow = max(2 * marrow, 25.0) if marrow > 0 else 0.0
        lesion_mm = round(lesion_mm * 1.5, 1)
    body: dict[str, Any] = {
        "date": on.isoformat(),
        "kind": "baseline" if wanted is None else kind,
        "label": label,
        "mibg": {
            "avid": True,
            "curie": {**curie, "soft_tissue": soft_tissue},
            "new_avid_bone_site": new_bone_site,
        },
        "marrow": [
            {
                "side": side,
                "kind": kind,
                "method": "morphology" if kind == "aspirate" else "histology",
                "tumour_percent": marrow,
            }
            for side, kind in MARROW_SAMPLES
        ],
    }
    if disease.lesion_mm > 0:
        body["lesions"] = [
            {"id": "L1", "site": "soft_tissue", "diameter_mm": lesion_mm, "target": True,
             "avid": lesion_avid}
        ]  # fmt: skip
    return body


def shown_at(day: int, best: str, progression: int | None) -> str:
    """The overall response an evaluation `day` days after course 1's day 1 shows: PD from
    the progression on; before it the best response (stable disease when the best is PD
    but progression comes after this evaluation)."""
    if progression is not None and day >= progression:
        return "PD"
    return "SD" if best == "PD" else best
