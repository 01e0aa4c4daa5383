"""Rational functions of a few parameters, at the speed of numbers (python-flint).

A derivation with symbolic parameters (momentum's ``β``, the game rates ``α, λ``, SGD's
batch count ``m``, tableau entries) computes with coefficients in ``Q(β, …)``. sympy's
fraction field ``QQ.frac_field(β, …)`` is exact but cancels a gcd in pure Python on every
operation; measured on ``momentum --beta beta --order 8`` it was over 95 % of the
derivation (55 s profiled, 2.8 s on this field). :class:`RationalFunctionField` keeps the
same exact, canonical elements — numerator and denominator in lowest terms, denominator
with a positive leading coefficient — with the polynomial arithmetic, gcd and
factorisation done by FLINT (``fmpz_mpoly``) through python-flint, the standard C library
for exact polynomial arithmetic. A representation over fixed known denominators (powers of
``1 − β``) was considered and not needed: measured, an operation here costs 13–17 µs
whole (momentum orders 7–10, 12 000 to 400 000 operations), so canonical forms need no
bookkeeping of which denominators may occur, and they hold for any parameters.
Canonical elements mean a coefficient is zero exactly when it compares equal to zero,
as before.

sympy stays for input and display: :meth:`RationalFunctionField.to_sympy` returns the
**factored form** — the same expression ``sympy.factor`` would give, assembled from
FLINT's factorisation — and :func:`factored` brings any rational function of sympy
symbols to that form the same way (the printers call it instead of ``sympy.factor``).
Numbers without symbols keep sympy's ``QQ`` (gmpy2 rationals); algebraic numbers
(``√3`` in Gauss–Legendre) keep sympy's algebraic fields (:mod:`bea.domain`).
"""

from __future__ import annotations

import functools
from fractions import Fraction

import flint
import sympy
from sympy.polys.domains import QQ
from sympy.core.exprtools import _keep_coeff
from sympy.polys.polyutils import _sort_gens

__all__ = ["RationalFunctionField", "RationalFunction", "field_of", "factored", "factorization",
           "to_sympy_function"]


class RationalFunction:
    """An element ``num/den`` of a :class:`RationalFunctionField`, in lowest terms."""

    __slots__ = ("num", "den", "field", "expr")

    def __init__(self, num, den, field):
        self.num = num
        self.den = den
        self.field = field
        self.expr = None  # the factored sympy form, once asked for

    # construction helpers -------------------------------------------------------------
    def _new(self, num, den):
        """``num/den`` reduced; ``den`` non-zero."""
        if num.is_zero():
            return self.field.zero
        if not den.is_constant() or not num.is_constant() or not den.is_one():
            g = num.gcd(den)
            if not g.is_one():
                num, den = num / g, den / g
        if den.leading_coefficient() < 0:
            num, den = -num, -den
        return RationalFunction(num, den, self.field)

    def _coerce(self, other):
        if isinstance(other, RationalFunction):
            return other
        return self.field(other)

    # arithmetic ----------------------------------------------------------------------
    def __add__(self, other):
        o = self._coerce(other)
        a, b, c, d = self.num, self.den, o.num, o.den
        if b == d:
            return self._new(a + c, b)
        g = b.gcd(d)
        if g.is_one():  # coprime denominators: the sum is already in lowest terms
            num = a * d + b * c
            return RationalFunction(num, b * d, self.field) if not num.is_zero() else self.field.zero
        return self._new(a * (d / g) + c * (b / g), (b / g) * d)

    __radd__ = __add__

    def __neg__(self):
        return RationalFunction(-self.num, self.den, self.field)

    def __sub__(self, other):
        return self + (-self._coerce(other))

    def __rsub__(self, other):
        return self._coerce(other) + (-self)

    def __mul__(self, other):
        o = self._coerce(other)
        a, b, c, d = self.num, self.den, o.num, o.den
        if a.is_zero() or c.is_zero():
            return self.field.zero
        if not d.is_one():
            g = a.gcd(d)
            if not g.is_one():
                a, d = a / g, d / g
        if not b.is_one():
            g = c.gcd(b)
            if not g.is_one():
                c, b = c / g, b / g
        num, den = a * c, b * d
        if den.leading_coefficient() < 0:
            num, den = -num, -den
        return RationalFunction(num, den, self.field)

    __rmul__ = __mul__

    def inverse(self):
        if self.num.is_zero():
            raise ZeroDivisionError("division by zero in a rational function field")
        num, den = self.den, self.num
        if den.leading_coefficient() < 0:
            num, den = -num, -den
        return RationalFunction(num, den, self.field)

    def __truediv__(self, other):
        return self * self._coerce(other).inverse()

    def __rtruediv__(self, other):
        return self._coerce(other) * self.inverse()

    def __pow__(self, n: int):
        if n < 0:
            return self.inverse() ** -n
        return RationalFunction(self.num ** n, self.den ** n, self.field)

    # comparison ----------------------------------------------------------------------
    def __bool__(self):
        return not self.num.is_zero()

    def __eq__(self, other):
        if not isinstance(other, RationalFunction):
            try:
                other = self.field(other)
            except (TypeError, ValueError):
                return NotImplemented
        return self.num == other.num and self.den == other.den

    def __hash__(self):
        return hash((tuple(sorted(self.num.to_dict().items())), tuple(sorted(self.den.to_dict().items()))))

    def __repr__(self):
        return str(self.field.to_sympy(self))


