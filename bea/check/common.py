"""What every part of the check shares: its error, its precision, its limits, and norms
of pytree differences.

float64 is scoped: :func:`float64` is a context in which the check builds its problems and
runs its computations; importing :mod:`bea` or :mod:`bea.check` leaves
``jax_enable_x64`` as it was.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

__all__ = ["CheckError", "float64", "MEMORY_LIMIT", "ITERATION_LIMIT", "norm", "sub", "human_bytes"]

MEMORY_LIMIT = 2 * 1024 ** 3
"""Bytes a numerical run may hold (problem data, iterates, trajectories): about 2 GB."""

ITERATION_LIMIT = 10 ** 6
"""Most calls of the rule one ``drift`` run makes."""


class CheckError(ValueError):
    """Numerical verification cannot run as asked: bad input, a problem that is not finite,
    a solver failure, or work beyond a limit. The message is one line naming what to try."""


def float64():
    """Context in which JAX computes in float64 (the check's own computations only)."""
    return jax.enable_x64(True)


def human_bytes(n: float) -> str:
    """``n`` bytes in binary units, e.g. ``2.1 GB``."""
    units = ("bytes", "KB", "MB", "GB", "TB", "PB", "EB")
    i = 0
    while n >= 1024 and i < len(units) - 1:
        n, i = n / 1024, i + 1
    return f"{n:.3g} {units[i]}"


def norm(tree) -> float:
    """Euclidean norm over the leaves of a pytree."""
    return float(jnp.sqrt(sum(jnp.vdot(x, x) for x in jax.tree_util.tree_leaves(tree))))


def sub(a, b):
    return jax.tree_util.tree_map(jnp.subtract, a, b)
