"""Modifying fields of coordinate-wise rules (bea.coordinatewise.modifying): Adam and
RMSProp run on f̃ = f + h c_2 + … + h^{N-1} c_N, started on their slaved manifold, follow
the first-order flow θ' = f_1 = F(f) with local error O(h^{N+1}) (fitted slope, float64,
against diffrax's Dopri8); order 2 equals −f_2/(∂F/∂f), Adam's known f_2 (REFERENCES.md)."""

from __future__ import annotations

import diffrax
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import sympy

from bea.coordinatewise import canonical
from bea.coordinatewise.evaluate import evaluate, state_function
from bea.modifying import modifying_field
from bea.derive import derive
from bea.schemes import build
from bea.schemes.adaptive import adam, rmsprop
from bea.atoms import RuleError

THETA = jnp.array([0.4, -0.7, 0.3])
HS = np.geomspace(2.5e-4, 1e-3, 5)
"""Small steps: the corrections divide by ∂F/∂f = ε/s³, small where |g| is large (c_2 ≈ 50
in one coordinate here), so the asymptotic range starts low (local slopes 3.9 → 3.7 for
Adam at order 3 over this range, 2.6 at h = 4e-3)."""


def loss(p):
    return jnp.sum(jnp.log(1 + jnp.exp(p * jnp.array([1.0, -2.0, 0.5])))) + 0.2 * jnp.sum(p**4) + p[0] * p[1]


def field(theta):
    return -jax.grad(loss)(theta)


def flow_over(expr, h):
    """The exact flow of ``θ' = expr`` over time ``h`` from THETA."""
    term = diffrax.ODETerm(lambda t, y, args: evaluate([expr], {"f": field}, y)[0])
    sol = diffrax.diffeqsolve(term, diffrax.Dopri8(), 0.0, h, h / 8, THETA,
                              stepsize_controller=diffrax.PIDController(rtol=1e-13, atol=1e-15))
    return sol.ys[-1]


@pytest.mark.parametrize("name, params, step, order", [
    ("adam", {"b1": "1/2", "b2": "7/10", "eps": "1/10"}, adam, 2),
    ("adam", {"b1": "1/2", "b2": "7/10", "eps": "1/10"}, adam, 3),
    ("rmsprop", {"b2": "7/10", "eps": "1/10"}, rmsprop, 2),
])
def test_the_rule_on_the_modifying_field_follows_its_first_order_flow(name, params, step, order):
    rule = build(name, order, **params)
    d = modifying_field(rule, order)
    first = derive(rule, 1).flow[1]
    numbers = [float(sympy.Rational(v)) for v in params.values()]
    errors = []
    for h in HS:
        def corrected(theta, h=h):
            parts = evaluate(d.flow[1:], {"f": field}, theta)
            return sum(h ** k * p for k, p in enumerate(parts))

        state = state_function(d, {"f": field}, h)(THETA)  # the state as a function of f itself
        out = step(THETA, *state, h, corrected, *numbers)[0]
        errors.append(float(jnp.linalg.norm(out - flow_over(first, h))))
    slope = np.polyfit(np.log(HS), np.log(errors), 1)[0]
    assert abs(slope - (order + 1)) < 0.3, (slope, errors)


def test_order_2_is_minus_f2_over_the_weight():
    rule = build("adam", 2)
    c2 = modifying_field(rule, 2).flow[2]
    flow = derive(rule, 2).flow
    (f,) = flow[1].free_symbols - {rule.params["eps"]}  # F(f) = f/√(f² + ε): ∂F/∂f = ε/(f² + ε)^{3/2}
    eps = rule.params["eps"]
    weight = eps / (f**2 + eps) ** sympy.Rational(3, 2)
    assert canonical(c2 + flow[2] / weight) == 0


def test_a_first_order_flow_that_is_not_elementwise_is_refused():
    with pytest.raises(RuleError, match="not elementwise"):
        modifying_field(build("normalized", 2), 2)


def test_cli_prints_the_modifying_field_and_refuses_what_it_cannot_do():
    from click.testing import CliRunner

    from cli.main import main

    runner = CliRunner()
    out = runner.invoke(main, ["derive", "--scheme", "adam", "--order", "2", "--modifying"])
    assert out.exit_code == 0, out.output
    assert "modifying field   f̃ = f̃₁ + h f̃₂ + O(h²)" in out.output and "f̃₁ = -g" in out.output
    assert "f̃₂ = ((1 + β)/(2 - 2β) + g²·(β - ρ)/(ε·(1 - β)·(1 - ρ))) ⊙ ∇‖∇L‖₁,ε" in out.output
    md = runner.invoke(main, ["derive", "--scheme", "adam", "--order", "2", "--modifying", "-f", "markdown"])
    assert "## Modifying field" in md.output
    for command in (["derive", "--scheme", "normalized", "--order", "2", "--modifying"],
                    ["check", "--scheme", "adam", "--order", "2", "--modifying"],
                    ["codegen", "--scheme", "adam", "--order", "2", "--modifying"]):
        result = runner.invoke(main, command)
        assert result.exit_code == 2, (command, result.output)
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.output
