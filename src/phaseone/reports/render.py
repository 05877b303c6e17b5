"""Documents as HTML from the package's templates, and PDF from the same HTML (WeasyPrint)."""

from __future__ import annotations

from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from phaseone.errors import PhaseoneError


@cache
def _env() -> Environment:
    env = Environment(
        loader=PackageLoader("phaseone.reports", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["mg"] = lambda v: f"{v:,.1f}"
    return env


def html(template: str, **context: Any) -> str:
    return _env().get_template(template).render(**context)


@cache
def _fonts() -> Any:
    """WeasyPrint's font configuration, set up once per process (finding the system's fonts
    is the slow part of a first PDF; a service writing many PDFs pays it once)."""
    from weasyprint.text.fonts import FontConfiguration

    return FontConfiguration()


def pdf(document: str) -> bytes:
    """The PDF of an HTML document (needs the `pdf` extra: WeasyPrint)."""
    try:
        import weasyprint
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise PhaseoneError(
            "PDF output needs WeasyPrint: pip install 'phaseone[pdf]' (or write .html)"
        ) from exc
    data: bytes = weasyprint.HTML(string=document).write_pdf(font_config=_fonts())
    return data
