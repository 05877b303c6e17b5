"""`phaseone demo`: the main job on the embedded defaults."""

from __future__ import annotations

from phaseone.cli.protocol import print_summary
from phaseone.protocol import resolve_protocol

DEFAULT_PROTOCOL = "nant-2011-04"


def demo() -> None:
    """Show the bundled NANT 2011-04 protocol: its summary and course calendar."""
    print_summary(resolve_protocol(DEFAULT_PROTOCOL))
