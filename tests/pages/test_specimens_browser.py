"""Specimens and correlatives in a real Chromium: a coordinator records a PK profile's
collection times, the chair (the data manager of the central laboratory's results) previews
and imports a results file, and the statistician sees the immune comparison low vs high."""

from __future__ import annotations

import re
from typing import Any

import pytest

from .conftest import Served
from .test_browser import every_field_labelled, flash, login, logout, shot

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# Clock times of the newest patient's lenalidomide profile after a 08:00 dose (0-8 h, day 1).
TIMES = {"0 h": "07:58", "0.5 h": "08:31", "1 h": "09:02", "2 h": "10:00", "4 h": "12:05",
         "6 h": "14:00", "8 h": "16:01"}


def _profile_rows(page: Any) -> Any:
    return page.locator("tbody tr").filter(has_text="pk-lenalidomide C1 D1 ").filter(
        has_text="planned")


def test_pk_times_then_results_file_then_the_immune_comparison(
    page: Any, served: Served
) -> None:
    login(page, served, "coord.seattle")
    page.get_by_role("link", name="Specimens").click()
    page.wait_for_url(re.compile(r".*/specimens$"))
    every_field_labelled(page)
    rows = _profile_rows(page)
    waiting = {rows.nth(i).locator("td").nth(1).inner_text().split()[-2] + " h":
               rows.nth(i).locator("th").inner_text() for i in range(rows.count())}
    assert set(TIMES) <= set(waiting), waiting
    codes = []
    for when, clock in TIMES.items():
        code = waiting[when]
        row = page.locator("tbody tr").filter(has=page.locator("th", has_text=code))
        row.get_by_label("Time").fill(clock)
        row.get_by_role("button", name="Save").click()
        page.wait_for_url(re.compile(r".*/specimens.*ok=.*"))
        assert f"specimen {code} collected" in flash(page)
        codes.append(code)
    shot(page, "specimens")
    collected = page.locator("tbody tr").filter(has=page.locator("th", has_text=codes[1]))
    assert "08:31" in collected.inner_text() and "collected" in collected.inner_text()
    logout(page)

    # The central laboratory's file, previewed then stored by the chair.
    values = (0, 210.5, 388, 300.2, 141, 66.3, 30.9)
    body = "specimen_id,analyte,value,unit\n" + "".join(
        f"{code},lenalidomide,{v},ng/mL\n" for code, v in zip(codes, values, strict=True))
    login(page, served, "chair")
    page.get_by_role("link", name="Lab results import").click()
    page.get_by_label("Results file (CSV)").set_input_files(
        files=[{"name": "pk-newest.csv", "mimeType": "text/csv", "buffer": body.encode()}])
    page.get_by_role("button", name="Preview").click()
    assert "Preview of pk-newest.csv" in page.locator("caption").first.inner_text()
    page.get_by_role("button", name=f"Store these {len(codes)} results").click()
    page.wait_for_url(re.compile(r".*/result-imports.*ok=.*"))
    assert f"stored {len(codes)} results" in flash(page)
    logout(page)

    # The statistician's correlatives page: the table and the box plots.
    login(page, served, "stats")
    page.get_by_role("link", name="Correlatives").click()
    page.wait_for_url(re.compile(r".*/correlatives$"))
    heading = page.get_by_role("heading", level=2).first.inner_text()
    assert heading == "Immune modulation: high vs low dose lenalidomide"
    table = page.locator("table.data")
    assert table.locator("th", has_text="median_change_low").count() == 1
    assert table.locator("td", has_text="nk").count() >= 1
    figure = page.get_by_role("img", name=re.compile("Box plots of change from baseline"))
    assert figure.evaluate("img => img.naturalWidth") > 0
    shot(page, "correlatives")
