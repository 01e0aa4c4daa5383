"""Cheap mode of the generated factories (``hvp="finite-difference"``), gradient reuse and
the optax transform's errors (issue 15).

The forward difference replaces each Hessian-vector product ``D g(θ)[v]`` by
``(g(θ + εv) − g(θ))/ε`` with ``ε = sqrt(eps)/‖v‖``; the factories' docstrings state a
relative error ``≈ sqrt(eps)(c₁ + c₂‖θ‖)``, within ``10 sqrt(eps)(1 + ‖θ‖)`` here. gd's
order-2 drift is exactly one such
product (``-(h/2) f'f``), so it is compared with the exact one against that bound, in
float64 and float32.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree

from bea.codegen import functions
from bea.derive import derive
from bea.schemes import build

optax = pytest.importorskip("optax")
H = 0.1


def _problem(dtype):
    rng = np.random.default_rng(5)
    x = jnp.asarray(rng.normal(size=(20, 4)), dtype)
    y = jnp.asarray(rng.normal(size=(20, 1)), dtype)
    params = {"w1": jnp.asarray(rng.normal(size=(4, 8)) * 0.6, dtype), "b1": jnp.zeros(8, dtype),
              "w2": jnp.asarray(rng.normal(size=(8, 1)) * 0.6, dtype)}

    def loss(p, x, y):
        return jnp.mean((jnp.tanh(x @ p["w1"] + p["b1"]) @ p["w2"] - y) ** 2)

    return loss, params, (x, y)


@pytest.mark.parametrize("dtype", [jnp.float64, jnp.float32])
@pytest.mark.parametrize("name", ["implicit_drift", "modified_field", "drift_correction"])
def test_finite_difference_within_its_stated_error(dtype, name):
    loss, params, batch = _problem(dtype)
    m = functions(derive(build("gd", 2), 2))
    exact = ravel_pytree(getattr(m, name)((loss,), H)(params, *batch))[0]
    cheap = ravel_pytree(getattr(m, name)((loss,), H, hvp="finite-difference")(params, *batch))[0]
    assert cheap.dtype == dtype
    eps = float(jnp.finfo(dtype).eps)
    bound = 10 * np.sqrt(eps) * (1 + float(jnp.linalg.norm(ravel_pytree(params)[0])))
    error = float(jnp.linalg.norm(cheap - exact) / jnp.linalg.norm(exact))
    assert error < bound
    assert error > 0  # it is a different computation, not the exact one by another name


def test_no_difference_where_a_higher_derivative_computes_the_hvp():
    """gd order 3: f'f is the inner jvp of f''(f, f) + c f'(f'f) (one jvp, bea.bseries.plan), so the
    cheap mode keeps it exact (a difference of gradients would cost one gradient more)."""
    loss, params, batch = _problem(jnp.float64)
    m = functions(derive(build("gd", 3), 3))
    exact = ravel_pytree(m.modified_field((loss,), H)(params, *batch))[0]
    cheap = ravel_pytree(m.modified_field((loss,), H, hvp="finite-difference")(params, *batch))[0]
    np.testing.assert_array_equal(cheap, exact)


def test_regularizer_loss_gradient_finite_difference():
    loss, params, batch = _problem(jnp.float64)
    m = functions(derive(build("gd", 2), 2))
    exact = jax.grad(m.implicit_regularizer((loss,), H))(params, *batch)
    cheap = jax.grad(m.implicit_regularizer((loss,), H, hvp="finite-difference"))(params, *batch)
    np.testing.assert_allclose(ravel_pytree(cheap)[0], ravel_pytree(exact)[0], rtol=1e-6, atol=1e-12)


def test_bad_hvp_is_an_error():
    m = functions(derive(build("gd", 2), 2))
    with pytest.raises(ValueError, match="hvp must be"):
        m.modified_field((lambda p: p,), H, hvp="fast")


def test_given_gradient_is_used():
    loss, params, batch = _problem(jnp.float64)
    m = functions(derive(build("gd", 2), 2))
    g = jax.grad(loss)(params, *batch)
    field = m.modified_field((loss,), H)
    a, b = ravel_pytree(field(params, *batch))[0], ravel_pytree(field(params, *batch, gradient=g))[0]
    np.testing.assert_allclose(a, b, rtol=1e-12)
    zero = jax.tree_util.tree_map(jnp.zeros_like, g)  # a wrong gradient changes the result: it is used
    assert not np.allclose(ravel_pytree(field(params, *batch, gradient=zero))[0], a)


@pytest.mark.parametrize("scale", [1.0, -1.0])
def test_transform_reusing_the_gradient_and_cheap(scale):
    from bea.codegen.optax import regularizer_transform

    loss, params, batch = _problem(jnp.float64)
    m = functions(derive(build("gd", 2), 2))
    g = jax.grad(loss)(params, *batch)
    out = {}
    for reuse in (True, False):
        for hvp in ("exact", "finite-difference"):
            tx = optax.chain(regularizer_transform(m, (loss,), H, scale=scale, hvp=hvp, reuse_gradient=reuse),
                             optax.sgd(H))
            out[reuse, hvp] = ravel_pytree(tx.update(g, tx.init(params), params, batch=batch)[0])[0]
    np.testing.assert_allclose(out[True, "exact"], out[False, "exact"], rtol=1e-12)
    np.testing.assert_allclose(out[True, "finite-difference"], out[True, "exact"], rtol=1e-6)


def test_missing_batch_is_named():
    from bea.codegen.optax import regularizer_transform

    loss, params, batch = _problem(jnp.float64)
    m = functions(derive(build("gd", 2), 2))
    tx = regularizer_transform(m, (loss,), H)
    with pytest.raises(TypeError, match="batch=") as info:
        tx.update(jax.grad(loss)(params, *batch), tx.init(params), params)
    assert "missing batch" in str(info.value)
