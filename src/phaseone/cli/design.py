"""`phaseone design ...`: next-dose decisions, decision tables and exact dose paths."""

from __future__ import annotations

import csv
import sys
from pathlib import Path
from typing import Any

import typer
import yaml
from rich.table import Table

from phaseone.cli.output import Format, console, print_json
from phaseone.designs import Design, Outcomes, build_design, design_from_protocol
from phaseone.designs.base import DesignState
from phaseone.designs.build import DESIGN_NAMES
from phaseone.designs.modifiers import Modified
from phaseone.designs.rolling_six import RollingSix, load_grid
from phaseone.errors import InputError, Problem
from phaseone.protocol import resolve_protocol

app = typer.Typer(
    help=(
        "Escalation designs: the next dose for a trial's outcomes, a design's decision table, "
        "and exact dose paths. Designs: " + ", ".join(DESIGN_NAMES) + "."
    ),
    no_args_is_help=True,
)

OUTCOMES_HELP = (
    "Outcomes so far: cohorts separated by spaces, each a dose number then one letter per "
    "patient: N no DLT, T DLT, P pending; optional days in (), e.g. '1NNN 2NTP(12)'."
)


def _floats(text: str | None, path: str) -> list[float] | None:
    if text is None:
        return None
    try:
        return [float(v) for v in text.replace(",", " ").split()]
    except ValueError:
        raise InputError(
            [Problem(path, f"expected numbers separated by commas, got {text!r}")]
        ) from None


