"""The protocols bundled with phaseone, and resolving a name or a path to a protocol."""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

from phaseone.errors import NotFoundError
from phaseone.protocol.load import load_protocol
from phaseone.protocol.model import Protocol

_PACKAGE_DIR = "data/protocols"


def _bundled_dir() -> Path:
    return Path(str(resources.files("phaseone.protocol").joinpath(_PACKAGE_DIR)))


def bundled_protocols() -> dict[str, Path]:
    """Bundled protocol ids and their files."""
    return {p.stem: p for p in sorted(_bundled_dir().glob("*.yaml"))}


@cache
def _load_bundled(path: Path) -> Protocol:
    return load_protocol(path)


def resolve_protocol(name_or_path: str) -> Protocol:
    """A bundled protocol by id (e.g. 'nant-2011-04'), or a protocol file by path."""
    bundled = bundled_protocols()
    if name_or_path in bundled:
        return _load_bundled(bundled[name_or_path])
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") or path.exists():
        return load_protocol(path)
    raise NotFoundError(
        f"no bundled protocol {name_or_path!r} and no such file; "
        f"bundled protocols: {', '.join(bundled) or 'none'}"
    )
