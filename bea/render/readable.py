"""Coefficients printed from the factorisation the field holds, without sympy arithmetic.

A coefficient's readable form (:func:`bea.render.notation.coefficient`) is its factored
form with every two-term factor written with a non-negative constant (``1 - β``, not
``β - 1``) and the sign taken out: ``-(β + 1)/(2(1 - β)³)``. It used to be computed by
sympy (``factor``, ``fraction``, rebuilding products, ``sstr``): on
``momentum --beta beta --order 8`` that was eight times the derivation itself. Here it is
assembled from FLINT's factorisation (:func:`bea.coefficients.factorization`): the few
distinct irreducible factors of a derivation are turned into sympy expressions and
printed once each (memoized), and each coefficient is a join of those strings in the
order sympy's printer would choose (``as_ordered_factors``, i.e. ``sort_key``, also
memoized per factor). The result is byte-identical to the sympy route, which stays as
the fallback for the shapes where sympy's automatic distribution of a number over a sum
changes the form (``2β - 2``, ``β²/2 + 1/2``), for lone powers, and for expressions that
are not rational functions with rational coefficients (surds, Adam's coordinate-wise
scalars); the tests compare both routes on every catalogue derivation.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import sympy

from ..coefficients import factorization
from .sortkeys import ADD, number_key, ordered_terms, symbol_key, term_key

__all__ = ["Readable", "readable", "mul_text", "GREEK"]

GREEK = {"beta": "β", "alpha": "α", "lam": "λ", "lambda": "λ", "gamma": "γ", "rho": "ρ", "eta": "η",
         **{"eta" + "prime" * j: "η" + "'" * j for j in range(1, 10)}}
"""Parameter names printed as Greek letters in text (shared with :mod:`bea.render.notation`);
``etaprime``, ``etaprimeprime``, … are a schedule's derivatives ``η'``, ``η''`` (:mod:`bea.schedule`)."""


@dataclass(frozen=True)
class Readable:
    """``sign · (p/q) · Π N_i^{a_i} / Π D_j^{b_j}`` with ``p, q > 0`` coprime and the
    factors in display form (two-term factors with a non-negative constant)."""

    sign: int
    p: int
    q: int
    numerator: tuple   # ((factor, exponent), ...), factor: a display polynomial key
    denominator: tuple
    field: object


def _sign_of_terms(poly) -> int:
    """``-1`` when sympy's ``could_extract_minus_sign`` would take the sign out of the sum
    ``poly``: more negative than positive terms; ``0`` on a tie (sympy then compares sort
    keys: left to sympy)."""
    coeffs = [c for c in poly.to_dict().values()]
    neg = sum(1 for c in coeffs if c < 0)
    pos = len(coeffs) - neg
    return -1 if neg > pos else (1 if pos > neg else 0)


def _flippable(poly) -> bool:
    """A two-term sum with a negative constant term (``β - 1``), printed negated."""
    d = poly.to_dict()
    if len(d) != 2:
        return False
    constant = d.get(tuple(0 for _ in next(iter(d))))
    return constant is not None and constant < 0


def readable(expr: sympy.Expr) -> Readable | None:
    """The readable form of a rational-function coefficient, or ``None`` where the sympy
    route must decide (see the module docstring)."""
    found = factorization(expr)
    if found is None:
        return None
    field, content, factors = found
    p, q = content.numerator, content.denominator
    num = [(f, k) for f, k in factors if k > 0]
    den = [(f, -k) for f, k in factors if k < 0]
    # sympy distributes a number over a lone sum (2(β - 1) → 2β - 2): leave those to sympy
    if (len(num) == 1 and num[0][1] == 1 and not num[0][0].is_constant() and abs(p) != 1
            and _is_sum(num[0][0])) or (len(den) == 1 and den[0][1] == 1 and q != 1 and _is_sum(den[0][0])):
        return None
    sign = 1
    if len(num) == 1 and num[0][1] == 1 and _is_sum(num[0][0]) and abs(p) == 1:
        poly = num[0][0] * p  # the numerator is this sum; sympy's sign rule for sums
        s = _sign_of_terms(poly)
        if s == 0:
            return None
        sign = s
        num = [(poly * s, 1)]
        p = 1
    elif p < 0:
        sign, p = -1, -p
    out_num, out_den = [], []
    for part, out in ((num, out_num), (den, out_den)):
        for f, k in part:
            if _flippable(f):
                f = -f
                sign = -sign if k % 2 else sign
            out.append((_key(f), k))
    if not den and len(num) == 1 and num[0][1] == 1 and _is_sum(num[0][0]) and (p, q) != (1, 1):
        return None  # (p/q)·sum distributes again
    if len(out_num) + len(out_den) + (p != 1) + (q != 1) < 2:
        return None  # a lone power or sum: sympy prints it without a product
    return Readable(sign, p, q, tuple(out_num), tuple(out_den), field)


def _is_sum(poly) -> bool:
    return len(poly.to_dict()) > 1


def _key(poly) -> tuple:
    return tuple(sorted(poly.to_dict().items()))


@functools.lru_cache(maxsize=None)
def _names(field) -> tuple:
    """Display names of the field's symbols (Greek in text) and their order by name (the
    order of sympy's ``sort_key``)."""
    names = tuple(GREEK.get(s.name, s.name) for s in field.symbols)
    return names, sorted(range(len(names)), key=names.__getitem__)