def _params(items: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InputError([Problem("--param", f"expected KEY=VALUE, got {item!r}")])
        out[key.strip()] = yaml.safe_load(value)
    return out


def resolve_design(
    design: str | None,
    protocol: str | None,
    doses: int | None,
    target: float | None,
    skeleton: str | None,
    params: list[str],
    start_dose: int,
) -> Design:
    """A design from --protocol, or from --design and its parameters."""
    if protocol is not None:
        if design is not None:
            raise InputError([Problem("--design", "give either --design or --protocol, not both")])
        return design_from_protocol(resolve_protocol(protocol))
    if design is None:
        raise InputError(
            [
                Problem(
                    "--design",
                    f"required (one of {', '.join(DESIGN_NAMES)}) unless --protocol is given",
                )
            ]
        )
    values = _params(params)
    if target is not None:
        values["target"] = target
    sk = _floats(skeleton, "--skeleton")
    if sk is not None:
        values["skeleton"] = sk
    if doses is not None and doses < 1:
        raise InputError([Problem("--doses", f"expected at least 1 dose, got {doses}")])
    return build_design(design, values, doses, start_dose)


def read_outcomes(text: str, file: Path | None, design: Design) -> Outcomes:
    if file is None:
        return Outcomes.parse(text, design.n_doses)
    if text:
        raise InputError(
            [Problem("--outcomes", "give either --outcomes or --outcomes-file, not both")]
        )
    try:
        with file.open(newline="") as handle:
            return Outcomes.from_records(csv.DictReader(handle), design.n_doses)
    except OSError as exc:
        raise InputError(
            [Problem("--outcomes-file", f"cannot read {file}: {exc.strerror}")]
        ) from None


DesignOpt = typer.Option(
    None, "--design", "-d", help="Design name: " + ", ".join(DESIGN_NAMES) + "."
)
ProtocolOpt = typer.Option(
    None, "--protocol", "-p", help="Use the design of a protocol (bundled id or file)."
)
DosesOpt = typer.Option(
    None, "--doses", "-n", help="Number of dose levels (CRMs take it from --skeleton)."
)
TargetOpt = typer.Option(
    None, "--target", "-t", help="Target DLT rate (BOIN, CRM, mTPI-2, Keyboard)."
)
SkeletonOpt = typer.Option(None, "--skeleton", help="CRM skeleton, e.g. '0.05,0.12,0.25,0.4'.")
ParamOpt = typer.Option([], "--param", help="Any other design parameter as KEY=VALUE (repeatable).")
StartOpt = typer.Option(1, "--start-dose", help="Starting dose (1-based).")


@app.command("next")
def next_dose(
    design: str | None = DesignOpt,
    protocol: str | None = ProtocolOpt,
    doses: int | None = DosesOpt,
    target: float | None = TargetOpt,
    skeleton: str | None = SkeletonOpt,
    param: list[str] = ParamOpt,
    start_dose: int = StartOpt,
    outcomes: str = typer.Option("", "--outcomes", "-o", help=OUTCOMES_HELP),
    outcomes_file: Path | None = typer.Option(
        None, "--outcomes-file", help="CSV with columns patient, dose, dlt, followup_days."
    ),
    fmt: Format = typer.Option(Format.table, "--format", help="table or json"),
) -> None:
    """The next dose for the outcomes so far, whether to continue, and why.

    JSON output: design, outcomes, n_patients, current_dose, decision (E escalate, S stay,
    D de-escalate, DE de-escalate and eliminate, H hold accrual), recommended_dose,
    should_continue, accrual_suspended, next_cohort_size, target, doses (per dose: treated,
    evaluable, dlt, pending, estimate, admissible), selection (dose, rule, detail), reasons
    (rule, detail) and details (model output for CRMs).
    """
    d = resolve_design(design, protocol, doses, target, skeleton, param, start_dose)
    state = d.fit(read_outcomes(outcomes, outcomes_file, d))
    if fmt is Format.json:
        print_json(state.to_dict())
        return
    print_state(state)


def print_state(state: DesignState) -> None:
    console.print(f"[bold]{state.design}[/]: {state.summary()}")
    table = Table("dose", "treated", "DLT", "pending", "estimate", "admissible", title="Per dose")
    for k in range(state.n_doses):
        est = state.estimates[k]
        mark = " ◀" if state.recommended_dose == k + 1 else ""
        table.add_row(
            f"{k + 1}{mark}",
            str(state.treated[k]),
            str(state.tox[k]),
            str(state.pending[k]),
            "-" if est is None else f"{est:.3f}",
            "yes" if state.admissible[k] else "[red]no[/]",
        )
    console.print(table)
    for reason in state.reasons:
        console.print(f"  [dim]{reason.rule}:[/] {reason.detail}", highlight=False)
    sel = state.mtd()
    shown = "none" if sel.dose is None else f"dose {sel.dose}"
    console.print(f"[bold]Selection[/] ({sel.rule}): {shown}; {sel.detail}", highlight=False)


def _base(design: Design) -> Design:
    return design.base if isinstance(design, Modified) else design


@app.command("boundaries")
def boundaries(
    design: str | None = DesignOpt,
    protocol: str | None = ProtocolOpt,
    doses: int | None = DosesOpt,
    target: float | None = TargetOpt,
    param: list[str] = ParamOpt,
    max_n: int = typer.Option(18, "--max-n", help="Show patients treated 1..max-n."),
    grid: bool = typer.Option(
        False,
        "--grid",
        help="Show the decision for each (patients, DLTs) cell instead of the boundaries.",
    ),
    fmt: str = typer.Option("table", "--format", help="table, json or csv"),
) -> None:
    """The decision table of an interval design (3+3, BOIN, mTPI-2, Keyboard), or the
    (enrolled, DLT, pending) grid of rolling six."""
    if fmt not in ("table", "json", "csv"):
        raise InputError([Problem("--format", f"expected table, json or csv, got {fmt!r}")])
    if max_n < 1:
        raise InputError([Problem("--max-n", f"expected 1 or more, got {max_n}")])
    d = _base(resolve_design(design, protocol, doses or 5, target, None, param, 1))
    if isinstance(d, RollingSix):
        g = load_grid(d.grid)
        rows = [
            {"enrolled": n, "dlt": y, "pending": p, "action": a.name.lower()}
            for (n, y, p), a in sorted(g.cells.items())
        ]
        _emit(rows, fmt, f"Rolling six grid: {g.title}")
        return
    table_fn = getattr(d, "decision_table", None)
    if table_fn is None:
        raise InputError([Problem("--design", f"{d.describe()} has no (n, y) decision table")])
    table = table_fn(max(max_n, 1))
    if grid:
        frame = table.grid(max_n)
        frame.columns = [str(c) for c in frame.columns]
        rows = [
            {"y": int(y), **row}
            for y, row in zip(frame.index, frame.to_dict("records"), strict=True)
        ]
    else:
        rows = table.boundaries(max_n).to_dict("records")
    _emit(rows, fmt, f"{d.describe()}: decisions by patients treated (n) and DLTs (y)")


def _emit(rows: list[dict[str, Any]], fmt: str, title: str) -> None:
    if fmt == "json":
        print_json(rows)
        return
    if fmt == "csv":
        writer = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
        return
    table = Table(*[str(k) for k in rows[0]], title=title)
    for row in rows:
        table.add_row(*["-" if v is None else str(v) for v in row.values()])
    console.print(table)


@app.command("paths")
def paths(
    design: str | None = DesignOpt,
    protocol: str | None = ProtocolOpt,
    doses: int | None = DosesOpt,
    target: float | None = TargetOpt,
    skeleton: str | None = SkeletonOpt,
    param: list[str] = ParamOpt,
    start_dose: int = StartOpt,
    cohorts: str = typer.Option(
        "3,3,3", "--cohorts", help="Sizes of the next cohorts, e.g. 3,3,3."
    ),
    outcomes: str = typer.Option("", "--outcomes", "-o", help="Outcomes so far. " + OUTCOMES_HELP),
    true_tox: str | None = typer.Option(
        None, "--true-tox", help="True DLT rates per dose: adds path probabilities and exact OCs."
    ),
    fmt: str = typer.Option("table", "--format", help="table, json or csv"),
) -> None:
    """Every way the next cohorts can turn out, the dose each path leads to, and (with
    --true-tox) the exact probability of each path and of each final selection."""
    if fmt not in ("table", "json", "csv"):
        raise InputError([Problem("--format", f"expected table, json or csv, got {fmt!r}")])
    d = resolve_design(design, protocol, doses, target, skeleton, param, start_dose)
    sizes = _floats(cohorts, "--cohorts") or []
    if any(not s.is_integer() for s in sizes):
        raise InputError([Problem("--cohorts", f"expected whole numbers, got {cohorts!r}")])
    curve = _floats(true_tox, "--true-tox")
    from phaseone.designs.paths import dose_paths  # pandas: only this command needs it

    result = dose_paths(d, [int(s) for s in sizes], Outcomes.parse(outcomes, d.n_doses))
    frame = result.to_frame(curve)
    rows = frame.astype(object).where(frame.notna(), None).to_dict("records")
    if fmt == "json":
        data: dict[str, Any] = {
            "design": d.describe(),
            "cohort_sizes": list(result.cohort_sizes),
            "paths": rows,
        }
        if curve is not None:
            oc = result.operating_characteristics(curve)
            data["operating_characteristics"] = {
                "p_select": [float(v) for v in oc.select],
                "p_no_mtd": oc.no_mtd,
                "expected_n": [float(v) for v in oc.expected_n],
                "expected_dlt": [float(v) for v in oc.expected_tox],
            }
        print_json(data)
        return
    shown: list[dict[str, Any]] = [
        {str(k): (f"{v:.6g}" if k == "probability" else v) for k, v in r.items() if k != "parent"}
        for r in rows
    ]
    _emit(shown, fmt, f"{d.describe()}: {len(rows)} nodes")
    if curve is not None and fmt == "table":
        oc = result.operating_characteristics(curve)
        t = Table(
            "dose",
            "P(select)",
            "expected patients",
            "expected DLTs",
            title="Exact operating characteristics",
        )
        for k in range(d.n_doses):
            t.add_row(
                str(k + 1),
                f"{oc.select[k]:.4f}",
                f"{oc.expected_n[k]:.3f}",
                f"{oc.expected_tox[k]:.3f}",
            )
        console.print(t)
        console.print(f"P(no MTD) = {oc.no_mtd:.4f}")
