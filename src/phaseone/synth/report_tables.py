"""The numbered tables of a study report's HTML, read back as DataFrames (by title)."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import pandas as pd

CAPTION = re.compile(r'<p class="caption">Table \d+\. (.*?)</p>\s*(<table.*?</table>)', re.S)


class _Cells(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def report_tables(document: str) -> dict[str, pd.DataFrame]:
    """Title -> table (cells as text; the first row is the header)."""
    out: dict[str, pd.DataFrame] = {}
    for title, table in CAPTION.findall(document):
        parser = _Cells()
        parser.feed(table)
        if not parser.rows:
            continue
        header, *body = parser.rows
        out[html.unescape(title)] = pd.DataFrame(body, columns=header)
    return out
