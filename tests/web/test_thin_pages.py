"""The pages are an adapter: no SQL, no store models, no clock and no role set of their own.

They parse a form into the API's input models and call the workflow (one path per
operation); this test reads the source of every module in web/pages/ and fails when one
reaches past that.
"""

from __future__ import annotations

import ast
from importlib import resources
from pathlib import Path

import pytest

PAGES = Path(str(resources.files("phaseone.web.pages")))
MODULES = sorted(PAGES.glob("*.py"))
FORBIDDEN_IMPORTS = ("phaseone.store.models", "sqlalchemy")
# A clock of its own: the pages take the time from the application (web.auth.now).
FORBIDDEN_CALLS = ("utcnow", "now", "today")


def _imports(tree: ast.AST) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.append(node.module)
            found += [f"{node.module}.{alias.name}" for alias in node.names]
    return found


def test_there_are_page_modules() -> None:
    assert len(MODULES) >= 5


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_a_page_module_imports_no_store_model_and_no_sql(path: Path) -> None:
    tree = ast.parse(path.read_text())
    bad = [
        name
        for name in _imports(tree)
        if any(name == f or name.startswith(f + ".") for f in FORBIDDEN_IMPORTS)
    ]
    assert not bad, f"{path.name} imports {bad}: ask a workflow service instead"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_a_page_module_keeps_no_clock_and_no_role_set(path: Path) -> None:
    tree = ast.parse(path.read_text())
    clocks = [
        ast.unparse(node)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute | ast.Name)
        and (node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id)
        in FORBIDDEN_CALLS
        and not ast.unparse(node).startswith("now(request)")
    ]
    assert not clocks, f"{path.name} reads a clock of its own: {clocks}"
    role_sets = [
        ast.unparse(node)
        for node in ast.walk(tree)
        if isinstance(node, ast.Tuple | ast.Set | ast.List)
        and sum("Role." in ast.unparse(elt) for elt in node.elts) >= 1
    ]
    assert not role_sets, f"{path.name} defines a role set: {role_sets}"


def test_the_check_catches_a_model_import(tmp_path: Path) -> None:
    source = "from phaseone.store.models import Patient\nfrom sqlalchemy import select\n"
    names = _imports(ast.parse(source))
    assert "phaseone.store.models.Patient" in names and "sqlalchemy" in names
