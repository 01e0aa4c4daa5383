"""Directional derivatives, substitution and Taylor shift of coordinate-wise expressions.

For a *frozen* direction ``w`` (a vector that is not differentiated),

    D_w E = Σ_x ∂E/∂x · D_w x          over the atoms x of E,
    D_w θ = w,   D_w D^k f[u_1 … u_k] = D^{k+1} f[u_1 … u_k, w] + Σ_i D^k f[… D_w u_i …],
    D_w Σ[u] = Σ[D_w u],

with ``∂E/∂x`` sympy's derivative (chain rule through ``sqrt``, ``exp``, products, …:
``D_w φ(u) = φ'(u) ⊙ D_w u``). The Lie derivative of the logarithm is ``P'Z = D_Z P``.
The Taylor shift ``E(θ + δ) = Σ_k (1/k!) (D_w)^k E |_{w := δ}`` differentiates with a
frozen symbol ``w`` and substitutes the h-series ``δ`` afterwards, multilinearly inside
the differentials' arguments.

These functions act on canonical sympy expressions (the public API, and the reference the
ring is tested against); the pipeline's own calculus is
:mod:`~bea.coordinatewise.ring_calculus`, and :class:`CoordinateSeries` hands the
logarithm ring elements.
"""

from __future__ import annotations

import itertools
import math

import flint
import sympy

from .boundary import elem
from .ring import ZERO
from .ring_calculus import derivative as ring_derivative
from .expressions import (
    THETA, MapLabel, TotalSymbol, VectorSymbol, canonical, differential, frozen, info,
    times, total,
)

__all__ = ["derivative", "substitute", "shift", "parameter_derivative", "taylor", "CoordinateSeries",
           "deep_symbols"]

_DIRECTIONS = [frozen(f"\0w{k}") for k in range(32)]
_DERIVATIVES: dict = {}


def derivative(expr, w) -> sympy.Expr:
    """``D_w expr`` for a frozen direction ``w`` (an expression; it is not differentiated)."""
    expr = canonical(expr)
    w = canonical(w)
    if w == 0:
        return sympy.S.Zero
    terms = []
    for x in expr.free_symbols:
        if isinstance(x, (VectorSymbol, TotalSymbol)):
            dx = _atom_derivative(x, w)
            if dx != 0:
                terms.append(sympy.diff(expr, x) * dx)
    return canonical(sympy.Add(*terms))


def _atom_derivative(x, w):
    key = (x, w)
    found = _DERIVATIVES.get(key)
    if found is not None:
        return found
    if x == THETA:
        found = w
    elif isinstance(x, TotalSymbol):
        found = total(derivative(info(x), w))
    else:
        label, args = info(x)
        # an opaque map's base point moves too: D^{k+1}P(X)[…, D_w X]
        parts = [differential(label, args + (derivative(label.point, w) if isinstance(label, MapLabel) else w,))]
        for i, u in enumerate(args):
            du = derivative(u, w)
            if du != 0:
                parts.append(differential(label, args[:i] + (du,) + args[i + 1:]))
        found = canonical(sympy.Add(*parts))
    _DERIVATIVES[key] = found
    return found


_DEEP: dict = {}


def deep_symbols(expr) -> frozenset:
    """Every symbol of ``expr``, including those inside differentials' arguments and ``Σ``."""
    found = _DEEP.get(expr)
    if found is None:
        out = set(expr.free_symbols)
        for x in expr.free_symbols:
            if isinstance(x, TotalSymbol):
                out |= deep_symbols(info(x))
            elif isinstance(x, VectorSymbol):
                label, args = info(x)
                for u in args + ((label.point,) if isinstance(label, MapLabel) else ()):
                    out |= deep_symbols(u)
        found = frozenset(out)
        _DEEP[expr] = found
    return found


def substitute(expr, mapping: dict) -> sympy.Expr:
    """``expr`` with symbols replaced (frozen vectors or parameters), also inside arguments."""
    keys = set(mapping)
    replace = {}
    for x in expr.free_symbols:
        if x in mapping:
            replace[x] = mapping[x]
        elif not deep_symbols(x) & keys or x == THETA:
            continue
        elif isinstance(x, TotalSymbol):
            replace[x] = total(substitute(info(x), mapping))
        elif isinstance(x, VectorSymbol):
            label, args = info(x)
            if isinstance(label, MapLabel):
                label = MapLabel(label.name, substitute(label.point, mapping))
            replace[x] = differential(label, [substitute(u, mapping) for u in args])
    if not replace:
        return expr
    return canonical(sympy.Add(*[_substituted_term(t, replace) for t in sympy.Add.make_args(expr)]))


