"""FcγR genotype naming: both numbering conventions and the dbSNP alleles, both ways.

Positions and nucleotide-to-amino-acid pairs from Nagelkerke et al., Front Immunol 2019,
Table 1: FCGR2A rs1801274 A=His G=Arg, 131 (166); FCGR3A rs396991 T=Phe G=Val, 158 (176);
FCGR2B rs1050501 T=Ile C=Thr, 232.
"""

from __future__ import annotations

import pytest

from phaseone.correlatives.fcgr import FcgrGenotype, genotypes_from_calls, parse_genotype
from phaseone.correlatives.records import read_genotypes
from phaseone.errors import InputError


@pytest.mark.parametrize(("gene", "text", "alleles"), [
    ("FCGR2A", "H/R", ("H", "R")),
    ("FCGR2A", "R/H", ("H", "R")),
    ("FCGR2A", "131H/R", ("H", "R")),
    ("FCGR2A", "166H/166R", ("H", "R")),   # precursor numbering
    ("FCGR2A", "His/Arg", ("H", "R")),
    ("FCGR2A", "RR", ("R", "R")),
    ("FCGR2A", "rs1801274 A/A", ("H", "H")),
    ("FCGR2A", "rs1801274 G/G", ("R", "R")),
    ("FCGR3A", "158V/F", ("V", "F")),
    ("FCGR3A", "176F/F", ("F", "F")),      # precursor numbering
    ("FCGR3A", "rs396991 T/T", ("F", "F")),  # T is Phe, the low-affinity allele
    ("FCGR3A", "rs396991 G/T", ("V", "F")),
    ("fcgr2b", "232I/T", ("I", "T")),
    ("FCGR2B", "Thr/Thr", ("T", "T")),
    ("FCGR2B", "rs1050501 T/C", ("I", "T")),
])
def test_parse_accepts_each_convention(gene: str, text: str, alleles: tuple[str, str]) -> None:
    g = parse_genotype(gene, text)
    assert g == FcgrGenotype(gene.upper(), alleles)


@pytest.mark.parametrize(("genotype", "mature", "precursor", "nucleotides"), [
    (FcgrGenotype("FCGR2A", ("H", "R")), "131H/R", "166H/R", "A/G"),
    (FcgrGenotype("FCGR3A", ("V", "V")), "158V/V", "176V/V", "G/G"),
    (FcgrGenotype("FCGR3A", ("F", "F")), "158F/F", "176F/F", "T/T"),
])
def test_labels_round_trip(genotype: FcgrGenotype, mature: str, precursor: str,
                           nucleotides: str) -> None:
    assert genotype.label("mature") == mature
    assert genotype.label("precursor") == precursor
    assert genotype.nucleotides() == nucleotides
    for written in (mature, precursor, f"{genotype.polymorphism.rsid} {nucleotides}"):
        assert parse_genotype(genotype.gene, written) == genotype


def test_fcgr2b_has_no_precursor_label() -> None:
    with pytest.raises(ValueError, match="no precursor"):
        FcgrGenotype("FCGR2B", ("I", "T")).label("precursor")


@pytest.mark.parametrize(("gene", "text", "message"), [
    ("FCGR2A", "158H/R", "position must be 131 or 166"),
    ("FCGR2A", "V/F", "amino acids are H and R"),
    ("FCGR3A", "rs1801274 A/G", "FCGR3A is rs396991"),
    ("FCGR3A", "rs396991 A/G", "alleles are G/T"),
    ("FCGR2C", "ORF/STOP", "expected one of FCGR2A"),
    ("FCGR2A", "heterozygous", "such as H/R"),
])
def test_parse_errors_say_what_was_expected(gene: str, text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_genotype(gene, text)


def test_rows_name_line_and_field() -> None:
    text = "patient,gene,call\nP1,FCGR2A,H/R\nP1,FCGR3A,158X/F\nP2,FCGR9,H/H\n"
    with pytest.raises(InputError) as err:
        genotypes_from_calls(read_genotypes(text, name="g.csv"), file="g.csv")
    lines = [str(p) for p in err.value.problems]
    assert lines[0].startswith("g.csv:3: call: FCGR3A amino acids are V and F")
    assert lines[1].startswith("g.csv:4: gene: expected one of FCGR2A")
    ok = genotypes_from_calls(read_genotypes("patient,gene,call\nP1,FCGR2A,166R/R\n"))
    assert ok["P1"]["FCGR2A"].label() == "131R/R"
