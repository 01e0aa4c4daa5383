"""The boundary between ring elements (:mod:`~bea.coordinatewise.ring`) and sympy.

:func:`from_sympy` reads what a rule or a user passes in (exact numbers, parameters,
canonical symbols, roots, ``exp``/``log``/``tanh``); :func:`to_canonical` writes the
canonical sympy form (:func:`~bea.coordinatewise.expressions.canonical`) that a
:class:`~bea.derive.Derivation` holds and the printers, checks and code generators read.
With at most one vector denominator factor (Adam, RMSProp, normalized GD) that form is
read off :meth:`~bea.coordinatewise.ring.Ring.split` — the same basis of monomials
``x^a/p^k`` as sympy's canonical form, whose generators are the same interned atoms over
the same canonical monomials, and with the same denominators ``p`` (primitive over the
integers, positive leading coefficient): only the coefficients' sympy spelling may differ
(``(β−1)(ρ−1)`` against its expansion), never their value, and the printers factor them.
Converting through sympy's fraction field instead cost more than the whole derivation
(Adam, symbolic β, ρ, ε, order 4: ≈ 60 s of ≈ 95 s). Other shapes (several vector
denominator factors, as ``1/(√(g²+1) + 1)``) go through it still, term by term.
"""

from __future__ import annotations

import math
from fractions import Fraction

import sympy

from .expressions import (
    _CANONICAL, _STRUCTURE, THETA, FrozenSymbol, MapLabel, TotalSymbol, VectorSymbol, _interned, canonical,
    info,
)
from .ring import ONE, RING, Elem, as_elem, sum_

__all__ = ["elem", "from_sympy", "rational_power", "to_canonical", "to_sympy"]


def to_sympy(e: Elem) -> sympy.Expr:
    """The value of ``e`` as a sympy expression in the canonical symbols (not yet canonical)."""
    num = e.poly
    images = {}
    terms = []
    for exps, c in num.terms():
        factors = [sympy.Rational(int(c.p), int(c.q))]
        for i, x in enumerate(exps):
            if x:
                if i not in images:
                    images[i] = _gen_sympy(i)
                factors.append(images[i] ** int(x))
        terms.append(sympy.Mul(*factors))
    out = sympy.Add(*terms)
    if e.den:
        out = out / sympy.Mul(*[_factor_sympy(f) ** x for f, x in e.den])
    return out


def _gen_image(i) -> tuple:
    """``(scale, symbol)`` with generator ``i`` = ``scale · symbol`` and ``symbol`` in the
    canonical sympy form (an interned atom over canonical monomials, a root of a
    canonical base, …)."""
    g = RING.gens[i]
    if g._sympy is None:
        one = sympy.S.One
        if g.kind == "theta":
            g._sympy = (one, THETA)
        elif g.kind == "param":
            g._sympy = (one, g.data)
        elif g.kind == "frozen":
            g._sympy = (one, FrozenSymbol(g.data))
        elif g.kind in ("atom", "total", "map"):
            scale, shown = one, []
            for m in RING.args[i]:
                c, image = _monomial_image(m)
                scale, shown = scale * c, shown + [image]
            label = MapLabel(g.data[0], to_canonical(RING.points[i])) if g.kind == "map" else g.data[0]
            g._sympy = (scale, _total_symbol(shown[0]) if g.kind == "total" else _interned(label, tuple(shown)))
        elif g.kind == "root":
            q, base = g.root
            g._sympy = (one, to_canonical(base) ** sympy.Rational(1, q))
        elif g.kind == "pow":
            base, exponent = RING.args[i]
            g._sympy = (one, to_canonical(base) ** exponent)
        else:
            g._sympy = (one, getattr(sympy, g.kind)(to_canonical(RING.args[i][0])))
    return g._sympy


def _gen_sympy(i) -> sympy.Expr:
    scale, symbol = _gen_image(i)
    return scale * symbol


def _total_symbol(m) -> TotalSymbol:
    sym = TotalSymbol(f"Σ[{m}]")
    _STRUCTURE.setdefault(sym, m)
    return sym


def _factor_sympy(fid) -> sympy.Expr:
    entry = RING.factors[fid]
    if entry[2] is None:
        entry[2] = to_sympy(Elem(RING.factor_poly(fid), ()))
    return entry[2]


_FACTOR_IMAGES: dict = {}


def _factor_image(fid) -> tuple:
    """``(λ, p̂)``: the monic factor ``p = p̂/λ`` with ``p̂`` primitive over the integers and
    a positive leading coefficient (sympy's lex order over sorted symbols), as the
    canonical form writes a denominator."""
    found = _FACTOR_IMAGES.get(fid)
    if found is None:
        poly = RING.factor_poly(fid)
        coeffs = [c for _, c in poly.terms()]
        lcm = math.lcm(*[int(c.q) for c in coeffs])
        gcd = math.gcd(*[int(c.p * lcm / c.q) for c in coeffs])
        lam = sympy.Rational(lcm, gcd)
        shown = sympy.expand(_factor_sympy(fid) * lam)
        used = sorted({_gen_image(i)[1] for i in RING.factor_gens(fid)}, key=sympy.default_sort_key)
        if sympy.Poly(shown, *used).LC() < 0:
            lam, shown = -lam, -shown
        found = _FACTOR_IMAGES[fid] = (lam, shown)
    return found


