"""Property: no evaluation with a new lesion is better than PD (PDQ: any new lesion is PD)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from phaseone.response import criteria_for, evaluate_patient
from phaseone.response.inrc import check_consistency

from .helpers import evaluation, lesion, marrow, patient

SEGMENTS = ("head", "pelvis", "thighs", "ribs_sternum")
INRC = criteria_for("INRC-2017")


def _scan(draw_scores):
    return {"avid": True, "curie": dict(zip(SEGMENTS, draw_scores, strict=True))}


scores = st.lists(st.integers(0, 3), min_size=4, max_size=4)
mm = st.floats(0, 200, allow_nan=False)
pct = st.floats(0, 100, allow_nan=False)


@settings(max_examples=200, deadline=None)
@given(
    base_scores=scores,
    now_scores=scores,
    primary_before=mm,
    primary_after=mm,
    node_before=mm,
    node_after=mm,
    marrow_before=pct,
    marrow_after=pct,
    avid=st.booleans(),
    generic=st.booleans(),
    params=st.fixed_dictionaries(
        {
            "marrow_new_involvement_pd": st.sampled_from([">=5", ">5"]),
            "new_low_level_marrow": st.sampled_from(["MD", "PD"]),
            "lymph_node_cr_max_mm": st.sampled_from([10, 15]),
            "cr_allows_not_involved": st.booleans(),
            "soft_tissue_growth_basis": st.sampled_from(["lesion", "sum"]),
            "confirmation_required": st.booleans(),
        }
    ),
)
def test_a_new_lesion_is_never_better_than_pd(
    base_scores,
    now_scores,
    primary_before,
    primary_after,
    node_before,
    node_after,
    marrow_before,
    marrow_after,
    avid,
    generic,
    params,
) -> None:
    c = INRC.with_params(params)
    base = evaluation(
        0,
        lesions=[lesion("T1", primary_before, "primary"), lesion("N1", node_before, "lymph_node")],
        mibg=_scan(base_scores),
        marrow=marrow(marrow_before),
    )
    new = [] if generic else [lesion("NEW", 12, new=True, avid=avid)]
    now = evaluation(
        56,
        lesions=[
            lesion("T1", primary_after, "primary"),
            lesion("N1", node_after, "lymph_node"),
            *new,
        ],
        mibg=_scan(now_scores),
        marrow=marrow(marrow_after),
        new_lesion=generic,
    )
    whole = evaluate_patient(patient(base, now), c)
    check_consistency(whole, c)
    result = whole.evaluations[1]
    assert result.response == "PD", result.overall
    # The only evaluation after baseline is PD; without disease at baseline, NE.
    assert whole.best == ("PD" if whole.disease_at_baseline else "NE")


@settings(max_examples=200, deadline=None)
@given(
    sizes=st.lists(st.tuples(mm, mm, pct), min_size=1, max_size=5),
    scores=st.lists(scores, min_size=6, max_size=6),
    confirm=st.booleans(),
)
def test_results_keep_their_invariants(sizes, scores, confirm) -> None:
    c = INRC.with_params({"confirmation_required": confirm})
    first = sizes[0]
    evaluations = [
        evaluation(
            28 * k,
            lesions=[lesion("T1", p, "primary"), lesion("N1", n, "lymph_node")],
            mibg=_scan(scores[k]),
            marrow=marrow(m),
        )
        for k, (p, n, m) in enumerate([first, *sizes])
        if k < len(scores)
    ]
    check_consistency(evaluate_patient(patient(*evaluations), c), c)
