"""The `phaseone` command line: a table of commands, each module imported only when used."""

from __future__ import annotations

import sys

import typer

from phaseone import __version__
from phaseone.cli.lazy import LazyCommand, lazy_group

# One row per command: the name typed, where its code lives ("module:attribute", a function
# or a typer.Typer group) and the line `phaseone --help` shows. Nothing here is imported
# until the command runs or its own help is asked for.
COMMANDS: tuple[LazyCommand, ...] = (
    LazyCommand("protocol", "phaseone.cli.protocol:app",
                "Protocols as data: check a file, show a summary, import a registry record."),
    LazyCommand("schema", "phaseone.cli.schema:app",
                "JSON Schemas of phaseone's input files."),
    LazyCommand("screen", "phaseone.cli.screen:screen",
                "Screen patient records against a protocol's eligibility criteria."),
    LazyCommand("dose", "phaseone.cli.dose:dose",
                "Doses, capsules, infusions and the day-by-day calendar for a patient."),
    LazyCommand("design", "phaseone.cli.design:app",
                "Escalation designs: the next dose, decision tables, exact dose paths."),
    LazyCommand("simulate", "phaseone.cli.simulate:simulate",
                "Operating characteristics of a design, by simulation or exactly."),
    LazyCommand("grade", "phaseone.cli.safety:grade",
                "Grade lab values by CTCAE; adds grade, term and rule columns."),
    LazyCommand("dlt", "phaseone.cli.safety:dlt",
                "Decide DLT and evaluability for each patient, naming the rule that fired."),
    LazyCommand("toxicity-table", "phaseone.cli.safety:toxicity_table_command",
                "Toxicity tables by dose level, and comparisons with earlier trials."),
    LazyCommand("nca", "phaseone.cli.pk:nca",
                "Non-compartmental PK parameters (CDISC PPTESTCD codes) for every subject."),
    LazyCommand("response", "phaseone.cli.response:response",
                "INRC component and overall responses, best response and response rates."),
    LazyCommand("survival", "phaseone.cli.survival:survival",
                "Event-free and overall survival: Kaplan-Meier, medians, 1- and 2-year rates."),
    LazyCommand("correlatives", "phaseone.cli.correlatives:app",
                "Correlative science: immune monitoring, HACA, KIR, FcγR, NB5 TLDA."),
    LazyCommand("db", "phaseone.cli.db:app",
                "The trial database: create or upgrade its schema, show its version."),
    LazyCommand("users", "phaseone.cli.users:app",
                "Accounts: add, list, unlock. Every change is audited."),
    LazyCommand("audit", "phaseone.cli.audit:app",
                "The audit trail: verify its hash chain, export it."),
    LazyCommand("export", "phaseone.cli.export:export",
                "Write the trial's data in CDISC form, checked and audited."),
    LazyCommand("report", "phaseone.cli.report:app",
                "Documents made from the trial database."),
    LazyCommand("serve", "phaseone.cli.serve:serve",
                "Run the trial service (web pages and the JSON API)."),
    LazyCommand("demo", "phaseone.cli.demo:demo",
                "Set up the demo trial (if needed) and serve it."),
    LazyCommand("specimens", "phaseone.cli.specimens:app",
                "Specimens: import core-lab result files, PK from the trial's samples."),
    LazyCommand("virtual-trial", "phaseone.cli.virtual:virtual_trial",
                "Run a virtual trial of invented patients through the service, over HTTP."),
)

app = typer.Typer(
    name="phaseone",
    cls=lazy_group(COMMANDS),
    help=(
        "Run and analyse pediatric phase I dose-escalation trials: protocols, eligibility, "
        "escalation designs, dosing, safety, pharmacokinetics and the trial service."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"phaseone {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version and exit."
    ),
) -> None:
    """phaseone: pediatric phase I trials from first screening to final report."""


def main() -> None:
    """Console entry point: user errors become one-line messages and exit status 2."""
    from phaseone.cli.output import run_safely

    sys.exit(run_safely(app))
