"""The `phaseone` command line. Each command group lives in its own module."""

from __future__ import annotations

import sys

import typer

from phaseone import __version__
from phaseone.cli import audit, db, demo, design, dose, protocol, safety, screen, serve, users
from phaseone.cli import correlatives as correlatives_cli
from phaseone.cli import export as export_cmd
from phaseone.cli import pk as pk_cli
from phaseone.cli import report as report_cmd
from phaseone.cli import response as response_cli
from phaseone.cli import simulate as simulate_cmd
from phaseone.cli import survival as survival_cli
from phaseone.cli.output import run_safely

app = typer.Typer(
    name="phaseone",
    help=(
        "Run and analyse pediatric phase I dose-escalation trials: protocols, eligibility, "
        "escalation designs, dosing, safety, pharmacokinetics and the trial service."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)
app.add_typer(protocol.app, name="protocol")
app.add_typer(design.app, name="design")
app.command("demo")(demo.demo)
app.command("dose")(dose.dose)
app.command("nca")(pk_cli.nca)
safety.register(app)
app.command("screen")(screen.screen)
app.add_typer(screen.schema_app, name="schema")
response_cli.register(app, screen.schema_app)
survival_cli.register(app, screen.schema_app)
app.command("simulate")(simulate_cmd.simulate)
app.add_typer(correlatives_cli.app, name="correlatives")
app.add_typer(db.app, name="db")
app.add_typer(users.app, name="users")
app.add_typer(audit.app, name="audit")
app.command("serve")(serve.serve)
app.command("export")(export_cmd.export)
app.add_typer(report_cmd.app, name="report")


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
    sys.exit(run_safely(app))