class RationalFunctionField:
    """``Q(x_1, …, x_k)`` for sympy symbols ``x_i``: exact, canonical, FLINT-backed.

    The interface is the part of a sympy domain the engine uses: ``zero``, ``one``,
    ``field(n)`` for numbers, ``from_sympy``, ``to_sympy``, ``convert_from``.
    """

    def __init__(self, symbols: tuple):
        self.symbols = tuple(symbols)
        self.ctx = flint.fmpz_mpoly_ctx.get(tuple(f"x{i}" for i in range(len(symbols))), "lex")
        self._index = {s: i for i, s in enumerate(self.symbols)}
        one = self.ctx.from_dict({(0,) * len(symbols): 1})
        self._poly_one = one
        self.zero = RationalFunction(self.ctx.from_dict({}), one, self)
        self.one = RationalFunction(one, one, self)
        self._gens = [RationalFunction(g, one, self) for g in self.ctx.gens()]
        self._exprs: dict = {}
        self._powers: dict = {}
        self._elements: dict = {}

    def __repr__(self):
        return "QQ(" + ", ".join(map(str, self.symbols)) + ")"

    def __call__(self, value) -> RationalFunction:
        """A number (int, Fraction, a sympy/gmpy rational) or an element of this field."""
        if isinstance(value, RationalFunction):
            if value.field is self:
                return value
            return self.convert_from(value, value.field)
        if isinstance(value, int) and not isinstance(value, bool):
            return RationalFunction(self.ctx.constant(value), self._poly_one, self) if value else self.zero
        num, den = getattr(value, "numerator", None), getattr(value, "denominator", None)
        if num is None or den is None:
            raise TypeError(f"cannot convert {value!r} to an element of {self}")
        num, den = int(num), int(den)
        if den < 0:
            num, den = -num, -den
        if num == 0:
            return self.zero
        g = Fraction(num, den)
        return RationalFunction(self.ctx.constant(g.numerator), self.ctx.constant(g.denominator), self)

    def gen(self, symbol) -> RationalFunction:
        return self._gens[self._index[symbol]]

    # sympy boundary ------------------------------------------------------------------
    def from_sympy(self, expr) -> RationalFunction:
        """An exact sympy rational function of this field's symbols (no evaluation of
        text; other expressions raise ``ValueError``)."""
        if not isinstance(expr, sympy.Basic):
            raise TypeError(f"{expr!r} is not a sympy expression")
        return _from_sympy(self, expr)

    def to_sympy(self, a: RationalFunction) -> sympy.Expr:
        """``a`` as a sympy expression in factored form (that of ``sympy.factor``)."""
        if a.expr is None:
            a.expr = _factored_expr(self, a)
        return a.expr

    def convert_from(self, a, source) -> RationalFunction:
        """``a``, an element of ``source`` (this field, one over fewer symbols, or ``QQ``)."""
        if source is self:
            return a
        if isinstance(source, RationalFunctionField):
            where = [self._index[s] for s in source.symbols]
            n = len(self.symbols)

            def lift(p):
                out = {}
                for exps, c in p.to_dict().items():
                    e = [0] * n
                    for i, k in zip(where, exps):
                        e[i] = k
                    out[tuple(e)] = c
                return self.ctx.from_dict(out)

            return RationalFunction(lift(a.num), lift(a.den), self)
        return self(a)

    def _power(self, p, k: int) -> sympy.Expr:
        key = (tuple(p.to_dict().items()), k)
        found = self._powers.get(key)
        if found is None:
            found = self._powers[key] = self._poly_expr(p) ** k
        return found

    def _poly_expr(self, p) -> sympy.Expr:
        """A polynomial as a sympy sum (memoized: a derivation has few distinct factors)."""
        key = tuple(p.to_dict().items())
        found = self._exprs.get(key)
        if found is None:
            found = self._exprs[key] = _canonical_sum(self.symbols, key)
        return found


