"""Electronic signatures (21 CFR 11.50, 11.200).

Signing needs the signer's username and password again, a meaning from
data/signature_meanings.yaml that fits the record and the signer's role, and records the
printed name, UTC time and the SHA-256 of the record's content. A later edit changes the
content hash, so the signature shows as broken (records.signature_view); the edit that broke
it is audited by records.update.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

from phaseone.errors import InputError, Problem
from phaseone.store import records
from phaseone.store.access import Role
from phaseone.store.accounts import reauthenticate
from phaseone.store.errors import (
    AuthenticationError,
    ConflictError,
    PermissionDenied,
)
from phaseone.store.models import Signature
from phaseone.store.scope import Scope
from phaseone.store.security import SecurityPolicy
from phaseone.store.types import utcnow


@dataclass(frozen=True)
class Meaning:
    id: str
    text: str
    entity: str
    roles: frozenset[Role]


@cache
def meanings() -> dict[str, Meaning]:
    raw = yaml.safe_load(
        resources.files("phaseone.store").joinpath("data/signature_meanings.yaml").read_text()
    )
    return {
        m["id"]: Meaning(m["id"], m["text"], m["entity"], frozenset(Role(r) for r in m["roles"]))
        for m in raw["meanings"]
    }


def sign(
    scope: Scope,
    *,
    entity: str,
    record_id: int,
    meaning_id: str,
    username: str,
    password: str,
    policy: SecurityPolicy,
) -> tuple[Signature, Any]:
    """Sign a record after re-authenticating the signer; returns the signature and record.

    A failed re-authentication is audited and counts toward lockout; the caller commits
    that before refusing.
    """
    # Look the record up first: another site's record is simply not found.
    spec = records.spec_for(entity)
    obj = records.get(scope, spec, record_id)
    meaning = meanings().get(meaning_id)
    if meaning is None:
        choices = ", ".join(sorted(meanings()))
        raise InputError([Problem("meaning_id", f"unknown meaning; one of: {choices}")])
    if meaning.entity != entity:
        raise InputError(
            [Problem("meaning_id", f"{meaning.id!r} applies to {meaning.entity}, not {entity}")]
        )
    if scope.actor.role not in meaning.roles:
        role = scope.actor.role.value if scope.actor.role else "none"
        raise PermissionDenied(f"role {role} may not sign {meaning.text!r}")
    if obj.voided:
        raise ConflictError(f"{spec.label} {record_id} is voided")
    sig = apply_signature(
        scope,
        meaning,
        entity=entity,
        entity_id=obj.id,
        site_id=records.record_site(obj),
        content_hash=records.content_hash(entity, obj),
        username=username,
        password=password,
        policy=policy,
    )
    scope.audit(
        "sign",
        entity,
        obj.id,
        record_site_id=sig.site_id,
        new={
            "signature_id": sig.id,
            "meaning": sig.meaning,
            "printed_name": sig.printed_name,
            "content_hash": sig.content_hash,
        },
    )
    return sig, obj


def apply_signature(
    scope: Scope,
    meaning: Meaning,
    *,
    entity: str,
    entity_id: int,
    site_id: str | None,
    content_hash: str,
    username: str,
    password: str,
    policy: SecurityPolicy,
    signed_at: dt.datetime | None = None,
) -> Signature:
    """Re-authenticate the signer (their own credentials, checked like a login) and store
    the signature: printed name, role, UTC time, meaning and the hash of what is signed."""
    if username.strip().lower() != scope.actor.username:
        raise AuthenticationError("re-authentication failed: sign with your own credentials")
    user = reauthenticate(
        scope,
        username,
        password,
        policy,
        purpose="signature_auth",
        refusal="re-authentication failed",
    )
    sig = Signature(
        entity=entity,
        entity_id=entity_id,
        site_id=site_id,
        meaning_id=meaning.id,
        meaning=meaning.text,
        signer_user_id=user.id,
        printed_name=user.full_name,
        signer_role=user.role,
        signed_at=signed_at or utcnow(),
        content_hash=content_hash,
    )
    scope.session.add(sig)
    scope.session.flush()
    return sig
