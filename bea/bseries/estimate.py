"""The size of a B-series derivation, for :mod:`bea.estimate` (its work model).

The series of a rule with ``k`` atoms holds, at order ``n``, up to ``a_k(n)``
labelled rooted trees: rooted trees on ``n`` nodes each carrying one of ``k`` labels.
Their generating function ``A(x) = Σ a_k(n) xⁿ`` satisfies ``A(x) = k x exp(Σ_{i≥1}
A(xⁱ)/i)`` (Pólya; Harary & Palmer, *Graphical Enumeration*, 1973, §3.1), which gives

    a_k(1) = k,   a_k(n+1) = (1/n) Σ_{j=1}^{n} c(j) a_k(n+1-j),   c(j) = Σ_{d|j} d a_k(d)

(``k = 1``: OEIS A000081, 1, 1, 2, 4, 9, 20, 48, …; ``a_k(n) ≈ a_1(n) kⁿ``). Counting
takes ``O(order²)`` integer operations. Tracing touches every tree once per update, so
the base work is ``Σ_{n≤N} a_k(n) × updates``.

The coefficient field multiplies each operation (the numbers are in :mod:`bea.estimate`):
``1 + 2s(N-1)`` for ``s`` free symbols in the FLINT field, ``1 + (N-1)d/36`` for numbers of
``d`` digits, squared past 200 digits; a modifying field takes two passes.
"""

from __future__ import annotations

from ..algebra import WorkModel

__all__ = ["WORK", "labelled_trees"]


def labelled_trees(k: int, order: int) -> list[int]:
    """``[a_k(1), …, a_k(order)]``: rooted trees on ``n`` nodes with ``k`` labels."""
    a = [0, k]
    c = [0]
    for n in range(1, order):
        c.append(sum(d * a[d] for d in range(1, n + 1) if n % d == 0))
        a.append(sum(c[j] * a[n + 1 - j] for j in range(1, n + 1)) // n)
    return a[1:order + 1]


def _field(order: int, symbols: int, digits: int, modifying: bool) -> int:
    grown = max(order - 1, 0)
    return (1 + 2 * symbols * grown) * (1 + grown * digits // 36) * max(1, digits * digits // 40_000)


WORK = WorkModel(
    unit="labelled trees",
    base=lambda order, atoms, modifying: sum(labelled_trees(atoms, order)),
    field=_field,
    passes=lambda order, modifying: 2 if modifying else 1,
    why_passes=lambda order, modifying: ("modifying passes",) * modifying,
)
