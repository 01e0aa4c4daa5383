"""The tall-tree part of a derivation, evaluated on commuting linear fields.

On linear fields ``f_c = -A_c θ`` every elementary differential with a node of two or more
children vanishes (``f_c'' = 0``), and a tall tree ``c_1[c_2[…[c_k]]]`` gives
``F(t) = (-A_{c_1})⋯(-A_{c_k}) θ``. With commuting ``A_c`` (one eigenbasis, ``z_c = hλ_c``),
the order-``N`` modified flow ``θ' = Σ_t c(t) h^{|t|-1} F(t)`` is, per eigendirection,
``θ_i' = (1/h) Σ_{tall t} c(t) Π_{nodes}(-z_{label}) θ_i``: the truncated Taylor series of
``ρ = log R / cycle`` of :class:`bea.principal.PrincipalFlow` (the README's *Conventions*: plain
coefficients, flow per update).
"""

from __future__ import annotations

import sympy

__all__ = ["tall_tree_rate"]


def _tall_labels(t):
    labels = []
    while True:
        labels.append(t.label)
        if not t.children:
            return labels
        if len(t.children) > 1:
            return None
        (t,) = t.children


def tall_tree_rate(derivation, variables) -> sympy.Expr:
    """``Σ_{tall t} c(t) Π_{nodes}(-z_{label})`` over the derivation's orders ``1…N``.

    ``variables`` are the ``z_c`` in the order of ``derivation.atoms``.
    """
    z_of = {a.label: z for a, z in zip(derivation.atoms, variables)}
    total = sympy.Integer(0)
    for k in range(1, derivation.order + 1):
        for t, c in derivation.flow[k].items():
            labels = _tall_labels(t)
            if labels is not None:
                total += derivation.field.to_sympy(c) * sympy.Mul(*[-z_of[lab] for lab in labels])
    return sympy.expand(total)
