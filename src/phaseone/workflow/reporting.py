"""The final study report's data, read once from the store as of a data cut-off."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from phaseone.exports import snapshot
from phaseone.reports.study import Decision, StudyReport, build
from phaseone.store.models import EscalationDecision
from phaseone.store.scope import Scope
from phaseone.workflow.context import Trial
from phaseone.workflow.history import DECISION_MEANING, trial_state, valid_signature


def study_report(
    scope: Scope, trial: Trial, as_of: dt.date, *, deidentify: bool = False
) -> StudyReport:
    """The study report as of `as_of` (a data cut-off), for the roles that may export the
    trial's data; de-identified for the statistician, or when asked."""
    snap = snapshot.read(
        scope, trial.protocol, purpose="study report", deidentify=deidentify, as_of=as_of
    )
    state = trial_state(scope.session, trial, as_of)
    return build(trial.protocol, snap, state, _decisions(scope, as_of), as_of)


def _decisions(scope: Scope, as_of: dt.date) -> tuple[Decision, ...]:
    rows = scope.session.scalars(
        select(EscalationDecision)
        .where(EscalationDecision.voided.is_(False), EscalationDecision.decided_on <= as_of)
        .order_by(EscalationDecision.decided_on, EscalationDecision.id)
    )
    out = []
    for d in rows:
        sig = valid_signature(scope.session, "escalation_decisions", d, DECISION_MEANING)
        out.append(
            Decision(
                d.decided_on,
                d.rationale or d.decision,
                d.design,
                None if sig is None else f"{sig.printed_name} ({sig.signer_role})",
                None if sig is None else sig.signed_at,
            )
        )
    return tuple(out)
