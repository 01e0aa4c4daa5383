"""Coordinate-wise expressions in the notation of the papers: ``g``, ``H``, ``s``, ``q``.

A canonical expression (:mod:`~bea.coordinatewise.expressions`) over a gradient atom
``f = -∇L`` is rewritten with

* ``g = ∇L = -f``, so ``D f[u] = -H u`` with ``H = ∇²L`` and
  ``D^k f[u_1, …, u_k] = -∇^{k+1}L(u_1, …, u_k)``;
* ``s = √(g⊙g + ε)`` for every root of a base ``ε + f⊙f`` (``ε`` a scalar), and, inside
  differential arguments, ``q = g/s``;
* ``Σ[u] = Σ_j u_j`` (``‖u‖ = √Σ[u⊙u]``);
* an opaque map's ``D^kP(X)[u_1 … u_k]`` as :class:`MapD` (printed ``P(X)``,
  ``P'(X)[u]``, ``P''(X)[u, v]``), its point ``X`` in this notation too.

The result is a list of :class:`Part` objects ``coeff ⊙ body``: ``body`` a product of
differentials (display functions :class:`Hess`, :class:`Deriv`, :class:`Total`),
``coeff`` an elementwise function of ``g`` and ``s`` (``ε`` eliminated through
``ε = s² - g²`` where it is a symbol) as a sum of monomials ``c·g^a s^b`` with exact
scalar ``c``. Where ``body = H u`` with ``u = F(g)`` elementwise in ``g`` alone, the part
is a preconditioned gradient: ``H F(g) = ∇R`` with ``R = Σ_j Φ(g_j)``, ``Φ' = F``
(``∇_θ Σ_j Φ(g_j) = H Φ'(g)``); Adam's order 2 has ``F = g/s``, ``Φ = s`` and
``R = ‖∇L‖_{1,ε} = Σ_j √(g_j² + ε)`` (Cattaneo, Klusowski & Shigida, ICML 2024).
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy

from .expressions import THETA, FrozenSymbol, MapLabel, TotalSymbol, VectorSymbol, info
from .boundary import from_sympy, to_sympy
from .ring import RING, Elem

__all__ = ["G", "S", "Q", "THETA_D", "Hess", "Deriv", "DerivF", "Total", "MapD", "Part", "Readable", "readable"]

G = sympy.Symbol("g")
S = sympy.Symbol("s", positive=True)
Q = sympy.Symbol("q")
THETA_D = sympy.Symbol("θ")
_X = sympy.Symbol("x", real=True)
_EPS = sympy.Symbol("ε", positive=True)


class Hess(sympy.Function):
    """``H u = ∇²L u`` (one argument)."""


class Deriv(sympy.Function):
    """``∇^{k+1}L(u_1, …, u_k)`` for ``k ≥ 2`` (``k`` = number of arguments)."""


class DerivF(sympy.Function):
    """``D^k f_label[u_1, …, u_k]`` of a non-gradient atom: first argument the label symbol."""


class Total(sympy.Function):
    """``Σ[u] = Σ_j u_j``."""


class MapD(sympy.Function):
    """``D^kP(X)[u_1, …, u_k]`` of an opaque map: arguments the name symbol, the point
    ``X`` and the ``u_i`` (``k = 0``: ``P(X)``)."""


@dataclass(frozen=True)
class Part:
    """``coeff ⊙ body``: ``monomials`` ``((c, g^a s^b), …)`` summing to ``coeff``;
    ``potential`` the ``R`` with ``body = ∇R`` (an expression in ``Total``), or None."""

    monomials: tuple
    body: sympy.Expr
    potential: sympy.Expr | None = None


@dataclass(frozen=True)
class Readable:
    """A field as parts, with the definitions used: ``s_base`` ``ε`` of ``s = √(g⊙g + ε)``
    (None when no ``s``), ``uses_q``, ``uses_h``, ``uses_total``."""

    parts: tuple
    eps: sympy.Expr | None
    uses_q: bool


def readable(expr, atom_fields) -> Readable:
    """``expr`` (canonical) in the notation above; ``atom_fields`` the rule's atoms."""
    conv = _Converter({a.label: a for a in atom_fields})
    shown = conv.vector(expr, top=True)
    parts = conv.parts(shown)
    return Readable(tuple(parts), conv.eps, conv.uses_q)


