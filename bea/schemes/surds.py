"""Exact numbers with square roots, read from text by a small recursive-descent parser.

Tableau files write entries such as ``"1/2 + sqrt(3)/6"`` or ``"-sqrt(15)/10"`` (the
Gauss–Legendre methods; Hairer, Lubich & Wanner, *Geometric Numerical Integration*,
Table II.1.3), or, when the caller accepts parameters, ``"1 - 1/(2*alpha)"``. The grammar is::

    expr   := term (("+" | "-") term)*
    term   := unary (("*" | "/") unary)*
    unary  := ("+" | "-") unary | atom
    atom   := NUMBER | "sqrt" "(" expr ")" | "(" expr ")" | NAME
    NUMBER := digits ["." digits] [("e" | "E") ["+" | "-"] digits]   (|exponent| ≤ 100)
    NAME   := letter (letter | digit | "_")*    (only with a ``symbol`` callback)

The argument of ``sqrt`` must be a non-negative rational, so every value lies in a field
``Q(√p, √q, …)`` (``Q(√p, …)(α, …)`` with parameters), which :func:`bea.domain.field_for`
represents exactly. Text is only tokenized and combined with sympy arithmetic on numbers
and symbols; nothing is ever evaluated. Every failure raises :class:`SurdError`.
"""

from __future__ import annotations

import re
from fractions import Fraction

import sympy

__all__ = ["SurdError", "parse_surd", "MAX_LENGTH", "MAX_DEPTH"]

MAX_LENGTH = 200
"""Longest accepted text."""
MAX_DEPTH = 20
"""Deepest accepted nesting of parentheses and signs."""
_MAX_EXPONENT = 100

_TOKEN = re.compile(r"\s*(?:(?P<number>(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)"
                    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<op>[-+*/()]))")


class SurdError(ValueError):
    """Text that is not an exact number with square roots of non-negative rationals."""


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    stripped = text.rstrip()
    while pos < len(stripped):
        match = _TOKEN.match(stripped, pos)
        if match is None:
            raise SurdError(f"unexpected {stripped[pos:].lstrip()[:10]!r}")
        kind = match.lastgroup
        out.append((kind, match.group(kind)))
        pos = match.end()
    return out


class _Parser:
    def __init__(self, tokens, symbol=None):
        self.tokens = tokens
        self.symbol = symbol
        self.pos = 0
        self.depth = 0

    def peek(self):
        return self.tokens[self.pos] if self.pos < len(self.tokens) else (None, None)

    def take(self, value=None):
        kind, text = self.peek()
        if kind is None or (value is not None and text != value):
            raise SurdError(f"expected {value or 'a number'}" + (f", found {text!r}" if text else " at the end"))
        self.pos += 1
        return kind, text

    def expr(self):
        value = self.term()
        while self.peek()[1] in ("+", "-"):
            op = self.take()[1]
            right = self.term()
            value = value + right if op == "+" else value - right
        return value

    def term(self):
        value = self.unary()
        while self.peek()[1] in ("*", "/"):
            op = self.take()[1]
            right = self.unary()
            if op == "*":
                value = value * right
            elif right == 0:
                raise SurdError("division by zero")
            else:
                value = value / right
        return value

    def unary(self):
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise SurdError(f"nested deeper than {MAX_DEPTH} levels")
        if self.peek()[1] in ("+", "-"):
            value = self.unary() if self.take()[1] == "+" else -self.unary()
        else:
            value = self.atom()
        self.depth -= 1
        return value

    def atom(self):
        kind, text = self.take()
        if kind == "number":
            return _number(text)
        if kind == "name":
            if text != "sqrt":
                if self.symbol is None:
                    raise SurdError(f"unknown name {text!r} (only sqrt(…) is allowed)")
                return self.symbol(text)
            self.take("(")
            radicand = self.expr()
            self.take(")")
            if not radicand.is_Rational or radicand < 0:
                raise SurdError("sqrt takes a non-negative rational")
            return sympy.sqrt(radicand)
        if text == "(":
            value = self.expr()
            self.take(")")
            return value
        raise SurdError(f"unexpected {text!r}")


def _number(text: str) -> sympy.Rational:
    exponent = re.search(r"[eE]([+-]?[0-9]+)$", text)
    if exponent and abs(int(exponent.group(1))) > _MAX_EXPONENT:
        raise SurdError(f"exponent of {text!r} is beyond ±{_MAX_EXPONENT}")
    frac = Fraction(text)
    return sympy.Rational(frac.numerator, frac.denominator)


def parse_surd(text: str, symbol=None) -> sympy.Expr:
    """The exact value of ``text`` (e.g. ``"1/4 - sqrt(3)/6"``) as a sympy expression.

    ``symbol``: ``None`` refuses every name but ``sqrt``; otherwise a callable that turns a
    name (``"alpha"``) into its ``sympy.Symbol`` or raises (it decides which names are
    parameters: reserved names, e.g. ``h``, are its to refuse)."""
    if not isinstance(text, str):
        raise SurdError(f"{text!r} is not text")
    if len(text) > MAX_LENGTH:
        raise SurdError(f"longer than {MAX_LENGTH} characters")
    parser = _Parser(_tokens(text), symbol)
    value = parser.expr()
    if parser.pos != len(parser.tokens):
        raise SurdError(f"unexpected {parser.peek()[1]!r}")
    return value
