"""The study report's response and survival analyses (secondary objectives VI and VII).

Each reads the report's snapshot (scoped, de-identified and cut off like every dataset of the
report) through the same row builders the trial service uses (workflow.evaluations,
workflow.followup), and calls the engines that own the rules: phaseone.response for the
INRC responses and exact rates, phaseone.outcomes for Kaplan-Meier. None holds a rule.
"""

from __future__ import annotations

from phaseone.reports.findings import Finding, StudyData, Table, analysis


@analysis("response-rate")
def response_rate(data: StudyData) -> Finding:
    from phaseone.response import best_response_frame, rates_frame, response_rates
    from phaseone.workflow.evaluations import criteria_of, responses_from_rows

    found = [r for _, r in responses_from_rows(data.protocol, data.snapshot.tables)]
    if not found:
        return Finding(unavailable="no disease evaluations have been recorded")
    responders = tuple(data.protocol.response.responders)
    rates = response_rates(found, responders)
    overall = rates[-1]
    rule_set = criteria_of(data.protocol).id
    if overall.evaluable:
        assert overall.lower is not None and overall.upper is not None
        text = (
            f"{overall.responders} of {overall.evaluable} patients with disease at baseline "
            f"had a best overall response of {' or '.join(responders)} by {rule_set} "
            f"({overall.responders / overall.evaluable:.0%}; exact 95% interval "
            f"{overall.lower:.0%} to {overall.upper:.0%})."
        )
    else:
        text = "No patient with disease at baseline has a response assessment yet."
    if overall.excluded:
        text += (
            f" {overall.excluded} patient(s) entered without evaluable disease and are outside "
            "the denominator."
        )
    source = (
        "disease evaluations (store), responses computed by phaseone.response "
        f"({rule_set}); intervals Clopper-Pearson"
    )
    return Finding(
        (text,),
        (
            Table("Response rate by dose level", rates_frame(rates), source),
            Table("Best overall response per patient", best_response_frame(found), source),
        ),
    )


@analysis("event-free-survival")
def event_free_survival(data: StudyData) -> Finding:
    from phaseone.outcomes import analyse, summary_frame
    from phaseone.workflow.followup import records_from_rows

    settings = data.protocol.survival
    if settings is None:
        return Finding(unavailable="the protocol names no survival endpoints")
    found = [r for _, r in records_from_rows(data.protocol, data.snapshot.tables)]
    if not found:
        return Finding(unavailable="no patient has been registered")
    paragraphs, tables = [], []
    for endpoint in settings.endpoints:
        result = analyse(found, endpoint, settings)
        first = result.summary_rows()[0]
        median = first["median_days"]
        paragraphs.append(
            f"{endpoint.name}: {first['events']} event(s) among {first['n']} patients "
            f"(origin {endpoint.origin.replace('_', ' ')}; events "
            f"{', '.join(e.replace('_', ' ') for e in endpoint.events)}); median "
            + ("not reached." if median is None else f"{median:g} days.")
        )
        tables.append(
            Table(
                f"{endpoint.name} by Kaplan-Meier (times in days)",
                summary_frame(result),
                "registrations, courses, disease evaluations, clinical events and follow-up "
                f"contacts (store); {result.method}",
            )
        )
    return Finding(tuple(paragraphs), tuple(tables))
