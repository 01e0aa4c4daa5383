"""Coordinate-wise expressions: the term algebra of adaptive optimizers.

An *expression* is a vector-valued function of the parameters ``θ ∈ R^d`` whose
coordinate ``j`` depends only on coordinate ``j`` of its *vector atoms* and on scalars.
So an expression is an ordinary sympy expression in these symbols:

* vector atoms — the parameters ``θ`` and the elementary differentials
  ``D^k f_c[u_1, …, u_k]`` of the atom fields (``k = 0``: ``f_c`` itself), whose
  arguments ``u_i`` are themselves expressions (:func:`differential`);
* the differentials ``D^k P(X)[u_1, …, u_k]`` of an *opaque smooth map* ``P`` (Muon's
  orthogonalization) at a base point ``X`` that is itself an expression
  (:func:`map_differential`, label :class:`MapLabel`): coordinate ``j`` depends on every
  coordinate of ``X`` and the ``u_i``, exactly as an atom's differential does on ``θ``;
* scalar atoms — ``Σ[u] = Σ_j u_j`` (:func:`total`), so ``⟨u, v⟩ = Σ[u⊙v]`` and
  ``‖u‖ = √Σ[u⊙u]``;
* parameters (sympy symbols such as ``β, ρ, ε``) and exact numbers;
* frozen vectors (:func:`frozen`): directions whose derivative is zero.

Elementwise products, quotients, powers, ``sqrt``, ``exp``, ``log``, ``tanh`` are sympy's
own operations on these symbols. ``D^k f_c`` is symmetric and linear in each argument
over *scalars* only (``D f[c⊙u] ≠ c⊙D f[u]`` for a vector ``c``), so an argument is split
into scalar coefficient times vector monomial and each distinct ``D^k f_c[m_1 … m_k]``
(monomials sorted) is one interned symbol; ``D θ[u] = u`` and ``D^k θ = 0`` for ``k ≥ 2``.

Canonical form (:func:`canonical`). Every non-rational subexpression is replaced by a
generator symbol, its inner arguments canonical first: a root ``b^{p/q}`` becomes
``b^{⌊p/q⌋}·R^{p mod q}`` with one generator ``R = b^{1/q}`` and relation ``R^q = b``;
``exp``, ``log``, ``tanh``, symbolic powers are free generators. The result is a rational
function, brought to lowest terms (sympy's exact field ``QQ(x_1, …)``), with every root
removed from the denominator when it occurs there as a monomial and its powers reduced
below ``q`` in the numerator. Its numerator, read as a polynomial in the vector symbols,
gives the monomials ``c_i · n_i / Q``, with ``Q`` the denominator's primitive part in the
vector symbols; with one denominator factor ``p`` the p-adic expansion makes these
monomials a basis over the scalars, so a sum is split term by term and collected.
Equal expressions built from the same roots of independent bases get one form, so terms collect and zero is recognised; a root inside a denominator sum
(``1/(√v + ε)``) stays as it is (still correct, possibly not collected).

This canonical form is what a :class:`~bea.derive.Derivation` holds and what the printers,
checks and code generators read, and the public API (:func:`canonical`, :func:`total`,
:func:`differential`, :mod:`~bea.coordinatewise.calculus`) computes in it. The pipeline
itself (tracing, slaving, the logarithm) computes in the polynomial ring of
:mod:`~bea.coordinatewise.ring` and converts here once per result
(:func:`~bea.coordinatewise.boundary.to_canonical`, also reached by :func:`canonical` on a
ring element): sympy's fraction field on every operation was the engine's whole cost.
"""

from __future__ import annotations

import math

import sympy
from sympy.polys.fields import FracField
from sympy.polys.rings import PolyRing
from sympy.polys.domains import QQ

__all__ = [
    "THETA", "atom", "differential", "total", "frozen", "canonical", "monomials",
    "is_vector", "info", "times", "VectorSymbol", "TotalSymbol", "FrozenSymbol", "MapLabel",
    "map_differential",
]


class _Symbol(sympy.Symbol):
    """Base of bea's own symbols (a class of its own: never equal to a user symbol)."""


class VectorSymbol(_Symbol):
    """A coordinate of a vector atom: ``θ`` or ``D^k f_c[u_1, …, u_k]``."""


class FrozenSymbol(_Symbol):
    """A coordinate of a frozen vector (a direction): its derivative is zero."""