class _Converter:
    def __init__(self, atoms):
        self.atoms = atoms
        gradient = [a for a in atoms.values() if a.loss is not None]
        self.f = sympy.Symbol(gradient[0].label) if len(gradient) == 1 else None
        self.eps = None
        self.uses_q = False

    def vector(self, expr, top=False):
        """``expr`` with vector symbols replaced by display expressions."""
        subs = {}
        for sym in expr.free_symbols:
            if sym == THETA:
                subs[sym] = THETA_D
            elif isinstance(sym, TotalSymbol):
                inner = self.vector(info(sym), top=False)
                subs[sym] = -Total(-inner) if inner.could_extract_minus_sign() else Total(inner)
            elif isinstance(sym, VectorSymbol):
                subs[sym] = self.differential(*info(sym))
            elif isinstance(sym, FrozenSymbol):
                subs[sym] = sympy.Symbol(sym.name)
        out = self._roots(expr).xreplace(subs)
        if not top:
            out = self._q(out)
        return out

    def _roots(self, expr):
        """``(c·(ε + f²))^{k/2} → c^{k/2} s^k`` for a scalar ``c`` (the first such base fixes
        ``ε``). With a numeric ε, canonical forms clear its denominator, ``1 + 10⁸f²`` for
        ``ε = 10⁻⁸``: that base is ``10⁸ s²``."""
        if self.f is None:
            return expr
        f = VectorSymbol(self.f.name)

        def scalar(x):
            return not any(isinstance(y, (VectorSymbol, FrozenSymbol, TotalSymbol)) for y in x.free_symbols)

        def split(b):
            """``(c, ε)`` with ``b = c·(ε + f²)``, or None."""
            if not b.is_Add:
                return None
            b = sympy.expand(b)
            c = b.coeff(f, 2)
            if c == 0 or not scalar(c):
                return None
            eps = sympy.expand((b - c * f**2) / c)
            if eps == 0 or not scalar(eps) or self.eps not in (None, eps):
                return None
            return c, eps

        def rewrite(e):
            if e.is_Pow and e.exp.is_Rational and e.exp.q <= 2:
                found = split(e.base)
                if found is not None:
                    c, self.eps = found
                    return c**e.exp * S ** (2 * e.exp)
            return None

        return expr.replace(lambda e: rewrite(e) is not None, rewrite)

    def differential(self, label, args):
        if label is None:
            return THETA_D
        if isinstance(label, MapLabel):
            point = self.vector(label.point)
            sign, shown = self._linear(args)
            return sign * MapD(sympy.Symbol(label.name), point, *shown)
        sign, shown = self._linear(args)
        if self.f is not None and label == self.f.name:
            if not args:
                return -G
            return -sign * (Hess(*shown) if len(args) == 1 else Deriv(*shown))
        return sign * DerivF(sympy.Symbol(label), *shown)

    def _linear(self, args):
        """``(sign, shown)``: the arguments displayed, rational factors and signs moved out
        (a differential is linear in each argument)."""
        sign, shown = 1, []
        for u in args:  # linear in each argument: signs and rational factors move out
            u = self.vector(u)
            c, rest = sympy.factor_terms(u).as_coeff_Mul()
            if c.is_Rational and c != 1:
                sign, u = sign * c, rest
            if u.could_extract_minus_sign():
                sign, u = -sign, -u
            shown.append(u)
        return sign, shown

    def _q(self, e):
        """``g·s^{-k} → q·s^{1-k}`` term by term (differential arguments only)."""
        out = []
        for term in sympy.Add.make_args(sympy.expand(e)):
            powers = term.as_powers_dict()
            if powers.get(G, 0) == 1 and powers.get(S, 0) <= -1:
                term = term / G * S * Q
                self.uses_q = True
            out.append(term)
        return sympy.Add(*out)

    def parts(self, shown):
        bodies: dict = {}
        for term in sympy.Add.make_args(sympy.expand(shown)):
            body, coeff = [], []
            for factor in sympy.Mul.make_args(term):
                (body if factor.has(Hess, Deriv, DerivF, Total, THETA_D, MapD) else coeff).append(factor)
            key = sympy.Mul(*body)
            bodies[key] = bodies.get(key, 0) + sympy.Mul(*coeff)
        out = []
        for body in sorted(bodies, key=sympy.default_sort_key):
            coeff = bodies[body]
            if coeff.has(S) and self.eps is not None and self.eps.is_Symbol:
                coeff = coeff.subs(self.eps, S**2 - G**2)
            mons = _gs_monomials(coeff)
            if mons:
                out.append(Part(mons, body, self._potential(body)))
        return out

    def _potential(self, body):
        """``R = Σ Φ(g)`` when ``body = H F(g)`` with ``Φ' = F`` (checked by differentiating)."""
        if not isinstance(body, Hess):
            return None
        (u,) = body.args
        u = u.subs(Q, G / S)
        if u == G:
            return None  # Hg reads as it is; ∇Σ(g²/2) would only rename it
        if u.has(Hess, Deriv, DerivF, Total, MapD) or \
                u.free_symbols - {G, S} - (self.eps.free_symbols if self.eps is not None else set()):
            return None  # not elementwise in g
        if u.has(S):
            if self.eps is None:
                return None
            u = u.subs(S, sympy.sqrt(G**2 + _EPS))  # integrated with ε a symbol, numeric or not
        phi = _antiderivative(u.subs(G, _X))
        if phi is None:
            return None
        return Total(phi.subs(_EPS, self.eps) if self.eps is not None else phi)


