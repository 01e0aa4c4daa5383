"""Calculus of ring elements (:mod:`~bea.coordinatewise.ring`): directional derivatives,
partial derivatives, substitution of frozen directions and the Taylor shift.

``D_w x`` of a generator is linear in the direction over scalars, so it is memoized per
(generator, direction monomial): ``D_w θ = w``,
``D_w D^k f[u_1 … u_k] = D^{k+1} f[u_1 … u_k, w] + Σ_i D^k f[… D_w u_i …]``,
``D_w Σ[u] = Σ[D_w u]``, an opaque map's
``D_w D^k P(X)[u_1 … u_k] = D^{k+1} P(X)[u_1 … u_k, D_w X] + Σ_i D^k P(X)[… D_w u_i …]``
(the atom's rule with the base point ``X`` in place of ``θ``), roots and functions by the
chain rule. An element's derivative
is ``Σ_x ∂N/∂x · D_w x`` on the numerator (flint's polynomial derivative) and the
quotient rule on its known denominators. Substitution splits the numerator by its powers
of the substituted generators (evaluation at zero and exact division, in flint) and forms
each product of values once.
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import flint

from .boundary import elem, from_sympy, rational_power
from .ring import ONE, RING, ZERO, Elem, sum_

__all__ = ["derivative", "partial", "substitute", "taylor_shift"]


def derivative(e: Elem, w: Elem) -> Elem:
    """``D_w e`` for a frozen direction ``w``."""
    if w.is_zero():
        return ZERO()
    split = RING.split(w)
    return _differentiate(e, lambda g: _atom_derivative_along(g, split))


def partial(e: Elem, i: int) -> Elem:
    """``∂e/∂x_i`` with every other generator constant (chain rule through roots and
    functions that hold ``x_i``)."""
    return _differentiate(e, lambda g: ONE() if g == i else
                          _chain(g, lambda a: partial(a, i)) if i in _depends(g) else None)


def substitute(e: Elem, mapping: dict, memo: dict) -> Elem:
    """``e`` with frozen generators ``mapping`` (index -> Elem) replaced, inside atoms,
    totals and roots too; ``memo`` caches substituted generators for this mapping."""
    keys = frozenset(mapping)
    values = {}
    for i in e.gens():
        if RING.gens[i].deep & keys:
            values[i] = _substituted_gen(i, mapping, keys, memo)
    if not values:
        return e
    return _compose(e, values)


def _differentiate(e: Elem, gen_derivative) -> Elem:
    """``Σ_x ∂e/∂x · d(x)`` over the generators ``x`` of ``e`` (numerator and denominator),
    ``d`` given per generator index (None: zero)."""
    ring = RING
    num = e.poly
    cache: dict = {}

    def d(i):
        if i not in cache:
            cache[i] = gen_derivative(i)
        return cache[i]

    def poly_derivative(p):
        parts = []
        for i, x in enumerate(p.degrees()):
            if x > 0:
                di = d(i)
                if di is not None and not di.is_zero():
                    parts.append(Elem(p.derivative(i), ()) * di)
        return sum_(parts)

    parts = [poly_derivative(num) * Elem(ring.one_poly, e.den)]
    for f, x in e.den:  # d(N/p^x) ∋ -x N dp / p^{x+1}
        dp = poly_derivative(ring.factor_poly(f))
        if not dp.is_zero():
            den = dict(e.den)
            den[f] += 1
            parts.append(Elem(num * (-x), tuple(sorted(den.items())))._normal() * dp)
    return sum_(parts)


def _depends(i) -> set:
    """Generators that generator ``i``'s argument holds (for partial derivatives)."""
    g = RING.gens[i]
    if g.kind in ("root",):
        return set(g.root[1].gens()) | {j for j in g.root[1].gens() for j in _depends(j)}
    if g.kind in ("exp", "log", "tanh", "pow"):
        arg = RING.args[i][0]
        return set(arg.gens()) | {j for j2 in arg.gens() for j in _depends(j2)}
    return set()


def _chain(i, d) -> Elem:
    """The derivative of a root or function generator ``i`` with inner derivative ``d``."""
    ring = RING
    g = ring.gens[i]
    x = ring.var(i)
    if g.kind == "root":
        q, base = g.root
        db = d(base)
        return ZERO() if db.is_zero() else db * x / (base * q)
    arg = ring.args[i][0]
    da = d(arg)
    if da.is_zero():
        return ZERO()
    if g.kind == "exp":
        return x * da
    if g.kind == "log":
        return da / arg
    if g.kind == "tanh":
        return (ONE() - x * x) * da
    exponent = from_sympy(ring.args[i][1])
    de = d(exponent)
    out = exponent * x * da / arg
    if not de.is_zero():
        out = out + x * ring.function("log", arg) * de
    return out


def _atom_derivative_along(i, split) -> Elem | None:
    """``D_w x_i`` with ``w = Σ c_j m_j``: ``Σ c_j D_{m_j} x_i`` (memoized per monomial)."""
    g = RING.gens[i]
    if g.kind in ("param", "frozen"):
        return None
    return sum_([c * _along_monomial(i, m) for c, m in split])


