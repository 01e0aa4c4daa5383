"""sympy's printing order of a coefficient's terms and factors, computed from the exponent
tuples the FLINT field holds instead of from sympy objects.

A printer that reads the field's factorization (:mod:`bea.render.readable` for text,
:mod:`bea.render.latexform` for LaTeX) must put terms and factors where sympy's printers
would, so that its output is byte-identical to theirs. sympy orders a product's factors by
``sort_key`` and a sum's terms by ``as_ordered_terms``; both depend on the symbols' display
names, which differ between text (``β``) and LaTeX (``\\beta``): each printer passes its
own ``names`` (one per field symbol) and ``order`` (the symbol indices sorted by name).
"""

from __future__ import annotations

__all__ = ["NUMBER", "SYMBOL", "MUL", "ADD", "number_key", "symbol_key", "term_key", "ordered_terms"]

NUMBER, SYMBOL, MUL, ADD = (1, 0, "Number"), (2, 0, "Symbol"), (3, 0, "Mul"), (3, 1, "Add")
"""sympy's ``class_key`` of the classes a coefficient is built of."""


def number_key(c) -> tuple:
    """``sympy.Integer(c).sort_key()``."""
    return (NUMBER, (0, ()), (), c)


def symbol_key(name: str, exponent: int) -> tuple:
    """``(x**exponent).sort_key()`` for a symbol named ``name``."""
    return (SYMBOL, (1, (name,)), number_key(exponent), 1)


def term_key(names: tuple, order: list, c, exps) -> tuple:
    """``sort_key`` of the term ``c·x^exps``."""
    factors = [(names[i], exps[i]) for i in order if exps[i]]
    if not factors:
        return number_key(c)
    if len(factors) == 1:
        name, e = factors[0]
        return (SYMBOL, (1, (name,)), number_key(e), c)
    inner = tuple(symbol_key(name, e) for name, e in factors)
    return (MUL, (len(inner), inner), number_key(1), c)


def ordered_terms(order: list, key: tuple) -> list:
    """The terms ``(exponents, c)`` of a polynomial in sympy's printing order
    (``as_ordered_terms``): descending lex in the symbols sorted by name, except that a
    positive constant comes first before a single negative term (``1 - β``)."""
    terms = sorted(key, key=lambda t: tuple(t[0][i] for i in order), reverse=True)
    if (len(terms) == 2 and not any(terms[1][0]) and terms[1][1] > 0 and terms[0][1] < 0
            and sum(1 for e in terms[0][0] if e) == 1):
        terms.reverse()
    return terms