def to_sympy_function(field):
    """``c ↦ sympy expression`` for elements of ``field``; for sympy's ``QQ`` a direct
    ``Rational`` from numerator and denominator (already coprime: no gcd), which is what
    printing thousands of numeric coefficients (RK4 to order 13) spends its time on."""
    if field is QQ:
        return lambda c: sympy.Rational.from_coprime_ints(int(c.numerator), int(c.denominator))
    return field.to_sympy


def field_of(symbols) -> RationalFunctionField:
    """The one field over ``symbols`` (in sympy's generator order), shared by every caller."""
    return _field_of(tuple(_sort_gens(set(symbols))))


_COMPARE = functools.cmp_to_key(sympy.Basic.compare)


def _canonical_sum(symbols, terms) -> sympy.Expr:
    """``Σ c·x^e`` for integer ``c`` built directly in sympy's canonical form (arguments in
    ``Basic.compare`` order, the constant first, as ``Add``/``Mul`` flatten them) rather than
    by evaluation, which costs ~30× more; equal and equally hashed (tested)."""
    args, constant = [], None
    for exps, c in terms:
        c = sympy.Integer(int(c))
        powers = [sympy.Pow(s, e) if e > 1 else s for s, e in zip(symbols, exps) if e]
        if not powers:
            constant = c
            continue
        powers.sort(key=_COMPARE)
        if c == 1 and len(powers) == 1:
            args.append(powers[0])
        else:
            args.append(sympy.Mul._from_args(tuple(powers) if c == 1 else (c, *powers)))
    if constant is not None and not args:
        return constant
    args.sort(key=_COMPARE)
    if constant is not None:
        args.insert(0, constant)
    return sympy.Add._from_args(tuple(args)) if len(args) > 1 else args[0]


@functools.lru_cache(maxsize=None)
def _field_of(symbols: tuple) -> RationalFunctionField:
    return RationalFunctionField(symbols)


