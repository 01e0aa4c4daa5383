"""Test problems for numerical verification: losses for any rule's atoms, in float64.

A :class:`Problem` holds one scalar loss per loss name the rule's atoms use and the
initial parameters ``θ_0``. A rule over ``n`` distinct losses (``L`` for gd / rk /
momentum; ``L1 … Lm`` for an SGD epoch; one loss per task) gets ``n`` *members* of a
problem family: the data split into ``n`` batches (least squares, logistic regression,
MLP) or ``n`` random instances (quadratic, quartic, Rosenbrock). A single loss gets the
whole problem. Games (parameter blocks ``x, y``) get ``E`` (zero-sum) or
``L_x = E``, ``L_y = -E`` with ``θ_0 = (x_0, y_0)``.

The families themselves are in :mod:`bea.check.families`.

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
from .families import FAMILIES, GAMES, PROBLEMS, problem_bytes

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
    if name in GAMES:
        if tuple(blocks) != ("x", "y") or not set(names) <= {"E", "Lx", "Ly"}:
            raise ProblemError(f"problem {name} is a two-player game; use it with scheme game")
        energy, params = GAMES[name](size, rng)
        by_name = {"E": energy, "Lx": energy, "Ly": lambda p: -energy(p)}
        return Problem(name, {n: by_name[n] for n in names}, params, PROBLEMS[name])
    if name in FAMILIES:
        if game:
            raise ProblemError(f"problem {name} has one parameter block; a game needs bilinear or dirac-gan")
        members, params = FAMILIES[name](len(names), size, rng)
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
