"""Exact symbolic second moments: sums of outer products of tree vectors.

A noise covariance is held (and printed, :mod:`bea.render.outer`) as data, never as a
dense matrix:

    Σ = Σ_terms coeff · Σ_{indices | constraint} u ⊗ v,

where ``u`` and ``v`` are :class:`Vector` s, linear combinations of elementary
differentials ``F(tree)`` whose tree strings use bea's grammar (``docs/json.md``) over
indexed labels (``f_i`` is the atom of example or minibatch ``i``; ``f`` the mean atom).
The sum runs over the index letters in ``1 … n`` (or ``1 … m``) under ``constraint``
(``""``: unrestricted; ``"i,j,k distinct"``). JSON of one term::

    {"coeff": "1/(B*n)", "sum": {"indices": ["i"], "constraint": ""},
     "left":  [{"tree": "f_i", "coeff": "1"}, {"tree": "f", "coeff": "-1"}],
     "right": [...], "text": "(f^[i] - f) ⊗ (f^[i] - f)"}
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy

__all__ = ["Vector", "OuterTerm"]


@dataclass(frozen=True)
class Vector:
    """``Σ coeff · F(tree)``; ``bracket = (f_a, f_b)`` when the vector is the bracket
    ``[f_a, f_b]`` and is displayed by that name."""

    terms: tuple[tuple[sympy.Expr, str], ...]
    bracket: tuple[str, ...] = ()


@dataclass(frozen=True)
class OuterTerm:
    """``coeff · Σ_{indices | constraint} left ⊗ right``."""

    coeff: sympy.Expr
    left: Vector
    right: Vector
    indices: tuple[str, ...]
    constraint: str = ""
