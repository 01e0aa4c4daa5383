"""A derivation on a problem: flat coordinates, atom fields and numbers for its symbols.

Coordinates are shifted, ``u = θ - θ_0``, so that ``u_0 = 0``: round-off is then
relative to the displacement, not to ``θ_0``. The losses in these coordinates and the
jitted atom fields (:func:`bea.bseries.evaluate.fields_from_losses`) are kept in the problem's
``compiled`` dict, keyed by the atoms and blocks, so every rule over the same atoms
shares one compilation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import jax
import jax.numpy as jnp
from jax.flatten_util import ravel_pytree

from ..bseries.evaluate import fields_from_losses
from .problems import Problem
from .values import numeric_parameters, resolve_values, to_float

__all__ = ["Setup", "prepare"]


@dataclass
class Setup:
    """Everything the discrete map and the flows need, in float64 numbers."""

    derivation: object
    problem: Problem
    values: dict  # symbol name -> float
    theta0: object  # zero flat vector, or tuple of zero flat blocks
    fields: dict  # atom label -> jitted field of the flat parameters
    losses: dict  # loss name -> loss of the flat parameters
    params: dict  # rule.params as floats
    cycle: float

    @property
    def n_params(self) -> int:
        return int(sum(x.size for x in jax.tree_util.tree_leaves(self.theta0)))


def _flat(problem: Problem, atoms, blocks):
    key = ("flat", tuple(atoms), tuple(blocks))
    if key not in problem.compiled:
        if tuple(blocks) == (None,):
            base, unravel = ravel_pytree(problem.params)
            losses = {n: (lambda u, L=L: L(unravel(base + u))) for n, L in problem.losses.items()}
            theta0 = jnp.zeros_like(base, dtype=jnp.float64)
        else:
            parts = [ravel_pytree(p) for p in problem.params]
            losses = {
                n: (lambda us, L=L: L(tuple(unravel(b + u) for (b, unravel), u in zip(parts, us))))
                for n, L in problem.losses.items()
            }
            theta0 = tuple(jnp.zeros_like(b, dtype=jnp.float64) for b, _ in parts)
        fields = {k: jax.jit(f) for k, f in fields_from_losses(atoms, losses, blocks).items()}
        problem.compiled[key] = (theta0, fields, losses)
    return problem.compiled[key]


def prepare(derivation, problem: Problem, values: Mapping | None, notes: list | None = None) -> Setup:
    """The setup of ``derivation`` on ``problem``; symbols take ``values`` or the defaults
    (reported in ``notes``). Call inside :func:`bea.check.common.float64`."""
    rule = derivation.rule
    values = resolve_values(derivation, values, notes)
    theta0, fields, losses = _flat(problem, rule.atoms, tuple(rule.blocks))
    return Setup(derivation, problem, values, theta0, fields, losses,
                 numeric_parameters(dict(rule.params), values), to_float(rule.cycle, values))
