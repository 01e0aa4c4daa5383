"""Exact symbolic second moments: sums of outer products of tree vectors.

A noise covariance is printed and exported as data, never as a dense matrix:

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

from ..render import notation as nt
from ..trees import parse

__all__ = ["Vector", "OuterTerm", "outer_text", "outer_json"]


@dataclass(frozen=True)
class Vector:
    """``Σ coeff · F(tree)``; ``name`` an optional display name per style
    (``{"text": "[f^[i], f^[j]]", "latex": …}``) for a vector with a usual name."""

    terms: tuple[tuple[sympy.Expr, str], ...]
    name: tuple[tuple[str, str], ...] = ()

    def render(self, style: nt.Style) -> str:
        names = dict(self.name)
        key = "latex" if style.latex else "text"
        if key in names:
            return names[key]
        body = nt.signed_sum([(c, nt.elementary(parse(t), style)) for c, t in self.terms], style)
        if len(self.terms) == 1 and self.terms[0][0] == 1:
            return body
        return f"\\left({body}\\right)" if style.latex else f"({body})"

    def json(self) -> list[dict]:
        return [{"tree": t, "coeff": str(sympy.factor(c))} for c, t in self.terms]


@dataclass(frozen=True)
class OuterTerm:
    """``coeff · Σ_{indices | constraint} left ⊗ right``."""

    coeff: sympy.Expr
    left: Vector
    right: Vector
    indices: tuple[str, ...]
    constraint: str = ""


def outer_text(terms: tuple[OuterTerm, ...], style: nt.Style) -> str:
    """The covariance as one signed sum, e.g. ``1/(B·n) Σ_i (f^[i] - f) ⊗ (f^[i] - f)``."""
    times = r" \otimes " if style.latex else " ⊗ "
    parts = [(t.coeff, nt.sum_prefix(t.indices, t.constraint, style)
              + t.left.render(style) + times + t.right.render(style)) for t in terms]
    return nt.signed_sum(parts, style)


def outer_json(terms: tuple[OuterTerm, ...]) -> list[dict]:
    """The terms as JSON data (module docstring), with their unicode ``text``."""
    return [{"coeff": str(sympy.factor(t.coeff)),
             "sum": {"indices": list(t.indices), "constraint": t.constraint},
             "left": t.left.json(), "right": t.right.json(),
             "text": t.left.render(nt.TEXT) + " ⊗ " + t.right.render(nt.TEXT)} for t in terms]
