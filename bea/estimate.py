"""The size of a derivation, estimated before any work is done, in every algebra and field.

The estimate is a count of *work units* (terms), not of seconds: it grows the way the
real work grows and is compared with a limit (:data:`MAX_TERMS`, the CLI's
``--max-terms``, :func:`bea.derive`'s ``max_terms``) before anything is traced. Each
algebra counts its own units (its ``work`` model, :class:`bea.algebra.WorkModel`):
labelled trees for B-series (:mod:`bea.bseries.estimate`), canonical terms for
coordinate-wise rules (:mod:`bea.coordinatewise.estimate`); this module multiplies them
by the updates per call and the cost of the coefficient field.

**Fields** multiply the cost of every coefficient operation (measured 2026-12-03, 2-core
machine; times of ``derive`` alone):

* ``s`` free symbols: the degrees of the rational functions grow with the order. For trees
  the FLINT field (:mod:`bea.coefficients`) keeps the cost of an operation to a factor
  ``1 + 2s(N-1)`` over numbers (measured, derive alone, symbolic over numeric: momentum β
  at orders 4, 6, 8, 10: 4.9, 11.7, 16.6, 18.2; the alternating game in α, λ at orders
  3, 4, 5: 3.9, 9.4, 16.0); ``1 + s(N-1)/2`` for coordinate-wise rules, whose ring
  (:mod:`bea.coordinatewise.ring`) holds the symbols as generators (symbolic over
  numeric: Adam, β, ρ, ε at order 4, 1.8; AdamW, four symbols, order 4, over 5; AdamW's
  modifying field at order 3, 10).
* ``k`` distinct square roots (a tableau file's surds): an algebraic field of degree
  ``2^k`` whose primitive element multiplies the cost by ``2^{k²}`` (an explicit 2-stage
  tableau at order 7: one root 2.0 s, two 5.7 s, three 37 s; four roots take over 100 s
  already at order 3, five 14 s at order 2).
* numbers of ``d`` digits (numerator or denominator) in a tree field: coefficients hold
  powers of them, a factor ``1 + (N-1)d/36``, squared growth past 200 digits (momentum at
  order 10 over β = 1/2: β = 1e-20 5×, 1e-50 11×, 1e-100 24×, 1e-200 53×, 1e-400 over
  330×; order 8, 1e-400: 50×), so ``--beta 1e-400`` is refused from order 10 on. The
  coordinate-wise ring does not notice them (Adam at order 4, ε = 1e-400: 1.6 s, ε = 1/10:
  1.3 s).

**Modifying fields** (``--modifying``, :mod:`bea.modifying`) trace and take the logarithm
once per order: twice the work of the flow for trees; for coordinate-wise rules each
correction is divided by the weight and traced again inside the roots, measured as the
work of the flow one order higher (sympy form: Adam at order 3 12 s, the flow at order 4
16 s; ring: AdamW at order 3 4.4 s, its flow at order 4 20.9 s).
"""

from __future__ import annotations

from dataclasses import dataclass, field as dc_field
from fractions import Fraction

import sympy

from .domain import flatten
from .registry import algebra_named

__all__ = [
    "MAX_TERMS", "TooMuchWork", "FieldCost", "field_cost",
    "Estimate", "estimate", "estimate_rule", "check_work", "approx",
]

MAX_TERMS = 200_000
"""Default limit on the estimated work (terms); ``--max-terms N`` / ``max_terms=N`` raises
it deliberately. Measured on the 2-core machine (2026-11-25): ``gd --order 15`` (141 083
trees) 44 s CPU, 0.83 GB peak; ``sgd --order 5`` (symbolic m, 99 400 terms) 13 s."""


_MAX_COUNTED = 10**9
_MAX_COUNTED_ORDER = 60
_MAX_SURDS_COUNTED = 8


class TooMuchWork(ValueError):
    """A derivation refused before any work: its :class:`Estimate` is beyond ``max_terms``.
    ``estimate`` and ``max_terms`` are kept."""

    def __init__(self, message: str, estimate: "Estimate", max_terms: int | None):
        super().__init__(message)
        self.estimate = estimate
        self.max_terms = max_terms


@dataclass(frozen=True)
class FieldCost:
    """What the coefficient field costs: free symbol names, distinct square roots, and
    the most digits of any number's numerator or denominator."""

    symbols: tuple = ()
    surds: int = 0
    digits: int = 0

    def factor(self, order: int, algebra: str, modifying: bool = False) -> int:
        """The multiplier of every coefficient operation at ``order`` in ``algebra``."""
        surds = min(self.surds, _MAX_SURDS_COUNTED)
        work = algebra_named(algebra).work
        return work.field(order, len(self.symbols), self.digits, modifying) * 2 ** (surds * surds)

    def describe(self) -> str:
        parts = []
        if self.symbols:
            parts.append(f"symbol{'s' if len(self.symbols) > 1 else ''} {', '.join(self.symbols)}")
        if self.surds:
            parts.append(f"{self.surds} square root{'s' if self.surds > 1 else ''}")
        if self.digits >= 10:
            parts.append(f"{self.digits}-digit numbers")
        return ", ".join(parts)


def field_cost(values) -> FieldCost:
    """The :class:`FieldCost` of parameter values (numbers, sympy expressions, nested
    tuples of them). Values of other types are skipped: :func:`bea.derive` reports them."""
    symbols, surds, digits = set(), set(), 0
    for v in flatten(values):
        if isinstance(v, bool) or not isinstance(v, (int, Fraction, sympy.Basic)):
            continue
        e = sympy.sympify(v) if not isinstance(v, sympy.Basic) else v
        symbols |= {s.name for s in e.free_symbols}
        for a in sympy.preorder_traversal(e):
            if isinstance(a, sympy.Pow) and a.base.is_Rational and not a.exp.is_Integer:
                surds.add(a.base)
            if isinstance(a, sympy.Rational):
                digits = max(digits, _digits(a.p), _digits(a.q))
    return FieldCost(tuple(sorted(symbols)), len(surds), digits)


