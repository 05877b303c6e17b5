"""KIR ligands from HLA class I typing, and each inhibitory KIR's missing-ligand status.

Objective VIII asks about *receptor-ligand mismatch* in the autologous sense (Venstrom et
al., Clin Cancer Res 2009): a patient carries an inhibitory KIR gene but not the HLA ligand
it recognises. This is not donor-recipient KIR-ligand incompatibility. Because the
direction of the association is contested (Erbe et al., Clin Cancer Res 2018 favoured "all
ligands present"), both flags are reported side by side.

Allele classes come from the versioned table `data/kir_ligands.yaml` (its header cites
the sources). Ligand presence is three-valued: present, absent, or undetermined when an
allele cannot be classified at the resolution typed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any, Literal

import yaml

from phaseone.correlatives.records import GenotypeCall
from phaseone.errors import InputError, Problem

Locus = Literal["A", "B", "C"]
LigandClass = Literal["C1", "C2", "Bw4-80I", "Bw4-80T", "Bw4", "Bw6", "A3/A11", "none",
                      "not expressed"]
Ligand = Literal["C1", "C2", "Bw4", "A3/A11"]
LIGANDS: tuple[Ligand, ...] = ("C1", "C2", "Bw4", "A3/A11")

_ALLELE = re.compile(
    r"^(?:HLA-)?(?P<locus>A|B|C|Cw)\*(?P<fields>\d{2,3}(?::\d{2,4})*|\d{4,8})(?P<suffix>[NLSCAQ])?$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class HlaAllele:
    """An HLA class I allele name, e.g. C*03:04 (first two fields kept for classing)."""

    locus: Locus
    fields: tuple[str, ...]
    expressed: bool = True

    @property
    def group(self) -> str:
        return self.fields[0]

    @property
    def protein(self) -> str | None:
        """The first two fields (the protein), or None for a first-field-only typing."""
        return ":".join(self.fields[:2]) if len(self.fields) >= 2 else None

    def __str__(self) -> str:
        return f"{self.locus}*{':'.join(self.fields)}" + ("" if self.expressed else "N")


def parse_allele(text: str) -> HlaAllele:
    """Read an allele in current (C*03:04:01) or pre-2010 (Cw*0304) notation.

    Raises ValueError with what was expected. A null-allele suffix N marks it not expressed.
    """
    match = _ALLELE.match(text.strip())
    if match is None:
        raise ValueError(f"expected an HLA-A, -B or -C allele such as C*03:04, got {text!r}")
    locus = match["locus"].upper()
    raw = match["fields"]
    if ":" in raw or len(raw) <= 3:
        fields = tuple(raw.split(":"))
    else:  # pre-2010 digits without colons: two-digit fields
        fields = tuple(raw[i:i + 2] for i in range(0, len(raw), 2))
    suffix = (match["suffix"] or "").upper()
    return HlaAllele("C" if locus == "CW" else locus,  # type: ignore[arg-type]
                     fields, expressed=suffix != "N")


@dataclass(frozen=True)
class LigandTable:
    """The versioned allele-to-class table."""

    version: str
    source: str
    groups: Mapping[Locus, Mapping[str, LigandClass]]
    exceptions: Mapping[Locus, Mapping[str, LigandClass | None]]
    split: Mapping[Locus, frozenset[str]]
    b_c1_epitope: frozenset[str]
    receptors: Mapping[str, Ligand]
    missing_ligand_model: tuple[str, ...]  # receptors counted in "any ligand missing"

    def classify(self, allele: HlaAllele) -> LigandClass | None:
        """The allele's ligand class, or None when it cannot be told at this resolution."""
        if not allele.expressed:
            return "not expressed"
        exceptions = self.exceptions.get(allele.locus, {})
        protein = allele.protein
        if protein is not None and protein in exceptions:
            return exceptions[protein]
        if allele.group in self.split.get(allele.locus, frozenset()):
            return None
        default = self.groups.get(allele.locus, {}).get(allele.group)
        if protein is None and any(k.startswith(allele.group + ":") for k in exceptions):
            return None  # first field only, and the group has exceptions
        if default is None:
            # HLA-A alleles outside Bw4 and A3/A11 carry no KIR ligand; for B and C an
            # unlisted group is unknown to the table.
            return "none" if allele.locus == "A" else None
        return default

    def carries_c1(self, allele: HlaAllele) -> bool:
        return allele.locus == "B" and allele.protein in self.b_c1_epitope


@cache
def ligand_table() -> LigandTable:
    """The bundled table, read once."""
    text = resources.files("phaseone.correlatives").joinpath(
        "data/kir_ligands.yaml").read_text(encoding="utf-8")
    return _build_table(yaml.safe_load(text))


