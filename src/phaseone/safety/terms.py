"""The CTCAE term catalogue of each version: MedDRA code, system organ class, and grades.

Data: data/ctcae_terms_5.0.csv (from NCI's v5.0 spreadsheet) and data/ctcae_terms_4.03.csv
(derived from that spreadsheet's v4.03 change column; see the file header).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import cache
from importlib import resources

from phaseone.safety.ctcae import check_version


@dataclass(frozen=True)
class Term:
    term: str
    meddra: int
    soc: str
    grades: frozenset[int]  # the grades the NCI table defines for this term


@cache
def terms(version: str) -> dict[str, Term]:
    """Every CTCAE term of a version, keyed by the lower-cased term name."""
    checked = check_version(version)
    text = (
        resources.files("phaseone.safety")
        .joinpath(f"data/ctcae_terms_{checked}.csv")
        .read_text("utf-8")
    )
    body = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
    out: dict[str, Term] = {}
    for row in csv.DictReader(io.StringIO(body)):
        out[row["term"].lower()] = Term(
            term=row["term"],
            meddra=int(row["meddra"]),
            soc=row["soc"],
            grades=frozenset(int(g) for g in row["grades"].split()),
        )
    return out


def find_term(name: str, version: str) -> Term | None:
    """The catalogue entry for a term name (case-insensitive), or None."""
    return terms(version).get(name.strip().lower())


def suggestions(name: str, version: str, limit: int = 3) -> list[str]:
    """Close catalogue terms, for an error message about an unknown term."""
    import difflib

    catalogue = terms(version)
    hits = difflib.get_close_matches(name.strip().lower(), list(catalogue), n=limit, cutoff=0.6)
    return [catalogue[h].term for h in hits]