def _terms(field, key: tuple) -> list:
    """The terms ``(c, exponents)`` of a polynomial in sympy's printing order."""
    return ordered_terms(_names(field)[1], key)


def _monomial(field, exps) -> list:
    """``[(name, exponent)]`` of a monomial, symbols by name."""
    names, order = _names(field)
    return [(names[i], exps[i]) for i in order if exps[i]]


def _term_key(field, c, exps) -> tuple:
    """``sort_key`` of the term ``c·x^exps``."""
    return term_key(*_names(field), c, exps)


def _term_text(field, c, exps) -> str:
    """sympy's ``str`` of the term ``c·x^exps``: ``-10*β**2``, ``α*λ``, ``3``."""
    factors = [name if e == 1 else f"{name}**{e}" for name, e in _monomial(field, exps)]
    if not factors:
        return str(c)
    head = "" if c == 1 else "-" if c == -1 else f"{c}*"
    return head + "*".join(factors)


@functools.lru_cache(maxsize=None)
def _item(field, key: tuple, exponent: int) -> tuple:
    """``(sort key, printed text)`` of ``factor^exponent`` as sympy's printer sees it inside
    a product: the sort key of the power (with the exponent's sign as in the product), the
    text with the exponent's magnitude (as printed in a numerator or denominator)."""
    terms = _terms(field, key)
    if len(terms) == 1:  # a symbol (factors are primitive: coefficient 1, one variable)
        (name, e), = _monomial(field, terms[0][0])
        sort = symbol_key(name, exponent)
        text = name
    else:
        keys = tuple(_term_key(field, c, exps) for exps, c in terms)
        sort = (ADD, (len(keys), keys), number_key(exponent), 1)
        parts = []
        for exps, c in terms:
            t = _term_text(field, c, exps)
            parts += ["-", t[1:]] if t.startswith("-") else ["+", t]
        text = "(" + ("" if parts[0] == "+" else "-") + " ".join(parts[1:]) + ")"
    if abs(exponent) != 1:
        text = f"{text}**{abs(exponent)}"
    return sort, text


def mul_text(r: Readable) -> str:
    """``sstr`` of the magnitude ``(p/q) Π N^a / Π D^b`` (before unicode clean-up)."""
    items = sorted([_item(r.field, f, k) + (True,) for f, k in r.numerator]
                   + [_item(r.field, f, -k) + (False,) for f, k in r.denominator])
    a = ([str(r.p)] if r.p != 1 else []) + [text for _, text, up in items if up]
    b = ([str(r.q)] if r.q != 1 else []) + [text for _, text, up in items if not up]
    a = a or ["1"]
    if not b:
        return "*".join(a)
    if len(b) == 1:
        return "*".join(a) + "/" + b[0]
    return "*".join(a) + "/(" + "*".join(b) + ")"