def _from_sympy(field: RationalFunctionField, e: sympy.Expr) -> RationalFunction:
    """The element an exact sympy expression stands for; sums and powers are memoized per
    field (the factors of a derivation's coefficients recur in most of them)."""
    if e.is_Rational:
        return field(Fraction(int(e.p), int(e.q)))
    if e.is_Symbol:
        if e not in field._index:
            raise ValueError(f"{e} is not a symbol of {field}")
        return field.gen(e)
    if e.is_Mul:
        out = field.one
        for a in e.args:
            out = out * _from_sympy(field, a)
        return out
    found = field._elements.get(e)
    if found is not None:
        return found
    if e.is_Add:
        out = field.zero
        for a in e.args:
            out = out + _from_sympy(field, a)
    elif e.is_Pow and e.exp.is_Integer:
        out = _from_sympy(field, e.base) ** int(e.exp)
    else:
        raise ValueError(f"{e} is not a rational function of {', '.join(map(str, field.symbols))}")
    field._elements[e] = out
    return out


# Factorisations already computed, by the sympy expression they were printed as (each
# factored form is also its own key), so that :func:`factored` and :func:`factorization`
# of an expression ``to_sympy`` returned cost one lookup.
_FACTORS: dict = {}
_REMEMBERED = 200_000


def _factor(field: RationalFunctionField, a: RationalFunction) -> tuple:
    """``(content, [(factor, exponent)])``: FLINT's factorisation of numerator and
    denominator, factors primitive with positive leading coefficient (lex order of sympy's
    generators, as sympy's ``factor_list``), denominator exponents negative."""
    cn, fn = a.num.factor()
    cd, fd = a.den.factor()
    return Fraction(int(cn), int(cd)), [(p, k) for p, k in fn] + [(p, -k) for p, k in fd]


def _remember(expr, entry):
    if len(_FACTORS) > _REMEMBERED:
        _FACTORS.clear()
    _FACTORS[expr] = entry


def _factored_expr(field: RationalFunctionField, a: RationalFunction) -> sympy.Expr:
    """The expression ``sympy.factor`` gives for ``a``: ``_keep_coeff(c, Π p_i^{k_i})``."""
    if a.num.is_constant() and a.den.is_constant():
        return sympy.Rational(int(a.num.leading_coefficient()), int(a.den.leading_coefficient()))
    content, factors = _factor(field, a)
    powers = sorted((field._power(p, k) for p, k in factors), key=_COMPARE)
    product = sympy.Mul._from_args(tuple(powers)) if len(powers) > 1 else powers[0]  # canonical, as _canonical_sum
    expr = _keep_coeff(sympy.Rational(content.numerator, content.denominator), product)
    _remember(expr, (field, content, factors, expr))
    return expr


def _lookup(expr: sympy.Expr, build: bool):
    """``(field, content, factors, factored expr or None)`` of a rational function of its
    symbols with rational coefficients, or ``None``; ``build``: the factored expression too."""
    found = _FACTORS.get(expr)
    if found is not None and (found[3] is not None or not build):
        return found
    symbols = tuple(expr.free_symbols)
    if not symbols:
        return None
    field = field_of(symbols)
    try:
        value = _from_sympy(field, expr)
    except (ValueError, ZeroDivisionError):
        return None
    if value.num.is_constant() and value.den.is_constant():
        return None
    if build:
        out = field.to_sympy(value)
        entry = _FACTORS[out]
    else:
        content, factors = _factor(field, value)
        entry = (field, content, factors, None)
    _remember(expr, entry)
    return entry


def factored(expr: sympy.Expr) -> sympy.Expr:
    """``sympy.factor(expr)`` for a rational function of its symbols with rational
    coefficients, computed by FLINT; any other expression goes to ``sympy.factor``."""
    if expr.is_Rational:
        return expr
    found = _lookup(expr, build=True)
    return found[3] if found is not None else sympy.factor(expr)


def factorization(expr: sympy.Expr):
    """``(field, content, [(factor polynomial, exponent)])`` of a non-constant rational
    function of its symbols (the form :func:`factored` prints), or ``None``."""
    if expr.is_Rational:
        return None
    found = _lookup(expr, build=False)
    return None if found is None else found[:3]
