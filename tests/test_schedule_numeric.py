"""Scheduled flows against the iterates (issue 22): local error slopes N + 1 at three points
of a warmup–cosine schedule for gd, SGD (3 batches, random order) and heavy ball, a
negative control without the η' terms, and gd on a quadratic over a whole schedule."""

import numpy as np
import pytest
import sympy

from bea.check.problems import make_problem
from bea.check.schedule import local_errors, quadratic_schedule_error
from bea.schedule.named import SCHEDULES
from bea.schemes import gd, momentum, sgd

WARMUP_COSINE = dict(init_value=0.2, peak_value=1, warmup_steps=1, decay_steps=4, end_value=0.1)
TIMES = (0.5, 1.7, 3.0)  # in the warmup, early and late in the decay
HS = np.geomspace(0.02, 0.08, 4)  # a cycle from each time stays on one smooth piece
TOLERANCE = 0.3

RULES = {
    "gd": lambda: gd.build(3),
    "sgd-random-3": lambda: sgd.build(3, 3, "random"),
    "heavy-ball": lambda: momentum.build(3, sympy.Rational(1, 2), False),
}


@pytest.fixture(scope="module")
def eta():
    return SCHEDULES["warmup-cosine"].jax(WARMUP_COSINE)


@pytest.mark.parametrize("name", RULES)
def test_local_error_slopes(name, eta):
    rule = RULES[name]()
    problem = make_problem("logistic", rule.atoms)
    for result in local_errors(rule, 3, eta, TIMES, problem, HS):
        for n, slope in zip(result.orders, result.slopes):
            assert abs(slope - (n + 1)) <= TOLERANCE, (name, result.t0, n, result.slopes)


@pytest.mark.parametrize("name", RULES)
def test_without_the_derivative_terms_the_order_drops(name, eta):
    """The negative control: η' = η'' = 0 in the flow leaves an O(h²) error at every order."""
    rule = RULES[name]()
    problem = make_problem("logistic", rule.atoms)
    for result in local_errors(rule, 3, eta, TIMES, problem, HS, drop_derivatives=True, orders=(2, 3)):
        for n, slope in zip(result.orders, result.slopes):
            assert abs(slope - 2) <= TOLERANCE, (name, result.t0, n, result.slopes)


def test_gd_on_a_quadratic_over_a_whole_schedule(eta):
    """|θ_flow(T) - Π(1 - hη(t_k)λ)θ_0| shrinks as h^N (kinks on the grid of update times)."""
    kinks = [float(k) for k in SCHEDULES["warmup-cosine"].kinks(WARMUP_COSINE)]
    hs = [1 / 8, 1 / 16, 1 / 32]
    for order in (1, 2, 3):
        errors = [quadratic_schedule_error(order, eta, kinks, 4.0, h, lam=1.0) for h in hs]
        slope = np.polyfit(np.log(hs), np.log(errors), 1)[0]
        assert abs(slope - order) <= TOLERANCE, (order, errors)
