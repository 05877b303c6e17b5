"""Fcγ receptor genotypes (FCGR2A H131R, FCGR3A V158F, FCGR2B I232T): reading and naming.

One genotype is stored per patient and gene, as a pair of amino acids at the position of
the mature protein. Input may use the mature or the precursor (signal-peptide-inclusive)
numbering, one- or three-letter amino acids, or the dbSNP nucleotide alleles behind an
rsID. The two numbering conventions are a known trap (H131R is also "H166R", V158F also
"V176F"), as is the nucleotide coding (rs396991 T is Phe, the low-affinity allele).

Source: Nagelkerke et al., Front Immunol 2019, Table 1
(https://pmc.ncbi.nlm.nih.gov/articles/PMC6786274/table/T1): rsIDs, nucleotide to amino
acid, mature (precursor) positions. Which allele is favourable depends on the antibody, so
only the genotype is stored.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from phaseone.correlatives.records import GenotypeCall
from phaseone.errors import InputError, Problem


@dataclass(frozen=True)
class Polymorphism:
    gene: str
    rsid: str
    mature: int
    precursor: int | None
    # Amino acids (one letter), the reference-named one first as in the polymorphism's name.
    alleles: tuple[str, str]
    nucleotides: Mapping[str, str]  # dbSNP allele -> amino acid

    @property
    def name(self) -> str:
        return f"{self.alleles[0]}{self.mature}{self.alleles[1]}"


POLYMORPHISMS: Mapping[str, Polymorphism] = {
    "FCGR2A": Polymorphism("FCGR2A", "rs1801274", 131, 166, ("H", "R"), {"A": "H", "G": "R"}),
    "FCGR3A": Polymorphism("FCGR3A", "rs396991", 158, 176, ("V", "F"), {"G": "V", "T": "F"}),
    # The precursor position of FCGR2B I232T is not given in the source table.
    "FCGR2B": Polymorphism("FCGR2B", "rs1050501", 232, None, ("I", "T"), {"T": "I", "C": "T"}),
}

_THREE = {"HIS": "H", "ARG": "R", "VAL": "V", "PHE": "F", "ILE": "I", "THR": "T"}


@dataclass(frozen=True)
class FcgrGenotype:
    """A genotype at one FcγR polymorphism, the two amino acids in the polymorphism's order."""

    gene: str
    alleles: tuple[str, str]

    @property
    def polymorphism(self) -> Polymorphism:
        return POLYMORPHISMS[self.gene]

    def label(self, numbering: str = "mature") -> str:
        """E.g. '131H/R' (mature) or '166H/R' (precursor)."""
        p = self.polymorphism
        position = p.mature if numbering == "mature" else p.precursor
        if position is None:
            raise ValueError(f"{self.gene} has no precursor position on record")
        return f"{position}{self.alleles[0]}/{self.alleles[1]}"

    @property
    def short(self) -> str:
        return f"{self.alleles[0]}/{self.alleles[1]}"

    def carries(self, amino_acid: str) -> bool:
        return amino_acid in self.alleles

    @property
    def homozygous(self) -> bool:
        return self.alleles[0] == self.alleles[1]

    def nucleotides(self) -> str:
        """The dbSNP allele pair, e.g. 'A/G' for FCGR2A H/R."""
        back = {aa: nt for nt, aa in self.polymorphism.nucleotides.items()}
        return "/".join(back[a] for a in self.alleles)


_GENOTYPE = re.compile(
    r"^(?:(?P<pos1>\d+)\s*)?(?P<a1>[A-Za-z]{1,3})\s*/\s*(?:(?P<pos2>\d+)\s*)?(?P<a2>[A-Za-z]{1,3})$"
)
_COMPACT = re.compile(r"^(?:(?P<pos>\d+)\s*)?(?P<a1>[A-Za-z])(?P<a2>[A-Za-z])$")
_RS = re.compile(r"^(?P<rs>rs\d+)\s+(?P<n1>[ACGT])\s*/?\s*(?P<n2>[ACGT])$", re.IGNORECASE)


def parse_genotype(gene: str, text: str) -> FcgrGenotype:
    """Read a genotype such as 'H/R', '131H/R', '166H/166R', 'His/Arg', 'HR' or
    'rs1801274 A/G'. A position must be the gene's mature or precursor one."""
    key = gene.strip().upper()
    if key not in POLYMORPHISMS:
        raise ValueError(f"expected one of {', '.join(POLYMORPHISMS)}, got {gene!r}")
    p = POLYMORPHISMS[key]
    value = text.strip()
    rs = _RS.match(value)
    if rs:
        if rs["rs"].lower() != p.rsid:
            raise ValueError(f"{key} is {p.rsid}, not {rs['rs']}")
        pair = [p.nucleotides.get(n.upper()) for n in (rs["n1"], rs["n2"])]
        if None in pair:
            raise ValueError(f"{p.rsid} alleles are {'/'.join(p.nucleotides)}, got {value!r}")
        return _ordered(p, (str(pair[0]), str(pair[1])))
    match = _GENOTYPE.match(value) or _COMPACT.match(value)
    if match is None:
        raise ValueError(f"expected a {key} genotype such as {p.alleles[0]}/{p.alleles[1]} "
                         f"or {p.mature}{p.alleles[0]}/{p.alleles[1]}, got {value!r}")
    parts = match.groupdict()
    positions = {int(v) for k, v in parts.items() if k.startswith("pos") and v}
    allowed = {p.mature} | ({p.precursor} if p.precursor else set())
    if positions - allowed or len(positions) > 1:
        expected = " or ".join(str(a) for a in sorted(allowed))
        raise ValueError(f"{key} position must be {expected} (mature or precursor numbering),"
                         f" got {value!r}")
    amino: list[str] = []
    for raw in (parts["a1"], parts["a2"]):
        aa = _THREE.get(raw.upper(), raw.upper()) if len(raw) == 3 else raw.upper()
        if aa not in p.alleles:
            raise ValueError(f"{key} amino acids are {p.alleles[0]} and {p.alleles[1]}, got "
                             f"{raw!r} in {value!r}")
        amino.append(aa)
    return _ordered(p, (amino[0], amino[1]))


def _ordered(p: Polymorphism, pair: tuple[str, str]) -> FcgrGenotype:
    first, second = sorted(pair, key=p.alleles.index)
    return FcgrGenotype(p.gene, (first, second))


def genotypes_from_calls(calls: Iterable[GenotypeCall],
                         file: str | None = None) -> dict[str, dict[str, FcgrGenotype]]:
    """Patient -> gene -> genotype, from typing rows; every bad row named."""
    problems: list[Problem] = []
    out: dict[str, dict[str, FcgrGenotype]] = {}
    for call in calls:
        try:
            genotype = parse_genotype(call.gene, call.call)
        except ValueError as exc:
            path = "gene" if call.gene.strip().upper() not in POLYMORPHISMS else "call"
            problems.append(Problem(path, str(exc), file=file, line=call.line))
            continue
        per_patient = out.setdefault(call.patient, {})
        if genotype.gene in per_patient and per_patient[genotype.gene] != genotype:
            problems.append(Problem("call", f"{genotype.gene} of patient {call.patient} is "
                                    f"given as {per_patient[genotype.gene].short} and "
                                    f"{genotype.short}", file=file, line=call.line))
        per_patient[genotype.gene] = genotype
    if problems:
        raise InputError(problems)
    return out
