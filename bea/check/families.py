"""The built-in problem families: data and losses, and their size in bytes.

A family builds ``members`` losses of one parameter vector: the data split into batches
(least squares, logistic regression, MLP) or random instances (quadratic, quartic,
Rosenbrock). A game builds one energy ``E(x, y)`` of two blocks. Non-polynomial problems
(logistic, mlp, dirac-gan) are the ones to measure slopes on: on a quadratic every tree
with a node of two or more children vanishes, on a quartic every node of four or more.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

__all__ = ["FAMILIES", "GAMES", "PROBLEMS", "problem_bytes"]


def _batches(n_points: int, members: int) -> list[np.ndarray]:
    return np.array_split(np.arange(n_points), members)


def _quadratics(members, d, rng, spectrum):
    """``members`` losses ``½(θ - c_i)ᵀA_i(θ - c_i)``, ``A_i = Q diag(spectrum(rng)) Qᵀ``."""
    out = []
    for _ in range(members):
        q, _ = np.linalg.qr(rng.normal(size=(d, d)))
        a = jnp.asarray(q @ np.diag(spectrum(rng)) @ q.T)
        c = jnp.asarray(rng.normal(size=d))
        out.append(lambda th, a=a, c=c: 0.5 * (th - c) @ a @ (th - c))
    return out, jnp.asarray(rng.normal(size=d) * 2)


def _quadratic(members, size, rng):
    """``L_i = ½(θ - c_i)ᵀ A_i (θ - c_i)``, ``A_i`` SPD with eigenvalues in [0.2, 1]."""
    d = size or 4
    return _quadratics(members, d, rng, lambda r: r.uniform(0.2, 1.0, d))


def _oscillating(members, size, rng):
    """``L_i = ½(θ - c_i)ᵀA_i(θ - c_i)``, eigenvalues of ``A_i`` evenly in [0.1, 1] (λ_max = 1):
    the principal flow's example (``drift --principal`` runs it at an oscillating rate)."""
    d = size or 6
    return _quadratics(members, d, rng, lambda r: np.linspace(0.1, 1.0, d))


def _quartic(members, size, rng):
    """``L_i = ¼ Σ_j (w_ijᵀθ - c_ij)⁴ + ½μ‖θ‖²`` (degree 4: five-child nodes vanish)."""
    d = size or 4
    out = []
    for _ in range(members):
        w = jnp.asarray(rng.normal(size=(d + 2, d)) / np.sqrt(d))
        c = jnp.asarray(rng.normal(size=d + 2))
        out.append(lambda th, w=w, c=c: 0.25 * jnp.sum((w @ th - c) ** 4) / w.shape[0] + 0.05 * th @ th)
    return out, jnp.asarray(rng.normal(size=d) * 0.5)


def _rosenbrock(members, size, rng):
    """``L_i = (a_i - x)² + b_i (y - x²)²`` (2-d; ``size`` ignored), ``a_i≈1, b_i≈1``."""
    out = []
    for _ in range(members):
        a, b = 1.0 + 0.2 * rng.normal(), rng.uniform(0.5, 1.5)
        out.append(lambda th, a=a, b=b: (a - th[0]) ** 2 + b * (th[1] - th[0] ** 2) ** 2)
    return out, jnp.asarray([-0.6, 0.4])


def _least_squares(members, size, rng):
    """``L_i = ‖X_i θ - y_i‖² / (2 n_i)`` on the i-th batch of one linear-regression set."""
    d = size or 5
    n = 8 * max(members, 1) * 3
    x = rng.normal(size=(n, d))
    y = x @ rng.normal(size=d) + 0.5 * rng.normal(size=n)
    out = []
    for idx in _batches(n, members):
        xb, yb = jnp.asarray(x[idx]), jnp.asarray(y[idx])
        out.append(lambda th, xb=xb, yb=yb: 0.5 * jnp.mean((xb @ th - yb) ** 2))
    return out, jnp.asarray(rng.normal(size=d))


def _logistic(members, size, rng):
    """``L_i = mean log(1 + exp(-y wᵀx)) + ½μ‖w‖²`` on the i-th batch (labels ±1)."""
    d = size or 4
    n = 16 * max(members, 1)
    x = rng.normal(size=(n, d)) * 1.5
    y = np.sign(x @ rng.normal(size=d) + 0.8 * rng.normal(size=n))
    out = []
    for idx in _batches(n, members):
        xb, yb = jnp.asarray(x[idx]), jnp.asarray(y[idx])
        out.append(lambda th, xb=xb, yb=yb: jnp.mean(jnp.logaddexp(0.0, -yb * (xb @ th))) + 0.05 * th @ th)
    return out, jnp.asarray(rng.normal(size=d) * 1.5)


