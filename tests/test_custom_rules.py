"""Rules written by users as plain Python, and momentum (slaved velocity)."""

import pytest
import sympy
from sympy import Rational as R

from bea import Atom, Rule, RuleError, derive, fixed_point
from bea.custom import load_rule, rule_from_function
from bea.schemes import build

beta = sympy.Symbol("beta", real=True)


def flow(d, k):
    return {str(t): sympy.factor(d.field.to_sympy(c)) for t, c in d.flow[k].items()}


def test_heavy_ball_modified_loss_with_symbolic_beta():
    """θ' = -(1/(1-β))∇[L + h(1+β)/(4(1-β)²)‖∇L‖²] (Ghosh et al. 2023)."""
    d = derive(build("momentum", 2, beta="beta"), 2)
    w1 = d.field.to_sympy(d.splits[1][None].weights[next(iter(d.splits[1][None].weights))])
    w2 = d.field.to_sympy(d.splits[2][None].weights[next(iter(d.splits[2][None].weights))])
    assert sympy.simplify(w1 - 1 / (1 - beta)) == 0
    assert sympy.simplify(w2 / w1 - (1 + beta) / (4 * (1 - beta) ** 2)) == 0
    assert d.has_loss


def test_heavy_ball_regularizer_is_stronger_than_gd_by_one_plus_beta_over_one_minus_beta():
    """At equal effective learning rate h/(1-β), HB's regularizer / GD's = (1+β)/(1-β)."""
    hb = derive(build("momentum", 2, beta="beta"), 2)
    gd = derive(build("gd", 2), 2)
    ratio_hb = hb.coefficient("f[f]") / hb.coefficient("f")  # per unit of the leading term
    h_eff_factor = 1 / (1 - beta)  # GD at rate h/(1-β): f[f] coefficient -h_eff/2
    ratio_gd = gd.coefficient("f[f]") * h_eff_factor
    assert sympy.simplify(ratio_hb / ratio_gd - (1 + beta) / (1 - beta)) == 0


def test_heavy_ball_at_beta_zero_is_gd():
    hb = derive(build("momentum", 3, beta="0"), 3)
    gd = derive(build("gd", 3), 3)
    assert hb.flow == gd.flow


def test_nesterov_first_correction():
    """Nesterov: f_2 = -(1 + β - 2β²)... derived: -(2β² - β + 1)/(2(1-β)³) f'f; β=0 gives GD."""
    d = derive(build("momentum", 2, beta="beta", nesterov=True), 2)
    c = d.coefficient("f[f]")
    assert sympy.simplify(c + (2 * beta**2 - beta + 1) / (2 * (1 - beta) ** 3)) == 0
    assert c.subs(beta, 0) == R(-1, 2)


def test_momentum_velocity_is_slaved():
    d = derive(build("momentum", 2, beta="beta"), 2)
    (v,) = d.velocity
    # V(θ) = h f/(1-β) + O(h²)
    assert sympy.simplify(d.field.to_sympy(v[next(t for t in v if t.order == 1)]) - 1 / (1 - beta)) == 0


# -- rules written as a user would ----------------------------------------------------

def extragradient(theta, h, f):
    """Two-stage extrapolation (Korpelevich): look ahead, then step with the look-ahead field."""
    ahead = theta + h * f(theta)
    return theta + h * f(ahead)


def proximal_point(theta, h, f):
    """Implicit step θ' = θ + h f(θ') (implicit Euler / proximal point)."""
    return fixed_point(lambda y: theta + h * f(y), theta)


def lookahead(theta, h, f, gamma):
    """θ' = θ + h f(θ + γ h f(θ)) with a symbolic γ."""
    return theta + h * f(theta + gamma * h * f(theta))


def test_extragradient_user_rule():
    d = derive(rule_from_function(extragradient), 3)
    assert flow(d, 2) == {"f[f]": R(1, 2)}


