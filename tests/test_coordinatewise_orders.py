"""The defining property for coordinate-wise rules, numerically, through ``bea.check``
(the code ``bea check`` runs): one step of the rule, started on the slaved manifold,
matches the exact flow of the order-N modified flow over time h to O(h^{N+1}) — every
fitted slope of log error against log h agrees with the theory (±0.3).

Numeric parameters (b1 = 1/2, b2 = 7/10, eps = 1/10) keep the derivations fast; order 2
runs for every scheme and user rule, order 3 for adam (its check fits the slopes of
orders 1, 2 and 3, so it is adam's order-2 case too). Every rule shares one compiled
logistic-regression problem, and six step sizes in the asymptotic range replace the
automatic sweep (every one of them must pass the accuracy filter and enter the fit).
A flow with a deliberately wrong coefficient must fail the check.
"""

import numpy as np
import pytest

from bea import Atom, Rule
from bea.check.defaults import problem_for
from bea.check import check
from bea.coordinatewise import sqrt, tanh
from bea.schemes import build


def adam_eps_outside(theta, m, v, h, f, b1, b2, eps):
    g = -f(theta)
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * g * g
    return theta - h * m / (sqrt(v) + eps), m, v


def tanh_clipped(theta, h, f):
    return theta + h * tanh(f(theta))


GRADIENT = (Atom("f", "L"),)
RULES = {
    "adam": build("adam", 2, b1="1/2", b2="7/10", eps="1/10"),
    "adamw": build("adamw", 2, b1="1/2", b2="7/10", eps="1/10", weight_decay="1/5"),
    "rmsprop": build("rmsprop", 2, b2="7/10", eps="1/10"),
    "normalized": build("normalized", 2),
    "adam-eps-outside": Rule(adam_eps_outside, GRADIENT, n_aux=2, algebra="coordinatewise",
                             params={"b1": "1/2", "b2": "7/10", "eps": "1/10"}),
    "tanh-clipped": Rule(tanh_clipped, GRADIENT, algebra="coordinatewise"),
}


CASES = [(name, 2) for name in RULES if name != "adam"] + [("adam", 3)]
"""RMSProp with heavy-ball momentum goes through ``bea check --rule`` instead
(tests/test_adaptive_rules_cli.py), the same check from the command line."""
HS = np.geomspace(0.004, 0.03, 6)


@pytest.fixture(scope="module")
def problem():
    """One logistic-regression problem for every rule: its fields compile once."""
    return problem_for(RULES["adam"])


@pytest.mark.parametrize("name, order", CASES)
def test_check_gives_slopes_order_plus_one(name, order, problem):
    _, errors = check(RULES[name], order, problem, hs=HS)
    assert errors.ok, f"{name}: slopes {errors.slopes}, expected {errors.expected}"
    assert errors.expected[-1] == order + 1
    assert all(used.all() for used in errors.used), f"{name}: a step size left the fit"


def test_a_wrong_flow_coefficient_fails_the_check(problem):
    """Adam's f_2 doubled: the order-2 truncation misses h·f_2, so its error is O(h²)."""
    wrong = lambda flow: [flow[0], 2 * flow[1]] + flow[2:]  # noqa: E731
    _, errors = check(RULES["adam"], 2, problem, hs=HS, coefficients=wrong)
    assert errors.agrees(0)
    assert not errors.agrees(1) and abs(errors.slopes[1] - 2) < 0.3
    assert not errors.ok


def test_symbolic_parameters_are_set_before_deriving():
    """The check derives with the numbers it runs (given, else the defaults, each reported),
    not symbolically with numbers substituted afterwards (AdamW at order 4: over 5 min)."""
    from sympy import Rational, Symbol

    from bea.check.values import free_symbols, numeric_rule

    notes: list = []
    rule = numeric_rule(build("adamw", 2), {"eps": 0.01}, notes)
    assert dict(rule.params) == {"b1": Rational(1, 2), "b2": Rational(7, 10), "eps": Rational(1, 100),
                                 "weight_decay": Rational(1, 5)}
    assert rule.options["eps"] == "1/100" and rule.options["b1"] == "1/2"
    assert notes == ["b1 not given: using b1 = 0.5", "b2 not given: using b2 = 0.7",
                     "weight_decay not given: using weight_decay = 0.2"]
    unknown = Rule(adam_eps_outside, GRADIENT, name="mine", n_aux=2, algebra="coordinatewise",
                   params={"b1": Symbol("b1"), "b2": Symbol("gamma"), "eps": Rational(1, 10)})
    assert numeric_rule(unknown, {}, None).params["b2"] == Symbol("gamma")  # left for resolve_values

    notes = []
    adam = build("adam", 2)
    derivation, errors = check(adam, 2, problem_for(adam, "logistic"), {"b1": 0.5}, notes=notes)
    assert free_symbols(derivation) == set() and "b1 not given: using b1 = 0.5" not in notes
    assert "b2 not given: using b2 = 0.7" in notes and errors.ok