def _mlp(members, size, rng):
    """Two tanh hidden layers of width ``size`` (default 96: 11 041 parameters), 16 inputs,
    squared error on a smooth target; the data split into batches."""
    width, d_in = size or 96, 16
    n = 16 * max(members, 2)
    x = rng.normal(size=(n, d_in))
    y = np.sin(x[:, 0]) + 0.5 * np.cos(x[:, 1] * x[:, 2])
    params = {
        "w1": jnp.asarray(rng.normal(size=(d_in, width)) / np.sqrt(d_in)),
        "b1": jnp.asarray(0.1 * rng.normal(size=width)),
        "w2": jnp.asarray(rng.normal(size=(width, width)) / np.sqrt(width)),
        "b2": jnp.asarray(0.1 * rng.normal(size=width)),
        "w3": jnp.asarray(rng.normal(size=(width, 1)) / np.sqrt(width)),
        "b3": jnp.asarray(np.zeros(1)),
    }

    def predict(p, xb):
        a = jnp.tanh(xb @ p["w1"] + p["b1"])
        a = jnp.tanh(a @ p["w2"] + p["b2"])
        return (a @ p["w3"] + p["b3"])[:, 0]

    out = []
    for idx in _batches(n, members):
        xb, yb = jnp.asarray(x[idx]), jnp.asarray(y[idx])
        out.append(lambda p, xb=xb, yb=yb: 0.5 * jnp.mean((predict(p, xb) - yb) ** 2))
    return out, params


def _matrix_mlp(members, size, rng):
    """The first-layer weight matrix W of a two-layer tanh network (default 3×5; --size k: k×k), squared error."""
    rows, cols = (size, size) if size else (3, 5)
    n = 12 * max(members, 2)
    x = rng.normal(size=(n, cols))
    y = np.sin(x[:, 0]) + 0.5 * x[:, 1] * x[:, -1]
    v = jnp.asarray(rng.normal(size=rows) / np.sqrt(rows))
    out = []
    for idx in _batches(n, members):
        xb, yb = jnp.asarray(x[idx]), jnp.asarray(y[idx])
        out.append(lambda w, xb=xb, yb=yb: 0.5 * jnp.mean((jnp.tanh(xb @ w.T) @ v - yb) ** 2))
    return out, jnp.asarray(rng.normal(size=(rows, cols)) / np.sqrt(cols))


def _bilinear(size, rng):
    """``E(x, y) = xᵀAy`` (x minimizes, y maximizes); the classic rotating field."""
    d = size or 2
    a = jnp.asarray(rng.normal(size=(d, d)) / np.sqrt(d) + np.eye(d))
    return (lambda p: p[0] @ a @ p[1]), (jnp.asarray(rng.normal(size=d)), jnp.asarray(rng.normal(size=d)))


def _dirac_gan(size, rng):
    """Dirac-GAN (Mescheder et al. 2018): generator ``x``, discriminator ``y``,
    ``E = φ(x·y) + φ(0)`` with ``φ(t) = -log(1 + e^{-t})``; vectors of length ``size``."""
    d = size or 1
    phi = lambda t: -jnp.logaddexp(0.0, -t)  # noqa: E731
    return (lambda p: phi(p[0] @ p[1]) + phi(0.0)), (jnp.asarray(np.full(d, 1.0)), jnp.asarray(np.full(d, 0.7)))


FAMILIES = {
    "quadratic": _quadratic,
    "oscillating": _oscillating,
    "quartic": _quartic,
    "rosenbrock": _rosenbrock,
    "least-squares": _least_squares,
    "logistic": _logistic,
    "mlp": _mlp,
    "matrix-mlp": _matrix_mlp,
}
GAMES = {"bilinear": _bilinear, "dirac-gan": _dirac_gan}
PROBLEMS = {
    name: (fn.__doc__ or "").split("\n")[0] for name, fn in {**FAMILIES, **GAMES}.items()
}


def problem_bytes(name: str, members: int, size: int | None) -> int:
    """Bytes of float64 data (parameters and data set) of a built-in problem."""
    m = max(members, 1)
    d = size or {"least-squares": 5, "mlp": 96, "bilinear": 2, "dirac-gan": 1, "oscillating": 6}.get(name, 4)
    numbers = {
        "quadratic": m * (d * d + d) + d,
        "oscillating": m * (d * d + d) + d,
        "quartic": m * (d + 2) * (d + 1) + d,
        "rosenbrock": 2,
        "least-squares": 24 * m * (d + 1) + d,
        "logistic": 16 * m * (d + 1) + d,
        "mlp": 16 * d + d * d + 3 * d + 1 + 16 * max(m, 2) * 17,
        "matrix-mlp": (d * d if size else 15) + 12 * max(m, 2) * (d + 2 if size else 6) + d,
        "bilinear": d * d + 2 * d,
        "dirac-gan": 2 * d,
    }.get(name, 0)
    return 8 * numbers