def _digits(n: int) -> int:
    """Decimal digits of ``|n|`` (from its bit length: no conversion to text)."""
    return max(1, (abs(n).bit_length() * 30103 + 99999) // 100000)


@dataclass(frozen=True)
class Estimate:
    """Estimated work of a derivation: ``trees`` base units of ``algebra``'s work model
    (labelled trees, canonical terms, …) up to ``order`` with ``atoms`` labels, each
    touched in each of ``updates`` updates, times the field's ``factor``."""

    order: int
    atoms: int
    updates: int
    trees: int
    clipped: bool = False
    """Whether ``trees`` counts only part of the work (order or atoms beyond what is counted)."""
    algebra: str = "trees"
    cost: FieldCost = dc_field(default_factory=FieldCost)
    modifying: bool = False

    @property
    def factor(self) -> int:
        passes = algebra_named(self.algebra).work.passes(self.order, self.modifying)
        return self.cost.factor(self.order, self.algebra, self.modifying) * passes

    @property
    def terms(self) -> int:
        return self.trees * self.updates * self.factor

    def describe(self) -> str:
        work = algebra_named(self.algebra).work
        unit = work.unit
        what = "modifying field to " if self.modifying else ""
        text = (f"{what}order {self.order} with {self.atoms} atom{'s' if self.atoms > 1 else ''}: "
                f"{'more than' if self.clipped else 'about'} {approx(self.trees)} {unit}")
        if self.updates > 1:
            text += f" × {self.updates} updates"
        if self.factor > 1:
            why = [w for w in (self.cost.describe(), *work.why_passes(self.order, self.modifying)) if w]
            text += f" × {approx(self.factor)} ({'; '.join(why)})"
        if self.updates > 1 or self.factor > 1:
            text += f" = {approx(self.terms)} terms"
        return text

    def at_order(self, order: int) -> "Estimate":
        """The same derivation at another order."""
        return estimate(order, self.atoms, self.updates, algebra=self.algebra, cost=self.cost,
                        modifying=self.modifying)

    def highest_order_within(self, limit: int) -> int:
        """The highest order whose estimate (same atoms, updates, field) is ``≤ limit`` (0: none)."""
        best = 0
        for n in range(1, min(self.order, _MAX_COUNTED_ORDER) + 1):
            if self.at_order(n).terms > limit:
                break
            best = n
        return best

    def refusal(self, limit: int, order_flag: str = "--order ", limit_flag: str = "--max-terms ") -> str | None:
        """One line naming the estimate, the limit and what would work; ``None`` when the
        work fits. The flags name the order and the limit as the caller spells them
        (``"--order "`` on the command line, ``"order="`` in the library)."""
        if self.terms <= limit:
            return None
        fits = self.highest_order_within(limit)
        hints = [f"{order_flag}{fits}"] if fits >= 1 else []
        hints.append(f"{limit_flag}{self.terms if self.terms < 10**12 else 'N'} to allow it")
        return f"{self.describe()}, beyond the limit of {limit}; try " + ", or ".join(hints)


def approx(n: int) -> str:
    """``n`` for a reader: exact below a million, else ``d.dde+N`` (any size of int)."""
    if n < 10**6:
        return str(n)
    exponent = _digits(n) - 1
    while n >= 10 ** (exponent + 1):
        exponent += 1
    while n < 10**exponent:
        exponent -= 1
    lead = n // 10 ** max(exponent - 2, 0)
    return f"{lead // 100}.{lead % 100:02d}e+{exponent}"


def estimate(order: int, atoms: int, updates: int = 1, *, algebra: str = "trees",
             cost: FieldCost | None = None, modifying: bool = False) -> Estimate:
    """The :class:`Estimate` of a derivation to ``order`` with ``atoms`` atoms and
    ``updates`` updates per call of the rule, in ``algebra`` over a field of ``cost``.
    Orders or atom counts so large that the count itself would be expensive are clipped:
    the count only grows with them."""
    cost = cost or FieldCost()
    clipped = atoms > _MAX_COUNTED or order > _MAX_COUNTED_ORDER
    n, k = min(order, _MAX_COUNTED_ORDER), min(atoms, _MAX_COUNTED)
    base = algebra_named(algebra).work.base(n, k, modifying)
    return Estimate(order, atoms, max(1, updates), base, clipped, algebra, cost, modifying)


def estimate_rule(rule, order: int, modifying: bool = False) -> Estimate:
    """The :class:`Estimate` of a :class:`bea.Rule` from what the rule itself declares:
    its atoms, its algebra, its cycle (updates per call; ``order`` for a symbolic one, as
    a symbolic family is traced with ``order`` members) and its parameters' field."""
    updates = rule.cycle if isinstance(rule.cycle, int) else order
    return estimate(order, len(rule.atoms), updates, algebra=rule.algebra,
                    cost=field_cost(rule.params.values()), modifying=modifying)


def check_work(rule, order: int, max_terms: int) -> Estimate:
    """The rule's :class:`Estimate`, or :class:`TooMuchWork` beyond ``max_terms``."""
    if isinstance(max_terms, bool) or not isinstance(max_terms, int) or max_terms < 1:
        raise ValueError(f"max_terms must be a whole number ≥ 1 (or None: no limit), got {max_terms!r}")
    work = estimate_rule(rule, order)
    message = work.refusal(max_terms, "order=", "max_terms=")
    if message is not None:
        raise TooMuchWork(message, work, max_terms)
    return work
