"""The equivalent gradient descent (bea.equivalent): the one-step map on the slaved
manifold, exact coefficients against closed forms, and its local error by slope."""

from __future__ import annotations

import math
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import sympy

from bea.equivalent import equivalent_step
from bea.bseries.evaluate import fields_from_losses, planned_sum
from bea.schemes import build
from bea.schemes.momentum import heavy_ball
from bea.bseries.trees import parse, tree

jax.config.update("jax_enable_x64", True)

THETA = jnp.array([0.4, -0.7, 0.3])
HS = np.geomspace(0.004, 0.03, 6)


def loss(p):
    w, b = p[:2], p[2]
    return jnp.sum(jnp.log(1 + jnp.exp(w * jnp.array([1.0, -2.0]) + b))) + 0.2 * jnp.sum(w**4) + jnp.sin(b) * w[0]


def _eulerian(n: int, x):
    """A_n(x) = Σ_m A(n, m) x^m (A_1 = 1, A_2 = 1 + x, A_3 = 1 + 4x + x²)."""
    return sum(sum((-1) ** j * math.comb(n + 1, j) * (m + 1 - j) ** n for j in range(m + 2)) * x**m
               for m in range(n))


def _narayana(n: int, x):
    """N_n(x) = Σ_k N(n, k) x^{k-1} (N_1 = 1, N_2 = 1 + x, N_3 = 1 + 3x + x²)."""
    return sum(sympy.Rational(math.comb(n, k) * math.comb(n, k - 1), n) * x ** (k - 1) for k in range(1, n + 1))


def _tall(k: int):
    t = tree("f")
    for _ in range(k - 1):
        t = tree("f", [t])
    return t


def test_heavy_ball_polynomials_are_eulerian_and_narayana():
    """Cattaneo & Shigida (arXiv 2509.08483) find Eulerian and Narayana polynomials in β
    inside heavy ball's modified loss; in the one-step map Δ_k the bushy tree
    f^{(k-1)}(f, …, f) carries β A_{k-1}(β)/((k-1)! (1-β)^{2k-1}) and the tall tree
    f'f'…f carries β N_{k-1}(β)/(1-β)^{2k-1}, alternating in sign — to order 8."""
    order = 8
    d = equivalent_step(build("momentum", order, beta="beta"), order)
    (beta,) = d.field.symbols
    for k in range(2, order + 1):
        sign = (-1) ** (k + 1)
        bushy = d.field.to_sympy(d.flow[k][tree("f", [tree("f")] * (k - 1))])
        tall = d.field.to_sympy(d.flow[k][_tall(k)])
        want_bushy = sign * beta * _eulerian(k - 1, beta) / (math.factorial(k - 1) * (1 - beta) ** (2 * k - 1))
        want_tall = sign * beta * _narayana(k - 1, beta) / (1 - beta) ** (2 * k - 1)
        assert sympy.cancel(bushy - want_bushy) == 0, k
        assert sympy.cancel(tall - want_tall) == 0, k


def test_heavy_ball_is_gradient_descent_on_a_loss():
    d = equivalent_step(build("momentum", 4, beta="beta"), 4)
    (beta,) = d.field.symbols
    assert d.kind == "step" and d.has_loss
    weights = [{str(s): d.field.to_sympy(c) for s, c in d.splits[k][None].weights.items()} for k in (1, 2)]
    assert sympy.cancel(weights[0]["L"] - 1 / (1 - beta)) == 0
    assert sympy.cancel(weights[1]["L[L|]"] - beta / (2 * (1 - beta) ** 3)) == 0


def test_gradient_descent_is_itself():
    d = equivalent_step(build("gd", 4), 4)
    assert d.flow[1] == {parse("f"): d.field.one}
    assert all(not d.flow[k] for k in range(2, 5))


@pytest.mark.parametrize("order", [2, 3])
def test_one_step_on_the_attracting_manifold_matches_the_series(order):
    """Heavy ball (β = 1/10) from v = 0 runs to time T = 0.3: the state is then on the slaved
    manifold to ~10⁻¹⁰ (it attracts at rate β per step), with no use of bea's velocity
    series, and θ_n → θ(T) as h → 0. One more step satisfies
    θ₊ − θ − Σ_{k≤N} h^k Δ_k(θ) = O(h^{N+1}); without the order-N terms the error is O(h^N)
    (negative control)."""
    d = equivalent_step(build("momentum", order, beta="1/10"), order)
    fields = fields_from_losses(d.rule.atoms, {"L": loss})

    def field(theta):
        return -jax.grad(loss)(theta)

    full, truncated = [], []
    for h in HS:
        theta, v = THETA, jnp.zeros_like(THETA)
        for _ in range(round(0.3 / h)):
            theta, v = heavy_ball(theta, v, h, field, 0.1)
        theta1, _ = heavy_ball(theta, v, h, field, 0.1)
        terms = [(float(d.field.to_sympy(c)) * h ** t.order, t) for k in range(1, order + 1) for t, c in d.flow[k].items()]
        series = planned_sum(terms, fields, theta)
        last = planned_sum([(w, t) for w, t in terms if t.order == order], fields, theta)
        full.append(float(jnp.linalg.norm(theta1 - theta - series)))
        truncated.append(float(jnp.linalg.norm(theta1 - theta - series + last)))
    slope = np.polyfit(np.log(HS), np.log(full), 1)[0]
    control = np.polyfit(np.log(HS), np.log(truncated), 1)[0]
    assert abs(slope - (order + 1)) < 0.3
    assert abs(control - order) < 0.3


def _bea(*args):
    return subprocess.run([sys.executable, "-c", "from bea_cli.main import main; main()", *args],
                          capture_output=True, text=True, timeout=300)


def test_cli_prints_the_equivalent_gradient_descent_and_refuses_what_it_cannot():
    out = _bea("derive", "--scheme", "momentum", "--beta", "beta", "--order", "3", "--equivalent", "gd")
    assert out.returncode == 0, out.stderr
    assert "θ⁺ = θ + h Δ₁ + h² Δ₂ + h³ Δ₃ + O(h⁴)" in out.stdout
    assert "equivalent gradient descent   θ⁺ = θ - h∇L̃ + O(h⁴)" in out.stdout
    assert "L̃ = 1/(1 - β) L + h·β/(2(1 - β)³) ‖∇L‖²" in out.stdout
    for args in (["--scheme", "adam", "--order", "2", "--equivalent", "gd"],
                 ["--scheme", "gd", "--order", "2", "--equivalent", "gd", "--modifying"]):
        refused = _bea("derive", *args)
        assert refused.returncode == 2 and len(refused.stderr.strip().splitlines()) == 1, refused.stderr
