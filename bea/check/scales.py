"""Step sizes: the problem's rate ``λ``, the automatic h sweep and the default learning rate.

``λ`` is the largest Jacobian norm ``‖Df_c(θ_0)‖`` over the atoms (power iteration with
central-difference Jacobian-vector products: only its scale matters), times the size of
``f_1``'s coefficients, or the growth ``(‖F(t)‖ / ‖f‖)^{1/(|t|-1)}`` of the elementary
differentials at ``θ_0``, whichever is larger. The sweep is ``h λ`` geometric in
``[0.004, 0.4]``; the default drift learning rate is ``0.2 / ‖Df‖``.
"""

from __future__ import annotations

import numpy as np
import jax.numpy as jnp
from jax.flatten_util import ravel_pytree

from .flows import Solver
from .setup import Setup

__all__ = ["stiffness", "rate", "sweep", "DEFAULT_LR_FRACTION"]

DEFAULT_LR_FRACTION = 0.2
"""``drift`` without ``--lr`` uses ``h = DEFAULT_LR_FRACTION / λ``, ``λ`` from :func:`stiffness`."""


def stiffness(setup: Setup) -> float:
    """The largest Jacobian norm ``‖Df_c(θ_0)‖`` over the atoms (1 when all vanish)."""
    x0, unravel = ravel_pytree(setup.theta0)
    best = 0.0
    for f in setup.fields.values():
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


def rate(setup: Setup, solver: Solver, coeffs: list) -> float:
    """The rate ``λ`` of the h grid (module docstring)."""
    lam = stiffness(setup) * max(1.0, sum(abs(c) for c in coeffs[1].values()))
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
