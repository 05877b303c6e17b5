"""A unit of work as seen by the repositories: one session, one actor."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from phaseone.store import audit
from phaseone.store.access import Actor, Role
from phaseone.store.errors import PermissionDenied


@dataclass
class Scope:
    session: Session
    actor: Actor

    def audit(self, action: str, entity: str, entity_id: object = None, **kwargs: Any) -> None:
        audit.record(self.session, self.actor, action, entity, entity_id, **kwargs)

    def require_role(self, allowed: Iterable[Role], doing: str) -> None:
        """Refuse (403) unless the actor's role is one of `allowed`.

        Work run from the command line by the operator (no role) is allowed: it has the
        server's own database credentials anyway.
        """
        if self.actor.role is None:
            return
        if self.actor.role not in set(allowed):
            raise PermissionDenied(f"role {self.actor.role.value} may not {doing}")