_ANTIDERIVATIVES: dict = {}


def _antiderivative(F):
    """``Φ(g)`` with ``Φ' = F`` (integrated by sympy, checked by differentiating), or None;
    memoized: every order of a flow asks again for the same bodies."""
    if F not in _ANTIDERIVATIVES:
        phi = sympy.integrate(F, _X)
        if phi.has(sympy.Integral) or sympy.simplify(sympy.diff(phi, _X) - F) != 0:
            _ANTIDERIVATIVES[F] = None
        else:
            _ANTIDERIVATIVES[F] = sympy.simplify(phi.subs(_X, G)).subs(sympy.sqrt(G**2 + _EPS), S)
    return _ANTIDERIVATIVES[F]


def _gs_monomials(coeff) -> tuple:
    """``coeff = Σ c·g^a s^b``: ``((c, g^a s^b), …)`` with factored scalar ``c``."""
    found = _gs_monomials_in_ring(coeff)
    return found if found is not None else _gs_monomials_in_sympy(coeff)


def _gs_monomials_in_sympy(coeff) -> tuple:
    """:func:`_gs_monomials` by sympy: each expanded term factored and split."""
    grouped: dict = {}
    for term in sympy.Add.make_args(sympy.expand(coeff)):
        c, m = sympy.factor(term).as_independent(G, S, as_Add=False)
        grouped[m] = grouped.get(m, 0) + c
    out = [(sympy.factor(c), m) for m, c in grouped.items() if not _is_zero(c)]
    return tuple(sorted(out, key=lambda cm: sympy.default_sort_key(cm[1])))


def _gs_monomials_in_ring(coeff) -> tuple | None:
    """:func:`_gs_monomials` read off the ring of :mod:`~bea.coordinatewise.ring`, where
    ``g`` and ``s`` are generators: the numerator's terms grouped by their powers of
    ``g, s`` (a denominator ``g^i s^j`` shifts them), each coefficient summed exactly and
    factored once by sympy. None when a denominator holds ``g`` or ``s`` otherwise (a
    sum), a function or a root holds them, or ``coeff`` is outside the ring; then :func:`_gs_monomials_in_sympy` answers. The
    same pairs as that route: the groups are the same monomials, ``factor`` of the same
    value is the same expression."""
    if any(a.has(G, S) for a in coeff.atoms(sympy.Function, sympy.Pow)
           if not (a.is_Pow and a.exp.is_Integer)):
        return None  # g or s inside a function or a root: the ring would call it a scalar
    try:
        value = from_sympy(coeff)
    except ValueError:
        return None
    gs = [RING.param(G).gens()[0], RING.param(S).gens()[0]]
    shift, scalar_den = [0, 0], []
    for fid, e in value.den:
        used = RING.factor_gens(fid) & set(gs)
        if not used:
            scalar_den.append((fid, e))
            continue
        (i,) = used if len(used) == 1 else (None,)
        if i is None or RING.factor_poly(fid) != RING.ctx.gen(i):
            return None
        shift[gs.index(i)] += e
    grouped: dict = {}
    for exps, c in value.poly.terms():
        key = (int(exps[gs[0]]) - shift[0], int(exps[gs[1]]) - shift[1])
        rest = list(exps)
        rest[gs[0]] = rest[gs[1]] = 0
        grouped.setdefault(key, {})[tuple(rest)] = c
    out = []
    for (a, b), terms in grouped.items():
        c = Elem(RING.ctx.from_dict(terms), tuple(scalar_den))._normal()
        if not c.is_zero():
            out.append((sympy.factor(to_sympy(c)), G**a * S**b))
    return tuple(sorted(out, key=lambda cm: sympy.default_sort_key(cm[1])))


def _is_zero(c) -> bool:
    """Whether the scalar ``c`` is zero: exactly in the ring of
    :mod:`~bea.coordinatewise.ring` (rational functions of the parameters, fast), with
    sympy's ``simplify`` where ``c`` holds radicals or functions the ring calls nonzero."""
    try:
        if from_sympy(c).is_zero():
            return True
    except ValueError:
        return sympy.simplify(c) == 0
    if any(not (p.exp.is_Integer) for p in c.atoms(sympy.Pow)) or c.atoms(sympy.Function):
        return sympy.simplify(c) == 0
    return False
