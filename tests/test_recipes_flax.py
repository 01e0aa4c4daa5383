"""The flax recipes of docs/recipes.md, run as written (issue 24).

Each ``<!-- recipe: NAME -->`` code block of the document is executed verbatim: the model
block, then (after its parameters are cast to float64) the glue block, then three jitted
training steps on a tiny MLP with BatchNorm. Every step must move the parameters by
``-h·(∇L + (h/2)∇²L ∇L)``, the gradient of ``L + (h/4)‖∇L‖²`` with ``∇²L`` a dense
``jax.hessian`` of a hand-written training-mode loss (batch statistics), and must update
the BatchNorm running averages as BatchNorm does (momentum 0.99 toward the batch's
statistics at the old parameters). The NNX recipe's logging line must give the regularizer
``(h/4)‖∇L‖²`` from the model's own ``nnx.split`` states.
"""

from __future__ import annotations

import pathlib
import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree

pytest.importorskip("flax", minversion="0.12")  # nnx.Optimizer(model, tx, wrt=...), merge(..., copy=True)
pytest.importorskip("optax")

DOC = pathlib.Path(__file__).resolve().parent.parent / "docs" / "recipes.md"
BN_EPS, BN_MOMENTUM, STEPS = 1e-5, 0.99, 3


def recipe(name: str) -> str:
    """The code block after ``<!-- recipe: name -->`` in docs/recipes.md."""
    found = re.search(rf"<!-- recipe: {re.escape(name)} -->\n```python\n(.*?)```", DOC.read_text(), re.S)
    assert found, f"docs/recipes.md has no recipe {name!r}"
    return found.group(1)


def data():
    x = jax.random.normal(jax.random.PRNGKey(1), (16, 3), jnp.float64)
    return x, jnp.sin(x[:, :1] + 2 * x[:, 1:2])


def to_float64(tree):
    return jax.tree_util.tree_map(lambda a: a.astype(jnp.float64) if jnp.issubdtype(a.dtype, jnp.floating) else a,
                                  tree)


def pre_norm(w1, b1, x):
    return x @ w1 + b1


def train_loss(p, x, y):
    """The MLP of the recipes in training mode, by hand: Dense → BatchNorm(batch stats) → tanh → Dense."""
    z = pre_norm(p["w1"], p["b1"], x)
    z = (z - z.mean(0)) / jnp.sqrt(z.var(0) + BN_EPS) * p["scale"] + p["bias"]
    return jnp.mean((jnp.tanh(z) @ p["w2"] + p["b2"] - y) ** 2)


@jax.jit
def expected_step(p, h, x, y):
    """θ - h(g + (h/2) H g), H = jax.hessian of the flattened loss, and the size of the regularizer's part."""
    flat, unravel = ravel_pytree(p)
    f = lambda theta: train_loss(unravel(theta), x, y)  # noqa: E731
    g, hessian = jax.grad(f)(flat), jax.hessian(f)(flat)
    regularizer = h / 2 * hessian @ g
    return unravel(flat - h * (g + regularizer)), jnp.max(jnp.abs(h * regularizer))


def assert_close(got: dict, want: dict):
    assert got.keys() == want.keys()
    for k in want:
        np.testing.assert_allclose(got[k], want[k], rtol=1e-10, atol=1e-13, err_msg=k)


def check_steps(ns, x, y, params, batch_stats, step):
    """STEPS steps of ``step``; each against the dense reference and BatchNorm's running averages."""
    for _ in range(STEPS):
        before, (mean, var) = params(), batch_stats()
        want, regularizer = expected_step(before, ns["h"], x, y)
        assert float(regularizer) > 1e-5  # the regularizer moves the parameters far more than the tolerance
        step()
        assert_close(params(), want)
        z = pre_norm(before["w1"], before["b1"], x)
        new_mean, new_var = batch_stats()
        np.testing.assert_allclose(new_mean, BN_MOMENTUM * mean + (1 - BN_MOMENTUM) * z.mean(0), rtol=1e-12)
        np.testing.assert_allclose(new_var, BN_MOMENTUM * var + (1 - BN_MOMENTUM) * z.var(0), rtol=1e-12)


def test_nnx_optimizer_recipe_with_batchnorm():
    from flax import nnx

    with jax.enable_x64(True):
        ns: dict = {}
        exec(recipe("nnx-model"), ns)
        model = ns["model"]
        nnx.update(model, to_float64(nnx.state(model)))
        exec(recipe("nnx-glue"), ns)
        x, y = data()

        def params():
            p = nnx.to_pure_dict(nnx.state(model, nnx.Param))
            return {"w1": p["linear1"]["kernel"], "b1": p["linear1"]["bias"], "scale": p["bn"]["scale"],
                    "bias": p["bn"]["bias"], "w2": p["linear2"]["kernel"], "b2": p["linear2"]["bias"]}

        def batch_stats():
            return model.bn.mean[...], model.bn.var[...]

        check_steps(ns, x, y, params, batch_stats, lambda: ns["train_step"](model, ns["optimizer"], x, y))
        assert params()["w1"].dtype == jnp.float64
        ns["x"], ns["y"] = x, y
        exec(recipe("nnx-log"), ns)  # the generated function on the model's own nnx.split states
        g = jax.grad(train_loss)(params(), x, y)
        want = ns["h"] / 4 * sum(jnp.sum(a**2) for a in jax.tree_util.tree_leaves(g))
        np.testing.assert_allclose(ns["regularizer"], want, rtol=1e-12)


def test_linen_train_state_recipe_with_batchnorm():
    with jax.enable_x64(True):
        ns: dict = {}
        exec(recipe("linen-model"), ns)
        ns["variables"] = to_float64(ns["variables"])
        exec(recipe("linen-glue"), ns)
        x, y = data()
        box = {"state": ns["state"]}

        def params():
            p = box["state"].params
            return {"w1": p["Dense_0"]["kernel"], "b1": p["Dense_0"]["bias"], "scale": p["BatchNorm_0"]["scale"],
                    "bias": p["BatchNorm_0"]["bias"], "w2": p["Dense_1"]["kernel"], "b2": p["Dense_1"]["bias"]}

        def batch_stats():
            s = box["state"].batch_stats["BatchNorm_0"]
            return s["mean"], s["var"]

        def step():
            box["state"], _ = ns["train_step"](box["state"], x, y)

        check_steps(ns, x, y, params, batch_stats, step)
        assert int(box["state"].step) == STEPS
