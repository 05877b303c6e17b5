"""`phaseone protocol ...`: validate, show, list and import protocols."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table
from rich.text import Text

from phaseone.cli.output import Format, console, print_json
from phaseone.engine_checks import engine_problems
from phaseone.errors import ProtocolError
from phaseone.protocol import bundled_protocols, load_protocol, resolve_protocol
from phaseone.protocol.load import with_lines
from phaseone.protocol.model import Protocol
from phaseone.protocol.summary import assumed_values, course_calendar

app = typer.Typer(
    help="Protocols as data: check a file, show a summary, import a registry record.",
    no_args_is_help=True,
)

ASSUMED = "[black on yellow] assumed [/]"


@app.command("validate")
def validate(
    file: Path = typer.Argument(..., help="A protocol YAML file (or a draft from import-ctgov)."),
) -> None:
    """Check a protocol file. Every problem is printed as FILE:LINE: FIELD: MESSAGE.

    Exit status 0 when the file is a valid protocol, 2 otherwise (including drafts that
    still hold TODO markers).
    """
    protocol = load_protocol(file)
    problems = engine_problems(protocol)  # rules named in the protocol, checked by their engines
    if problems:
        raise ProtocolError(with_lines(problems, file))
    n_assumed = len(assumed_values(protocol))
    console.print(
        f"[green]ok[/] {file}: protocol {protocol.id!r} version {protocol.version}, "
        f"{len(protocol.dose_levels)} dose levels, {len(protocol.all_criteria())} criteria, "
        f"{n_assumed} assumed values"
    )


@app.command("list")
def list_protocols(
    fmt: Format = typer.Option(Format.table, "--format", help="table or json"),
) -> None:
    """List the protocols bundled with phaseone."""
    rows = []
    for pid, path in bundled_protocols().items():
        protocol = load_protocol(path)
        rows.append(
            {
                "id": pid,
                "nct_id": protocol.identity.nct_id,
                "version": protocol.version,
                "title": protocol.identity.brief_title,
            }
        )
    if fmt is Format.json:
        print_json(rows)
        return
    table = Table("id", "NCT id", "version", "title", title="Bundled protocols")
    for row in rows:
        table.add_row(row["id"], row["nct_id"], row["version"], row["title"])
    console.print(table)


@app.command("show")
def show(
    protocol_ref: str = typer.Argument(
        ..., metavar="ID|FILE", help="A bundled protocol id (see `protocol list`) or a file."
    ),
    fmt: Format = typer.Option(Format.table, "--format", help="table (for people) or json"),
) -> None:
    """Summarise a protocol: identity, agents, dose levels, the course calendar, criteria,
    design, and every value that is assumed rather than stated in the public record."""
    protocol = resolve_protocol(protocol_ref)
    if fmt is Format.json:
        data = protocol.model_dump(mode="json")
        data["assumed_values"] = [
            {"path": a.path, "value": a.value, "note": a.provenance.note}
            for a in assumed_values(protocol)
        ]
        print_json(data)
        return
    print_summary(protocol)


def print_summary(protocol: Protocol) -> None:
    """The human summary shown by `protocol show` and the demo."""
    ident = protocol.identity
    assumed = assumed_values(protocol)
    assumed_paths = {a.path for a in assumed}

    console.rule(f"[bold]{protocol.id}[/] · {ident.nct_id} · version {protocol.version}")
    console.print(f"[bold]{ident.brief_title}[/]")
    if ident.official_title:
        console.print(f"[dim]{ident.official_title}[/]")
    chair = ident.study_chair.name if ident.study_chair else "-"
    console.print(
        f"{', '.join(ident.phases)} · sponsor {ident.sponsor} · chair {chair} · "
        f"target enrollment {ident.target_enrollment or '-'} · {ident.status or ''}"
    )
    console.print(
        f"{len(protocol.sites)} sites · {len(protocol.objectives)} objectives · "
        f"start {ident.start_date or '-'} · completion {ident.completion_date or '-'}"
    )

    agents = Table("agent", "route", "dosed by", "formulations", "role", title="Agents")
    for agent in protocol.agents:
        forms = "; ".join(
            f"{f.form} {'/'.join(f'{s:g}' for s in f.strengths_mg)} mg"
            + (" (may open)" if f.may_open else "")
            for f in agent.formulations
        )
        basis = Text.from_markup(agent.dose_basis)
        if f"agents[{agent.id}].dose_basis" in assumed_paths:
            basis.append_text(Text.from_markup(" " + ASSUMED))
        agents.add_row(agent.name, agent.route, basis, forms or "-", agent.role)
    console.print(agents)

    levels = Table("level", *(a.name for a in protocol.agents), "", title="Dose levels")
    for level in protocol.dose_levels:
        cells = [str(level.doses[a.id]) if a.id in level.doses else "—" for a in protocol.agents]
        flag = ASSUMED if level.provenance.is_assumed else ""
        levels.add_row(str(level.id), *cells, flag)
    console.print(levels)
    for level in protocol.dose_levels[:1]:
        if level.provenance.is_assumed:
            console.print(f"[dim]  assumed: {level.provenance.note}[/]")

    print_calendar(protocol)

    criteria = protocol.all_criteria()
    leaves = [c for c in criteria if not c.children]
    computable = [c for c in leaves if c.rule is not None]
    dependent = [c.id for c in criteria if c.applies_when is not None]
    n_inc = sum(1 for c in protocol.eligibility if c.kind == "inclusion")
    n_exc = sum(1 for c in protocol.eligibility if c.kind == "exclusion")
    console.print(
        f"\n[bold]Eligibility[/]: {len(criteria)} criteria ({n_inc} inclusion and {n_exc} "
        f"exclusion at the top level, {len(leaves)} leaves, {len(computable)} computable); "
        f"dose-level dependent: {', '.join(dependent) or 'none'}"
    )
    design = protocol.design
    params = ", ".join(f"{k}={v}" for k, v in design.params.model_dump().items())
    console.print(
        f"[bold]Design[/]: {design.name} ({params}), starting at level "
        f"{design.starting_dose_level}" + (" " + ASSUMED if design.provenance.is_assumed else "")
    )
    window = protocol.dlt.window
    console.print(
        f"[bold]DLT[/]: course {window.course} days {window.first_day}-{window.last_day}, "
        f"{len(protocol.dlt.rules)} rules, attribution at least {protocol.dlt.min_attribution}"
        + (" " + ASSUMED if protocol.dlt.provenance.is_assumed else "")
    )
    console.print(
        f"[bold]Response[/]: {protocol.response.criteria}; CTCAE v{protocol.response.ctcae_version}"
        + (" " + ASSUMED if protocol.response.provenance.is_assumed else "")
    )
    if protocol.survival is not None:
        ends = "; ".join(
            f"{e.id} from {e.origin.replace('_', ' ')} to {', '.join(e.events)}"
            for e in protocol.survival.endpoints
        )
        console.print(
            f"[bold]Survival[/]: {ends}; {protocol.survival.se_method} SE"
            + (" " + ASSUMED if protocol.survival.provenance.is_assumed else "")
        )

    table = Table(title=f"Assumed values ({len(assumed)})")
    table.add_column("where", overflow="fold")
    table.add_column("value", max_width=24)
    table.add_column("what it rests on")
    for item in assumed:
        table.add_row(Text(item.path), Text(item.value), Text(item.provenance.note or ""))
    console.print(table)
    console.print(
        "[dim]Assumed values are not stated in the public registry record; they are "
        "configurable defaults, not the trial's values.[/]"
    )


def print_calendar(protocol: Protocol) -> None:
    """A day-by-day grid of the course that fits an 80-column terminal."""
    length = protocol.course.length_days
    rows = course_calendar(protocol)
    width = max(len(r.name) for r in rows) + 2
    console.print(
        f"\n[bold]Course calendar[/]: {length} days, up to {protocol.course.max_courses} courses"
    )
    tens = "".join(str(d // 10) if d >= 10 else " " for d in range(1, length + 1))
    units = "".join(str(d % 10) for d in range(1, length + 1))
    console.print(" " * width + tens, highlight=False)
    console.print("day".ljust(width) + units, highlight=False)
    for row in rows:
        marks = "".join(
            ("●" if row.times_per_day == 1 else "◆") if d in row.days else "·"
            for d in range(1, length + 1)
        )
        console.print(f"{row.name.ljust(width)}[cyan]{marks}[/]")
    console.print("[dim]● once daily  ◆ twice daily  · not given[/]")
    for row in rows:
        console.print(f"  {row.name}: {row.describe()}", highlight=False)


@app.command("import-ctgov")
def import_ctgov(
    study_json: Path = typer.Argument(..., help="A study in the ClinicalTrials.gov API v2 shape."),
    output: Path = typer.Option(..., "-o", "--output", help="Where to write the draft YAML."),
    protocol_id: str | None = typer.Option(
        None, "--id", help="Protocol id for the draft (default: the NCT id in lower case)."
    ),
) -> None:
    """Draft a protocol from a ClinicalTrials.gov study record (read from a file).

    Identity, arms and interventions, eligibility criteria with their nesting, locations
    and sponsors are filled in; what the record cannot say (dose levels, design, DLT
    rules...) is left as `{todo: ...}` markers that `protocol validate` reports.
    """
    from phaseone.protocol.ctgov import draft_from_file

    draft = draft_from_file(study_json, protocol_id=protocol_id)
    output.write_text(draft.yaml_text, encoding="utf-8")
    console.print(
        f"wrote {output}: {draft.n_criteria} criteria, {len(draft.agents)} agents, "
        f"{draft.n_sites} sites; {draft.n_todos} TODO markers to resolve "
        f"(run `phaseone protocol validate {output}`)"
    )
