"""Generated code for Muon's modified flow: a dense reference, and jit, vmap and grad.

The emitted ``modified_field(losses, h, *, O, beta)`` takes the orthogonalization ``O`` on
one matrix and applies it leaf by leaf; on a pytree of two matrices (3×5 and 4×4) it must
equal the flow built from dense matrices: the Hessian of the flattened loss and the
Jacobians of the leafwise ``O`` (order 2), and the evaluator of the checks (order 3).
"""

import jax
import jax.numpy as jnp
import numpy as np
import sympy
from jax.flatten_util import ravel_pytree

from bea.check.common import float64
from bea.codegen import functions
from bea.coordinatewise.evaluate import evaluate
from bea.derive import derive
from bea.schemes import build
from bea.schemes.muon import newton_schulz

H = 0.01
BETA = sympy.Rational(1, 2)
O = newton_schulz()


def _leafwise(tree):
    return jax.tree_util.tree_map(O, tree)


def _problem():
    rng = np.random.default_rng(1)
    params = {"a": jnp.asarray(rng.normal(size=(3, 5))), "b": jnp.asarray(rng.normal(size=(4, 4)) / 2)}
    x = jnp.asarray(rng.normal(size=(7, 5)))
    v = jnp.asarray(rng.normal(size=4))

    def loss(p):
        return 0.5 * jnp.sum((jnp.tanh(jnp.tanh(x @ p["a"].T) @ jnp.ones((3, 4)) @ p["b"]) @ v) ** 2)

    return params, loss


def test_generated_field_equals_a_dense_reference_and_runs_under_jit_vmap_grad():
    d2 = derive(build("muon", 2, beta=BETA), 2)
    d3 = derive(build("muon", 3, beta=BETA), 3)
    with float64():
        params, loss = _problem()
        flat, unravel = ravel_pytree(params)
        g = jax.grad(loss)(params)
        o = _leafwise(g)
        hess = jax.hessian(lambda z: loss(unravel(z)))(flat)                      # dense ∇²L
        jac = jax.jacobian(lambda z: ravel_pytree(_leafwise(unravel(z)))[0])(ravel_pytree(g)[0])  # dense DO(g)
        c2 = -(1 - BETA + 2 * BETA**2) / (2 - 2 * BETA)
        dense = -ravel_pytree(o)[0] + H * float(c2) * (jac @ (hess @ ravel_pytree(o)[0]))

        field2 = functions(d2, {"beta": BETA}).modified_field((lambda p: loss(p),), H, O=O)
        np.testing.assert_allclose(ravel_pytree(field2(params))[0], dense, rtol=1e-10, atol=1e-12)

        module = functions(d3, {"beta": BETA})
        field = jax.jit(module.modified_field((lambda p: loss(p),), H, O=O))
        got = ravel_pytree(field(params))[0]
        terms = evaluate(list(d3.flow[1:]), {"f": lambda p: jax.tree_util.tree_map(jnp.negative, jax.grad(loss)(p)),
                                             "O": _leafwise}, params, {"beta": 0.5})
        reference = sum(H**k * ravel_pytree(t)[0] for k, t in enumerate(terms))
        np.testing.assert_allclose(got, reference, rtol=1e-10, atol=1e-12)

        batch = jax.tree_util.tree_map(lambda leaf: jnp.stack([leaf, 0.5 * leaf]), params)
        stacked = jax.vmap(field)(batch)
        np.testing.assert_allclose(ravel_pytree(jax.tree_util.tree_map(lambda x: x[0], stacked))[0], got,
                                   rtol=1e-12, atol=1e-14)

        drift = module.implicit_drift((lambda p: loss(p),), H, O=O)
        grads = jax.grad(lambda p: sum(jnp.sum(x**2) for x in jax.tree_util.tree_leaves(drift(p))))(params)
        assert all(bool(jnp.all(jnp.isfinite(x))) for x in jax.tree_util.tree_leaves(grads))
        assert float(sum(jnp.sum(jnp.abs(x)) for x in jax.tree_util.tree_leaves(grads))) > 0