def _build_table(data: Mapping[str, Any]) -> LigandTable:
    groups: dict[Locus, dict[str, LigandClass]] = {}
    exceptions: dict[Locus, dict[str, LigandClass | None]] = {}
    split: dict[Locus, frozenset[str]] = {}
    loci: tuple[tuple[str, Locus], ...] = (("hla_a", "A"), ("hla_b", "B"), ("hla_c", "C"))
    for key, locus in loci:
        section = data[key]
        groups[locus] = {g: cls for cls, members in section["groups"].items() for g in members}
        exceptions[locus] = dict(section.get("exceptions", {}))
        split[locus] = frozenset(section.get("split", ()))
    return LigandTable(version=str(data["version"]), source=str(data["provenance"]["url"]),
                       groups=groups, exceptions=exceptions, split=split,
                       b_c1_epitope=frozenset(data["hla_b"].get("c1_epitope", ())),
                       receptors=dict(data["receptors"]),
                       missing_ligand_model=tuple(data["missing_ligand_model"]))


# --- a patient -------------------------------------------------------------------------

Presence = Literal["present", "absent", "undetermined"]
KirStatus = Literal["missing ligand", "ligand present", "no receptor", "undetermined"]


@dataclass(frozen=True)
class KirProfile:
    """One patient's HLA class I alleles (two per typed locus) and KIR gene presence."""

    patient: str
    hla: Mapping[Locus, tuple[HlaAllele, HlaAllele]]
    kir: Mapping[str, bool] = field(default_factory=dict)


@dataclass(frozen=True)
class KirAssessment:
    patient: str
    classes: Mapping[str, LigandClass | None]  # per allele, e.g. {"C*03:04": "C1"}
    ligands: Mapping[Ligand, Presence]
    bw4_residue80: str | None  # "80I", "80T", "80I+80T" or None
    status: Mapping[str, KirStatus]  # per inhibitory KIR in the table
    model: tuple[str, ...]  # the receptors "any ligand missing" looks at
    activating: tuple[str, ...] = ()  # activating KIR genes carried (e.g. KIR2DS2, 3DS1)

    @property
    def missing(self) -> tuple[str, ...]:
        return tuple(k for k, s in self.status.items() if s == "missing ligand")

    @property
    def any_missing(self) -> bool | None:
        """A ligand missing for at least one inhibitory KIR of the model that the patient
        carries; None when that cannot be told."""
        counted = [self.status[k] for k in self.model if k in self.status]
        if "missing ligand" in counted:
            return True
        return None if "undetermined" in counted else False

    @property
    def all_present(self) -> bool | None:
        """Every inhibitory KIR of the model that is carried has its ligand (Erbe et al.
        2018's favourable group; the complement of any_missing)."""
        any_missing = self.any_missing
        return None if any_missing is None else not any_missing


def assess(profile: KirProfile, table: LigandTable | None = None) -> KirAssessment:
    """Classify the patient's alleles and give each inhibitory KIR's ligand status."""
    table = table or ligand_table()
    classes: dict[str, LigandClass | None] = {}
    found: dict[Ligand, bool] = dict.fromkeys(LIGANDS, False)
    unknown: dict[Ligand, bool] = dict.fromkeys(LIGANDS, False)
    residues: set[str] = set()
    loci: tuple[Locus, ...] = ("A", "B", "C")
    for locus in loci:
        alleles = profile.hla.get(locus)
        if alleles is None:
            for ligand in _LIGANDS_ON[locus]:
                unknown[ligand] = True
            continue
        for allele in alleles:
            cls = table.classify(allele)
            classes[str(allele)] = cls
            if cls is None:
                for ligand in _LIGANDS_ON[locus]:
                    unknown[ligand] = True
                continue
            if table.carries_c1(allele):
                found["C1"] = True
            if cls in ("C1", "C2", "A3/A11"):
                found[cls] = True
            elif cls.startswith("Bw4"):
                found["Bw4"] = True
                if cls != "Bw4":
                    residues.add(cls.removeprefix("Bw4-"))
    ligands: dict[Ligand, Presence] = {
        ligand: "present" if found[ligand] else ("undetermined" if unknown[ligand]
                                                  else "absent")
        for ligand in LIGANDS
    }
    status: dict[str, KirStatus] = {}
    for receptor, ligand in table.receptors.items():
        carried = profile.kir.get(receptor)
        if carried is None:
            status[receptor] = "undetermined"
        elif not carried:
            status[receptor] = "no receptor"
        elif ligands[ligand] == "undetermined":
            status[receptor] = "undetermined"
        else:
            status[receptor] = ("ligand present" if ligands[ligand] == "present"
                                else "missing ligand")
    residue = "+".join(sorted(residues)) or None
    activating = tuple(sorted(g for g, carried in profile.kir.items()
                              if carried and re.match(r"^KIR[23]DS", g)))
    return KirAssessment(profile.patient, classes, ligands, residue, status,
                         table.missing_ligand_model, activating)


