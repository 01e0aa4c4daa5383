"""Test problems for numerical verification: losses for any rule's atoms, in float64.

A :class:`Problem` holds one scalar loss per loss name the rule's atoms use and the
initial parameters ``θ_0``. A rule over ``n`` distinct losses (``L`` for gd / rk /
momentum; ``L1 … Lm`` for an SGD epoch; one loss per task) gets ``n`` *members* of a
problem family: the data split into ``n`` batches (least squares, logistic regression,
MLP) or ``n`` random instances (quadratic, quartic, Rosenbrock). A single loss gets the
whole problem. Games (parameter blocks ``x, y``) get ``E`` (zero-sum) or
``L_x = E``, ``L_y = -E`` with ``θ_0 = (x_0, y_0)``.

Non-polynomial problems (logistic, mlp, dirac-gan) are the ones to measure slopes on: on
a quadratic every tree with a node of two or more children vanishes, on a quartic every
node of four or more, so a wrong coefficient there can go unseen.

A user's problem: ``--problem path.py:name``, where ``name`` is a dict, or a function of
no argument or of the tuple of loss names the rule needs, giving::

    {"losses": {"L": callable(params) -> scalar, ...},   # one per loss name
     "params": initial parameters (a pytree; lists become float64 arrays;
                a tuple (x, y) of blocks for games),
     "description": "optional text"}

The file is imported as a module (it is the user's code, run as such).

Problems are built in float64 (:func:`bea.check.common.float64`), and a built-in problem
whose data would exceed :data:`~bea.check.common.MEMORY_LIMIT` (counting
:data:`WORKING_COPIES` copies of it for the elementary differentials and solver stages)
is refused before anything is allocated. A problem whose losses are not finite at
``θ_0`` is refused when it is built.
"""

from __future__ import annotations

import functools
import inspect
from dataclasses import dataclass, field
from typing import Callable, Mapping

import jax
import jax.numpy as jnp
import numpy as np

from .._loading import load_attribute
from .common import MEMORY_LIMIT, CheckError, float64, human_bytes

__all__ = ["Problem", "ProblemError", "PROBLEMS", "make_problem", "load_problem", "loss_names",
           "problem_bytes", "WORKING_COPIES"]

WORKING_COPIES = 16
"""Copies of a problem's data a check holds at once (a rough bound for the estimate)."""


class ProblemError(CheckError):
    """A problem that is unknown, malformed, too large, not finite, or does not fit the rule."""


@dataclass(frozen=True)
class Problem:
    """Losses by name and initial parameters ``θ_0`` (float64 pytrees).

    ``compiled`` holds what the check builds on this problem (flat coordinates, jitted
    fields, solvers), keyed by value, so that every rule over the same atoms shares it.
    """

    name: str
    losses: Mapping[str, Callable]
    params: object
    description: str = ""
    compiled: dict = field(default_factory=dict, compare=False, repr=False)


def loss_names(atoms) -> tuple[str, ...]:
    """The distinct loss names of ``atoms``, in order of first use."""
    return tuple(dict.fromkeys(a.loss for a in atoms))


def _batches(n_points: int, members: int) -> list[np.ndarray]:
    return np.array_split(np.arange(n_points), members)


def _quadratic(members, size, rng):
    """``L_i = ½(θ - c_i)ᵀ A_i (θ - c_i)``, ``A_i`` SPD with eigenvalues in [0.2, 1]."""
    d = size or 4
    out = []
    for _ in range(members):
        q, _ = np.linalg.qr(rng.normal(size=(d, d)))
        a = jnp.asarray(q @ np.diag(rng.uniform(0.2, 1.0, d)) @ q.T)
        c = jnp.asarray(rng.normal(size=d))
        out.append(lambda th, a=a, c=c: 0.5 * (th - c) @ a @ (th - c))
    return out, jnp.asarray(rng.normal(size=d) * 2)


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


_FAMILIES = {
    "quadratic": _quadratic,
    "quartic": _quartic,
    "rosenbrock": _rosenbrock,
    "least-squares": _least_squares,
    "logistic": _logistic,
    "mlp": _mlp,
}
_GAMES = {"bilinear": _bilinear, "dirac-gan": _dirac_gan}
PROBLEMS = {
    name: (fn.__doc__ or "").split("\n")[0] for name, fn in {**_FAMILIES, **_GAMES}.items()
}