class TotalSymbol(_Symbol):
    """The scalar atom ``Σ[u] = Σ_j u_j``."""


class _Generator(sympy.Symbol):
    """A temporary symbol standing for a non-rational subexpression inside canonical."""


# structure of interned symbols: VectorSymbol -> (label, args); TotalSymbol -> arg
_STRUCTURE: dict = {}
THETA = VectorSymbol("θ")
_STRUCTURE[THETA] = (None, ())


def info(symbol):
    """``(label, args)`` of a vector atom (``label`` None for ``θ``), ``u`` of ``Σ[u]``."""
    return _STRUCTURE[symbol]


def frozen(name: str) -> FrozenSymbol:
    """A frozen vector named ``name`` (a direction ``w`` with ``D w = 0``)."""
    return FrozenSymbol(name)


def atom(label: str) -> VectorSymbol:
    """The atom field ``f_label`` (``D^0 f``)."""
    return _interned(label, ())


class MapLabel:
    """The label of ``D^k P(X)[…]`` for an opaque smooth map ``P`` named ``name`` at the
    base point ``X`` (a canonical expression): the same interned symbols as an atom's
    differentials, with ``info`` giving ``(MapLabel, args)``. Equal by name and point."""

    __slots__ = ("name", "point")

    def __init__(self, name: str, point):
        self.name, self.point = name, point

    def __eq__(self, other):
        return isinstance(other, MapLabel) and (self.name, self.point) == (other.name, other.point)

    def __hash__(self):
        return hash((MapLabel, self.name, self.point))

    def __str__(self):
        return f"{self.name}({self.point})"


def map_differential(name: str, point, args=()) -> sympy.Expr:
    """``D^k P_name(X)[u_1, …, u_k]`` expanded multilinearly over scalars."""
    return differential(MapLabel(name, canonical(point)), args)


def _interned(label, args: tuple) -> VectorSymbol:
    args = tuple(sorted(args, key=sympy.default_sort_key))
    name = str(label) if not args else f"D{len(args)}{label}[{', '.join(map(str, args))}]"
    sym = VectorSymbol(name)
    _STRUCTURE.setdefault(sym, (label, args))
    return sym


def differential(label: str | None, args) -> sympy.Expr:
    """``D^k f_label[u_1, …, u_k]`` expanded multilinearly over scalars (``None``: ``θ``)."""
    args = list(args)
    if label is None:
        if len(args) == 0:
            return THETA
        return canonical(args[0]) if len(args) == 1 else sympy.S.Zero
    terms = [(sympy.S.One, ())]
    for u in args:
        split = monomials(u)
        terms = [(c * cu, ms + (mu,)) for c, ms in terms for cu, mu in split]
    return canonical(sympy.Add(*[c * _interned(label, ms) for c, ms in terms]))


def total(u) -> sympy.Expr:
    """``Σ[u]``, linear over scalars: ``Σ_i c_i Σ[m_i]``."""
    out = []
    for c, m in monomials(u):
        sym = TotalSymbol(f"Σ[{m}]")
        _STRUCTURE.setdefault(sym, m)
        out.append(c * sym)
    return canonical(sympy.Add(*out))


def is_vector(expr) -> bool:
    """Whether ``expr`` depends on the coordinate (holds a vector or frozen symbol)."""
    return any(isinstance(s, (VectorSymbol, FrozenSymbol)) for s in expr.free_symbols)


# -- canonical form -----------------------------------------------------------------
_CANONICAL: dict = {}
_MONOMIALS: dict = {}


def canonical(expr) -> sympy.Expr:
    """The canonical form of the sympy expression ``expr`` (see the module docstring; an
    element of :mod:`~bea.coordinatewise.ring` goes through
    :func:`bea.coordinatewise.boundary.to_canonical`); cached."""
    expr = sympy.sympify(expr)
    found = _CANONICAL.get(expr)
    if found is None:
        found = sympy.Add(*[c * m for c, m in _split(expr)])
        _CANONICAL[expr] = found
        _CANONICAL.setdefault(found, found)
    return found


def monomials(expr) -> tuple:
    """``expr = Σ_i c_i m_i`` with scalar ``c_i`` and distinct vector monomials ``m_i``."""
    expr = sympy.sympify(expr)
    found = _MONOMIALS.get(expr)
    if found is None:
        found = _split(expr)
        _MONOMIALS[expr] = found
    return found


