"""Printing sums of outer products of tree vectors (:mod:`bea.stochastic.outer`): the
diffusion of an SME and the covariance of reshuffled SGD, as one signed sum in text or
LaTeX, and as JSON data (its grammar in :mod:`bea.stochastic.outer`). The functions read
the terms' fields and import nothing of :mod:`bea.stochastic`, which registers its sections
with the printers itself (:mod:`bea.stochastic.sections`).
"""

from __future__ import annotations

import sympy

from ..bseries.trees import parse
from . import notation as nt

__all__ = ["vector_text", "vector_json", "outer_text", "outer_json"]


def vector_text(v, style: nt.Style) -> str:
    """``v`` in ``style``: its bracket name, or its signed sum (parenthesized unless one
    term with coefficient 1)."""
    if v.bracket:
        return "[" + ", ".join(nt.field_name(f, style) for f in v.bracket) + "]"
    body = nt.signed_sum([(c, nt.elementary(parse(t), style)) for c, t in v.terms], style)
    if len(v.terms) == 1 and v.terms[0][0] == 1:
        return body
    return f"\\left({body}\\right)" if style.latex else f"({body})"


def vector_json(v) -> list[dict]:
    return [{"tree": t, "coeff": str(sympy.factor(c))} for c, t in v.terms]


def outer_text(terms: tuple, style: nt.Style) -> str:
    """The covariance as one signed sum, e.g. ``1/(B·n) Σ_i (f^[i] - f) ⊗ (f^[i] - f)``."""
    times = r" \otimes " if style.latex else " ⊗ "
    parts = [(t.coeff, nt.sum_prefix(t.indices, t.constraint, style)
              + vector_text(t.left, style) + times + vector_text(t.right, style)) for t in terms]
    return nt.signed_sum(parts, style)


def outer_json(terms: tuple) -> list[dict]:
    """The terms as JSON data (:mod:`bea.stochastic.outer`), with their unicode ``text``."""
    return [{"coeff": str(sympy.factor(t.coeff)),
             "sum": {"indices": list(t.indices), "constraint": t.constraint},
             "left": vector_json(t.left), "right": vector_json(t.right),
             "text": vector_text(t.left, nt.TEXT) + " ⊗ " + vector_text(t.right, nt.TEXT)} for t in terms]
