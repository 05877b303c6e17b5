"""`phaseone schema ...`: the JSON Schema of each input file, from the command reading it."""

from __future__ import annotations

import typer

from phaseone.cli.lazy import LazyCommand, lazy_group

# One row per schema, loaded (like the root's commands) only when asked for.
SCHEMAS: tuple[LazyCommand, ...] = (
    LazyCommand("patient", "phaseone.cli.screen:schema_patient",
                "The patient record read by `phaseone screen`."),
    LazyCommand("evaluation", "phaseone.cli.response:schema_evaluation",
                "One patient's disease evaluations, read by `phaseone response`."),
    LazyCommand("follow-up", "phaseone.cli.survival:schema_follow_up",
                "One patient's follow-up record, read by `phaseone survival`."),
)

app = typer.Typer(
    cls=lazy_group(SCHEMAS),
    help="JSON Schemas of phaseone's input files.",
    no_args_is_help=True,
    rich_markup_mode="rich",
)