def times(*factors) -> sympy.Expr:
    """The product of canonical ``factors``, distributed over their monomials: each
    product of monomials is put in canonical form on its own (cached) and the result is
    left as a sum to collect term by term, so no product of large sums ever reaches the
    rational-function normal form. Equal to ``canonical(Π factors)`` up to collection."""
    terms = [(sympy.S.One, sympy.S.One)]
    for f in factors:
        split = monomials(f)
        terms = [(c * cf * cm, m) for c, mt in terms for cf, mf in split
                 for cm, m in monomials(mt * mf)]
        if not terms:
            return sympy.S.Zero
    return sympy.Add(*[c * m for c, m in terms])


class _Encoder:
    """Replaces non-rational subexpressions by generator symbols, recording relations."""

    def __init__(self):
        self.decode: dict = {}   # generator -> expression
        self.roots: dict = {}    # generator -> (q, encoded base)
        self.vector: set = set() # generators that depend on the coordinate
        self._by_key: dict = {}

    def generator(self, key, expr):
        g = self._by_key.get(key)
        if g is None:
            g = _Generator(f"\0g{len(self._by_key)}")
            self._by_key[key] = g
            self.decode[g] = expr
            if is_vector(expr):
                self.vector.add(g)
        return g

    def encode(self, e):
        if e.is_Symbol or e.is_Rational:
            return e
        if e.is_Add or e.is_Mul:
            return e.func(*[self.encode(a) for a in e.args])
        if e.is_Pow:
            base, exp = e.args
            if exp.is_Integer:
                return self.encode(base) ** exp
            if exp.is_Rational:
                base = canonical(base)
                q = exp.q
                root = self.generator(("root", base, q), base ** sympy.Rational(1, q))
                self.roots.setdefault(root, (q, self.encode(base)))
                n = math.floor(exp)
                return self.encode(base) ** n * root ** int((exp - n) * q)
            key = ("pow", canonical(base), canonical(exp))
            return self.generator(key, canonical(base) ** canonical(exp))
        if e.is_Function:
            args = tuple(canonical(a) for a in e.args)
            return self.generator(("fn", e.func, args), e.func(*args))
        if e.is_Number:  # floats, I, … : exact numbers only
            raise ValueError(f"{e} is not an exact number")
        raise ValueError(f"cannot put {e} ({type(e).__name__}) in canonical form")


def _split(expr) -> tuple:
    """The monomials of ``expr``: ``((c_1, m_1), …)`` in a deterministic order."""
    if expr == 0:
        return ()
    if expr.is_Add:  # the monomials are a basis: split term by term and collect
        collected: dict = {}
        for term in expr.args:
            for c, m in monomials(term):
                collected.setdefault(m, []).append(c)
        pairs = [(sympy.cancel(sympy.Add(*cs)) if len(cs) > 1 else cs[0], m)
                 for m, cs in collected.items()]
        return tuple(sorted(((c, m) for c, m in pairs if c != 0),
                            key=lambda cm: sympy.default_sort_key(cm[1])))
    enc = _Encoder()
    encoded = enc.encode(expr)
    symbols = set(encoded.free_symbols) | set(enc.roots)
    for _, base in enc.roots.values():
        symbols |= base.free_symbols
    gens = sorted(symbols, key=sympy.default_sort_key)
    field = FracField(gens, QQ)
    value = _reduce_roots(field.from_expr(encoded), field, enc)
    if not value.numer:
        return ()
    vector = [g for g in gens if isinstance(g, (VectorSymbol, FrozenSymbol)) or g in enc.vector]
    scalars = [g for g in gens if g not in vector]
    scale, factors = _denominator(value.denom.as_expr(), vector)
    domain = QQ.frac_field(*scalars) if scalars else QQ
    inverse_scale = domain.one / domain.from_sympy(scale)
    if vector:
        ring = PolyRing(vector, domain)
        numer = _over_scalars(value.numer, gens, vector, scalars, ring, domain)
        pairs = _fractions(numer, [(ring.from_expr(p), int(e)) for p, e in factors])
    else:
        pairs = [(domain.from_sympy(value.numer.as_expr()), sympy.S.One)]
    out: dict = {}
    for c, m in pairs:
        if not c:
            continue
        m = m.xreplace(enc.decode)
        c = domain.to_sympy(c * inverse_scale).xreplace(enc.decode)
        out[m] = out.get(m, sympy.S.Zero) + c
    return tuple(sorted(((c, m) for m, c in out.items() if c != 0),
                        key=lambda cm: sympy.default_sort_key(cm[1])))


