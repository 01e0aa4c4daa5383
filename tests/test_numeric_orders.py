"""The defining property, numerically: truncation order n of the modified flow matches
one cycle of the discrete rule to O(h^{n+1}) — fitted slope of log error vs log h equals
the expected one (n + 1, or higher where the derivation says the next orders vanish).

Slopes are measured on logistic regression (non-polynomial: no tree vanishes there) and,
for games, on the Dirac-GAN. Implicit methods are checked to N = 5 like the others: the
numeric fixed-point iteration converges in well under its 100 sweeps at these h.
"""

import pytest

from bea.check import check, make_problem
from bea.schemes import TABLEAUX, build
from bea.bseries.trees import parse



def _check(name, order, problem="logistic", values=None, **options):
    rule = build(name, order, **options)
    prob = make_problem(problem, rule.atoms, tuple(rule.blocks))
    derivation, result = check(rule, order, prob, values)
    return derivation, result


def _assert_slopes(result):
    for i, n in enumerate(result.orders):
        assert result.agrees(i), (
            f"order {n}: slope {result.slopes[i]:.2f}, expected {result.expected[i]} "
            f"(≥{result.minimum[i]})")


@pytest.mark.parametrize("method", list(TABLEAUX))
def test_runge_kutta_orders_up_to_5(method):
    derivation, result = _check("rk", 5, method=method)
    _assert_slopes(result)
    p = TABLEAUX[method].order
    # an order-p method: f_2 … f_p vanish, so truncations below p all show slope p + 1
    assert all(e == p + 1 for n, e in zip(result.orders, result.expected) if n <= p)


MULTI_ATOM = [
    ("sgd", dict(batches="3", shuffle="forward")),
    ("sgd", dict(batches="3", shuffle="backward")),
    ("sgd", dict(batches="2", shuffle="random")),
    ("sgd", dict(batches="3", shuffle="random")),
    ("multitask", dict(tasks="3")),
    ("multitask", dict(tasks="2", per_task=True)),
    ("continual", dict(steps="A:2,B:1")),
    ("continual", dict(steps="A:1,B:2,A:1")),
    ("game", dict(mode="simultaneous", rates="1,1/2")),
    ("game", dict(mode="alternating", rates="1,1/2", steps="2,1")),
    ("game", dict(mode="alternating", rates="1/3,1", steps="1,3")),
    ("game", dict(mode="alternating", rates="1/2,1", steps="3,2", zero_sum=True)),
]


@pytest.mark.parametrize("name,options", MULTI_ATOM, ids=[f"{n}-{o}" for n, o in MULTI_ATOM])
def test_multi_atom_orders_up_to_3(name, options):
    problem = "dirac-gan" if name == "game" else "logistic"
    _, result = _check(name, 3, problem, **options)
    _assert_slopes(result)
    assert result.expected == [2, 3, 4]


@pytest.mark.parametrize("nesterov", [False, True])
@pytest.mark.parametrize("beta", ["1/2", "3/10"])
def test_momentum_orders_up_to_3(beta, nesterov):
    _, result = _check("momentum", 3, beta=beta, nesterov=nesterov)
    _assert_slopes(result)


def test_symbolic_beta_takes_values():
    _, result = _check("momentum", 2, values={"beta": 0.3})
    _assert_slopes(result)


def test_wrong_coefficient_fails_the_slope_check():
    def wrong(coeffs):
        coeffs[2] = dict(coeffs[2])
        coeffs[2][parse("f[f]")] *= 1.1  # -1/2 → -0.55
        return coeffs

    rule = build("gd", 3)
    prob = make_problem("logistic", rule.atoms, tuple(rule.blocks))
    _, result = check(rule, 3, prob, coefficients=wrong)
    assert result.agrees(0)  # the gradient flow itself is untouched
    assert not result.agrees(1) and abs(result.slopes[1] - 2) < 0.3
    assert not result.ok


# -- rules written as a user would (issue: any update rule) ----------------------------

def _extragradient(theta, h, f):
    return theta + h * f(theta + h * f(theta))


def _proximal_point(theta, h, f):
    from bea import fixed_point

    return fixed_point(lambda y: theta + h * f(y), theta)


def _lookahead(theta, h, f, gamma):
    return theta + h * f(theta + gamma * h * f(theta))


def _user_rules():
    import sympy

    from bea import Atom, Rule, rule_from_function

    return [
        ("extragradient", rule_from_function(_extragradient), None),
        ("proximal-point", rule_from_function(_proximal_point), None),
        ("lookahead-gamma", Rule(_lookahead, (Atom("f", "L"),), name="lookahead",
                                 params={"gamma": sympy.Symbol("gamma")}), {"gamma": 0.3}),
    ]


@pytest.mark.parametrize("index", range(3), ids=[r[0] for r in _user_rules()])
def test_user_rules_orders_up_to_3(index):
    _, rule, values = _user_rules()[index]
    prob = make_problem("logistic", rule.atoms, tuple(rule.blocks))
    _, result = check(rule, 3, prob, values)
    _assert_slopes(result)
    assert result.expected == [2, 3, 4]
