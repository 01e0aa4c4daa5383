"""Step sizes: the problem's rate ``λ``, the automatic h sweep and the default learning rate.

``λ`` is the largest Jacobian norm ``‖Df_c(θ_0)‖`` over the atoms (power iteration with
central-difference Jacobian-vector products: only its scale matters), times the size of
``f_1``'s coefficients or their growth (:func:`growth`; momentum's grow like
``1/(1-β)²``), or the growth ``(‖F(t)‖ / ‖f‖)^{1/(|t|-1)}`` of the elementary differentials
at ``θ_0``, whichever is larger. The sweep is ``h λ`` geometric in
``[0.004, 0.4]``.

The default drift learning rate is ``DEFAULT_LR_FRACTION / Λ`` with ``Λ`` from
:func:`series_rate`: the rate at which the derivation's own series ``f_1 + h f_2 + …``
stops shrinking, not the atoms' rate alone. Its coefficients carry the rule's state: for
heavy-ball momentum ``f_1 = f/(1-β)`` and ``f_2 = -(1+β)/(2(1-β)³) f'f``, so ``Λ ≈
λ(1+β)/(2(1-β)²)``, the critical damping ``hλ = (1-√β)²`` up to a factor, past which the
iterates oscillate and no modified flow describes them (``0.2/λ`` was 95 times too large
at ``β = 0.9``: the loss rose 14-fold and the order-2 flow was no closer than the
gradient flow).
"""

from __future__ import annotations

import numpy as np
import jax.numpy as jnp
from jax.flatten_util import ravel_pytree

from ..bseries.evaluate import planned_sum
from .flows import Solver
from .setup import Setup

__all__ = ["stiffness", "field_stiffness", "series_rate", "growth", "rate", "sweep", "DEFAULT_LR_FRACTION"]

DEFAULT_LR_FRACTION = 0.2
"""``drift`` without ``--lr`` uses ``h = DEFAULT_LR_FRACTION / Λ``, ``Λ`` from :func:`series_rate`."""


def stiffness(setup: Setup) -> float:
    """The largest Jacobian norm ``‖Df_c(θ_0)‖`` over the atoms (1 when all vanish)."""
    return field_stiffness(setup.theta0, setup.fields.values())


def field_stiffness(theta0, fields) -> float:
    """The largest Jacobian norm ``‖Df(θ_0)‖`` over ``fields`` (1 when all vanish)."""
    x0, unravel = ravel_pytree(theta0)
    best = 0.0
    for f in fields:
        flat = lambda x, f=f: ravel_pytree(f(unravel(x)))[0]  # noqa: E731
        v = np.ones(x0.size) / np.sqrt(x0.size)
        eps = 1e-5 * (1.0 + float(jnp.linalg.norm(x0)))
        for _ in range(20):
            jv = np.asarray(flat(x0 + eps * v) - flat(x0 - eps * v)) / (2 * eps)
            size = np.linalg.norm(jv)
            best = max(best, size)
            if size == 0.0:
                break
            v = jv / size
    return best or 1.0


def series_rate(setup: Setup, coeffs: list) -> float:
    """``Λ = max(cycle·‖Df_1‖, λ·max_k (Σ_{|t|=k}|c(t)| / Σ_{|t|=1}|c(t)|)^{1/(k-1)})`` over the
    orders ``k ≥ 2`` of ``coeffs`` (``λ`` from :func:`stiffness`): at ``h = x/Λ`` one cycle of
    the leading flow moves by at most ``x`` of its own scale, and ``h^{k-1} f_k`` is at most
    about ``x^{k-1}`` times ``f_1`` (``‖F(t)‖ ≲ λ^{|t|-1}‖f‖``)."""
    lam = stiffness(setup)
    leaves = [(c, t) for t, c in coeffs[1].items() if c]
    lead = sum(abs(c) for c, _ in leaves)
    if not leaves:
        return lam
    if len(leaves) == 1:
        lam1 = lead * lam
    else:
        lam1 = field_stiffness(setup.theta0, [lambda theta: planned_sum(leaves, setup.fields, theta)])
    return max(setup.cycle * lam1, lam * growth(coeffs))


def growth(coeffs: list) -> float:
    """``max_k (Σ_{|t|=k}|c(t)| / Σ_{|t|=1}|c(t)|)^{1/(k-1)}`` over the orders ``k ≥ 2`` of
    ``coeffs`` (0 when ``f_1`` vanishes): how fast the series' coefficients grow."""
    lead = sum(abs(c) for c in coeffs[1].values())
    if not lead:
        return 0.0
    return max([(sum(abs(c) for c in coeffs[k].values()) / lead) ** (1.0 / (k - 1))
                for k in range(2, len(coeffs))], default=0.0)


def rate(setup: Setup, solver: Solver, coeffs: list) -> float:
    """The rate ``λ`` of the h grid (module docstring)."""
    lam = stiffness(setup) * max(1.0, sum(abs(c) for c in coeffs[1].values()), growth(coeffs))
    trees = solver.trees
    sizes = dict(zip(trees, np.asarray(solver.sizes(setup.theta0))))
    leaf = max(sizes[t] for t in trees if t.order == 1)
    for t in trees:
        if t.order > 1 and leaf > 0:
            lam = max(lam, (sizes[t] / leaf) ** (1.0 / (t.order - 1)))
    return lam


def sweep(lam: float, points: int = 14, low: float = 0.004) -> np.ndarray:
    """The automatic h grid: ``h λ`` geometric in ``[low, 0.4]`` (default ``[0.004, 0.4]``)."""
    return np.geomspace(low, 0.4, points) / lam