def _substituted_term(term, replace):
    """One term ``c·Π x_i^{k_i}`` of a canonical expression with symbols replaced, as a
    distributed product (:func:`bea.coordinatewise.expressions.times`)."""
    factors = []
    for f in sympy.Mul.make_args(term):
        base, k = f.as_base_exp()
        if base in replace and k.is_Integer and k > 0:
            factors += [replace[base]] * int(k)
        else:
            factors.append(f.xreplace(replace))
    return times(*factors)


def shift(expr, delta, max_order: int) -> list:
    """Coefficients ``[e_0, …, e_N]`` of ``h^n`` in ``expr(θ + δ)``, ``δ = Σ_{i≥1} h^i δ_i``.

    ``delta`` is the list ``[0, δ_1, …, δ_N]``. ``D^k E[w_1 … w_k]`` is built with
    distinct frozen directions, then each multiset ``{i_1 ≤ … ≤ i_k}`` of orders with
    ``Σ i ≤ N`` is substituted once, weighted ``1/Π(multiplicity!)`` (the ``1/k!`` of
    Taylor's formula times the number of orderings).
    """
    out = [sympy.S.Zero] * (max_order + 1)
    out[0] = canonical(expr)
    orders = [i for i in range(1, min(len(delta), max_order + 1)) if delta[i] != 0]
    term = out[0]
    for k in range(1, max_order + 1):
        term = derivative(term, _DIRECTIONS[k - 1])
        if term == 0:
            break
        for chosen in itertools.combinations_with_replacement(orders, k):
            power = sum(chosen)
            if power > max_order:
                continue
            weight = sympy.Integer(1)
            for i in set(chosen):
                weight *= math.factorial(chosen.count(i))
            value = substitute(term, {_DIRECTIONS[j]: delta[i] for j, i in enumerate(chosen)})
            out[power] += value / weight
    return [canonical(e) for e in out]


class CoordinateSeries:
    """The three operations :func:`bea.logarithm.logarithm` asks of a series, for
    coordinate-wise fields: an order's part is one element of
    :mod:`~bea.coordinatewise.ring` (converted to canonical sympy form at the boundary)."""

    def by_order(self, terms, max_order: int) -> list:
        return [elem(terms[n]) if n < len(terms) else ZERO() for n in range(max_order + 1)]

    def zero(self):
        return ZERO()

    def nonzero(self, x) -> bool:
        return not x.is_zero()

    def add_into(self, acc, x, factor=None):
        return acc + (x if factor is None else x * factor)

    def lie(self, p, z, max_order: int):
        return ring_derivative(p, z)

    def number(self, q):
        return flint.fmpq(q.numerator, q.denominator)


def parameter_derivative(expr, t) -> sympy.Expr:
    """``dE/dt`` for a scalar parameter ``t``, inside the differentials' arguments too
    (``d/dt D^k f[u_1 … u_k] = Σ_i D^k f[… du_i/dt …]``: ``t`` is a scalar)."""
    expr = canonical(expr)
    terms = [sympy.diff(expr, t)]
    for x in expr.free_symbols:
        if x == THETA or not isinstance(x, (VectorSymbol, TotalSymbol)) or t not in deep_symbols(x):
            continue
        if isinstance(x, TotalSymbol):
            dx = total(parameter_derivative(info(x), t))
        else:
            label, args = info(x)
            dx = sympy.Add(*[differential(label, args[:i] + (parameter_derivative(u, t),) + args[i + 1:])
                             for i, u in enumerate(args)])
            if isinstance(label, MapLabel):  # the base point depends on t too
                dx += differential(label, args + (parameter_derivative(label.point, t),))
        terms.append(sympy.diff(expr, x) * dx)
    return canonical(sympy.Add(*terms))


def taylor(expr, t, order: int) -> list:
    """Coefficients ``[E_0, …, E_order]`` of the Taylor expansion of ``E`` in the scalar
    parameter ``t`` at ``t = 0``."""
    out = []
    term = canonical(expr)
    for k in range(order + 1):
        if k:
            term = parameter_derivative(term, t)
        out.append(canonical(substitute(term, {t: sympy.S.Zero}) / math.factorial(k)))
    return out
