"""The study report's figures, drawn as SVG text by the report itself (no plotting library,
the same bytes every time): the CONSORT-style flow of patients from the disposition counts."""

from __future__ import annotations

from html import escape

WIDTH = 640
BOX_W, BOX_H, SIDE_W = 300, 44, 230
GAP = 30
MAIN_X = 20
SIDE_X = MAIN_X + BOX_W + 50


def _box(x: int, y: int, w: int, lines: list[str], css: str) -> list[str]:
    out = [f'<rect class="{css}" x="{x}" y="{y}" width="{w}" height="{BOX_H}" rx="4"/>']
    first = y + (BOX_H - 16 * (len(lines) - 1)) // 2 + 5
    for i, text in enumerate(lines):
        out.append(f'<text x="{x + w // 2}" y="{first + 16 * i}">{escape(text)}</text>')
    return out


def consort(disposition: dict[str, int], off_treatment: dict[str, int]) -> str:
    """The flow of patients, each box a count of the one above it less the side box beside
    the arrow: consented, screened, eligible, registered, treated (DLT-evaluable), and where
    the treated patients are now (on treatment, completed, off treatment by reason)."""
    d = disposition
    steps = [
        (f"Consented: {d['consented']}", None),
        (f"Screened: {d['screened']}", f"Not screened: {d['consented'] - d['screened']}"),
        (f"Eligible: {d['eligible']}", f"Not eligible: {d['screened'] - d['eligible']}"),
        (f"Registered: {d['registered']}", f"Not registered: {d['eligible'] - d['registered']}"),
        (
            f"Treated: {d['treated']} (DLT-evaluable: {d['dlt_evaluable']})",
            f"Registered, not treated: {d['registered'] - d['treated']}",
        ),
    ]
    ending = [
        f"On treatment: {d['on_treatment']}",
        f"Completed: {d['completed']}",
        f"Off treatment early: {d['discontinued']}",
    ]
    reasons = [f"{reason.lower()}: {n}" for reason, n in off_treatment.items()]
    body: list[str] = []
    y = 10
    for i, (main, side) in enumerate(steps):
        if i:
            top = y - GAP
            mid = top + GAP // 2
            body.append(
                f'<line class="arrow" x1="{MAIN_X + BOX_W // 2}" y1="{top}" '
                f'x2="{MAIN_X + BOX_W // 2}" y2="{y - 2}"/>'
            )
            if side is not None:
                body.append(
                    f'<line class="arrow" x1="{MAIN_X + BOX_W // 2}" y1="{mid}" '
                    f'x2="{SIDE_X - 2}" y2="{mid}"/>'
                )
                body += _box(SIDE_X, mid - BOX_H // 2, SIDE_W, [side], "side")
        body += _box(MAIN_X, y, BOX_W, [main], "main")
        y += BOX_H + GAP
    body.append(
        f'<line class="arrow" x1="{MAIN_X + BOX_W // 2}" y1="{y - GAP}" '
        f'x2="{MAIN_X + BOX_W // 2}" y2="{y - 2}"/>'
    )
    ending_h = BOX_H + 16 * (len(ending) - 1)
    body.append(
        f'<rect class="main" x="{MAIN_X}" y="{y}" width="{BOX_W}" height="{ending_h}" rx="4"/>'
    )
    for i, text in enumerate(ending):
        body.append(f'<text x="{MAIN_X + BOX_W // 2}" y="{y + 20 + 16 * i}">{escape(text)}</text>')
    if reasons:
        side_h = 20 + 16 * len(reasons)
        body.append(
            f'<rect class="side" x="{SIDE_X}" y="{y}" width="{SIDE_W}" height="{side_h}" rx="4"/>'
        )
        for i, text in enumerate(reasons):
            body.append(
                f'<text x="{SIDE_X + SIDE_W // 2}" y="{y + 20 + 16 * i}">{escape(text)}</text>'
            )
        ending_h = max(ending_h, side_h)
    height = y + ending_h + 10
    style = (
        "<style>rect{fill:#fff;stroke:#333}rect.side{fill:#f4f4f4}"
        "text{font:12px sans-serif;text-anchor:middle}"
        "line.arrow{stroke:#333;marker-end:url(#head)}</style>"
    )
    head = (
        '<defs><marker id="head" viewBox="0 0 8 8" refX="8" refY="4" markerWidth="8" '
        'markerHeight="8" orient="auto"><path d="M0,0 L8,4 L0,8 z"/></marker></defs>'
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-label="Flow of patients through the trial">{style}{head}' + "".join(body) + "</svg>"
    )
