"""The trial a database serves: its protocol, escalation design and slot policy."""

from __future__ import annotations

from dataclasses import dataclass

from phaseone.designs import Design, design_from_protocol
from phaseone.protocol.model import Protocol
from phaseone.trial import SlotPolicy, load_slot_policy


@dataclass(frozen=True)
class Trial:
    protocol: Protocol
    design: Design
    slot_policy: SlotPolicy

    @classmethod
    def from_protocol(cls, protocol: Protocol, hold_hours: float | None = None) -> Trial:
        return cls(protocol, design_from_protocol(protocol), load_slot_policy(hold_hours))

    @property
    def ctcae_version(self) -> str:
        return self.protocol.response.ctcae_version
