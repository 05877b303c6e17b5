"""KIR ligand assignment, allele by allele, against the cited source tables.

Expected classes are transcribed here from johnsonra/HLA data/hlaCgrp.csv (commit fa3b3ff)
and data/hlaBw.csv (commit daf2bcd), not read from phaseone's own table, so a wrong entry
in data/kir_ligands.yaml fails here.
"""

from __future__ import annotations

import pytest

from phaseone.correlatives.kir import (
    HlaAllele,
    KirProfile,
    assess,
    ligand_table,
    parse_allele,
    profiles_from_calls,
)
from phaseone.correlatives.records import read_genotypes
from phaseone.errors import InputError

# hlaCgrp.csv: group defaults and exceptions.
C_GROUPS = {"01": "C1", "03": "C1", "07": "C1", "08": "C1", "12": "C1", "14": "C1",
            "16": "C1", "02": "C2", "04": "C2", "05": "C2", "06": "C2", "15": "C2", "17": "C2"}
C_EXCEPTIONS = {"04:11": "C1", "06:11": "C1", "15:07": "C1", "03:07": "C2", "03:10": "C2",
                "03:15": "C2", "07:07": "C2", "07:09": "C2", "08:10": "C2", "12:04": "C2",
                "12:05": "C2", "12:09": "C2", "16:02": "C2"}
# hlaBw.csv: HLA-B exceptions (Bw4 in Bw6 groups, Bw6 in Bw4 groups, no group).
B_TO_BW4 = ["07:27", "08:02", "08:03", "18:09", "40:13", "40:19", "40:47", "56:07",
            "15:13", "15:16", "15:17", "15:23", "15:24", "15:36", "15:43", "15:67", "15:89",
            "15:95"]
B_TO_BW6 = ["13:09", "27:08", "27:12", "27:18", "27:26", "27:33", "37:11", "44:09", "44:46",
            "47:02", "47:03"] + [f"15:{n:02d}" for n in (
                1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 15, 18, 19, 20, 21, 22, 25, 26, 27,
                28, 29, 30, 31, 32, 33, 34, 35, 37, 38, 39, 40, 42, 44, 45, 46, 47, 48, 49, 50,
                51, 52, 53, 54, 55, 56, 58, 59, 60, 61, 62, 63, 64, 65, 66, 68, 69, 70, 71, 72,
                73, 74, 75, 76, 77, 78, 79, 80)]
B_UNASSIGNED = ["07:11", "08:06", "08:17", "35:27", "35:52", "35:56", "37:05", "39:20",
                "40:37", "41:05", "52:09", "53:05", "55:12", "15:57", "15:87", "15:94"]
B_BW4_GROUPS = ["13", "27", "37", "38", "44", "47", "49", "51", "52", "53", "57", "58", "59"]
B_BW6_GROUPS = ["07", "08", "14", "18", "35", "39", "40", "41", "42", "45", "46", "48", "50",
                "54", "55", "56", "67", "73", "78", "81", "82", "83"]
A_BW4_GROUPS = ["23", "24", "25", "32"]


def classify(name: str) -> str | None:
    return ligand_table().classify(parse_allele(name))


@pytest.mark.parametrize(("group", "expected"), sorted(C_GROUPS.items()))
def test_hla_c_group_defaults(group: str, expected: str) -> None:
    # An allele of the group that is not an exception (":98" is in no exception list).
    assert classify(f"C*{group}:98") == expected


@pytest.mark.parametrize(("allele", "expected"), sorted(C_EXCEPTIONS.items()))
def test_hla_c_exceptions(allele: str, expected: str) -> None:
    assert classify(f"C*{allele}") == expected
    assert classify(f"HLA-C*{allele}:01:02") == expected  # more fields, same protein


@pytest.mark.parametrize("allele", B_TO_BW4)
def test_hla_b_bw4_exceptions(allele: str) -> None:
    assert str(classify(f"B*{allele}")).startswith("Bw4")


@pytest.mark.parametrize("allele", B_TO_BW6)
def test_hla_b_bw6_exceptions(allele: str) -> None:
    assert classify(f"B*{allele}") == "Bw6"


@pytest.mark.parametrize("allele", B_UNASSIGNED)
def test_hla_b_alleles_without_group_stay_unclassified(allele: str) -> None:
    assert classify(f"B*{allele}") is None


@pytest.mark.parametrize("group", B_BW4_GROUPS)
def test_hla_b_bw4_groups(group: str) -> None:
    assert str(classify(f"B*{group}:98")).startswith("Bw4")


@pytest.mark.parametrize("group", B_BW6_GROUPS)
def test_hla_b_bw6_groups(group: str) -> None:
    assert classify(f"B*{group}:98") == "Bw6"


@pytest.mark.parametrize("group", A_BW4_GROUPS)
def test_hla_a_bw4(group: str) -> None:
    assert classify(f"A*{group}:01") == "Bw4-80I"


def test_hla_a_a3_a11_and_other_a_alleles() -> None:
    assert classify("A*03:01") == "A3/A11"
    assert classify("A*11:02") == "A3/A11"
    assert classify("A*02:01") == "none"


def test_residue_80_splits_bw4() -> None:
    assert classify("B*57:01") == "Bw4-80I"
    assert classify("B*44:02") == "Bw4-80T"
    assert classify("B*27:05") == "Bw4-80T"
    assert classify("B*27:02") == "Bw4-80I"


def test_first_field_typing_is_ambiguous_only_where_the_group_has_exceptions() -> None:
    assert classify("C*03") is None  # C*03:07 is C2
    assert classify("C*01") == "C1"  # no exceptions in C*01
    assert classify("B*15") is None  # split allele by allele


