"""Weak-order checks of the SME and of the reshuffled epoch noise (library; no CLI).

**i.i.d. sampling.** One-step weak error ``e(h) = max_φ |E φ(θ_SGD) - E φ(X_h)|`` over the
test functions ``φ(θ) = θ_j``, ``θ_j θ_k`` (``j ≤ k``) and ``L(θ)``, from one point ``θ``:

* SGD side, exact: the mean of ``φ(θ + h f_S(θ))`` over every batch (all ``n^B`` ordered
  draws with replacement, all ``C(n, B)`` subsets without), ``n ≤ 8``;
* SDE side, from the Itô–Taylor (generator) expansion
  ``E φ(X_h) = Σ_{k=0}^{p+1} (h^k/k!) 𝓛^k φ(θ) + O(h^{p+2})``, ``𝓛ψ = ψ'b + ½ tr(h Σ ∇²ψ)``,
  exact up to that stated ``O(h^{p+2})``, below the ``O(h^{p+1})`` error of the
  weak-order-``p`` SME. On these
  tiny problems ``hΣ`` is formed densely from the centred per-example gradients and
  ``𝓛`` is applied with ``jax.jacfwd`` (verification only; the SME functions in
  :mod:`bea.stochastic.jaxsde` never form it).

Weak order ``p`` (Li, Tai & E, Thm. 3) gives a one-step error ``O(h^{p+1})``: the fitted
log–log slope is ``p + 1`` (2 for the drift ``-∇L``, 3 with ``-(h/4)∇‖∇L‖²``).

**Random reshuffling.** The covariance over all ``m!`` orderings of the epoch map
(enumerated, ``m ≤ 4``) against the leading ``h⁴ K(θ)`` of
:func:`bea.stochastic.reshuffle.epoch_covariance`: the error is ``O(h⁵)`` (slope 5), the
covariance itself ``O(h⁴)``.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from .jaxsde import covariance_factor, drift, mean_loss, per_example_gradients
from .reshuffle import epoch_covariance

__all__ = ["batches", "sgd_expectation", "sde_expectation", "test_functions",
           "weak_errors", "fitted_slope", "epoch_covariance_exact", "epoch_covariance_leading",
           "epoch_covariance_errors", "HS", "WeakCheck", "weak_check"]

def batches(n: int, batch: int, replace: bool) -> np.ndarray:
    """Every equally likely batch as rows of example indices."""
    pick = itertools.product(range(n), repeat=batch) if replace else itertools.combinations(range(n), batch)
    return np.array(list(pick), dtype=int)


def test_functions(loss_per_example: Callable, data) -> Callable:
    """``φ(θ) = (θ_j, θ_j θ_k for j ≤ k, L(θ))`` as one vector (``θ`` a flat array)."""
    loss = mean_loss(loss_per_example)

    def phi(theta):
        j, k = jnp.triu_indices(theta.shape[0])
        return jnp.concatenate([theta, theta[j] * theta[k], loss(theta, data)[None]])
    return phi


def sgd_expectation(phi: Callable, loss_per_example: Callable, data, theta, h, batch: int,
                    replace: bool = True):
    """``E φ(θ + h f_S(θ))``, exactly, as the mean over :func:`batches`."""
    grads = per_example_gradients(loss_per_example)(theta, data)
    rows = jnp.asarray(batches(grads.shape[0], batch, replace))
    steps = theta - h * jnp.mean(grads[rows], axis=1)
    return jnp.mean(jax.vmap(phi)(steps), axis=0)


def sde_expectation(phi: Callable, loss_per_example: Callable, data, theta, h, batch: int,
                    replace: bool = True, order: int = 2):
    """``Σ_{k≤order+1} (h^k/k!) 𝓛^k φ(θ)`` for the SME of weak ``order`` (module docstring)."""
    n = jax.tree_util.tree_leaves(data)[0].shape[0]
    c = covariance_factor(batch, n, replace)
    per_example = per_example_gradients(loss_per_example)
    b = drift(loss_per_example, h, order)

    def h_sigma(x):
        g = per_example(x, data)
        centred = g - jnp.mean(g, axis=0)
        return h * c * centred.T @ centred

    def generator(psi):
        def out(x):
            jacobian = jax.jacfwd(psi)
            hess, jac = jax.jacfwd(lambda y: (jacobian(y),) * 2, has_aux=True)(x)
            return jac @ b(x, data) + 0.5 * jnp.einsum("ajk,jk->a", hess, h_sigma(x))
        return out

    total, term = phi(theta), phi
    for k in range(1, order + 2):
        term = generator(term)
        total = total + h**k / math.factorial(k) * term(theta)
    return total


def weak_errors(loss_per_example: Callable, data, theta, hs: Sequence[float], batch: int,
                replace: bool = True, order: int = 2) -> np.ndarray:
    """One-step weak errors ``max_φ |E φ(θ_SGD) - E φ(X_h)|`` for each ``h`` in ``hs``."""
    phi = test_functions(loss_per_example, data)
    theta = jnp.asarray(theta)

    @jax.jit
    def error(h):
        sgd = sgd_expectation(phi, loss_per_example, data, theta, h, batch, replace)
        sde = sde_expectation(phi, loss_per_example, data, theta, h, batch, replace, order)
        return jnp.max(jnp.abs(sgd - sde))
    return np.array([float(error(h)) for h in hs])


def fitted_slope(hs: Sequence[float], errors: Sequence[float]) -> float:
    """Least-squares slope of ``log error`` against ``log h``."""
    return float(np.polyfit(np.log(hs), np.log(errors), 1)[0])


def _epoch(fields: Sequence[Callable], theta, h):
    for f in fields:
        theta = theta + h * f(theta)
    return theta


def epoch_covariance_exact(fields: Sequence[Callable], theta, h) -> np.ndarray:
    """``Cov_σ`` of the epoch map over all ``m!`` orderings of ``fields`` (the oracle)."""
    ends = jnp.stack([_epoch([fields[i] for i in s], theta, h)
                      for s in itertools.permutations(range(len(fields)))])
    centred = ends - jnp.mean(ends, axis=0)
    return np.asarray(centred.T @ centred / ends.shape[0])


def _bracket(fa: Callable, fb: Callable, theta):
    """``[f_a, f_b](θ) = f_b'f_a - f_a'f_b``."""
    return jax.jvp(fb, (theta,), (fa(theta),))[1] - jax.jvp(fa, (theta,), (fb(theta),))[1]


def epoch_covariance_leading(fields: Sequence[Callable], theta) -> np.ndarray:
    """``K(θ)`` with ``Cov_σ = h⁴ K + O(h⁵)``: the terms of :func:`epoch_covariance`
    summed over distinct minibatch indices."""
    m = len(fields)
    out = np.zeros((theta.shape[0], theta.shape[0]))
    for term in epoch_covariance():
        letters = term.indices
        for values in itertools.permutations(range(m), len(letters)):
            at = dict(zip(letters, values))
            a, b, c, d = (at[x] for x in term.letters)
            left = _bracket(fields[a], fields[b], theta)
            right = _bracket(fields[c], fields[d], theta)
            out += float(term.coeff) * np.outer(left, right)
    return out


def epoch_covariance_errors(fields: Sequence[Callable], theta, hs: Sequence[float]) -> tuple:
    """``(‖Cov_σ - h⁴K‖, ‖Cov_σ‖)`` per ``h`` (Frobenius norms): slopes 5 and 4."""
    leading = epoch_covariance_leading(fields, theta)
    exact = [epoch_covariance_exact(fields, theta, h) for h in hs]
    return (np.array([np.linalg.norm(e - h**4 * leading) for e, h in zip(exact, hs)]),
            np.array([np.linalg.norm(e) for e in exact]))


HS = tuple(np.geomspace(0.002, 0.02, 5))
"""The ``h`` sweep of :func:`weak_check`: inside the asymptotic range of the built-in
problem, above round-off for one-step errors ``O(h³)`` in float64."""


@dataclass
class WeakCheck:
    """One-step weak errors of the SME of each weak order ``1 … order`` against ``h``:
    ``errors[i]`` at ``hs``, fitted ``slopes[i]``, ``expected[i] = orders[i] + 1``."""

    orders: tuple
    hs: np.ndarray
    errors: list
    slopes: list
    tolerance: float

    @property
    def expected(self) -> list[int]:
        return [p + 1 for p in self.orders]

    def agrees(self, i: int) -> bool:
        return bool(np.isfinite(self.slopes[i]) and abs(self.slopes[i] - self.expected[i]) <= self.tolerance)

    @property
    def ok(self) -> bool:
        return all(self.agrees(i) for i in range(len(self.orders)))


def weak_check(order: int, loss_per_example: Callable, data, theta, batch: int, replace: bool,
               tolerance: float, hs: Sequence[float] = HS) -> WeakCheck:
    """:func:`weak_errors` for the SMEs of weak orders ``1 … order`` and their fitted slopes
    (expected ``p + 1``; agreement within ``tolerance``), in float64."""
    orders = tuple(range(1, order + 1))
    with jax.enable_x64(True):
        theta = jnp.asarray(theta, dtype=jnp.float64)
        data = jax.tree_util.tree_map(lambda a: jnp.asarray(a, dtype=jnp.float64), data)
        errors = [weak_errors(loss_per_example, data, theta, hs, batch, replace, p) for p in orders]
    slopes = [fitted_slope(hs, e) if np.all(e > 0) else float("nan") for e in errors]
    return WeakCheck(orders, np.asarray(hs), errors, slopes, tolerance)