_MONOMIAL_IMAGES: dict = {}


def _monomial_image(m: Elem) -> tuple:
    """``(c, m̂)``: the vector monomial ``m = c · m̂`` (:meth:`Ring.split`) with ``m̂`` the
    canonical sympy monomial."""
    found = _MONOMIAL_IMAGES.get(m.key)
    if found is None:
        scale, factors = sympy.S.One, []
        for exps, c in m.poly.terms():
            scale *= sympy.Rational(int(c.p), int(c.q))
            for i, x in enumerate(exps):
                if x:
                    s, symbol = _gen_image(i)
                    scale *= s ** int(x)
                    factors.append(symbol ** int(x))
        for f, k in m.den:
            lam, shown = _factor_image(f)
            scale *= lam**k
            factors.append(shown ** -k)
        found = _MONOMIAL_IMAGES[m.key] = (scale, sympy.Mul(*factors))
    return found


_FROM: dict = {}


def from_sympy(expr) -> Elem:
    """A sympy expression in the canonical symbols (exact numbers, parameters, roots,
    ``exp``/``log``/``tanh``) as an element."""
    expr = sympy.sympify(expr)
    found = _FROM.get(expr)
    if found is not None:
        return found
    ring = RING
    if expr.is_Rational:
        found = ring.const(Fraction(int(expr.p), int(expr.q)))
    elif isinstance(expr, VectorSymbol):
        label, args = info(expr)
        if isinstance(label, MapLabel):
            found = ring.map(label.name, from_sympy(label.point), [from_sympy(a) for a in args])
        else:
            found = ring.theta() if expr == THETA else ring.atom(label, [from_sympy(a) for a in args])
    elif isinstance(expr, TotalSymbol):
        found = ring.total(from_sympy(info(expr)))
    elif isinstance(expr, FrozenSymbol):
        found = ring.frozen(expr.name)
    elif expr.is_Symbol:
        found = ring.param(expr)
    elif expr.is_Add:
        found = sum_([from_sympy(a) for a in expr.args])
    elif expr.is_Mul:
        found = ONE()
        for a in expr.args:
            found = found * from_sympy(a)
    elif expr.is_Pow:
        base, exp = expr.args
        if exp.is_Integer:
            found = from_sympy(base) ** int(exp)
        elif exp.is_Rational:
            found = rational_power(from_sympy(base), Fraction(int(exp.p), int(exp.q)))
        else:
            found = ring.power(from_sympy(base), canonical(exp))
    elif isinstance(expr, (sympy.exp, sympy.log, sympy.tanh)):
        found = ring.function(type(expr).__name__, from_sympy(expr.args[0]))
    elif expr.is_Number:
        raise ValueError(f"{expr} is not an exact number")
    else:
        raise ValueError(f"cannot put {expr} ({type(expr).__name__}) in canonical form")
    _FROM[expr] = found
    return found


_CANONICAL_FORMS: dict = {}


def to_canonical(e) -> sympy.Expr:
    """The canonical sympy form (:func:`~bea.coordinatewise.expressions.canonical`) of an
    element: the boundary to printers, checks and generated code. With at most one vector
    denominator factor (Adam, RMSProp, normalized GD) it is read off :meth:`Ring.split`
    (the same basis of monomials ``x^a/p^k``), coefficients as sympy rational functions;
    otherwise sympy's canonical form of the value."""
    if not isinstance(e, Elem):
        return canonical(e)
    found = _CANONICAL_FORMS.get(e.key)
    if found is None:
        vector = [f for f, _ in e.den if RING.factors[f][1]]
        if len(vector) > 1 or (vector and RING._main_variable(vector[0]) is None):
            # no basis to read off: sympy's form, term by term (one fraction field per
            # small term, not one for the whole sum)
            found = canonical(sympy.Add(*[to_sympy(c) * to_sympy(m) for c, m in RING.split(e)]))
        else:
            terms = []
            for c, m in RING.split(e):
                scale, shown = _monomial_image(m)
                terms.append(to_sympy(c) * scale * shown)
            found = sympy.Add(*terms)
            _CANONICAL.setdefault(found, found)
        _CANONICAL_FORMS[e.key] = found
    return found


def elem(x) -> Elem:
    """``x`` as a ring element: an element, a number, or a sympy expression in the
    canonical symbols (through :func:`from_sympy`)."""
    try:
        return as_elem(x)
    except TypeError:
        return from_sympy(sympy.sympify(x))


def rational_power(c0: Elem, r: Fraction) -> Elem:
    """``c0^r`` for a rational ``r``: ``c0^{⌊r⌋} R^{(r-⌊r⌋)q}`` with the root ``R = c0^{1/q}``
    (a rational number when the power of a constant is one, e.g. ``4^{1/2} = 2``)."""
    value = c0.is_constant()
    if value is not None:
        power = sympy.Rational(int(value.p), int(value.q)) ** sympy.Rational(r.numerator, r.denominator)
        if power.is_Rational:
            return as_elem(power)
    n = math.floor(r)
    out = c0 ** n
    if r != n:
        q = r.denominator
        i = RING.root(c0, q)
        out = out * RING.var(i) ** int((r - n) * q)
    return out
