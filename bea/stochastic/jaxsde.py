"""JAX drift and diffusion of the SME (Li, Tai & E), matrix-free, and a diffrax simulator.

Conventions as in :mod:`bea.stochastic.sme`: time ``h`` per SGD step, the Itô SDE
``dθ = b dt + √(h Σ) dW`` with ``Σ`` the covariance of the minibatch gradient.
``loss_per_example(params, example)`` is the loss ``ℓ_i`` of one example; ``data`` is a
pytree whose leaves have a leading axis of length ``n`` (the examples); ``L`` is the mean.

* ``b = -∇L`` (weak order 1) or ``-∇L - (h/2)∇²L ∇L`` (order 2), the Hessian-vector
  product by ``jax.jvp`` of ``jax.grad`` (no Hessian is formed).
* The diffusion is applied to a noise vector ``ξ ∈ R^n`` (one entry per example):
  ``G(θ) ξ = √(h c) Σ_i ξ_i (∇ℓ_i - ∇L)`` with per-example gradients by ``jax.vmap``
  and ``c`` from :func:`bea.stochastic.moments.minibatch_covariance` (``1/(nB)``, times
  ``(n-B)/(n-1)`` without replacement). Its covariance is right:
  ``G Gᵀ = h c Σ_i (∇ℓ_i - ∇L)(∇ℓ_i - ∇L)ᵀ = h Σ``. The noise dimension is ``n`` because
  ``Σ`` is a sum of ``n`` rank-one terms; no ``d × d`` matrix is formed.
"""

from __future__ import annotations

import math
from typing import Callable

import diffrax
import jax
import jax.numpy as jnp
import lineax

from .moments import Sampling, minibatch_covariance

__all__ = ["mean_loss", "per_example_gradients", "drift", "diffusion", "covariance_factor",
           "simulate"]


def mean_loss(loss_per_example: Callable) -> Callable:
    """``L(params, data) = (1/n) Σ_i ℓ_i(params, data_i)``."""
    def loss(params, data):
        return jnp.mean(jax.vmap(loss_per_example, in_axes=(None, 0))(params, data))
    return loss


def per_example_gradients(loss_per_example: Callable) -> Callable:
    """``(params, data) ↦ ∇ℓ_i(params)`` stacked on a leading axis of length ``n``."""
    return jax.vmap(jax.grad(loss_per_example), in_axes=(None, 0))


def drift(loss_per_example: Callable, h: float, order: int = 2) -> Callable:
    """``b(params, data)``: ``-∇L`` (order 1) or ``-∇(L + (h/4)‖∇L‖²)`` (order 2)."""
    if order not in (1, 2):
        raise ValueError(f"the SME drift is derived to weak order 1 or 2, got {order!r}")
    grad = jax.grad(mean_loss(loss_per_example))

    def b(params, data):
        g = grad(params, data)
        if order == 1:
            return jax.tree_util.tree_map(jnp.negative, g)
        hg = jax.jvp(lambda p: grad(p, data), (params,), (g,))[1]
        return jax.tree_util.tree_map(lambda gi, hgi: -gi - (h / 2) * hgi, g, hg)
    return b


def covariance_factor(batch: int, examples: int, replace: bool = True) -> float:
    """``c`` of ``Σ = c Σ_i (∇ℓ_i - ∇L)(∇ℓ_i - ∇L)ᵀ`` as a float (exact derivation)."""
    return float(minibatch_covariance(Sampling(batch, examples, replace)))


def diffusion(loss_per_example: Callable, h: float, batch: int, examples: int,
              replace: bool = True) -> Callable:
    """``(params, data, noise) ↦ √(h c) Σ_i noise_i (∇ℓ_i - ∇L)``, ``noise`` of shape ``(n,)``."""
    scale = math.sqrt(h * covariance_factor(batch, examples, replace))
    per_example = per_example_gradients(loss_per_example)

    def apply(params, data, noise):
        grads = per_example(params, data)

        def leaf(g):
            centred = g - jnp.mean(g, axis=0)
            return scale * jnp.tensordot(noise, centred, axes=1)
        return jax.tree_util.tree_map(leaf, grads)
    return apply


def simulate(loss_per_example: Callable, data, params0, h: float, steps: int, batch: int,
             keys, order: int = 2, replace: bool = True, substeps: int = 4, save_every: int = 1):
    """Paths of the SME over ``steps`` SGD steps of time ``h``, with diffrax.

    ``MultiTerm(ODETerm(b), ControlTerm(G, VirtualBrownianTree))`` with diffrax's Itô
    ``Euler`` (Euler–Maruyama) at ``dt = h/substeps``: weak error ``O(h/substeps)`` on
    top of the SME's own. ``key`` may carry a leading batch axis (one path per key,
    ``jax.vmap``). Returns ``(ts, ys)`` with ``ys`` the parameters at ``ts = 0, h·save_every, …``.
    """
    n = jax.tree_util.tree_leaves(data)[0].shape[0]
    b = drift(loss_per_example, h, order)
    g = diffusion(loss_per_example, h, batch, n, replace)
    t1 = steps * h
    ts = jnp.arange(0, steps + 1, save_every) * h
    noise_shape = jax.ShapeDtypeStruct((n,), jnp.result_type(float))

    def operator(t, y, args):
        return lineax.FunctionLinearOperator(lambda xi: g(y, data, xi), noise_shape)

    def one(k):
        bm = diffrax.VirtualBrownianTree(0.0, t1, tol=h / (8 * substeps), shape=noise_shape, key=k)
        terms = diffrax.MultiTerm(diffrax.ODETerm(lambda t, y, args: b(y, data)),
                                  diffrax.ControlTerm(operator, bm))
        sol = diffrax.diffeqsolve(terms, diffrax.Euler(), 0.0, t1, h / substeps, params0,
                                  saveat=diffrax.SaveAt(ts=ts), max_steps=steps * substeps + 8)
        return sol.ys

    return ts, jax.jit(jax.vmap(one))(keys)
