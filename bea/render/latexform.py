r"""Coefficients in LaTeX, printed from the factorisation the field holds.

The LaTeX and Markdown printers used to format every coefficient with ``sympy.latex`` of
its readable form (:func:`bea.render.notation.coefficient`): on
``momentum --beta beta --order 8`` that took longer than deriving and printing the text
output together. A coefficient's readable form (:class:`bea.render.readable.Readable`:
sign, rational content ``p/q``, numerator and denominator factors with exponents) is
printed here as sympy's ``LatexPrinter`` prints the same expression (``_print_Mul``,
``_print_Add``, ``_print_Pow``):

* ``\frac{numerator}{denominator}``, or the numerator alone when the denominator is 1;
  each side is its integer (left out when 1), then its factors in ``sort_key`` order,
  separated by spaces; ``1`` for a side with nothing;
* a sum alone on its side is bare (``\frac{\beta + 1}{…}``), among other factors it is in
  ``\left(…\right)``, and a power of a sum is ``\left(1 - \beta\right)^{3}``;
* a sum's terms in sympy's order (``as_ordered_terms``: descending lex in the symbols
  sorted by name, a positive constant before a single negative term, ``1 - \beta``), each
  ``- ``/`` + `` its magnitude ``2 \alpha \lambda^{2}``.

The order depends on the symbols' names, and LaTeX sorts by its own (``beta`` < ``m``, where
the text output sorts ``m`` < ``β``), so the sort keys are built here from LaTeX names; a
symbol's power is printed by sympy once (``b_{1}^{2}``, ``{\eta}'^{2}``). Factors and
coefficients are memoized. ``tests/test_latex_form.py`` compares the result with
``sympy.latex`` on every coefficient of symbolic derivations across the schemes.
"""

from __future__ import annotations

import functools

import sympy

from .readable import Readable
from .sortkeys import ADD, number_key, ordered_terms, symbol_key, term_key

__all__ = ["latex_magnitude", "latex_symbol"]


def latex_symbol(symbol: sympy.Symbol) -> sympy.Symbol:
    """The symbol a coefficient's ``symbol`` is printed as in LaTeX: ``lam`` is ``λ``
    (``\\lambda``; ``lam`` stands for it because ``lambda`` is a Python keyword)."""
    return sympy.Symbol("lambda" if symbol.name == "lam" else symbol.name)


def latex_magnitude(form: Readable) -> str:
    """``sympy.latex`` of the magnitude ``(p/q) Π N_i^{a_i} / Π D_j^{b_j}`` of ``form``."""
    numerator = _side(form.p, [_item(form.field, f, k) for f, k in form.numerator])
    if form.q == 1 and not form.denominator:
        return numerator
    return rf"\frac{{{numerator}}}{{{_side(form.q, [_item(form.field, f, k) for f, k in form.denominator])}}}"


def _side(number: int, items: list) -> str:
    """One side of the fraction: ``number`` (kept unless 1), then the factors by sort key."""
    items.sort(key=lambda item: item[0])
    if number == 1 and len(items) == 1:
        return items[0][1]
    parts = [] if number == 1 else [str(number)]
    parts += [rf"\left({tex}\right)" if is_sum else tex for _, tex, is_sum in items]
    return " ".join(parts) or "1"


@functools.lru_cache(maxsize=None)
def _item(field, key: tuple, exponent: int) -> tuple:
    """``(sort key, LaTeX, whether it is a bare sum)`` of ``factor^exponent`` (``exponent``
    positive; ``key``: the factor's ``(exponents, coefficient)`` terms, as
    :mod:`bea.render.readable` keys them). A factor is primitive: one term is a symbol."""
    names, order, _ = _names(field)
    terms = _ordered_terms(field, key)
    if len(terms) == 1:
        i = next(i for i in order if terms[0][0][i])
        return symbol_key(names[i], exponent), _power(field, i, exponent), False
    keys = tuple(_term_key(field, c, exps) for exps, c in terms)
    tex = _sum(field, terms)
    sort = (ADD, (len(keys), keys), number_key(exponent), 1)
    return sort, (tex if exponent == 1 else rf"\left({tex}\right)^{{{exponent}}}"), exponent == 1


def _sum(field, terms: list) -> str:
    """``\beta^{2} - 2 \beta + 3``: each later term ``+``/``-`` its magnitude; a negative
    first term ``- 2 \beta`` (a product, as sympy prints it) or ``-3`` (a number)."""
    _, order, _ = _names(field)
    out = []
    for exps, c in terms:
        magnitude = " ".join(([str(abs(c))] if abs(c) != 1 or not any(exps) else [])
                             + [_power(field, i, exps[i]) for i in order if exps[i]])
        if out:
            out.append((" - " if c < 0 else " + ") + magnitude)
        else:
            out.append(("" if c > 0 else "- " if any(exps) else "-") + magnitude)
    return "".join(out)


@functools.lru_cache(maxsize=None)
def _names(field) -> tuple:
    """``(names, order, symbols)``: the LaTeX names of the field's symbols, their indices
    in the order of those names (sympy's ``sort_key``), and the symbols."""
    symbols = tuple(latex_symbol(s) for s in field.symbols)
    names = tuple(s.name for s in symbols)
    return names, sorted(range(len(names)), key=names.__getitem__), symbols


@functools.lru_cache(maxsize=None)
def _power(field, i: int, exponent: int) -> str:
    """``sympy.latex`` of the ``i``-th symbol to ``exponent``."""
    symbol = _names(field)[2][i]
    return sympy.latex(symbol if exponent == 1 else sympy.Pow(symbol, exponent))


def _term_key(field, c, exps) -> tuple:
    """``sort_key`` of the term ``c·x^exps``, LaTeX names."""
    names, order, _ = _names(field)
    return term_key(names, order, c, exps)


def _ordered_terms(field, key: tuple) -> list:
    """The terms ``(exponents, c)`` of a polynomial in ``as_ordered_terms`` order, LaTeX names."""
    return ordered_terms(_names(field)[1], key)
