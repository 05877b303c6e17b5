"""The main menu shows each role exactly the pages it may open: every link shown opens
(200) and every page of the menu hidden from a role answers 403 to it."""

from __future__ import annotations

import re

from tests.web.page_client import Pages
from tests.web.service_fixtures import PEOPLE, Service

# Every page the menu can show, written out here so the test does not read the menu's table.
MENU_PAGES = (
    "/", "/patients", "/chair", "/response", "/escalation", "/specimens", "/result-imports",
    "/correlatives", "/operations", "/queries", "/sdv", "/documents", "/audit", "/admin/users",
)
_NAV = re.compile(r'<nav aria-label="Main">(.*?)</nav>', re.S)
_HREF = re.compile(r'<a href="([^"]+)"')


def _menu(page_html: str) -> list[str]:
    found = _NAV.search(page_html)
    assert found, "no main menu on the page"
    return _HREF.findall(found.group(1))


def test_menu_shows_exactly_what_each_role_may_open(service: Service, pages: Pages) -> None:
    seen: set[str] = set()
    for who, role, _site in PEOPLE:
        shown = _menu(pages.get(who, "/").text)
        assert set(shown) <= set(MENU_PAGES), (who, shown)
        seen.update(shown)
        for path in MENU_PAGES:
            status = pages.get(who, path).status_code
            if path in shown:
                assert status == 200, f"{role} is shown {path} but it answers {status}"
            else:
                assert status == 403, f"{role} is not shown {path} but it answers {status}"
    # Each page of the menu is shown to some role (the test covers the whole menu).
    assert seen == set(MENU_PAGES)


def test_menu_marks_the_current_page(service: Service, pages: Pages) -> None:
    page = pages.get("chair", "/queries").text
    assert '<a href="/queries" aria-current="page">Queries</a>' in page
    assert '<a href="/" aria-current' not in page


def test_hidden_page_is_refused_as_a_page(service: Service, pages: Pages) -> None:
    refused = pages.get("stat", "/patients")
    assert refused.status_code == 403
    assert "text/html" in refused.headers["content-type"]
    assert "not for your role" in refused.text
    # The refused page still carries the statistician's own menu.
    assert "/patients" not in _menu(refused.text) and "/response" in _menu(refused.text)
