"""CRM: the dfcrm cases of escalation's tests/testthat/test_dfcrm.R (notes §12.5), the grid
posterior against adaptive quadrature (as dfcrm integrates), restrict and bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.integrate import quad
from scipy.special import expit

from phaseone.designs import CRM, TITECRM, Outcomes, get_prior
from phaseone.designs.crm import posterior_mean_from_counts
from phaseone.errors import InputError

CASE_1 = dict(skeleton=(0.1, 0.2, 0.4, 0.55), target_rate=0.2, prior_sd=math.sqrt(0.75))
CASE_2 = dict(
    skeleton=(0.1, 0.2, 0.33, 0.45, 0.6, 0.7, 0.8), target_rate=0.33, model="logistic", intercept=4
)


def test_escalation_dfcrm_case_1() -> None:
    state = CRM(**CASE_1).fit("2NNT 2NNN 3NTT 2NNT")  # type: ignore[arg-type]
    assert state.recommended_dose == 1
    assert state.estimates == pytest.approx([0.1565, 0.2735, 0.4780, 0.6178], abs=0.005)


def test_escalation_dfcrm_case_2() -> None:
    state = CRM(**CASE_2).fit("1NNN 2NNN 3NTT 2NNN 3TNN 3TNT 2NNN")  # type: ignore[arg-type]
    assert state.recommended_dose == 3
    assert state.estimates == pytest.approx(
        [0.0892, 0.1830, 0.3092, 0.4290, 0.5823, 0.6864, 0.7914], abs=0.005
    )


def quad_posterior_mean(design: CRM, outcomes: Outcomes) -> float:
    """Posterior mean of `a` by adaptive quadrature, as dfcrm::crm computes it."""
    level, tox, w = design.observations(outcomes)
    s = np.asarray(design.skeleton)

    def lik(a: float) -> float:
        if design.model == "empiric":
            p = s[level] ** math.exp(a)
        else:
            x = np.log(s / (1 - s)) - design.intercept
            p = expit(design.intercept + math.exp(a) * x[level])
        return float(np.prod(p**tox * (1 - w * p) ** (1 - tox))) * math.exp(
            -(a**2) / 2 / design.prior_sd**2
        )

    # Beyond +/- 25 the normal prior (sd <= 3 here) leaves nothing to integrate.
    den = quad(lik, -25, 25, epsabs=0, epsrel=1e-12, limit=400, points=[0])[0]
    num = quad(lambda a: a * lik(a), -25, 25, epsabs=0, epsrel=1e-12, limit=400, points=[0])[0]
    return num / den


@pytest.mark.parametrize(
    ("kwargs", "outcomes"),
    [
        (CASE_1, "2NNT 2NNN 3NTT 2NNT"),
        (CASE_2, "1NNN 2NNN 3NTT 2NNN 3TNN 3TNT 2NNN"),
        (dict(skeleton=(0.05, 0.1, 0.2, 0.3), target_rate=0.25), "1NNN 2NNN 3NNN 4NNN 4NNN"),
        (dict(skeleton=(0.05, 0.1, 0.2, 0.3), target_rate=0.25), "1TTT 1TTT"),
        (dict(skeleton=(0.05, 0.1, 0.2, 0.3), target_rate=0.25, prior_sd=0.5), "1NNT 2NTT 1NNN"),
        (dict(skeleton=(0.05, 0.1, 0.2, 0.3), target_rate=0.25, prior_sd=3.0), "1NNT 2NTT 1NNN"),
        (
            dict(skeleton=(0.05, 0.1, 0.2, 0.3), target_rate=0.25, model="logistic"),
            "1NNN 2NNT 3TTN",
        ),
    ],
)
def test_grid_posterior_agrees_with_quadrature(kwargs: dict[str, object], outcomes: str) -> None:
    design = CRM(**kwargs)  # type: ignore[arg-type]
    state = design.fit(outcomes)
    assert state.details["posterior_mean"] == pytest.approx(
        quad_posterior_mean(design, state.outcomes), abs=1e-6
    )


def test_vectorised_posterior_equals_fit() -> None:
    design = CRM(skeleton=(0.05, 0.1, 0.2, 0.3), target_rate=0.25)
    trials = ["1NNN 2NNT", "1NNN 2NNN 3TTN", "1TTT", ""]
    n = np.zeros((len(trials), 4), dtype=np.int64)
    y = np.zeros_like(n)
    for i, text in enumerate(trials):
        c = Outcomes.parse(text).counts(4)
        n[i], y[i] = c.evaluable, c.tox
    means = posterior_mean_from_counts(n, y, design.skeleton)
    assert means == pytest.approx(
        [design.fit(t).details["posterior_mean"] for t in trials], abs=1e-12
    )


def test_restrict_no_skipping_and_no_escalation_after_toxic_cohort() -> None:
    design = CRM(skeleton=(0.02, 0.04, 0.06, 0.3, 0.5), target_rate=0.3)
    free = CRM(skeleton=(0.02, 0.04, 0.06, 0.3, 0.5), target_rate=0.3, restrict=False)
    assert free.fit("1NNN").recommended_dose > 2
    assert design.fit("1NNN").recommended_dose == 2
    # The last cohort had 1/3 >= 0.3: no escalation even though the model would.
    assert free.fit("1NNN 1NNN 1NNN 1NNN 2NNT").recommended_dose > 2
    assert design.fit("1NNN 1NNN 1NNN 1NNN 2NNT").recommended_dose == 2


def test_posterior_exceedance_and_intervals() -> None:
    state = CRM(skeleton=(0.05, 0.1, 0.2, 0.3), target_rate=0.25).fit("1NNN 2NTT")
    probs = state.prob_tox_exceeds(0.25)
    assert list(probs) == sorted(probs)  # higher doses are more likely above the threshold
    lower, upper = state.details["ptox_lower"], state.details["ptox_upper"]
    for lo, est, hi in zip(lower, state.estimates, upper, strict=True):
        assert lo < est < hi


def test_getprior_intervals_touch() -> None:
    # Lee & Cheung: the value of a at which dose k sits at target + delta is the value at
    # which dose k - 1 sits at target - delta.
    target, delta = 0.25, 0.05
    s = get_prior(delta, target, 3, 5)
    assert s[2] == pytest.approx(target)
    for k in range(1, 5):
        b = math.log(math.log(target + delta) / math.log(s[k]))
        assert s[k - 1] ** math.exp(b) == pytest.approx(target - delta)


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        (dict(skeleton=(0.1, 0.3, 0.2), target_rate=0.25), "strictly increasing"),
        (dict(skeleton=(0.1, 0.2), target_rate=1.5), "target"),
        (dict(skeleton=(0.1, 1.2), target_rate=0.2), "skeleton"),
        (dict(skeleton=(0.1, 0.99), target_rate=0.2, model="logistic", intercept=1), "intercept"),
        (dict(skeleton=(0.1, 0.2), target_rate=0.2, start_dose=3), "start_dose"),
    ],
)
def test_bad_input(kwargs: dict[str, object], words: str) -> None:
    with pytest.raises(InputError, match=words):
        CRM(**kwargs)  # type: ignore[arg-type]


def test_tite_needs_follow_up_days() -> None:
    design = TITECRM(skeleton=(0.05, 0.1, 0.2), target_rate=0.25)
    with pytest.raises(InputError, match="pending without follow-up"):
        design.fit("1NNP")
    # A pending patient counts partially: less information than a complete one.
    partial = design.fit("1NNN 2NNP(14)").details["weights"]
    assert partial == [1, 1, 1, 1, 1, 0.5]
