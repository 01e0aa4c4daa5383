"""A principal flow's closed forms in bea's notation, and its text lines fitted to a page.

``R(z)``, ``ψ(z)``, thresholds and conditions are sympy expressions; the text output writes
them as the rest of ``bea derive`` does (:mod:`bea.render.notation`): Greek parameter names,
powers as superscripts (``z⁴/24``), ``√(…)`` for square roots, a number juxtaposed with what
it multiplies (``2β``) and other products ``·``, ``≥``/``≤``; indexed variables subscripted
(``z₁``). LaTeX is sympy's printer with bea's names (``lam`` is ``\\lambda``). Lines longer
than :data:`WIDTH` are broken: a formula between the terms of its sum,
continued under its first term; words at spaces.
"""

from __future__ import annotations

import re
import textwrap

import sympy
from sympy.printing.precedence import PRECEDENCE
from sympy.printing.str import StrPrinter

from ..render.readable import GREEK
from ..render.notation import subscript, superscript

__all__ = ["text", "latex", "fit", "WIDTH"]

WIDTH = 100
"""The widest line, that of the text printer (:data:`bea.render.text.WIDTH`, which imports
the SDE printers: not imported here, so that :mod:`bea.check` reaches no :mod:`bea.stochastic`
through the principal flow)."""


class _TextPrinter(StrPrinter):
    """sympy's ``str`` with bea's names, superscript powers and ``√``."""

    def _print_Symbol(self, expr):
        name = GREEK.get(expr.name, expr.name)
        m = re.fullmatch(r"(\D+)(\d+)", name)
        return m.group(1) + subscript(m.group(2)) if m else name

    _print_Dummy = _print_Symbol

    def _print_Pow(self, expr, rational=False):
        base, exp = expr.as_base_exp()
        if exp == sympy.S.Half:
            inner = self._print(base)
            return "√" + (inner if base.is_Atom else f"({inner})")
        if exp.is_Integer and exp > 1:
            return self.parenthesize(base, PRECEDENCE["Pow"]) + superscript(str(exp))
        if exp.is_Integer and exp < 0:
            return "1/" + self.parenthesize(base ** -exp, PRECEDENCE["Mul"])
        return super()._print_Pow(expr, rational)

    def _print_ImaginaryUnit(self, expr):
        return "i"

    def _print_Pi(self, expr):
        return "π"

    def _print_Infinity(self, expr):
        return "∞"


_PRODUCT = re.compile(r"(?<=\d)\*(?=[A-Za-zα-ωΑ-Ω(√])")
_RELATIONS = {">=": "≥", "<=": "≤", "!=": "≠"}


def text(expr) -> str:
    """``expr`` in bea's text notation: ``z⁴/24 - z³/6``, ``√(β² - 2β·z + 1)``, ``2(β + 1)``."""
    out = _PRODUCT.sub("", _TextPrinter().doprint(sympy.sympify(expr))).replace("*", "·")
    for ascii_, sign in _RELATIONS.items():
        out = out.replace(f" {ascii_} ", f" {sign} ")
    return out.replace(" & ", " and ")


def latex(expr) -> str:
    """``expr`` by sympy's LaTeX printer, with bea's parameter names (``lam`` → ``\\lambda``)."""
    expr = sympy.sympify(expr)
    names = {s: sympy.Symbol("lambda") for s in expr.free_symbols if getattr(s, "name", "") == "lam"}
    return sympy.latex(expr.xreplace(names) if names else expr)


_NAME = re.compile(r"\s*[A-Za-zα-ωΔ][^\s(=]*(\([^()=]*\))?")
"""The left side of a formula line: ``R(z₁, z₂)``, ``ψ(z)``, ``Δ``."""


def fit(line: str) -> list[str]:
    """``line`` in lines of at most :data:`WIDTH` characters. A formula ``  lhs = a + b - c…``
    breaks between its top-level terms, continued under the first (a term wider than a line
    breaks at its spaces); other lines break at spaces, continued two columns in."""
    if len(line) <= WIDTH:
        return [line]
    lead = len(line) - len(line.lstrip())
    head, eq, rhs = line.partition(" = ")
    if eq and _NAME.fullmatch(head):
        return _formula(head + eq, rhs)
    return textwrap.wrap(line, WIDTH, subsequent_indent=" " * (lead + 2),
                         break_long_words=False, break_on_hyphens=False)


def _formula(head: str, rhs: str) -> list[str]:
    indent = " " * len(head)
    lines = [head]
    for piece in _terms(rhs):
        joined = lines[-1] + ("" if lines[-1] in (head, indent) else " ") + piece
        if len(joined) <= WIDTH or lines[-1] in (head, indent):
            lines[-1] = joined
        else:
            lines.append(indent + piece)
    out = []
    for line in lines:  # a single term wider than a line: at its spaces
        out += textwrap.wrap(line, WIDTH, subsequent_indent=indent + "  ", break_long_words=False,
                             break_on_hyphens=False) if len(line) > WIDTH else [line]
    return out


def _terms(rhs: str) -> list[str]:
    """``a + b - c`` → ``["a", "+ b", "- c"]``: split at ``" + "``/``" - "`` outside brackets."""
    pieces, depth, start = [], 0, 0
    for i, ch in enumerate(rhs):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif depth == 0 and rhs[i:i + 3] in (" + ", " - ") and i > start:
            pieces.append(rhs[start:i])
            start = i + 1
    pieces.append(rhs[start:])
    return pieces
