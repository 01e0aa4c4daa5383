"""An optax gradient transformation that makes the implicit regularizer explicit.

Gradient descent with step ``h`` follows ``θ' = f_1 + D(θ)`` with the drift
``D = h f_2 + … + h^{N-1} f_N`` (generated ``implicit_drift``). Where the modified loss
exists, ``D = -∇R`` with ``R`` the implicit regularizer. Adding ``-scale·D`` to the
gradient an optimizer receives therefore

* ``scale=+1``: adds ``∇R`` — trains on ``L + R``, doubling the implicit regularization
  (an explicit copy of it);
* ``scale=-1``: removes ``∇R`` — the iterates follow the plain gradient flow of ``L`` to
  the derivation's order (drift cancelled).

Using the drift field rather than ``jax.grad(R)`` costs the same (Hessian-vector products)
and also works when no modified loss exists (then ``-D`` is not a gradient).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import optax

__all__ = ["regularizer_transform"]


def regularizer_transform(module, losses, h, scale: float = 1.0, **params) -> optax.GradientTransformationExtraArgs:
    """``updates ↦ updates - scale·D(params, *batch)`` for ``module`` from
    :func:`bea.codegen.functions` (or an imported generated module).

    ``losses``, ``h`` and ``params`` are passed to ``module.implicit_drift``; the loss
    arguments reach it as the extra argument ``batch`` (a tuple) of ``update``:
    ``tx.update(grads, state, params, batch=(x, y))``. Use in ``optax.chain`` before the
    step, e.g. ``optax.chain(regularizer_transform(m, (loss,), h), optax.sgd(h))``.
    """
    drift = module.implicit_drift(losses, h, **params)

    def init_fn(params_):
        return optax.EmptyState()

    def update_fn(updates, state, params_=None, **extra_args):
        if params_ is None:
            raise ValueError("the bea regularizer transform needs params: tx.update(grads, state, params)")
        d = drift(params_, *extra_args.get("batch", ()))
        new = jax.tree_util.tree_map(lambda u, x: u - jnp.asarray(scale, u.dtype) * x, updates, d)
        return new, state

    return optax.GradientTransformationExtraArgs(init_fn, update_fn)
