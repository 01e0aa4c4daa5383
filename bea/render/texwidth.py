"""Typeset width of LaTeX math, estimated from its source, and its top-level summands.

The LaTeX printer (:mod:`bea.render.latex`) breaks long rows between summands; to know
where, it needs the width a row will have once typeset. :func:`width` estimates it in
points of 10 pt Computer Modern (an ``article``'s default), glyph by glyph: letters and
symbols by their font widths rounded up, the spaces TeX puts around binary operators and
relations, fractions as their wider half, superscripts and subscripts at script size,
display-style sums with their limits below. It is meant to over-estimate: measured
against TeX over the catalogue's summands (tests/test_latex_layout.py) it never falls
short of TeX's width.

:func:`summands` splits a sum at its top-level ``+``/``-`` (outside braces, ``\\left…\\right``
groups and environments), never inside a fraction or a bracket.
"""

from __future__ import annotations

import re

__all__ = ["width", "summands", "TOKEN"]

TOKEN = re.compile(r"\\[A-Za-z]+|\\.|\s+|.", re.S)
"""A control word, a control symbol, a run of blanks, or one character."""

_BIN, _REL = 12.3, 13.4
"""A binary operator (``+``, 7.8 pt, with a medium space either side) and a relation
(``=``, with a thick space either side), in points."""

_SYMBOLS = {
    r"\nabla": 8.4, r"\|": 5.0, r"\langle": 3.9, r"\rangle": 3.9, r"\ell": 4.2, r"\top": 7.8,
    r"\infty": 10.0, r"\partial": 5.8, r"\dots": 13.4, r"\ldots": 13.4, r"\cdots": 13.4,
    r"\quad": 10.1, r"\qquad": 20.1, r"\,": 1.7, r"\:": 2.3, r"\;": 2.8, r"\!": -1.6, r"\ ": 3.4,
    r"\{": 5.0, r"\}": 5.0, r"\prime": 2.8, r"\Sigma": 7.3, r"\Delta": 8.4, r"\Phi": 7.3, r"\Psi": 7.8,
    r"\Omega": 7.3, r"\Gamma": 6.3, r"\Lambda": 6.9, r"\Theta": 7.8, r"\Pi": 7.6,
}
_BINARIES = {r"\odot", r"\otimes", r"\oplus", r"\cdot", r"\times", r"\circ", r"\pm", r"\mp"}
_RELATIONS = {r"\le", r"\leq", r"\ge", r"\geq", r"\neq", r"\ne", r"\approx", r"\sim", r"\equiv",
              r"\to", r"\mapsto", r"\in"}
_WORDS = {r"\log", r"\exp", r"\sin", r"\cos", r"\tanh", r"\det", r"\max", r"\min", r"\arg"}
_ACCENTS = {r"\tilde", r"\hat", r"\bar", r"\vec", r"\dot", r"\mathbf", r"\mathrm", r"\mathit",
            r"\boldsymbol", r"\mathcal", r"\operatorname"}
_INVISIBLE = {r"\vphantom", r"\label", r"\nonumber"}
_DELIMITER = 7.4
"""A ``\\left``/``\\right`` delimiter: at most the width of ``\\Bigg(``."""
_SCALE = {"D": 1.0, "T": 1.0, "S": 0.7, "SS": 0.5}
_SMALLER = {"D": "S", "T": "S", "S": "SS", "SS": "SS"}
_FRACTION = {"D": "T", "T": "S", "S": "SS", "SS": "SS"}


def _char(ch: str) -> float:
    if ch.isdigit():
        return 5.1
    if ch in "mwMW":
        return 9.8
    if ch.isupper():
        return 8.4
    if ch.isalpha():
        return 6.0
    return {"(": 3.9, ")": 3.9, "[": 3.9, "]": 3.9, "'": 2.8, "|": 2.8, "/": 5.0, ".": 2.8,
            ",": 4.5, ";": 4.5, ":": 2.8, "!": 2.8}.get(ch, 7.8)


