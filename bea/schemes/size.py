"""The size of a derivation, estimated before any work is done.

The series of a rule with ``k`` atoms holds, at order ``n``, up to ``a_k(n)`` labelled
rooted trees: rooted trees on ``n`` nodes each carrying one of ``k`` labels. Their
generating function ``A(x) = Σ a_k(n) xⁿ`` satisfies ``A(x) = k x exp(Σ_{i≥1} A(xⁱ)/i)``
(Pólya; Harary & Palmer, *Graphical Enumeration*, 1973, §3.1), which gives the recurrence

    a_k(1) = k,   a_k(n+1) = (1/n) Σ_{j=1}^{n} c(j) a_k(n+1-j),   c(j) = Σ_{d|j} d a_k(d)

(``k = 1``: OEIS A000081, 1, 1, 2, 4, 9, 20, 48, …; ``a_k(n) ≈ a_1(n) kⁿ``). Counting
takes ``O(order²)`` integer operations: no tree and no ordering of atoms is enumerated.
Tracing a rule touches every tree once per update it performs, so the work of a
derivation is estimated as ``Σ_{n≤order} a_k(n) × updates`` and compared with
:data:`MAX_TERMS`.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["MAX_TERMS", "labelled_trees", "Estimate", "estimate", "approx"]

MAX_TERMS = 200_000
"""Default limit on the estimated work (labelled trees × updates); the CLI's
``--max-terms N`` raises it deliberately. Measured on the 2-core machine (2026-11-25):
``bea derive --scheme gd --order 15`` (141 083 trees) 44 s CPU, 0.83 GB peak;
``--scheme sgd --order 5`` (symbolic m, 99 400 terms) 13 s CPU, 0.17 GB."""

_MAX_COUNTED = 10**9
_MAX_COUNTED_ORDER = 60


def labelled_trees(k: int, order: int) -> list[int]:
    """``[a_k(1), …, a_k(order)]``: rooted trees on ``n`` nodes with ``k`` labels."""
    a = [0, k]
    c = [0]
    for n in range(1, order):
        c.append(sum(d * a[d] for d in range(1, n + 1) if n % d == 0))
        a.append(sum(c[j] * a[n + 1 - j] for j in range(1, n + 1)) // n)
    return a[1:order + 1]


@dataclass(frozen=True)
class Estimate:
    """Estimated work of a derivation: ``trees`` labelled trees up to ``order`` with
    ``atoms`` labels, each touched in each of ``updates`` updates."""

    order: int
    atoms: int
    updates: int
    trees: int
    clipped: bool = False
    """Whether ``trees`` counts only part of the work (order or atoms beyond what is counted)."""

    @property
    def terms(self) -> int:
        return self.trees * self.updates

    def describe(self) -> str:
        per = f" × {self.updates} updates = {approx(self.terms)} terms" if self.updates > 1 else ""
        return (f"order {self.order} with {self.atoms} atom{'s' if self.atoms > 1 else ''}: "
                f"{'more than' if self.clipped else 'about'} {approx(self.trees)} labelled trees{per}")

    def highest_order_within(self, limit: int) -> int:
        """The highest order whose estimate (same atoms and updates) is ``≤ limit`` (0: none)."""
        total, best = 0, 0
        counts = labelled_trees(min(self.atoms, _MAX_COUNTED), min(self.order, _MAX_COUNTED_ORDER))
        for n, count in enumerate(counts, start=1):
            total += count
            if total * self.updates > limit:
                break
            best = n
        return best


def approx(n: int) -> str:
    """``n`` for a reader: exact below a million, else ``d.dde+N`` (any size of int)."""
    if n < 10**6:
        return str(n)
    digits = str(n)
    return f"{digits[0]}.{digits[1:3]}e+{len(digits) - 1}"


def estimate(order: int, atoms: int, updates: int = 1) -> Estimate:
    """The :class:`Estimate` of a derivation to ``order`` with ``atoms`` atoms and
    ``updates`` updates per call of the rule. Orders or atom counts so large that the
    count itself would be expensive are clipped: the count only grows with them."""
    counts = labelled_trees(min(atoms, _MAX_COUNTED), min(order, _MAX_COUNTED_ORDER))
    clipped = atoms > _MAX_COUNTED or order > _MAX_COUNTED_ORDER
    return Estimate(order, atoms, max(1, updates), sum(counts), clipped)
