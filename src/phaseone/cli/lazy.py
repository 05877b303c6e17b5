"""Commands loaded on demand: a command's module is imported only when it runs or shows help.

The root group lists each command from a table of (name, "module:attribute", help) without
importing anything, so `phaseone --help` starts at once; the command's own module (and the
heavy libraries it imports) loads only when that command is resolved. Loading also tidies
help texts for reading: docstring paragraphs are unwrapped (the terminal wraps them), and
flags show no `<bool>` type.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from typing import Any, ClassVar

import typer
import typer.main
from typer import _click as click  # Typer vendors Click; its groups are this Click's groups
from typer.core import TyperCommand, TyperGroup, TyperOption


@dataclass(frozen=True, slots=True)
class LazyCommand:
    """One row of the command table: what the user types, where the code lives, what it does."""

    name: str
    target: str  # "package.module:attribute"; the attribute is a function or a typer.Typer
    help: str

    def load(self) -> click.Command:
        module_name, _, attribute = self.target.partition(":")
        obj = getattr(importlib.import_module(module_name), attribute)
        if isinstance(obj, typer.Typer):
            # A group even when it has a single subcommand (`schema patient`).
            command: click.Command = typer.main.get_group(obj)
        else:
            single = typer.Typer(add_completion=False, rich_markup_mode="rich")
            single.command(self.name)(obj)
            command = typer.main.get_command(single)
        command.name = self.name
        command.short_help = self.help
        tidy_help(command)
        return command


_HARD_BREAK = re.compile(r"[ \t]*\n[ \t]*(?![-*•] )")  # a list item keeps its line


def unwrap(text: str) -> str:
    """Join the hard-wrapped lines of each paragraph; a paragraph starting with \\b is kept."""
    paragraphs = text.strip().split("\n\n")
    return "\n\n".join(
        p if p.lstrip().startswith("\b") else _HARD_BREAK.sub(" ", p.strip()) for p in paragraphs
    )


def tidy_help(command: click.Command) -> None:
    """Unwrap the help of `command` and of every subcommand below it."""
    if command.help:
        command.help = unwrap(command.help)
    for sub in getattr(command, "commands", {}).values():
        tidy_help(sub)


_option_type = TyperOption.display_type_rich


def _readable_type(self: TyperOption, ctx: click.Context) -> str | None:
    # A flag takes no value (Typer would print "<bool>"); choices get spaces around "|" so
    # a narrow terminal wraps between choices, not inside one ("tolerab ility").
    if self.is_flag:
        return None
    shown = _option_type(self, ctx)
    if shown is not None and self.metavar is None and self.type_descriptor.is_choice:
        shown = shown.replace("|", " | ")
    return shown


TyperOption.display_type_rich = _readable_type  # type: ignore[method-assign]


class _Listed(TyperCommand):
    """Stands in for a command in the root's help listing: its name and one-line help only."""

    def __init__(self, entry: LazyCommand) -> None:
        super().__init__(entry.name, help=entry.help, short_help=entry.help)


class LazyGroup(TyperGroup):
    """A Typer group whose commands come from `table`, each imported when first resolved."""

    table: ClassVar[tuple[LazyCommand, ...]] = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._entries = {entry.name: entry for entry in self.table}
        self._loaded: dict[str, click.Command] = {}
        self._listing = False

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*self._entries, *(n for n in self.commands if n not in self._entries)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = self._entries.get(cmd_name)
        if entry is None:
            return super().get_command(ctx, cmd_name)
        if self._listing:
            return _Listed(entry)
        if cmd_name not in self._loaded:
            self._loaded[cmd_name] = entry.load()
        return self._loaded[cmd_name]

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        # Typer suggests close names from `self.commands`; make the table's names visible.
        for name in self._entries:
            self.commands.setdefault(name, _Listed(self._entries[name]))
        return super().resolve_command(ctx, args)

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False


def lazy_group(table: tuple[LazyCommand, ...]) -> type[LazyGroup]:
    """A LazyGroup class bound to `table` (Typer builds the group from the class it is given)."""
    return type("PhaseoneGroup", (LazyGroup,), {"table": table})
