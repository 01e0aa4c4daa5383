"""Modifying fields of coordinate-wise rules: the gradient to give Adam so that it follows
its first-order (preconditioned) flow.

As for B-series rules (:mod:`bea.bseries.modifying`; Chartier, Hairer & Vilmart, Found. Comput.
Math. 2010), the atom ``f`` is replaced by ``f̃ = f + h c_2 + h² c_3 + …`` with the
corrections chosen order by order so that the rule, run on ``f̃``, has the first-order
flow ``f_1`` of the plain rule as its exact modified flow. The pipeline is the same
(trace on the corrected atom → logarithm); what differs is the weight. A correction
``h^{n-1} c_n`` changes the map first at order ``n``, through the first-order flow
``f_1 = F(f)`` (the slaved state included), by ``∂F/∂f ⊙ c_n``: for Adam, RMSProp and
their kin ``F`` acts coordinate by coordinate (``F(f) = f/√(f² + ε)``, weight
``ε/(f² + ε)^{3/2}``), so ``c_n = −z_n / (∂F/∂f)``, one division per coordinate. Where
``F`` is not elementwise in ``f`` (normalized GD, ``f/‖f‖``, whose Jacobian annihilates
the radial direction), no coordinate-wise correction exists and the rule is refused.
"""

from __future__ import annotations

from typing import Callable

import sympy

from ..algebra import Flow
from ..atoms import RuleError
from ..logarithm import logarithm
from .calculus import CoordinateSeries
from .expressions import THETA, TotalSymbol, VectorSymbol, atom, canonical
from .pipeline import trace_map
from .boundary import from_sympy, to_canonical

__all__ = ["modifying_field"]


def modifying_field(rule, order: int, progress: Callable[[int], None] | None = None):
    """The modifying field of a coordinate-wise ``rule`` with one atom, to ``order``.

    Returns the :class:`~bea.algebra.Flow` of a derivation of kind ``"modifying"``
    (:func:`bea.modifying.modifying_field`): ``terms[1]`` is the atom ``f`` and
    ``terms[k]`` (``k ≥ 2``) the correction ``c_k`` of ``f̃ = f + h c_2 + … + h^{N-1} c_N``;
    ``state``: the corrected rule's slaved state."""
    if len(rule.atoms) != 1:
        raise RuleError("modifying fields of coordinate-wise rules take one atom")
    label = rule.atoms[0].label
    f = atom(label)
    series = CoordinateSeries()
    first = to_canonical(logarithm(trace_map(rule, 1)[0], 1, series)[1])
    weight = from_sympy(_weight(first, f))
    corrections: list = []
    flow = [sympy.S.Zero, f]
    if progress is not None:
        progress(1)
    for n in range(2, order + 1):
        z = logarithm(trace_map(rule, n, {label: corrections})[0], n, series)[n]
        c = -z / weight
        corrections.append(c)
        flow.append(to_canonical(c))
        if progress is not None:
            progress(n)
    velocity = trace_map(rule, order, {label: corrections})[1] if rule.n_aux else None
    return Flow(flow, None, velocity)


def _weight(first, f: VectorSymbol):
    """``∂F/∂f`` of the first-order flow ``F`` when it is elementwise in ``f`` (and ``θ``)."""
    stray = {s for s in first.free_symbols
             if isinstance(s, TotalSymbol) or (isinstance(s, VectorSymbol) and s not in (f, THETA))}
    if stray:
        raise RuleError(
            f"the first-order flow {first} is not elementwise in the atom {f} (it involves "
            f"{', '.join(sorted(map(str, stray)))}): no coordinate-wise correction cancels its drift")
    weight = canonical(sympy.diff(first, f))
    if weight == 0:
        raise RuleError(f"the first-order flow {first} does not depend on {f}: nothing to correct")
    return weight
