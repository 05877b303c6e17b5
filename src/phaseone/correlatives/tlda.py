"""NB5 TaqMan low-density array tumour load: ΔCt and positivity per blood or marrow specimen.

The panel (CHGA, DCX, DDC, PHOX2B, TH) and the metric, the ΔCt of the genes' geometric
mean expression, are published (Marachelian et al., Clin Cancer Res 2017;23:5374). The mean
of Ct values is the log of the geometric mean of expression, so

    ΔCt = mean(Ct of the panel genes) - mean(Ct of the reference genes)

and a lower ΔCt means more neuroblastoma mRNA. The reference gene(s), the Ct given to an
undetected well and the positivity cut-off are not public: they are the protocol's
`correlatives.tlda` settings, shown as assumed.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from phaseone.correlatives.records import Measurement
from phaseone.errors import InputError, Problem
from phaseone.protocol.model import TldaRules

Call = Literal["positive", "negative", "unevaluable", "incomplete"]


@dataclass(frozen=True)
class TldaSpecimen:
    patient: str
    specimen_type: str
    study_day: int
    specimen_id: str | None
    ct: Mapping[str, float]  # panel genes after the undetected-well rule
    reference_ct: float | None
    delta_ct: float | None
    genes_detected: int
    call: Call
    reason: str

    def row(self, genes: Sequence[str]) -> dict[str, object]:
        out: dict[str, object] = {
            "patient": self.patient, "specimen_type": self.specimen_type,
            "study_day": self.study_day, "specimen_id": self.specimen_id,
        }
        out.update({g: self.ct.get(g) for g in genes})
        out.update({"reference_ct": self.reference_ct, "delta_ct": self.delta_ct,
                    "genes_detected": self.genes_detected, "call": self.call,
                    "reason": self.reason})
        return out


def score_specimen(key: tuple[str, str, int, str | None], wells: Mapping[str, float],
                   rules: TldaRules) -> TldaSpecimen:
    """One specimen's ΔCt and call from its wells' Ct values (math.inf = undetected)."""
    patient, specimen_type, day, specimen_id = key
    missing = [g for g in (*rules.genes, *rules.reference_genes) if g not in wells]
    ct = {g: min(wells[g], rules.undetected_ct) for g in rules.genes if g in wells}
    detected = sum(1 for g in rules.genes if g in wells and wells[g] < rules.undetected_ct)
    if missing:
        return TldaSpecimen(patient, specimen_type, day, specimen_id, ct, None, None,
                            detected, "incomplete", f"no well for {', '.join(missing)}")
    references = [wells[g] for g in rules.reference_genes]
    if any(math.isinf(r) or r >= rules.undetected_ct for r in references):
        return TldaSpecimen(patient, specimen_type, day, specimen_id, ct, None, None,
                            detected, "unevaluable", "reference gene not detected")
    reference = sum(references) / len(references)
    delta = sum(ct.values()) / len(ct) - reference
    if rules.reference_ct_max is not None and reference > rules.reference_ct_max:
        return TldaSpecimen(patient, specimen_type, day, specimen_id, ct, reference, delta,
                            detected, "unevaluable",
                            f"reference Ct {reference:.2f} above {rules.reference_ct_max:g}")
    cutoff = rules.delta_ct_cutoff.get(specimen_type)
    if detected < rules.min_genes_detected:
        call: Call = "negative"
        reason = f"{detected} of {len(rules.genes)} genes detected"
    elif cutoff is not None and delta > cutoff:
        call, reason = "negative", f"ΔCt {delta:.2f} above the {specimen_type} cut-off {cutoff:g}"
    else:
        call = "positive"
        reason = f"{detected} of {len(rules.genes)} genes detected" + (
            f", ΔCt at or below {cutoff:g}" if cutoff is not None else "")
    return TldaSpecimen(patient, specimen_type, day, specimen_id, ct, reference, delta,
                        detected, call, reason)


def score(measurements: Iterable[Measurement], rules: TldaRules,
          file: str | None = None) -> list[TldaSpecimen]:
    """Group Ct wells by specimen and score each; wells of other genes are errors."""
    known = set(rules.genes) | set(rules.reference_genes)
    problems: list[Problem] = []
    specimens: dict[tuple[str, str, int, str | None], dict[str, float]] = {}
    for m in measurements:
        if m.analyte not in known:
            problems.append(Problem("analyte", f"{m.analyte!r} is neither a panel gene "
                                    f"({', '.join(rules.genes)}) nor a reference gene "
                                    f"({', '.join(rules.reference_genes)})", file=file,
                                    line=m.line))
            continue
        if m.unit.lower() not in ("ct", "cycles", "cycle"):
            problems.append(Problem("unit", f"expected Ct (cycles), got {m.unit!r}", file=file,
                                    line=m.line))
            continue
        if m.specimen_type not in ("blood", "marrow"):
            problems.append(Problem("specimen_type", "expected blood or marrow for the TLDA, "
                                    f"got {m.specimen_type!r}", file=file, line=m.line))
            continue
        if not (m.value > 0):
            problems.append(Problem("value", f"a Ct must be positive, got {m.value:g}",
                                    file=file, line=m.line))
            continue
        specimens.setdefault((m.patient, m.specimen_type, m.study_day, m.specimen_id),
                             {})[m.analyte] = m.value
    if problems:
        raise InputError(problems)
    return [score_specimen(key, wells, rules) for key, wells in sorted(
        specimens.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2]))]


def trajectory(specimens: Sequence[TldaSpecimen],
               evaluations: Iterable[tuple[str, int, str]]) -> list[dict[str, object]]:
    """Each patient's ΔCt over time with their response evaluations interleaved by day.

    `evaluations` are (patient, study_day, response) triples.
    """
    rows: list[dict[str, object]] = []
    for s in specimens:
        rows.append({"patient": s.patient, "study_day": s.study_day, "kind": s.specimen_type,
                     "delta_ct": s.delta_ct, "tlda_call": s.call, "response": None})
    for patient, day, response in evaluations:
        rows.append({"patient": patient, "study_day": day, "kind": "response",
                     "delta_ct": None, "tlda_call": None, "response": response})
    rows.sort(key=lambda r: (str(r["patient"]), int(str(r["study_day"])),
                             r["kind"] == "response"))
    return rows