# Which ligands each locus can carry (C1 also sits on two HLA-B allotypes).
_LIGANDS_ON: Mapping[str, tuple[Ligand, ...]] = {
    "A": ("Bw4", "A3/A11"), "B": ("Bw4", "C1"), "C": ("C1", "C2"),
}

_PRESENT = {"present", "positive", "pos", "+", "1", "yes", "y"}
_ABSENT = {"absent", "negative", "neg", "-", "0", "no", "n"}
_KIR_GENE = re.compile(r"^KIR[23]D[LSP]\d[A-Z]?$")
_HLA_GENE = re.compile(r"^HLA-(A|B|C)$")


def profiles_from_calls(calls: Iterable[GenotypeCall],
                        file: str | None = None) -> list[KirProfile]:
    """Group typing rows into profiles: genes HLA-A/B/C (allele calls, two per locus, in
    one row joined by '+' or in two rows) and KIR genes (present/absent)."""
    problems: list[Problem] = []
    hla: dict[str, dict[str, list[HlaAllele]]] = {}
    kir: dict[str, dict[str, bool]] = {}
    first_line: dict[tuple[str, str], int | None] = {}
    order: list[str] = []
    for call in calls:
        if call.patient not in hla:
            hla[call.patient] = {}
            kir[call.patient] = {}
            order.append(call.patient)
        gene = call.gene.strip().upper()
        hla_match = _HLA_GENE.match(gene)
        if hla_match:
            locus = hla_match[1]
            for part in call.call.split("+"):
                try:
                    allele = parse_allele(part)
                except ValueError as exc:
                    problems.append(Problem("call", str(exc), file=file, line=call.line))
                    continue
                if allele.locus != locus:
                    problems.append(Problem("call", f"allele {part.strip()!r} is not at "
                                            f"{gene}", file=file, line=call.line))
                    continue
                hla[call.patient].setdefault(locus, []).append(allele)
            first_line.setdefault((call.patient, locus), call.line)
        elif _KIR_GENE.match(gene):
            value = call.call.strip().lower()
            if value not in _PRESENT | _ABSENT:
                problems.append(Problem("call", f"expected present or absent for {gene}, got "
                                        f"{call.call!r}", file=file, line=call.line))
                continue
            if gene in kir[call.patient]:
                problems.append(Problem("gene", f"{gene} is given twice for patient "
                                        f"{call.patient}", file=file, line=call.line))
            kir[call.patient][gene] = value in _PRESENT
        else:
            problems.append(Problem("gene", f"expected HLA-A, HLA-B, HLA-C or a KIR gene "
                                    f"(e.g. KIR2DL1), got {call.gene!r}", file=file,
                                    line=call.line))
    profiles: list[KirProfile] = []
    for patient in order:
        typed: dict[Locus, tuple[HlaAllele, HlaAllele]] = {}
        for locus, alleles in hla[patient].items():
            if len(alleles) != 2:
                problems.append(Problem("call", f"patient {patient} has {len(alleles)} "
                                        f"HLA-{locus} allele(s); expected two (repeat the "
                                        "allele when homozygous)", file=file,
                                        line=first_line[(patient, locus)]))
                continue
            typed[locus] = (alleles[0], alleles[1])  # type: ignore[index]
        profiles.append(KirProfile(patient, typed, kir[patient]))
    if problems:
        raise InputError(problems)
    return profiles


def assessment_rows(assessments: Sequence[KirAssessment]) -> list[dict[str, object]]:
    """One flat row per patient, for a DataFrame or CSV."""
    rows: list[dict[str, object]] = []
    for a in assessments:
        row: dict[str, object] = {"patient": a.patient}
        row.update({f"ligand_{lig}": a.ligands[lig] for lig in LIGANDS})
        row["bw4_residue80"] = a.bw4_residue80
        row.update(a.status)
        row["any_missing"] = a.any_missing
        row["all_present"] = a.all_present
        row["missing"] = ",".join(a.missing)
        row["activating"] = ",".join(a.activating)
        row["alleles"] = "; ".join(f"{k}={v}" for k, v in a.classes.items())
        rows.append(row)
    return rows
