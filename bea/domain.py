"""Exact coefficient fields.

Coefficients of series live in an exact field chosen once per derivation: sympy's ``QQ``
(gmpy2 rationals when installed) when every parameter is a number, the rational-function
field ``Q(β, α, …)`` of :mod:`bea.coefficients` (FLINT) when parameters are symbols, and
sympy's algebraic fields for tableaux with surds (``QQ<√3>`` in Gauss–Legendre, and
``QQ<√3>(β, …)`` with symbols too). Elements are canonical, so a coefficient is zero
exactly when it compares equal to zero: no ``simplify`` is ever needed, and the fast paths
never touch ``sympy.Expr``.
"""

from __future__ import annotations

import re
from fractions import Fraction

import sympy
from sympy.polys.domains import QQ

from .coefficients import field_of

__all__ = ["field_for", "exact_number", "flatten"]

_MAX_DIGITS = 400
_MAX_EXPONENT = 400


def exact_number(value) -> sympy.Expr:
    """An exact sympy number or expression from an int, Fraction, float, str or Expr.

    Strings must be integers, fractions ``p/q`` or decimals (at most ``_MAX_DIGITS``
    characters, decimal exponent within ``±_MAX_EXPONENT``); they are parsed with
    :class:`fractions.Fraction`, never evaluated. Floats are taken at their decimal repr.
    """
    if isinstance(value, sympy.Basic):
        return value
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a number")
    if isinstance(value, int):
        return sympy.Integer(value)
    if isinstance(value, Fraction):
        return sympy.Rational(value.numerator, value.denominator)
    if isinstance(value, float):
        return exact_number(repr(value))
    if isinstance(value, str):
        text = value.strip()
        if "_" in text:  # Fraction accepts 1_000 and 1e4_00, past the exponent check below
            raise ValueError(f"{value[:40]!r}: write numbers without '_' (e.g. 10000, 1e4)")
        exponent = re.search(r"[eE]([+-]?[0-9]+)$", text)
        if len(text) > _MAX_DIGITS or (exponent and abs(int(exponent.group(1))) > _MAX_EXPONENT):
            raise ValueError(f"{value[:40]!r} is too long or too large a number")
        try:
            frac = Fraction(text)
        except (ValueError, ZeroDivisionError):
            raise ValueError(
                f"{value!r} is not an exact number; write an integer, a fraction like 1/3, "
                "or a decimal like 0.25"
            ) from None
        return sympy.Rational(frac.numerator, frac.denominator)
    raise ValueError(f"{value!r} is not a number")


def field_for(values) -> sympy.polys.domains.Domain:
    """The smallest convenient exact field holding every value in ``values``.

    ``values`` may nest tuples (a tableau's rows).
    Rationals give ``QQ``; free symbols the rational functions of
    :class:`bea.coefficients.RationalFunctionField`; algebraic numbers (e.g. ``sqrt(3)``)
    an algebraic extension (with symbols, sympy's rational functions over it).
    """
    exprs = [exact_number(v) for v in flatten(values)]
    symbols = sorted({s for e in exprs for s in e.free_symbols}, key=str)
    surds = set()
    for e in exprs:
        for a in sympy.preorder_traversal(e):
            if isinstance(a, sympy.Pow) and a.base.is_Rational and not a.exp.is_Integer:
                surds.add(a)
    if not surds:
        return field_of(symbols) if symbols else QQ
    base = QQ.algebraic_field(*sorted(surds, key=str))
    return base.frac_field(*symbols) if symbols else base


def flatten(values):
    """The leaves of nested tuples and lists (a tableau's rows), in order."""
    for v in values:
        if isinstance(v, (tuple, list)):
            yield from flatten(v)
        else:
            yield v
