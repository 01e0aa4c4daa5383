"""The size of a coordinate-wise derivation, for :mod:`bea.estimate` (its work model).

The work unit is
one canonical term (a scalar coefficient times a vector monomial produced by the
canonical form). Counted on Adam (one atom, numbers) to orders 1–4: 101, 341, 1 741,
11 168 terms in all, fitted within 10 % by ``61 · N! · 1.65^N`` (order 5, checked after
the fit: 74 796 counted, 89 522 fitted, 125 s on the sympy form; the ratio per order
grows like ``1.65 (N+1)``: each order differentiates every term of the one before);
with ``k`` atoms the base is ``1.65 k`` per order. The terms were counted on the sympy
canonical form; the ring (:mod:`bea.coordinatewise.ring`) computes the same ones faster
(Adam, numbers: order 3 0.1 s, order 4 1.3 s, order 5 over 8 minutes, in the slaving
Taylor shift; AdamW, whose ``λθ`` adds terms, 20.9 s at order 4), so the count, not a
time, is what is compared — except that past order 4 a ring term costs ~40× more (the
slaving Taylor shift grows faster than the canonical terms), counted as a factor ``4`` per
order past 4: numeric Adam at order 5 is refused by default instead of running for minutes.

The ring holds symbols as generators: ``s`` free symbols cost ``1 + s(N-1)/2`` (numbers
in :mod:`bea.estimate`); the digits of numbers cost nothing. A modifying field is counted
as the flow one order higher.
"""

from __future__ import annotations

from math import factorial

from ..algebra import WorkModel

__all__ = ["WORK", "coordinatewise_terms"]


def coordinatewise_terms(order: int, atoms: int = 1) -> int:
    """Canonical terms of a coordinate-wise derivation to ``order``: ``61 · N! · (1.65 k)^N``."""
    return 61 * factorial(order) * (165 * atoms) ** order // 100 ** order


WORK = WorkModel(
    unit="coordinate-wise terms",
    base=lambda order, atoms, modifying: coordinatewise_terms(order + 1 if modifying else order, atoms),
    field=lambda order, symbols, digits, modifying: (2 + symbols * (order - 1 + modifying)) // 2,
    passes=lambda order, modifying: 4 ** max(order - 4, 0),  # the ring's slaving past order 4
    why_passes=lambda order, modifying: ("modifying passes",) * modifying + ("slaving past order 4",) * (order > 4),
)
