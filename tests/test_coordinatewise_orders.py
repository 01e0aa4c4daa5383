"""The defining property for coordinate-wise rules, numerically, through ``bea.check``
(the code ``bea check`` runs): one step of the rule, started on the slaved manifold,
matches the exact flow of the order-N modified flow over time h to O(h^{N+1}) — every
fitted slope of log error against log h agrees with the theory (±0.3).

Numeric parameters (b1 = 1/2, b2 = 7/10, eps = 1/10) keep the derivations fast; order 3
runs for adam and the tanh-clipped user rule, order 2 for every scheme and user rule.
"""

import pytest

from bea import Atom, Rule
from bea.check.defaults import problem_for
from bea.check.orders import check
from bea.coordinatewise import sqrt, tanh
from bea.schemes import build


def rmsprop_heavy_ball(theta, u, v, h, f, beta, rho, eps):
    g = -f(theta)
    v = rho * v + (1 - rho) * g * g
    u = beta * u + g / sqrt(v + eps)
    return theta - h * u, u, v


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
    "rmsprop-heavy-ball": Rule(rmsprop_heavy_ball, GRADIENT, n_aux=2, algebra="coordinatewise",
                               params={"beta": "1/2", "rho": "7/10", "eps": "1/10"}),
    "adam-eps-outside": Rule(adam_eps_outside, GRADIENT, n_aux=2, algebra="coordinatewise",
                             params={"b1": "1/2", "b2": "7/10", "eps": "1/10"}),
    "tanh-clipped": Rule(tanh_clipped, GRADIENT, algebra="coordinatewise"),
}


CASES = [(name, 2) for name in RULES] + [("adam", 3), ("tanh-clipped", 3)]


@pytest.mark.parametrize("name, order", CASES)
def test_check_gives_slopes_order_plus_one(name, order):
    rule = RULES[name]
    _, errors = check(rule, order, problem_for(rule))
    assert errors.ok, f"{name}: slopes {errors.slopes}, expected {errors.expected}"
    assert errors.expected[-1] == order + 1
