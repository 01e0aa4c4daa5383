"""Backward error analysis: from the series of an update map to its modified flow.

The update map (one step, or one cycle of ``m`` steps) is a B-series
``Φ(θ) = θ + Σ_t a(t) h^{|t|} F(t)(θ)``. Its modified field over the cycle,
``Z = Σ_t z(t) h^{|t|} F(t)``, is the vector field whose time-one flow is ``Φ``:

    exp(Z) = θ + Σ_{j≥1} (1/j!) P_j,   P_1 = Z,   P_j = P_{j-1}' Z,

(HLW IX.1; ``P_j'Z`` is grafting, :func:`bea.series.lie_derivative``). Comparing orders,
``z`` at order ``n`` is ``a`` at order ``n`` minus ``Σ_{j≥2} P_j/j!`` at order ``n``, and
``P_j`` at order ``n`` only needs ``z`` below ``n``; so one pass over the orders builds
``z`` with every ``P_j`` reused, never re-expanded. The per-update modified flow is
``Z/(cycle·h)``: ``θ' = f_1 + h f_2 + …`` with ``f_k = Σ_{|t|=k} z(t)/cycle · F(t)``.

The mean of a map over all orderings of its atoms (random reshuffling) is computed here
too, as an average over relabelings of each tree rather than over the ``m!`` orderings.
Auxiliary state is slaved to the parameters beforehand (:mod:`bea.slaving`).
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

from .series import add_into, by_order, lie_derivative
from .trees import labels_of, relabel

__all__ = ["logarithm", "average_over_orderings", "TreeAlgebra"]


class TreeAlgebra:
    """The operations :func:`logarithm` needs, for B-series: an order's part is a term
    dict ``{tree: coefficient}`` over ``field``; ``lie`` is grafting."""

    def __init__(self, field):
        self.field = field

    def by_order(self, terms: dict, max_order: int) -> list[dict]:
        return by_order(terms, max_order)

    def zero(self) -> dict:
        return {}

    def nonzero(self, x) -> bool:
        return bool(x)

    def add_into(self, acc: dict, x: dict, factor=None) -> dict:
        return add_into(acc, x, factor)

    def lie(self, p: dict, z: dict, max_order: int) -> dict:
        return lie_derivative(p, z, max_order, self.field)

    def number(self, q: Fraction):
        return self.field(q.numerator) / self.field(q.denominator)


def logarithm(map_terms, max_order: int, field, progress=None, algebra=None) -> list:
    """Orders ``1..max_order`` of the field ``Z`` with ``exp(Z) = Φ`` (``Z[0]`` empty).

    ``map_terms`` holds ``Φ(θ) - θ``. Returns a list indexed by order. ``algebra`` gives
    the series operations (``by_order``, ``zero``, ``nonzero``, ``add_into``, ``lie``,
    ``number``); the default is :class:`TreeAlgebra` over ``field``. Coordinate-wise
    series use :class:`bea.coordinatewise.calculus.CoordinateAlgebra` with the same loop.
    """
    alg = algebra if algebra is not None else TreeAlgebra(field)
    a = alg.by_order(map_terms, max_order)
    z: list = [alg.zero() for _ in range(max_order + 1)]
    # powers[j][n]: order-n part of P_j = (L_Z)^{j-1} Z
    powers: list[list] = [[alg.zero() for _ in range(max_order + 1)] for _ in range(max_order + 1)]
    inv_fact = [alg.number(Fraction(1, math.factorial(j))) for j in range(max_order + 1)]
    for n in range(1, max_order + 1):
        correction = alg.zero()
        for j in range(2, n + 1):
            part = alg.zero()
            for k in range(1, n - j + 2):
                lower = powers[j - 1][n - k]
                if alg.nonzero(lower) and alg.nonzero(z[k]):
                    part = alg.add_into(part, alg.lie(lower, z[k], n))
            powers[j][n] = part
            correction = alg.add_into(correction, part, inv_fact[j])
        zn = alg.add_into(alg.add_into(alg.zero(), a[n]), correction, -inv_fact[0])
        z[n] = zn
        powers[1][n] = zn
        if progress is not None:
            progress(n)
    return z


def average_over_orderings(map_terms: dict, labels: tuple[str, ...], field) -> dict:
    """Mean of ``Φ_σ`` over all orderings ``σ`` of ``labels``.

    ``Φ_σ`` is ``Φ`` with the atoms permuted by ``σ``. The mean coefficient of a tree
    ``t`` using ``d`` distinct labels is the average of ``Φ``'s coefficient over the
    ``m!/(m-d)!`` injective relabelings of those labels (each relabeling is hit by
    ``(m-d)!`` permutations), so no ordering is ever enumerated; the work is one
    average per relabeling class (pattern) of trees.
    """
    label_set = set(labels)
    out: dict = {}
    seen = set()
    for t in list(map_terms):
        key = _pattern(t, label_set)
        if key in seen:
            continue
        seen.add(key)
        used = sorted({lab for lab in labels_of(t) if lab in label_set})
        images = [relabel(t, dict(zip(used, target))) for target in itertools.permutations(labels, len(used))]
        mean = sum((map_terms.get(i, field.zero) for i in images), field.zero) / field(len(images))
        if mean:
            for image in images:
                out[image] = mean
    return out


def _pattern(t, label_set) -> str:
    """A relabeling-invariant key of ``t``: its least relabeling to ``0, 1, …`` (as text)."""
    used = sorted({lab for lab in labels_of(t) if lab in label_set})
    return min(
        str(relabel(t, {u: f"\0{p}" for u, p in zip(used, perm)}))
        for perm in itertools.permutations(range(len(used)))
    )
