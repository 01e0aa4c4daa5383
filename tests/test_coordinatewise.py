"""Coordinate-wise series: Adam, RMSProp and friends against the published order-2 field.

Reference (REFERENCES.md; Cattaneo, Klusowski & Shigida, ICML 2024), no bias correction,
ε inside the root, g = ∇L = −f, s = √(g² + ε):

    θ̇ = −g/s − h[(β/(1−β) + ½)/s − (ρ/(1−ρ) + ½) g²/s³] (H(g/s)) + O(h²),

with H(g/s) = D g[g/s] = D f[f/s]. Comparisons are semantic: the canonical form of the
difference is zero, and sympy.simplify agrees.
"""

import pytest
import sympy

from bea import Atom, Rule, RuleError, derive
from bea.coordinatewise import atom, canonical, differential, sqrt, taylor
from bea.schemes import build

HALF = sympy.Rational(1, 2)
F = atom("f")


def adam_reference(b1, b2, eps):
    b1, b2, eps = map(sympy.sympify, (b1, b2, eps))
    s = sympy.sqrt(F**2 + eps)
    bracket = (b1 / (1 - b1) + HALF) / s - (b2 / (1 - b2) + HALF) * F**2 / s**3
    return F / s, -bracket * differential("f", [F / s])


def assert_same(a, b):
    assert canonical(a - b) == 0
    assert sympy.simplify(a - b) == 0


def test_adam_order_2_symbolic_matches_reference():
    d = derive(build("adam", 2), 2)
    b1, b2, eps = (d.rule.params[k] for k in ("b1", "b2", "eps"))
    f1, f2 = adam_reference(b1, b2, eps)
    assert_same(d.flow[1], f1)
    assert_same(d.flow[2], f2)
    # the slaved moments start at m = g = −f, v = g⊙g
    assert canonical(d.velocity[0][0] + F) == 0
    assert canonical(d.velocity[1][0] - F**2) == 0


def test_adam_order_2_numeric_parameters():
    d = derive(build("adam", 2, b1="0.9", b2="0.999", eps="1e-8"), 2)
    f1, f2 = adam_reference(sympy.Rational(9, 10), sympy.Rational(999, 1000), sympy.Rational(1, 10**8))
    assert_same(d.flow[1], f1)
    assert_same(d.flow[2], f2)


def test_rmsprop_is_adam_at_beta_zero():
    d = derive(build("rmsprop", 2), 2)
    b2, eps = d.rule.params["b2"], d.rule.params["eps"]
    f1, f2 = adam_reference(0, b2, eps)
    assert_same(d.flow[1], f1)
    assert_same(d.flow[2], f2)


def _small_gradient_adam(theta, m, v, h, f, t, b1, b2, eps):
    g = -t * f(theta)  # gradient of size t: ε ≫ g² as t → 0
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * g * g
    return theta - h * m / sqrt(v + eps), m, v


@pytest.mark.parametrize("b1", [0, sympy.Symbol("b1")])
def test_large_eps_limit_is_gradient_descent_igr(b1):
    """ε ≫ g²: the flow tends to GD's with rate h/√ε, −g/√ε − (h/(2ε))(1 + 2β/(1−β)) H g
    (β = 0: RMSProp, exactly implicit gradient regularization); here g = −t f, so
    H g = t² D f[f]."""
    t, b2, eps = sympy.symbols("t b2 eps")
    rule = Rule(_small_gradient_adam, (Atom("f", "L"),), n_aux=2, algebra="coordinatewise",
                params={"t": t, "b1": b1, "b2": b2, "eps": eps})
    d = derive(rule, 2)
    assert taylor(d.flow[1], t, 1) == [0, canonical(F / sympy.sqrt(eps))]
    rate = (sympy.sympify(b1) / (1 - b1) + HALF) / eps
    assert [canonical(c) for c in taylor(d.flow[2], t, 2)] == [
        0, 0, canonical(-rate * differential("f", [F]))]


def test_adagrad_does_not_settle():
    def adagrad(theta, v, h, f):
        g = -f(theta)
        v = v + g * g
        return theta - h * g / sqrt(v), v

    rule = Rule(adagrad, (Atom("f", "L"),), n_aux=1, algebra="coordinatewise")
    with pytest.raises(RuleError, match="does not settle"):
        derive(rule, 2)


def test_non_analytic_operations_are_refused():
    def sign_descent(theta, h, f):
        return theta - h * abs(f(theta))

    with pytest.raises(RuleError, match=r"abs\(…\) of a traced value is not smooth"):
        derive(Rule(sign_descent, (Atom("f", "L"),), algebra="coordinatewise"), 2)


def test_inconsistent_rule_is_refused():
    def jump(theta, h, f):
        return theta + f(theta)

    with pytest.raises(RuleError, match="not θ \\+ O\\(h\\)"):
        derive(Rule(jump, (Atom("f", "L"),), algebra="coordinatewise"), 2)