def _along_monomial(i, m: Elem) -> Elem:
    ring = RING
    key = (i, m.key)
    found = ring._derivatives.get(key)
    if found is not None:
        return found
    g = ring.gens[i]
    if g.kind == "theta":
        found = m
    elif g.kind == "atom":
        label, _ = g.data
        args = ring.args[i]
        parts = [ring.atom(label, args + (m,))]
        for j, u in enumerate(args):
            du = derivative(u, m)
            if not du.is_zero():
                parts.append(ring.atom(label, args[:j] + (du,) + args[j + 1:]))
        found = sum_(parts)
    elif g.kind == "map":
        name, point, args = g.data[0], ring.points[i], ring.args[i]
        parts = [ring.map(name, point, args + (derivative(point, m),))]
        for j, u in enumerate(args):
            du = derivative(u, m)
            if not du.is_zero():
                parts.append(ring.map(name, point, args[:j] + (du,) + args[j + 1:]))
        found = sum_(parts)
    elif g.kind == "total":
        found = ring.total(derivative(ring.args[i][0], m))
    elif g.kind in ("param", "frozen"):
        found = ZERO()
    else:
        found = _chain(i, lambda e: derivative(e, m))
    ring._derivatives[key] = found
    return found


def _substituted_gen(i, mapping, keys, memo) -> Elem:
    """The value of generator ``i`` after the substitution (memoized in ``memo``)."""
    found = memo.get(i)
    if found is not None:
        return found
    ring = RING
    g = ring.gens[i]
    if i in mapping:
        found = mapping[i]
    elif g.kind == "atom":
        found = ring.atom(g.data[0], [substitute(u, mapping, memo) for u in ring.args[i]])
    elif g.kind == "map":
        found = ring.map(g.data[0], substitute(ring.points[i], mapping, memo),
                         [substitute(u, mapping, memo) for u in ring.args[i]])
    elif g.kind == "total":
        found = ring.total(substitute(ring.args[i][0], mapping, memo))
    elif g.kind == "root":
        q, base = g.root
        found = rational_power(substitute(base, mapping, memo), Fraction(1, q))
    elif g.kind in ("exp", "log", "tanh"):
        found = ring.function(g.kind, substitute(ring.args[i][0], mapping, memo))
    else:
        found = ring.power(substitute(ring.args[i][0], mapping, memo), ring.args[i][1])
    memo[i] = found
    return found


def _compose(e: Elem, values: dict) -> Elem:
    """``e`` with generators ``values`` (index -> Elem) replaced: the numerator split by its
    powers of those generators (in flint: evaluation at 0 and exact division), each
    product of values formed once; denominator factors without them kept as they are."""
    ring = RING
    subs = sorted(values)
    groups = [((), e.poly)]
    for i in subs:
        x = ring.ctx.gen(i)
        split = []
        for key, p in groups:
            k = 0
            while not p.is_zero():
                c0 = p.subs({i: 0})
                if not c0.is_zero():
                    split.append((key + (k,), c0))
                p = (p - c0) / x
                k += 1
        groups = split
    parts = []
    powers: dict = {}
    for key, poly in groups:
        part = Elem(poly, ())
        for i, k in zip(subs, key):
            if k:
                if (i, k) not in powers:
                    powers[(i, k)] = values[i] ** k
                part = part * powers[(i, k)]
        parts.append(part)
    out = sum_(parts)
    keep, redo = [], []
    for f, x in e.den:
        (redo if ring.factor_gens(f) & values.keys() else keep).append((f, x))
    if keep:
        out = out * Elem(ring.one_poly, tuple(keep))
    for f, x in redo:
        out = out / _compose(Elem(ring.factor_poly(f), ()), values) ** x
    return out


_DIRECTIONS: list = []


def taylor_shift(expr: Elem, delta: list, max_order: int) -> list:
    """Coefficients ``[e_0, …, e_N]`` of ``h^n`` in ``expr(θ + δ)``, ``δ = Σ_{i≥1} h^i δ_i``
    (``delta = [0, δ_1, …]``): ``D^k E[w_1 … w_k]`` with distinct frozen directions, then
    each multiset ``{i_1 ≤ … ≤ i_k}`` of orders with ``Σ i ≤ N`` substituted once, weighted
    ``1/Π(multiplicity!)`` (Taylor's ``1/k!`` times the number of orderings)."""
    while len(_DIRECTIONS) < max_order:
        _DIRECTIONS.append(RING.frozen(f"\0w{len(_DIRECTIONS)}"))
    out = [ZERO() for _ in range(max_order + 1)]
    out[0] = expr
    orders = [i for i in range(1, min(len(delta), max_order + 1)) if not elem(delta[i]).is_zero()]
    if not orders:
        return out
    delta = [elem(d) for d in delta]
    term = expr
    for k in range(1, max_order // orders[0] + 1):
        term = derivative(term, _DIRECTIONS[k - 1])
        if term.is_zero():
            break
        for chosen in itertools.combinations_with_replacement(orders, k):
            power = sum(chosen)
            if power > max_order:
                continue
            weight = 1
            for i in set(chosen):
                weight *= math.factorial(chosen.count(i))
            mapping = {_DIRECTIONS[j].gens()[0]: delta[i] for j, i in enumerate(chosen)}
            value = substitute(term, mapping, {})
            out[power] = out[power] + (value * flint.fmpq(1, weight) if weight != 1 else value)
    return out