def test_allele_notations() -> None:
    assert parse_allele("Cw*0304") == HlaAllele("C", ("03", "04"))
    assert parse_allele("HLA-B*15:01:01:02") == HlaAllele("B", ("15", "01", "01", "02"))
    assert not parse_allele("C*04:09N").expressed
    assert classify("C*04:09N") == "not expressed"
    with pytest.raises(ValueError, match="C\\*03:04"):
        parse_allele("DRB1*04:01")


def a(name: str) -> HlaAllele:
    return parse_allele(name)


KIR_ALL = {"KIR2DL1": True, "KIR2DL2": True, "KIR2DL3": True, "KIR3DL1": True,
           "KIR3DL2": True}


def test_missing_ligand_status_per_inhibitory_kir() -> None:
    # C1/C1 homozygous, Bw6/Bw6, no A3/A11: KIR2DL1 (C2), 3DL1 (Bw4), 3DL2 miss ligands.
    profile = KirProfile("P1", {"A": (a("A*02:01"), a("A*01:01")),
                                "B": (a("B*07:02"), a("B*08:01")),
                                "C": (a("C*07:01"), a("C*03:04"))}, KIR_ALL)
    r = assess(profile)
    assert r.ligands == {"C1": "present", "C2": "absent", "Bw4": "absent", "A3/A11": "absent"}
    assert r.status["KIR2DL1"] == "missing ligand"
    assert r.status["KIR2DL2"] == r.status["KIR2DL3"] == "ligand present"
    assert r.status["KIR3DL1"] == "missing ligand"
    assert r.status["KIR3DL2"] == "missing ligand"
    assert r.any_missing is True and r.all_present is False


def test_kir3dl2_alone_does_not_make_any_ligand_missing() -> None:
    # Venstrom's model counts 2DL1, 2DL2/2DL3 and 3DL1; 3DL2/A3-A11 is reported apart.
    profile = KirProfile("P5", {"A": (a("A*02:01"), a("A*24:02")),
                                "B": (a("B*07:02"), a("B*08:01")),
                                "C": (a("C*07:01"), a("C*04:01"))}, KIR_ALL)
    r = assess(profile)
    assert r.status["KIR3DL2"] == "missing ligand"
    assert r.missing == ("KIR3DL2",)
    assert r.any_missing is False and r.all_present is True


def test_bw4_on_hla_a_counts_for_kir3dl1() -> None:
    profile = KirProfile("P2", {"A": (a("A*24:02"), a("A*02:01")),
                                "B": (a("B*07:02"), a("B*35:01")),
                                "C": (a("C*07:01"), a("C*04:01"))},
                         {"KIR3DL1": True, "KIR2DL1": True, "KIR2DL3": True,
                          "KIR2DL2": False, "KIR3DL2": False})
    r = assess(profile)
    assert r.ligands["Bw4"] == "present" and r.bw4_residue80 == "80I"
    assert r.status["KIR3DL1"] == "ligand present"
    assert r.status["KIR2DL2"] == "no receptor"
    assert r.any_missing is False and r.all_present is True


def test_hla_b_c1_epitope_serves_kir2dl2_and_2dl3() -> None:
    profile = KirProfile("P3", {"A": (a("A*02:01"), a("A*02:01")),
                                "B": (a("B*46:01"), a("B*07:02")),
                                "C": (a("C*05:01"), a("C*05:01"))},
                         {"KIR2DL3": True})
    assert assess(profile).status["KIR2DL3"] == "ligand present"


def test_unclassifiable_allele_leaves_status_undetermined() -> None:
    profile = KirProfile("P4", {"A": (a("A*02:01"), a("A*02:01")),
                                "B": (a("B*07:02"), a("B*07:02")),
                                "C": (a("C*03"), a("C*03"))}, KIR_ALL)
    r = assess(profile)
    assert r.ligands["C2"] == "undetermined"
    assert r.status["KIR2DL1"] == "undetermined"
    assert r.status["KIR3DL1"] == "missing ligand"  # Bw4 is determined: absent
    assert r.any_missing is True  # one determined missing ligand is enough


def test_typing_rows_and_their_errors_name_lines() -> None:
    text = ("patient,gene,call\n"
            "P1,HLA-A,A*02:01+A*24:02\n"
            "P1,HLA-B,B*07:02\n"
            "P1,HLA-B,B*44:02\n"
            "P1,HLA-C,C*07:01+C*05:01\n"
            "P1,KIR3DL1,present\n")
    [profile] = profiles_from_calls(read_genotypes(text + "P1,KIR2DS2,+\nP1,KIR3DS1,absent\n"))
    assert profile.hla["B"] == (a("B*07:02"), a("B*44:02"))
    assert profile.kir == {"KIR3DL1": True, "KIR2DS2": True, "KIR3DS1": False}
    assert assess(profile).activating == ("KIR2DS2",)
    bad = ("patient,gene,call\n"
           "P1,HLA-A,A*02:01\n"
           "P1,HLA-C,B*07:02+C*01:02\n"
           "P1,KIR2DL1,maybe\n"
           "P1,CD16,V/F\n")
    with pytest.raises(InputError) as err:
        profiles_from_calls(read_genotypes(bad, name="t.csv"), file="t.csv")
    text_of = [str(p) for p in err.value.problems]
    assert "t.csv:3: call: allele 'B*07:02' is not at HLA-C" in text_of
    assert any(s.startswith("t.csv:4: call: expected present or absent") for s in text_of)
    assert any(s.startswith("t.csv:5: gene: expected HLA-A") for s in text_of)
    assert any(s.startswith("t.csv:2: call: patient P1 has 1 HLA-A") for s in text_of)