def _denominator(denom, vector):
    """``denom = scale · Π p_i^{e_i}``: the vector-dependent irreducible factors ``p_i``
    (each with a positive leading coefficient) and the scalar rest ``scale``."""
    const, factors = sympy.factor_list(denom)
    scale, out = const, []
    vector = set(vector)
    for p, e in factors:
        if p.free_symbols & vector:
            lead = sympy.Poly(p, *sorted(p.free_symbols, key=sympy.default_sort_key)).LC()
            if lead < 0:
                p, scale = -p, scale * (-1) ** e
            out.append((p, e))
        else:
            scale = scale * p**e
    return scale, sorted(out, key=lambda pe: sympy.default_sort_key(pe[0]))


def _over_scalars(poly, gens, vector, scalars, ring, domain):
    """A polynomial over ``QQ`` in all symbols as one in the vector symbols, with
    coefficients in the field of the scalars (sparse: no dense recursion)."""
    vi = [gens.index(g) for g in vector]
    si = [gens.index(g) for g in scalars]
    grouped: dict = {}
    for monom, c in poly.terms():
        key = tuple(monom[i] for i in vi)
        grouped.setdefault(key, {})[tuple(monom[i] for i in si)] = c
    if not scalars:
        return ring.from_dict({k: next(iter(d.values())) for k, d in grouped.items()})
    sring = domain.field.ring
    return ring.from_dict({k: domain.field(sring.from_dict(d)) for k, d in grouped.items()})


def _fractions(numer, factors):
    """``numer / Π p_i^{e_i}`` as ``[(coefficient, vector monomial)]``.

    One factor ``p``: the p-adic expansion ``Σ_i r_i p^{i-e}`` with every digit ``r_i``
    reduced modulo ``p`` (unique: a single polynomial is a Gröbner basis), so the
    monomials ``x^a / p^k`` form a basis over the scalars and sums collect across
    expressions (``ε f/s³ + f³/s³ = f/s``). Several factors: one division by their
    product (deterministic, not a basis).
    """
    gens = numer.ring.symbols

    def mono(exps):
        return sympy.Mul(*[g**k for g, k in zip(gens, exps)])

    if len(factors) == 1:
        (p, e), = factors
        divisors = [(p, p.as_expr(), k) for k in range(e, 0, -1)]
    elif factors:
        q = numer.ring.one
        for p, e in factors:
            q = q * p**e
        divisors = [(q, sympy.Mul(*[p.as_expr() ** e for p, e in factors]), 1)]
    else:
        divisors = []
    pairs = []
    rest = numer
    for divisor, expr, power in divisors:
        if not rest:
            break
        (rest,), digit = rest.div([divisor])
        denominator = expr**power
        pairs += [(c, mono(m) / denominator) for m, c in digit.terms()]
    pairs += [(c, mono(m)) for m, c in rest.terms()]
    return pairs


def _reduce_roots(value, field, enc):
    """Clear monomial roots from the denominator; reduce root powers below ``q``."""
    for root, (q, base) in enc.roots.items():
        r = field.from_expr(root)
        b = field.from_expr(base)
        i = field.ring.gens.index(field.ring(root))
        degrees = {m[i] for m in value.denom.monoms()}
        if len(degrees) == 1 and (k := degrees.pop()) > 0:
            up = -(-k // q)
            value = value * r ** (up * q - k) / b ** up
        if value.numer.degree(i) >= q:
            value = _reduce_power(value, field, i, r, b, q)
    return value


def _reduce_power(value, field, i, r, b, q):
    """Replace ``R^k`` by ``b^{k//q} R^{k mod q}`` in the numerator (``R`` generator ``i``)."""
    ring = field.ring
    total_ = field.zero
    for monom, coeff in value.numer.terms():
        k = monom[i]
        rest = list(monom)
        rest[i] = 0
        term = field(ring({tuple(rest): coeff}))
        total_ += term * b ** (k // q) * r ** (k % q)
    return total_ / field(value.denom)