def test_implicit_user_rule_equals_implicit_euler():
    d = derive(rule_from_function(proximal_point), 4)
    rk = derive(build("rk", 4, method="implicit-euler"), 4)
    assert d.flow == rk.flow


def test_symbolic_parameter_user_rule():
    gamma = sympy.Symbol("gamma")
    rule = Rule(lookahead, (Atom("f", "L"),), name="lookahead", params={"gamma": gamma})
    d = derive(rule, 2)
    assert sympy.simplify(d.coefficient("f[f]") - (gamma - R(1, 2))) == 0
    # γ = 1/2 is the explicit midpoint rule: no O(h) term
    assert d.coefficient("f[f]").subs(gamma, R(1, 2)) == 0


def test_two_block_user_rule():
    def gradient_descent_ascent(params, h, fx, fy):
        x, y = params
        return x + h * fx(x, y), y + h * fy(x, y)

    rule = Rule(gradient_descent_ascent, (Atom("fx", "E", "x", 1), Atom("fy", "E", "y", -1)),
                blocks=("x", "y"))
    assert derive(rule, 2).has_loss


def test_user_rule_with_velocity():
    def ema_momentum(theta, v, h, f, beta):
        v = beta * v + (1 - beta) * h * f(theta)
        return theta + v, v

    rule = Rule(ema_momentum, (Atom("f", "L"),), n_aux=1, params={"beta": R(1, 2)})
    d = derive(rule, 2)
    assert d.coefficient("f") == 1
    assert d.has_loss


# -- errors name the rule and the line -------------------------------------------------

def forgot_h(theta, h, f):
    return theta + f(theta)


def squares_theta(theta, h, f):
    return theta + h * f(theta * theta)


def divides_by_zero(theta, h, f):
    return theta + h * f(theta) / 0


def uses_numpy(theta, h, f):
    import numpy as np

    return theta + h * np.sin(f(theta))


@pytest.mark.parametrize("step, words", [
    (forgot_h, "not O(h)"),
    (squares_theta, "not θ + O(h)"),  # θ⊙θ is coordinate-wise; the atom's point is then O(1) away
    (divides_by_zero, "division by zero"),
    (uses_numpy, "uses_numpy"),
])
def test_bad_rules_raise_rule_error_with_line(step, words):
    with pytest.raises(RuleError) as info:
        derive(rule_from_function(step), 2)
    assert words in str(info.value)
    assert step.__name__ in str(info.value)
    assert "line" in str(info.value)


def test_rule_must_be_consistent():
    """θ + O(h) only: an atom value added without h, the parameters scaled, or h⁰ mixed
    with h¹ are refused; a scaled but consistent step is accepted."""
    def half_step(theta, h, f):
        return theta + h * f(theta) / 2 + h * f(theta) / 4

    d = derive(rule_from_function(half_step), 2)
    assert d.coefficient("f") == R(3, 4)  # consistent with the field (3/4) f

    def no_h(theta, h, f):
        return theta + f(theta)

    def scaled_parameters(theta, h, f):
        return 2 * theta + h * f(theta)

    def mixed_powers(theta, h, f):
        return theta + h * f(theta) + f(theta)

    for inconsistent in (no_h, scaled_parameters, mixed_powers):
        with pytest.raises(RuleError):
            derive(rule_from_function(inconsistent), 2)


def test_rule_signature_is_checked():
    with pytest.raises(RuleError, match="signature"):
        rule_from_function(lambda theta, f: theta)


def test_load_rule_from_file(tmp_path):
    path = tmp_path / "my_rules.py"
    path.write_text("def step(theta, h, f):\n    return theta + h * f(theta + h * f(theta) / 2)\n")
    rule = load_rule(f"{path}:step")
    assert derive(rule, 2).coefficient("f[f]") == 0
    with pytest.raises(RuleError, match="defines no"):
        load_rule(f"{path}:missing")
    with pytest.raises(RuleError, match="does not exist"):
        load_rule(f"{tmp_path}/none.py:step")
