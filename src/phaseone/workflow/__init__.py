"""The phase I workflow as services over the store: screening, slots, registration,
treatment records, DLT adjudication and escalation decisions.

Every function takes a `Scope` (one session, one actor) and runs inside the caller's one
transaction; every change it makes is audited. Rules come from the engines (eligibility,
dosing, safety, designs) and the trial aggregate; nothing here decides a clinical rule.
"""

from phaseone.workflow.context import Trial

__all__ = ["Trial"]