def problem_bytes(name: str, members: int, size: int | None) -> int:
    """Bytes of float64 data (parameters and data set) of a built-in problem."""
    m = max(members, 1)
    d = size or {"least-squares": 5, "mlp": 96, "bilinear": 2, "dirac-gan": 1}.get(name, 4)
    numbers = {
        "quadratic": m * (d * d + d) + d,
        "quartic": m * (d + 2) * (d + 1) + d,
        "rosenbrock": 2,
        "least-squares": 24 * m * (d + 1) + d,
        "logistic": 16 * m * (d + 1) + d,
        "mlp": 16 * d + d * d + 3 * d + 1 + 16 * max(m, 2) * 17,
        "bilinear": d * d + 2 * d,
        "dirac-gan": 2 * d,
    }.get(name, 0)
    return 8 * numbers


def make_problem(name: str, atoms, blocks=(None,), size: int | None = None, seed: int = 0) -> Problem:
    """The built-in problem ``name`` with a loss for every loss name of ``atoms``.

    ``size`` sets the dimension (MLP: hidden width); ``seed`` the random instance. The
    same arguments give the same object (so compiled functions are reused). Refused
    (:class:`ProblemError`) when :data:`WORKING_COPIES` copies of its data exceed the
    memory limit.
    """
    need = WORKING_COPIES * problem_bytes(name, len(loss_names(atoms)), size)
    if need > MEMORY_LIMIT:
        raise ProblemError(
            f"problem {name} with --size {size} needs about {human_bytes(need)} "
            f"(limit {human_bytes(MEMORY_LIMIT)}); use a smaller --size")
    return _make_problem(name, tuple(atoms), tuple(blocks), size, seed)


@functools.lru_cache(maxsize=64)
def _make_problem(name, atoms, blocks, size, seed) -> Problem:
    with float64():
        return _finite(_build(name, atoms, blocks, size, seed))


def _finite(problem: Problem) -> Problem:
    """``problem``, after checking that every loss is finite at ``θ_0``."""
    for n, loss in problem.losses.items():
        try:
            value = float(loss(problem.params))
        except Exception as exc:  # the user's loss raised
            raise ProblemError(f"problem {problem.name}: loss {n} raised {type(exc).__name__}: {exc}") from None
        if not np.isfinite(value):
            raise ProblemError(f"problem {problem.name}: loss {n} is {value} at the initial parameters; "
                               "fix the loss or its params, or try another problem")
    return problem


def _build(name, atoms, blocks, size, seed) -> Problem:
    names = loss_names(atoms)
    rng = np.random.default_rng(seed)
    game = tuple(blocks) != (None,)
    if name in _GAMES:
        if tuple(blocks) != ("x", "y") or not set(names) <= {"E", "Lx", "Ly"}:
            raise ProblemError(f"problem {name} is a two-player game; use it with scheme game")
        energy, params = _GAMES[name](size, rng)
        by_name = {"E": energy, "Lx": energy, "Ly": lambda p: -energy(p)}
        return Problem(name, {n: by_name[n] for n in names}, params, PROBLEMS[name])
    if name in _FAMILIES:
        if game:
            raise ProblemError(f"problem {name} has one parameter block; a game needs bilinear or dirac-gan")
        members, params = _FAMILIES[name](len(names), size, rng)
        return Problem(name, dict(zip(names, members)), params, PROBLEMS[name])
    raise ProblemError(f"unknown problem {name!r}; choose one of {', '.join(PROBLEMS)} or FILE.py:NAME")


def load_problem(spec: str, atoms) -> Problem:
    """A user's problem from ``path.py:name`` (format in the module docstring)."""
    with float64():
        return _finite(_load(spec, atoms))


def _load(spec: str, atoms) -> Problem:
    target = load_attribute(spec, "--problem", ProblemError)
    attr = spec.rpartition(":")[2]
    names = loss_names(atoms)
    if callable(target):
        try:
            takes_names = len(inspect.signature(target).parameters) > 0
            target = target(names) if takes_names else target()
        except Exception as exc:  # the user's function raised
            raise ProblemError(f"problem {spec!r} raised {type(exc).__name__}: {exc}") from None
    if not isinstance(target, Mapping) or "losses" not in target or "params" not in target:
        raise ProblemError(f'problem {spec!r} must give a dict {{"losses": {{name: fn}}, "params": ...}}')
    losses = target["losses"]
    missing = [n for n in names if not (isinstance(losses, Mapping) and callable(losses.get(n)))]
    if missing:
        raise ProblemError(
            f"problem {spec!r} has no loss function for {', '.join(missing)} "
            f"(the rule needs {', '.join(names)})"
        )
    params = jax.tree_util.tree_map(lambda v: jnp.asarray(v, dtype=jnp.float64), target["params"],
                                    is_leaf=lambda v: isinstance(v, list))
    return Problem(attr, {n: losses[n] for n in names}, params, str(target.get("description", spec)))
