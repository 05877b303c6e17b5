"""The protocol as data: models, loading with precise errors, the bundled protocols."""

from phaseone.protocol.catalog import bundled_protocols, resolve_protocol
from phaseone.protocol.load import load_protocol, parse_protocol
from phaseone.protocol.model import Protocol

__all__ = ["Protocol", "bundled_protocols", "load_protocol", "parse_protocol", "resolve_protocol"]
