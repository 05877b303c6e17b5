"""The correlative figures draw whatever the data are: one panel, many panels, a log scale
with nothing above zero, and as the same PNG bytes twice."""

from __future__ import annotations

import base64

from phaseone.correlatives import plots


def _png(uri: str) -> bytes:
    head, _, body = uri.partition(",")
    assert head == "data:image/png;base64"
    return base64.b64decode(body)


def test_a_log_panel_with_nothing_above_zero_still_draws() -> None:
    # Titres of 0 are not drawn on a log scale; the panel is empty but the figure renders.
    panels = {"HACA (titre)": ({"P1": [(1, 0.0), (8, 0.0)], "P2": [(1, -1.0)]},
                               {"P1": "low", "P2": "high"})}
    png = _png(plots.data_uri(plots.spaghetti(panels, log=True, order=["low", "high"]), "png"))
    assert png.startswith(b"\x89PNG")


def test_one_collection_of_lines_per_group_and_the_same_bytes_twice() -> None:
    series = {f"P{i}": [(1, 10.0 + i), (8, 12.0 + i), (15, 9.0 + i)] for i in range(6)}
    groups = {f"P{i}": ("low" if i < 3 else "high") for i in range(6)}
    panels = {f"analyte {k}": (series, groups) for k in range(4)}
    fig = plots.spaghetti(panels, order=["low", "high"])
    assert len(fig.axes) == 4
    # Per panel: one line collection and one set of points for each of the two groups.
    assert all(len(ax.collections) == 4 for ax in fig.axes)
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["low", "high"]
    assert _png(plots.data_uri(fig, "png")) == _png(plots.data_uri(fig, "png"))
