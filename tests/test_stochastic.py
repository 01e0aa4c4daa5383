"""Stochastic modified equations (issue 14): exact moments, printed SME, weak orders."""

import json
from fractions import Fraction

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import sympy

from bea.render import render
from bea.render.json import JsonPrinter
from bea.stochastic import Sampling, SamplingError, batch_moment, epoch_covariance, minibatch_covariance, sme
from bea.stochastic.jaxsde import covariance_factor, diffusion, drift, per_example_gradients
from bea.stochastic.weak import batches, epoch_covariance_errors, fitted_slope, weak_errors

B, N = sympy.symbols("B n", positive=True, integer=True)


def _enumerated_second_moment(vectors, batch, replace):
    """E[f_S f_Sᵀ] by enumerating every batch, exactly (the oracle)."""
    rows = batches(len(vectors), batch, replace)
    total = np.zeros((2, 2), dtype=object)
    for row in rows:
        mean = sum((vectors[i] for i in row), np.zeros(2, dtype=object)) / Fraction(batch)
        total = total + np.outer(mean, mean)
    return total / Fraction(len(rows))


@pytest.mark.parametrize("replace", [True, False])
def test_batch_moments_equal_enumeration(replace):
    rng = np.random.default_rng(0)
    n, batch = 5, 3
    vectors = [np.array([Fraction(int(v)) for v in rng.integers(-5, 6, 2)], dtype=object) for _ in range(n)]
    moment = batch_moment(2, Sampling(batch, n, replace))
    same = sum((np.outer(v, v) for v in vectors), np.zeros((2, 2), dtype=object))
    distinct = sum((np.outer(vectors[i], vectors[j]) for i in range(n) for j in range(n) if i != j),
                   np.zeros((2, 2), dtype=object))
    c_same, c_distinct = (Fraction(str(moment.get(p, 0))) for p in ((0, 0), (0, 1)))
    assert (c_same * same + c_distinct * distinct == _enumerated_second_moment(vectors, batch, replace)).all()


def test_minibatch_covariance_factors():
    assert sympy.simplify(minibatch_covariance(Sampling(B, N, True)) - 1 / (N * B)) == 0
    assert sympy.simplify(minibatch_covariance(Sampling(B, N, False)) - (N - B) / (N * B * (N - 1))) == 0
    assert minibatch_covariance(Sampling(4, 4, False)) == 0  # the full batch has no noise
    assert minibatch_covariance(Sampling(1, 8, False)) == minibatch_covariance(Sampling(1, 8, True))


@pytest.mark.parametrize("bad", [dict(batch=0, examples=4), dict(batch=5, examples=4, replace=False),
                                 dict(batch=1, examples=1), dict(batch=2.5, examples=4)])
def test_sampling_rejects_bad_options(bad):
    with pytest.raises(SamplingError):
        Sampling(**bad)


def test_printed_drift_is_li_tai_e_at_order_2():
    data = json.loads(render(sme(2, B, N, replace=False), "json"))
    assert data["drift"] == [{"order": 1, "terms": [{"tree": "f", "coeff": "1"}]},
                             {"order": 2, "terms": [{"tree": "f[f]", "coeff": "-1/2"}]}]
    loss = {(o["order"], t["tree"]): sympy.Rational(t["coeff"]) for o in data["drift_loss"] for t in o["terms"]}
    assert loss == {(1, "L"): 1, (2, "L[L|]"): sympy.Rational(1, 4)}  # -∇(L + h/4 ‖∇L‖²)
    (term,) = data["diffusion"]["terms"]
    names = {n: sympy.Symbol(n) for n in data["symbols"]}
    coeff = sympy.parse_expr(term["coeff"], local_dict=names)
    assert sympy.simplify(coeff - (names["n"] - names["B"]) / (names["B"] * names["n"] * (names["n"] - 1))) == 0
    assert term["left"] == [{"tree": "f_i", "coeff": "1"}, {"tree": "f", "coeff": "-1"}] == term["right"]
    text = render(sme(2, 4, 8), "text")
    assert "f₂ = -1/2 f'f" in text and "L + h/4 ‖∇L‖²" in text and "1/32 Σ_i (f^[i] - f) ⊗ (f^[i] - f)" in text


def test_order_1_drift_has_no_correction():
    data = JsonPrinter().data(sme(1, 2, 6))
    assert data["drift"] == [{"order": 1, "terms": [{"tree": "f", "coeff": "1"}]}]
    with pytest.raises(ValueError):
        sme(3, 2, 6)


def test_reshuffling_covariance_coefficients():
    terms = {t.letters: t.coeff for t in epoch_covariance()}
    assert terms == {("i", "j", "i", "j"): sympy.Rational(1, 8), ("i", "j", "i", "k"): sympy.Rational(1, 12)}


# -- numerics on a small problem (n = 6 examples, d = 2) ---------------------------------

X = jax.random.normal(jax.random.PRNGKey(0), (6, 2))
Y = jnp.arange(6.0) / 3
THETA = jnp.array([0.3, -0.2])


def loss(theta, example):
    x, y = example
    r = x @ theta - y
    return 0.5 * r**2 + 0.25 * r**4


def test_diffusion_covariance_is_h_sigma():
    h, batch = 0.1, 2
    apply = diffusion(loss, h, batch, 6, replace=False)
    g = jax.jacobian(lambda xi: apply(THETA, (X, Y), xi))(jnp.zeros(6))  # d × n, the noise map
    grads = per_example_gradients(loss)(THETA, (X, Y))
    centred = grads - grads.mean(0)
    sigma = (6 - batch) / (6 - 1) / batch * centred.T @ centred / 6
    np.testing.assert_allclose(g @ g.T, h * sigma, rtol=1e-12, atol=1e-15)
    assert covariance_factor(batch, 6, False) == pytest.approx((6 - batch) / (6 * batch * 5))
    b = drift(loss, h)(THETA, (X, Y))
    full = jax.grad(lambda t: jnp.mean(jax.vmap(loss, (None, 0))(t, (X, Y))))
    hess = jax.hessian(lambda t: jnp.mean(jax.vmap(loss, (None, 0))(t, (X, Y))))(THETA)
    np.testing.assert_allclose(b, -full(THETA) - h / 2 * hess @ full(THETA), rtol=1e-12)


@pytest.mark.parametrize("order,replace", [(1, False)])  # with replacement: tests/test_stochastic_cli.py
def test_one_step_weak_order(order, replace):
    hs = np.geomspace(0.002, 0.02, 5)
    errors = weak_errors(loss, (X, Y), THETA, hs, 2, replace, order)
    assert abs(fitted_slope(hs, errors) - (order + 1)) < 0.15


def test_reshuffling_epoch_noise_leading_order():
    def field(k):
        return lambda t: -jax.grad(lambda s: loss(s, (X[k], Y[k])) + loss(s, (X[k + 3], Y[k + 3])))(t)

    hs = np.geomspace(0.002, 0.02, 5)
    errors, covariance = epoch_covariance_errors([field(k) for k in range(3)], THETA, hs)
    assert abs(fitted_slope(hs, covariance) - 4) < 0.1
    assert abs(fitted_slope(hs, errors) - 5) < 0.15
