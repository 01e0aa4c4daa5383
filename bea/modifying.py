"""Modifying integrators: the field a scheme must be given to follow a chosen flow.

A scheme ``Φ_h`` applied to the atoms ``f_c`` follows its modified flow, not the flow of
the atoms. The **modifying field** ``f̃_c = f_c + h c_{c,2} + h² c_{c,3} + …`` is the one
for which the same scheme, run on ``f̃``, has a chosen target flow (by default its own
first-order flow) as its exact modified flow (Chartier, Hairer & Vilmart, Found. Comput.
Math. 2010). Each algebra solves for it order by order through the one pipeline (trace →
logarithm): :mod:`bea.bseries.modifying` per atom, :mod:`bea.coordinatewise.modifying`
with an elementwise weight.
"""

from __future__ import annotations

from typing import Callable

from .registry import algebra_of
from .rule import Derivation, Rule

__all__ = ["modifying_field"]


def modifying_field(rule: Rule, order: int, target: Derivation | None = None,
                    progress: Callable[[int], None] | None = None) -> Derivation:
    """The modifying fields ``f̃_c`` of ``rule`` to order ``order``, exactly.

    Returns a :class:`~bea.rule.Derivation` of kind ``"modifying"`` whose ``flow[k]``
    holds the order-``k`` corrections (``flow[1]``: the atoms themselves).
    ``target``: a derivation over the same atoms whose flow the corrected scheme must
    follow (default: the scheme's own first-order flow, higher orders cancelled).
    ``velocity``: for rules with auxiliary state, the corrected rule's slaved state.
    """
    if not isinstance(order, int) or isinstance(order, bool) or order < 1:
        raise ValueError(f"order must be an integer ≥ 1, got {order!r}")
    algebra = algebra_of(rule)
    algebra.refuse_unless("modifying", rule)
    if target is not None:
        algebra.refuse_unless("modifying-target", rule)
    flow = algebra.modifying(rule, order, target, progress)
    return Derivation(rule, order, flow.field, flow.terms, flow.state, kind="modifying")
