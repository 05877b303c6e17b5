"""A query answered with a correction: the site changes the queried field through the
corrections service (the answer is the reason; edit checks apply) and the thread links
the change. Kept apart from workflow/queries.py, which edit checks reach (an overridden
check opens a query), so that neither imports the other's dependants."""

from __future__ import annotations

import datetime as dt
from typing import Any

from phaseone.store import records
from phaseone.store.models import DataQuery
from phaseone.store.scope import Scope
from phaseone.workflow import corrections, forms, queries
from phaseone.workflow.context import Trial


def answer(
    scope: Scope,
    trial: Trial,
    query_id: int,
    *,
    text: str,
    now: dt.datetime,
    corrected: bool = False,
    value: Any = None,
    override: str | None = None,
) -> DataQuery:
    """Answer a query; with `corrected`, set its field to `value` first (same transaction)."""

    def correct(query: DataQuery) -> tuple[Any, Any]:
        spec = forms.spec_of(query.entity)
        old = records.content(records.get(scope, spec, query.entity_id)).get(query.field)
        obj = corrections.correct(
            scope,
            trial,
            query.entity,
            query.entity_id,
            {query.field: value},
            text,
            today=now.date(),
            override=override,
        )
        return old, records.content(obj).get(query.field)

    return queries.answer(
        scope, query_id, text=text, now=now, correct=correct if corrected else None
    )
