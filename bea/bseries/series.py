"""Formal series over trees: Taylor expansion at a shifted point, and grafting.

A *term dict* maps trees to exact coefficients and stands for ``Σ_t a(t) h^{|t|} F(t)``
(plain coefficients: no symmetry factor folded in, the README's *Conventions*). Two operations build
every B-series bea needs:

* :func:`shift` — ``Σ_t a(t) F(t)(θ + δ)`` for a series ``δ``: every node of every tree
  takes a multiset of extra children from ``δ``, with weight ``Π δ(s)^m / m!``
  (multivariate Taylor expansion of the symmetric multilinear maps ``f_c^{(k)}``). An
  atom evaluated at a point is the shift of the one-node tree; composing two maps is a
  shift of the second by the first (Butcher's composition law, HLW III.1.4).
* :func:`lie_derivative` — ``Σ a(t) b(u) F(t)'F(u)``: grafting, memoized per tree pair
  in :func:`bea.bseries.trees.graft`. :class:`TreeSeries` hands them to the logarithm.

All series are truncated at a maximal tree order.
"""

from __future__ import annotations

import math
from fractions import Fraction

from .trees import Tree, graft, tree

__all__ = ["shift", "lie_derivative", "add_into", "scale", "by_order", "TreeSeries"]


def add_into(acc: dict, terms: dict, factor=None) -> dict:
    """``acc += factor·terms`` in place, dropping coefficients that cancel to zero."""
    for t, c in terms.items():
        term = c if factor is None else c * factor
        value = acc[t] + term if t in acc else term
        if value:
            acc[t] = value
        else:
            acc.pop(t, None)
    return acc


def scale(terms: dict, factor) -> dict:
    """``factor·terms`` (new dict; empty when ``factor`` is zero)."""
    if not factor:
        return {}
    return {t: c * factor for t, c in terms.items()}


def by_order(terms: dict, max_order: int) -> list[dict]:
    """Split a term dict into ``[{}, order-1 terms, …, order-max_order terms]``."""
    out = [dict() for _ in range(max_order + 1)]
    for t, c in terms.items():
        if t.order <= max_order:
            out[t.order][t] = c
    return out


class _Multisets:
    """Multisets of trees of a series ``δ``, with Taylor weights ``Π δ(s)^m/m!``."""

    def __init__(self, delta: dict, field):
        self.items = sorted(delta.items(), key=lambda kv: (kv[0].order, kv[0]))
        self.field = field
        self._cache: dict[int, list] = {}

    def up_to(self, budget: int) -> list[tuple[tuple[Tree, ...], object, int]]:
        """All non-empty multisets of total order ``≤ budget``: (trees, weight, order)."""
        found = self._cache.get(budget)
        if found is not None:
            return found
        out: list = []
        items = [(t, c) for t, c in self.items if t.order <= budget]
        field = self.field

        def extend(start, remaining, acc, weight, used):
            for i in range(start, len(items)):
                t, c = items[i]
                k = t.order
                if k > remaining:
                    break
                power = field.one
                count = 0
                while k * (count + 1) <= remaining:
                    count += 1
                    power = power * c
                    chosen = acc + (t,) * count
                    w = weight * power / field(math.factorial(count))
                    out.append((chosen, w, used + k * count))
                    extend(i + 1, remaining - k * count, chosen, w, used + k * count)

        extend(0, budget, (), field.one, 0)
        self._cache[budget] = out
        return out


def shift(terms: dict, delta: dict, max_order: int, field) -> dict:
    """``Σ_t a(t) F(t)(θ + δ)`` as a term dict truncated at ``max_order``.

    ``delta`` must hold trees only (an increment of order ≥ 1 in h). Each node of ``t``
    receives a multiset ``M`` of trees of ``δ`` as extra children, weighted by
    ``Π_s δ(s)^{m_s}/m_s!``; the node's original children are shifted recursively.
    """
    if not delta:
        return {t: c for t, c in terms.items() if t.order <= max_order}
    multisets = _Multisets(delta, field)
    cache: dict = {}
    out: dict = {}
    for t, c in terms.items():
        budget = max_order - t.order
        if budget < 0:
            continue
        add_into(out, _shift_tree(t, budget, multisets, cache), c)
    return out


def _shift_tree(t: Tree, budget: int, multisets: _Multisets, cache: dict) -> dict:
    """``F(t)(θ + δ)`` with at most ``budget`` extra nodes, as ``{tree: weight}``."""
    key = (t, budget)
    found = cache.get(key)
    if found is not None:
        return found
    field = multisets.field
    partial = [((), field.one, 0)]  # (children so far, weight, extra nodes used)
    for child in t.children:
        shifted = _shift_tree(child, budget, multisets, cache)
        base = child.order
        partial = [
            (kids + (s,), w * ws, used + s.order - base)
            for kids, w, used in partial
            for s, ws in shifted.items()
            if used + s.order - base <= budget
        ]
    result: dict = {}
    label = t.label
    for kids, w, used in partial:
        plain = tree(label, kids)
        result[plain] = result.get(plain, field.zero) + w
        for extra, wm, m in multisets.up_to(budget - used):
            s = tree(label, kids + extra)
            result[s] = result.get(s, field.zero) + w * wm
    cache[key] = result
    return result


def lie_derivative(p_terms: dict, z_terms: dict, max_order: int, field) -> dict:
    """``Σ a(t) b(u) F(t)'F(u)``: every ``u`` grafted onto every node of every ``t``."""
    out: dict = {}
    for t, a in p_terms.items():
        room = max_order - t.order
        for u, b in z_terms.items():
            if u.order > room:
                continue
            ab = a * b
            for s, mult in graft(t, u):
                out[s] = out.get(s, field.zero) + ab * mult
    return {s: c for s, c in out.items() if c}


class TreeSeries:
    """The operations :func:`bea.logarithm.logarithm` needs, for B-series: an order's part
    is a term dict ``{tree: coefficient}`` over ``field``; ``lie`` is grafting."""

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