class _Reader:
    """The tokens of a LaTeX source (blanks dropped), read as nested groups."""

    def __init__(self, tokens: list[str]):
        self.tokens = tokens
        self.i = 0

    def next(self) -> str | None:
        if self.i >= len(self.tokens):
            return None
        self.i += 1
        return self.tokens[self.i - 1]

    def group(self) -> list[str]:
        """The next argument: the tokens of a ``{…}`` group, or one token."""
        t = self.next()
        if t != "{":
            return [] if t is None else [t]
        depth, out = 1, []
        while (t := self.next()) is not None:
            depth += (t == "{") - (t == "}")
            if depth == 0:
                break
            out.append(t)
        return out


def _width(tokens: list[str], style: str) -> float:
    """Width, in points, of ``tokens`` in math style ``style`` (``D``, ``T``, ``S``, ``SS``)."""
    r, total, scale = _Reader(tokens), 0.0, _SCALE[style]
    while (t := r.next()) is not None:
        if t in ("^", "_"):
            total += _width(r.group(), _SMALLER[style]) + 1.5 * scale
        elif t == r"\frac":
            num, den = r.group(), r.group()
            total += max(_width(num, _FRACTION[style]), _width(den, _FRACTION[style])) + 2.4 * scale
        elif t == r"\sqrt":
            total += _width(r.group(), style) + 8.4 * scale
        elif t == r"\sum" or t == r"\prod":
            limits, sub = style == "D", 0.0
            while r.i < len(r.tokens) and r.tokens[r.i] in ("_", "^"):
                r.next()
                sub = max(sub, _width(r.group(), _SMALLER[style]))
            total += (max(14.5, sub) if limits else 10.6 * scale + sub) + 1.7 * scale
        elif t in (r"\left", r"\right"):
            total += 1.2 if r.next() == "." else _DELIMITER * scale
        elif t in (r"\text", r"\mbox", r"\textrm"):
            total += 5.6 * len("".join(r.group())) * scale
        elif t in _INVISIBLE:
            r.group()
        elif t in _ACCENTS:
            total += _width(r.group(), style) + (3.4 * scale if t == r"\operatorname" else 0.0)
        elif t in _WORDS:
            total += (5.0 * (len(t) - 1) + 1.7) * scale
        elif t in _BINARIES or t in "+-":
            total += _BIN * scale
        elif t in _RELATIONS or t in "=<>":
            total += _REL * scale
        elif t in ("{", "}", "&"):
            continue
        elif t in _SYMBOLS:
            total += _SYMBOLS[t] * scale
        elif t.startswith("\\") and len(t) > 2:
            total += 8.4 * scale  # a Greek letter or another symbol: at most an upper-case letter's width
        else:
            total += _char(t[-1]) * scale
    return total


def width(src: str) -> float:
    """The estimated width, in points, of LaTeX math ``src`` typeset in display style."""
    return _width([t for t in TOKEN.findall(src) if not t.isspace()], "D")


def summands(src: str) -> list[tuple[str, str]]:
    """``[(sign, text)]``: ``src`` split at its top-level binary ``+``/``-`` (a leading
    sign is the first summand's; ``"+"`` when it has none). Braces, ``\\left…\\right``
    groups and environments are not entered, so a fraction or a bracket is never split."""
    body, sign = src.strip(), "+"
    if body[:1] in "+-":
        sign, body = body[0], body[1:].lstrip()
    out, depth, start, skip = [], 0, 0, False
    for m in TOKEN.finditer(body):
        t = m.group()
        if skip:  # the delimiter after \left or \right
            skip = False
        elif t in (r"\left", r"\right"):
            depth += 1 if t == r"\left" else -1
            skip = True
        elif t in (r"\begin", r"\end"):
            depth += 1 if t == r"\begin" else -1
        elif t in "{}":
            depth += 1 if t == "{" else -1
        elif depth == 0 and t in "+-" and body[m.start() - 1:m.start()] == " " and body[m.end():m.end() + 1] == " ":
            out.append((sign, body[start:m.start()].strip()))
            sign, start = t, m.end()
    out.append((sign, body[start:].strip()))
    return out
