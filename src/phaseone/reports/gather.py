"""The final study report from the trial database: one read of the store as of a data cut-off."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from phaseone.exports import snapshot
from phaseone.reports.findings import Decision
from phaseone.reports.study import StudyReport, build
from phaseone.store.models import EscalationDecision
from phaseone.store.scope import Scope
from phaseone.workflow.context import Trial
from phaseone.workflow.history import DECISION_MEANING, trial_state, valid_signature


def study_report(
    scope: Scope,
    trial: Trial,
    as_of: dt.date,
    *,
    deidentify: bool = False,
    snap: snapshot.Snapshot | None = None,
) -> StudyReport:
    """The study report as of `as_of` (a data cut-off), for the roles that may export the
    trial's data; de-identified for the statistician, or when asked. `snap`, a snapshot
    already read with that cut-off (when one run writes the report beside the exports), is
    used instead of reading the store again."""
    if snap is None:
        snap = read_for_report(scope, trial, as_of, deidentify=deidentify)
    elif snap.as_of != as_of or snap.deidentified < (deidentify or scope.actor.deidentified):
        raise ValueError("the snapshot given has another cut-off or is not de-identified")
    state = trial_state(scope.session, trial, as_of)
    return build(trial.protocol, snap, state, _decisions(scope, as_of), as_of)


def read_for_report(
    scope: Scope, trial: Trial, as_of: dt.date, *, deidentify: bool = False
) -> snapshot.Snapshot:
    """The snapshot a study report reads (audited with that purpose)."""
    return snapshot.read(
        scope, trial.protocol, purpose="study report", deidentify=deidentify, as_of=as_of
    )


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
                d.decision,
                d.from_dose_level,
                d.dose_level,
            )
        )
    return tuple(out)
