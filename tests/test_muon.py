"""Muon through the coordinate-wise algebra with an opaque smooth map (bea.coordinatewise.maps).

The derivation (order-2 coefficient, GD limit), the singular-value oracle on
``L = ½‖W‖_F²`` (Muon acts on each singular value: the matrix flow must be
``U diag(φ_k(σ)) Vᵀ`` with ``φ_k`` the scalar backward error analysis of the map on
``σ``), and the observed orders on a non-quadratic matrix problem with a negative control.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import sympy

from bea.check.common import float64
from bea.check.coordinatewise import check
from bea.check.problems import make_problem
from bea.coordinatewise import canonical, norm
from bea.coordinatewise.evaluate import evaluate
from bea.coordinatewise.maps import matrix_shape, opaque
from bea.derive import derive
from bea.render import render
from bea.rule import Rule
from bea.atoms import Atom
from bea.schemes import build
from bea.schemes import muon as muon_scheme

BETA = sympy.Symbol("beta", real=True)


def _muon(order, **options):
    return derive(build("muon", order, **options), order)


def test_order_two_coefficient_and_gd_limit():
    d = _muon(2, beta=BETA)
    text = render(d, "text")
    assert "f₁ = -O(g)" in text
    assert "f₂ = -(1 - β + 2β²)/(2 - 2β) O′(g)[H(O(g))]" in text
    assert "no modified loss" in text
    # β = 0: orthogonalized GD, f₂ = -½ O'(g)[H O(g)]; with O the identity this is GD's -½Hg
    d0 = _muon(2, beta=0)
    theta = jnp.array([0.3, -1.2, 0.7])
    a = jnp.array([[2.0, 0.5, 0.0], [0.5, 1.0, 0.3], [0.0, 0.3, 3.0]])
    fields = {"f": lambda th: -(a @ th + th**3), "O": lambda x: x}
    f1, f2 = evaluate([d0.flow[1], d0.flow[2]], fields, theta)
    g = a @ theta + theta**3
    hg = a @ g + 3 * theta**2 * g
    np.testing.assert_allclose(f1, -g, rtol=1e-12)
    np.testing.assert_allclose(f2, -0.5 * hg, rtol=1e-12)


def _singular_value_setup(shape, seed=0):
    rng = np.random.default_rng(seed)
    m, n = shape
    r = min(m, n)
    u, _ = np.linalg.qr(rng.normal(size=(m, r)))
    v, _ = np.linalg.qr(rng.normal(size=(n, r)))
    sigma = np.array([1.7, 1.1, 0.6, 0.9][:r])
    return jnp.asarray(u), jnp.asarray(v), jnp.asarray(sigma)


def _phi(shape, coeffs, steps):
    """The map on singular values: σ ↦ s·p(σ/(‖σ‖ + eps)), p the scalar Newton–Schulz iteration."""
    a, b, c = (float(x) for x in coeffs)
    m, n = shape
    s = np.sqrt(max(1.0, n / m))

    def phi(sigma):
        y = sigma / (jnp.linalg.norm(sigma) + muon_scheme.NORM_EPS)
        for _ in range(steps):
            y = a * y + b * y**3 + c * y**5
        return s * y

    return phi


@pytest.mark.parametrize("shape", [(3, 5), (4, 4), (5, 3)])
def test_singular_value_oracle_without_momentum(shape):
    """β = 0: on L = ½‖W‖², W⁺ = W − h O(W) acts as σ⁺ = σ − h φ(σ); the explicit-Euler
    modified equation of F = −φ (Hairer, Lubich & Wanner IX.1: f₂ = −½F'F,
    f₃ = F''(F,F)/12 + F'F'F/3) must be the matrix flow in the singular basis."""
    d = _muon(3, beta=0)
    with float64(), matrix_shape(shape):
        u, v, sigma = _singular_value_setup(shape)
        phi = _phi(shape, muon_scheme.NS_COEFFS, muon_scheme.NS_STEPS)
        F = lambda x: -phi(x)  # noqa: E731
        dF = lambda x, w: jax.jvp(F, (x,), (w,))[1]  # noqa: E731
        Fs = F(sigma)
        second = jax.jvp(lambda x: dF(x, Fs), (sigma,), (Fs,))[1]  # F''(F, F)
        expected = [Fs, -0.5 * dF(sigma, Fs), second / 12 + dF(sigma, dF(sigma, Fs)) / 3]
        w = (u * sigma) @ v.T
        got = evaluate(list(d.flow[1:]), {"f": lambda th: -th}, w.reshape(-1))
        _assert_in_singular_basis(got, expected, u, v)


def _assert_in_singular_basis(got, expected, u, v):
    for k, (g, e) in enumerate(zip(got, expected), start=1):
        want = ((u * e) @ v.T).reshape(-1)
        np.testing.assert_allclose(g, want, rtol=0, atol=1e-12 * float(jnp.max(jnp.abs(want))),
                                   err_msg=f"f_{k}")


@pytest.mark.parametrize("nesterov", [True, False])
def test_singular_value_oracle_with_momentum(nesterov):
    """β = 1/2, one Newton–Schulz step: the matrix flow (opaque O, evaluated by jvp)
    equals, in the singular basis, the flow of the same rule on the singular values with
    φ written out elementwise (y = σ/(‖σ‖ + eps), s·(a y + b y³ + c y⁵)): a derivation
    through the elementwise algebra alone, no opaque map."""
    shape, coeffs = (5, 3), muon_scheme.NS_COEFFS  # s = √max(1, 3/5) = 1; NS on Wᵀ
    options = {"beta": sympy.Rational(1, 2), "ns_steps": 1, "no_nesterov": not nesterov}
    d = _muon(3, **options)
    a, b, c = coeffs
    eps = sympy.Rational(1, 10**8)

    def on_sigma(theta, m, h, f, beta):
        g = -f(theta)
        m = beta * m + (1 - beta) * g
        x = beta * m + (1 - beta) * g if nesterov else m
        y = x / (norm(x) + eps)
        return theta - h * (y * a + y**3 * b + y**5 * c), m

    reference = derive(Rule(on_sigma, (Atom("f", "L"),), n_aux=1, params={"beta": sympy.Rational(1, 2)},
                            algebra="coordinatewise"), 3)
    with float64(), matrix_shape(shape):
        u, v, sigma = _singular_value_setup(shape)
        expected = evaluate(list(reference.flow[1:]), {"f": lambda th: -th}, sigma)
        w = (u * sigma) @ v.T
        got = evaluate(list(d.flow[1:]), {"f": lambda th: -th}, w.reshape(-1))
        _assert_in_singular_basis(got, expected, u, v)


_HS = np.geomspace(2e-3, 1.5e-2, 6)


@pytest.mark.parametrize("options, size", [
    ({"beta": sympy.Rational(1, 2)}, None),                       # Nesterov, W ∈ R^{3×5}
    ({"beta": 0}, 4),                                             # orthogonalized GD, 4×4
    ({"beta": sympy.Rational(1, 2), "no_nesterov": True}, 4),     # heavy ball, 4×4
], ids=["nesterov-3x5", "no-momentum-4x4", "heavy-ball-4x4"])
def test_observed_orders_on_a_matrix_network(options, size):
    rule = build("muon", 3, **options)
    _, errors = check(rule, 3, make_problem("matrix-mlp", rule.atoms, size=size), hs=_HS)
    assert [abs(s - e) <= 0.3 for s, e in zip(errors.slopes, errors.expected)] == [True] * 3, errors.slopes


@pytest.mark.parametrize("factor", [sympy.Rational(11, 10), 0], ids=["f3-times-1.1", "f3-dropped"])
def test_a_perturbed_coefficient_fails(factor):
    """f₃ scaled by 11/10 or dropped: the order-3 truncation errs at O(h³), so its slope
    leaves 4 (dropped: it is the order-2 flow, slope 3)."""
    rule = build("muon", 3, beta=sympy.Rational(1, 2))
    perturb = lambda exprs: [exprs[0], exprs[1], canonical(exprs[2] * factor), exprs[3]]  # noqa: E731
    _, errors = check(rule, 3, make_problem("matrix-mlp", rule.atoms), hs=_HS, coefficients=perturb)
    assert abs(errors.slopes[1] - 3) <= 0.3
    assert abs(errors.slopes[2] - 4) > 0.3, errors.slopes
    if factor == 0:
        assert abs(errors.slopes[2] - 3) <= 0.3, errors.slopes


def test_order_two_is_the_nuclear_norm_of_the_gradient_for_the_exact_polar_factor():
    """With O the exact polar factor (O(G) = s·UVᵀ = ∇_G s‖G‖_*), Muon's f₂ is
    −c(β)·O′(g)[∇_θ s‖∇L‖_*], c(β) = (1 − β + 2β²)/(2(1 − β)): to second order the iterates follow
    θ' = −O(∇L̃) with L̃ = L + h c(β) s‖∇L‖_* (the README's implicit-bias statement)."""
    beta = sympy.Rational(3, 10)
    d = _muon(2, beta=beta)
    shape = (3, 5)
    scale = np.sqrt(5 / 3)
    c = float((1 - beta + 2 * beta**2) / (2 * (1 - beta)))
    with float64(), matrix_shape(shape):
        problem = make_problem("matrix-mlp", build("muon", 2, beta=beta).atoms)
        loss = problem.losses["L"]
        theta = problem.params.reshape(-1)
        grad = lambda th: jax.grad(lambda z: loss(z.reshape(shape)))(th)  # noqa: E731

        def polar(z):
            u, _, vt = jnp.linalg.svd(z.reshape(shape), full_matrices=False)
            return scale * (u @ vt).reshape(-1)

        nuclear = lambda th: scale * jnp.sum(jnp.linalg.svd(grad(th).reshape(shape), compute_uv=False))  # noqa: E731
        f2 = evaluate([d.flow[2]], {"f": lambda th: -grad(th), "O": polar}, theta, {"beta": float(beta)})[0]
        expected = -c * jax.jvp(polar, (grad(theta),), (jax.grad(nuclear)(theta),))[1]
        np.testing.assert_allclose(f2, expected, rtol=1e-9, atol=1e-12)


def test_a_user_rule_with_an_opaque_map_agrees_with_the_elementwise_algebra():
    """θ⁺ = θ − h P(∇L) with P = tanh: through bea.coordinatewise.opaque (P opaque, evaluated
    by jvp) and through bea.coordinatewise.tanh (elementwise), the same flow to order 3."""
    from bea.coordinatewise import opaque as make_map, tanh

    P = make_map("P", jnp.tanh)
    opaque_rule = Rule(lambda theta, h, f: theta - h * P(-f(theta)), (Atom("f", "L"),), algebra="coordinatewise")
    plain_rule = Rule(lambda theta, h, f: theta - h * tanh(-f(theta)), (Atom("f", "L"),), algebra="coordinatewise")
    d_opaque, d_plain = derive(opaque_rule, 3), derive(plain_rule, 3)
    assert "P′′(g)" in render(d_opaque, "text")
    with float64():
        theta = jnp.array([0.4, -0.9, 1.3])
        a = jnp.array([[2.0, 0.5, 0.1], [0.5, 1.0, 0.3], [0.1, 0.3, 3.0]])
        fields = {"f": lambda th: -(a @ th + jnp.sin(th))}
        got = evaluate(list(d_opaque.flow[1:]), fields, theta)
        want = evaluate(list(d_plain.flow[1:]), fields, theta)
        for g, w in zip(got, want):
            np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-14)
