"""The rule on numbers: one call of the update rule (one cycle), from the slaved state.

The rule's Python function is called with float parameters and the atoms as jitted
fields of the flat coordinates (for games ``f(x, y)`` returns the atom's own block). A
random reshuffling is the mean of the cycle over all orderings of the atoms. Rules with
auxiliary state (momentum) start on the slaved manifold
``v_0 = V(θ_0) = Σ_t c(t) h^{|t|} F(t)(θ_0)`` (``derivation.velocity``).
"""

from __future__ import annotations

import itertools
from typing import Callable

import jax

from ..bseries.evaluate import planned_sum
from .setup import Setup
from .values import to_float

__all__ = ["atom_callables", "velocity", "step", "initial_state"]


def atom_callables(setup: Setup, fields: dict | None = None) -> list[Callable]:
    """The atoms as the rule calls them: ``f(θ)``, or ``f(x, y)`` → own block for games.
    ``fields`` (label → field of the parameters) replaces the atoms' own fields (a
    modifying field, :mod:`bea.check.modifying`)."""
    rule = setup.derivation.rule
    out = []
    for a in rule.atoms:
        f = (fields or setup.fields)[a.label]
        if a.block is None:
            out.append(f)
        else:
            out.append(lambda *parts, f=f, i=rule.blocks.index(a.block): f(tuple(parts))[i])
    return out


def velocity(setup: Setup, theta, h: float) -> list:
    """The slaved auxiliary state ``V(θ) = Σ_t c(t) h^{|t|} F(t)(θ)``."""
    d = setup.derivation
    out = []
    for terms in d.velocity:
        out.append(planned_sum([(to_float(d.field.to_sympy(c), setup.values) * h ** t.order, t)
                                for t, c in terms.items()], setup.fields, theta))
    return out


def initial_state(setup: Setup, h: float):
    """``(θ_0, aux_0)``: auxiliary state on its slaved manifold."""
    theta = setup.theta0
    return theta, (tuple(velocity(setup, theta, h)) if setup.derivation.rule.n_aux else ())


def step(setup: Setup, theta, aux, h: float, fields: dict | None = None):
    """One call of the rule from ``(θ, aux)``; the mean over orderings when shuffled."""
    rule = setup.derivation.rule
    atoms = atom_callables(setup, fields)
    orderings = itertools.permutations(atoms) if rule.shuffle else [atoms]
    results = [rule.step(theta, *aux, h, *perm, **setup.params) for perm in orderings]
    states = [(r[0], tuple(r[1:])) for r in results] if rule.n_aux else [(r, ()) for r in results]
    count = len(states)
    return jax.tree_util.tree_map(lambda *xs: sum(xs) / count, *states)
