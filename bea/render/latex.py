r"""LaTeX: the modified flow and the modified loss as rows of ``align*``, broken to fit a page.

Every section prints as :class:`Row` s (``lhs &= summands``), :class:`Interjection` s (a
line of words between rows, ``\intertext``) and :class:`Paragraph` s (outside the display:
the notation line of a coordinate-wise rule before its rows, the definition of its
``‖∇L‖_{1,ε}`` after them, as the text output has them); :meth:`LatexPrinter._join` lays
the rows out. The break rule:

* a row is broken between its summands, after a top-level ``+``/``-``, into lines of at
  most :data:`WIDTH` points as estimated by :func:`bea.render.texwidth.width` (which is
  never short of TeX's width) and at most :data:`MAX_TERMS` summands; continuation lines
  start ``&\quad {}+`` and so align after the ``=`` of their row;
* a summand wider than a line by itself has its lines to itself, continued ``&\qquad``:
  broken between the summands of its widest ``\left(…\right)`` group (an Adam coefficient
  ``\left(c_1 + c_2 + c_3\right) \odot \nabla^3 L(q, q)``), each line closing the group with
  ``\right.`` and reopening it with ``\left.``, a ``\vphantom`` of the whole group keeping
  the delimiters of every line the same size; else, when it starts with a fraction wider
  than a line, with the numerator's bracketed factor taken out of the fraction
  (``\frac{h^7}{d} \left(\beta + 1\right) \left(p\right) …``, so that ``p`` can be broken);
  else between its leading fraction and the rest. A fraction is never broken;
* a display of :data:`BREAKABLE` lines or more may break across pages.

:data:`WIDTH` is 325 pt of 10 pt type: 32.5 em, the text width of ``article`` at 12 pt in
its own ems (at 10 pt it is 34.5 em, 345 pt), less the widest left side of the block.
"""

from __future__ import annotations

from dataclasses import dataclass

from .outer import outer_text
from . import coordinatewise as cw
from . import notation as nt
from .printer import MathPrinter
from .texwidth import TOKEN, summands, width

__all__ = ["LatexPrinter", "Row", "Interjection", "Paragraph", "MAX_TERMS", "WIDTH", "BREAKABLE"]

MAX_TERMS = 4
"""The most summands on one line, however short."""
WIDTH = 325.0
"""The widest line of a display, in points of 10 pt type (see the module docstring)."""
BREAKABLE = 10
"""A display of this many lines or more may break across pages, reluctantly
(``\\allowdisplaybreaks[1]``, kept inside a group so that it does not reach the displays
that follow): a page holds about twenty lines of fractions."""
_RELATION, _SIGN, _QUAD, _NULL = 13.4, 12.3, 10.0, 1.2
"""The widths of ``{}={}``, of ``{}+{}``, of ``\\quad`` and of ``\\left.``/``\\right.``, in points."""


@dataclass(frozen=True)
class Row:
    """``lhs &= parts`` (``[(sign, text)]``), then ``tail`` (``, \\quad C = …``)."""

    lhs: str
    parts: tuple
    tail: str = ""


@dataclass(frozen=True)
class Interjection:
    """A line of words between the rows of a display (``\\intertext``)."""

    text: str


@dataclass(frozen=True)
class Paragraph:
    """Text with inline math, outside the display."""

    text: str


class LatexPrinter(MathPrinter):
    format = "latex"
    style = nt.LATEX

    def __init__(self):
        self._atoms = ""

    def _join(self, parts) -> str:
        items = [item for section in parts for item in section]
        out, block = [], []
        for item in items + [None]:
            if isinstance(item, (Row, Interjection)):
                block.append(item)
                continue
            if block:
                out.append(_display(block))
                block = []
            if item is not None:
                out.append(item.text)
        return "\n".join(out) + "\n"

    def _print_Header(self, h) -> list:
        self._atoms = self._print(h.atoms)
        return []

    def _print_FlowInGradients(self, f) -> list:
        return []

    def _print_ModifiedFlow(self, f) -> list:
        return [self._row(nt.flow_name(r.order, self.style, f.tilde, f.step), r.terms) for r in f.rows]

    def _print_ModifiedLoss(self, sec) -> list:
        mean = rf"\quad C = {self._sum([sec.mean])}" if sec.mean else ""
        rows = [self._row(self._loss_name(sec.block), sec.loss, mean)]
        sup = f"^{{{sec.block}}}" if sec.block else ""
        return rows + [self._row(f"r_{{{r.order}}}{sup}", r.terms) for r in sec.remainders]

    def _print_Principal(self, p) -> list:
        out = []
        for line in p.flow.to_latex().splitlines():
            lhs, eq, rhs = line.partition(" = ")
            if eq and not lhs.startswith(r"\text"):
                out.append(Row(lhs, tuple(summands(rhs))))
            else:
                out.append(Interjection(_as_text(line)))
        return out

    # -- noise (bea.stochastic.sections)
    def _print_SMEHeader(self, h) -> list:
        return []

    def _print_Drift(self, f) -> list:
        return self._print_ModifiedFlow(f)

    def _print_DriftLoss(self, sec) -> list:
        return [Row("b", (("-", rf"\nabla\left({self._sum(sec.loss)}\right)"),))]

    def _print_Diffusion(self, d) -> list:
        return [Row(r"\Sigma", tuple(summands(outer_text(d.terms, self.style)))),
                Row("", tuple(summands(nt.signed_sum([(d.per_example, PER_EXAMPLE)], self.style))))]

    def _print_EpochCovariance(self, c) -> list:
        cov = rf"h^{{4}} \left({outer_text(c.terms, self.style)}\right) + O(h^{{5}})"
        return [Row(r"\operatorname{Cov}_\sigma", tuple(summands(cov)))]

    # -- coordinate-wise (bea.render.coordinatewise)
    def _print_Legend(self, leg) -> list:
        """The text output's notation line: what ``g``, ``H``, ``s``, ``q`` stand for."""
        if leg.loss is None:
            defined = [f"atoms ${self._atoms}$"]
        else:
            defined = [f"${d}$" for d in _clauses(cw.legend_text(leg, self.style))]
            if leg.uses_third:
                defined.insert(2, rf"$\nabla^{{k}} {leg.loss}(u, \dots)$ its $k$-th derivative")
        return [Paragraph(r"{\raggedright\noindent Notation: " + ", ".join(defined) + r"; products ($\odot$), "
                          r"quotients, powers and functions of vectors act elementwise.\par}")]

    def _print_CoordinateFlow(self, f) -> list:
        rows = [Row(nt.flow_name(r.order, self.style, f.tilde), tuple(cw.row_parts(r, self.style, f.loss)))
                for r in f.rows]
        notes = [", ".join(f"${d}$" for d in _clauses(cw.potential_definition(R, body, self.style, f.loss)))
                 for R, body in cw.potentials(f)]
        return rows + ([Paragraph(r"{\raggedright where " + "; ".join(notes) + r".\par}")] if notes else [])

    def _print_CoordinateLoss(self, sec) -> list:
        return [Row(self._loss_name(None), tuple(cw.loss_parts(sec.rows, self.style, sec.loss)))]

    def _row(self, lhs: str, terms, tail: str = "") -> Row:
        parts = nt.signed_terms([(t.coeff, self._body(t)) for t in terms], self.style) if terms else []
        return Row(lhs, tuple(parts), tail)


def _as_text(line: str) -> str:
    """A math line of ``\\text{…}`` and math as text with inline math: ``\\text{a } x`` → ``a $x$``."""
    out, depth, start, word = [], 0, 0, None
    tokens = list(TOKEN.finditer(line))
    for i, m in enumerate(tokens):
        t = m.group()
        if word is None and t == r"\text" and i + 1 < len(tokens) and tokens[i + 1].group() == "{":
            math = line[start:m.start()].strip()
            out.append(f"${math}$" if math else "")
            word, depth = tokens[i + 1].end(), -1  # the group's own brace comes next
        elif word is not None:
            depth += (t == "{") - (t == "}")
            if depth < 0 and t == "}":
                out.append(line[word:m.start()])
                word, start = None, m.end()
    math = line[start:].strip() if word is None else ""
    return ("".join(out) + (f"${math}$" if math else "")).strip()


def _clauses(text: str) -> list[str]:
    """``text`` split at its top-level ``", "`` (outside braces and ``\\left…\\right``)."""
    out, depth, start = [], 0, 0
    for m in TOKEN.finditer(text):
        t = m.group()
        depth += (t in ("{", r"\left")) - (t in ("}", r"\right"))
        if depth == 0 and t == "," and text[m.end():m.end() + 1] == " ":
            out.append(text[start:m.start()])
            start = m.end() + 1
    return out + [text[start:]]


# -- layout ----------------------------------------------------------------------------

@dataclass(frozen=True)
class _Piece:
    """One unit of a line: ``sign text``; ``group`` is the ``\\left(…\\right)`` group it is part
    of (``None`` at top level); ``opens``/``closes``: the first/last piece of a broken summand
    (in a group: the piece holding its delimiter)."""

    sign: str
    text: str
    group: str | None = None
    opens: bool = False
    closes: bool = False
    joined: bool = False  # the rest of the previous piece: no sign, not a summand of its own


def _display(block: list) -> str:
    """An ``align*`` of ``block``'s rows, each broken into lines (see the module docstring)."""
    lhs = max((width(r.lhs) for r in block if isinstance(r, Row)), default=0.0)
    body = ""
    for item in block:
        if isinstance(item, Interjection) and body:
            body += " \\\\\n" + rf"\intertext{{{item.text}}}" + "\n"
            continue
        text = _broken(item, WIDTH - lhs) if isinstance(item, Row) else rf"&\text{{{item.text}}}"
        body += ("" if not body or body.endswith("\n") else " \\\\\n") + text
    display = "\n".join([r"\begin{align*}", body.rstrip("\n"), r"\end{align*}"])
    if body.count("\\\\\n") < BREAKABLE:
        return display
    return "{\\allowdisplaybreaks[1]\n" + display + "}"


def _broken(row: Row, room: float) -> str:
    """``lhs &= …`` with ``\\\\ &\\quad {}+ …`` continuations, each line within ``room`` points;
    a line that goes on inside a summand (a group's next summand, a term's body) starts
    ``&\\qquad``."""
    pieces = [p for sign, text in row.parts or (("+", "0"),) for p in _pieces(sign, text, room - _QUAD - _SIGN)]
    lines: list[list[_Piece]] = [[]]
    heads = [f"{row.lhs} &="]
    used, budget = 0.0, room - _RELATION
    for i, piece in enumerate(pieces):
        w = _SIGN + width(piece.text) + (2 * _NULL if piece.group is not None else 0.0)
        full = _terms(lines[-1]) == MAX_TERMS and (piece.group is None and not piece.joined or piece.opens)
        alone = piece.opens or (i > 0 and pieces[i - 1].closes)  # a broken summand has its lines to itself
        if lines[-1] and (used + w > budget or full or alone):
            deeper = _inside(piece) and w <= room - 2 * _QUAD
            lines.append([])
            heads.append(r"&\qquad" if deeper else r"&\quad")
            used, budget = 0.0, room - _QUAD * (1 + deeper)
        lines[-1].append(piece)
        used += w
    texts = [_line(line, i == 0) for i, line in enumerate(lines)]
    if row.tail and used + width(row.tail) > budget:
        texts[-1] += ","
        texts.append(row.tail.removeprefix(r"\quad").strip())
        heads.append(r"&\quad")
    elif row.tail:
        texts[-1] += ", " + row.tail
    return " \\\\\n".join(f"{head} {text}" for head, text in zip(heads, texts))


def _inside(piece: _Piece) -> bool:
    """Whether ``piece`` goes on inside a summand: a group's later summand, or a term's body."""
    return piece.joined or (piece.group is not None and not piece.opens)


def _terms(line: list[_Piece]) -> int:
    return sum(1 for p in line if (p.group is None and not p.joined) or p.opens)


def _line(line: list[_Piece], first: bool) -> str:
    """One line's text; a group open at its end is closed with ``\\right.`` and reopened on
    the next line with ``\\left.``, both sized by a ``\\vphantom`` of the whole group."""
    out = []
    for i, p in enumerate(line):
        if p.joined:
            out.append(p.text)
        elif i == 0 and first:
            out.append(("-" if p.sign == "-" else "") + p.text)
        elif i == 0:
            reopen = rf"\left.\vphantom{{{p.group}}} " if p.group is not None and not p.opens else ""
            out.append(f"{reopen}{{}}{p.sign} {p.text}")
        else:
            out.append(f"{p.sign} {p.text}")
    last = line[-1]
    if last.group is not None and not last.closes:
        out[-1] += rf" \vphantom{{{last.group}}}\right."
    return " ".join(out)


def _pieces(sign: str, text: str, room: float) -> list[_Piece]:
    """``sign text`` as one piece or, wider than ``room``, broken: between the summands of
    its widest ``\\left(…\\right)`` group; else, when it starts with a fraction wider than a
    line, with the fraction's numerator taken out (``\\frac{1}{d} \\left(n\\right) …``, so that
    the numerator's sum can be broken); else between its leading fraction and the rest."""
    if _SIGN + width(text) <= room:
        return [_Piece(sign, text)]
    grouped = _grouped(sign, text)
    if grouped:
        return grouped
    lead = _leading_fraction(text)
    if lead is None:
        return [_Piece(sign, text)]
    num, den, rest = lead
    if _SIGN + width(rf"\frac{{{num}}}{{{den}}}") > room:
        groups = _groups(num)
        if len(summands(num)) > 1:
            kept, num = "1", rf"\left({num}\right)"
        elif groups and groups[0][0] > 0:
            kept, num = num[:groups[0][0]].strip(), num[groups[0][0]:]
        else:
            kept = "1"
        if num != "1":
            return _pieces(sign, rf"\frac{{{kept}}}{{{den}}} {num} {rest}".rstrip(), room)
    if not rest:
        return [_Piece(sign, text)]
    return [_Piece(sign, rf"\frac{{{num}}}{{{den}}}", opens=True), _Piece("", rest, joined=True, closes=True)]


def _grouped(sign: str, text: str) -> list[_Piece]:
    """The pieces of ``sign text`` broken between the summands of its widest top-level
    ``\\left(…\\right)`` group; empty when it has none with two summands or more."""
    groups = [g for g in _groups(text) if len(summands(text[g[0] + len(r"\left("):g[1]])) > 1]
    if not groups:
        return []
    start, end = max(groups, key=lambda g: width(text[g[0]:g[1]]))
    group = text[start + len(r"\left("):end]
    inner = summands(group)
    out = [_Piece(s, t, group) for s, t in inner]
    out[0] = _Piece(sign, text[:start] + r"\left(" + nt.join_signed(inner[:1]), group, opens=True)
    last = out[-1]
    out[-1] = _Piece(last.sign, last.text + r"\right)" + text[end + len(r"\right)"):], group, closes=True)
    return out


def _leading_fraction(text: str) -> tuple[str, str, str] | None:
    """``(numerator, denominator, rest)`` of a ``text`` that starts with ``\\frac{…}{…}``."""
    if not text.startswith(r"\frac{"):
        return None
    args, depth, start = [], 0, len(r"\frac")
    for m in TOKEN.finditer(text, start):
        t = m.group()
        depth += (t == "{") - (t == "}")
        if depth == 0 and t == "}":
            args.append(text[start + 1:m.start()])
            start = m.end()
            if len(args) == 2:
                return args[0], args[1], text[start:].strip()
    return None


def _groups(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of each top-level ``\\left(`` … ``\\right)`` in ``text``."""
    out, depth, start = [], 0, None
    for m in TOKEN.finditer(text):
        t = m.group()
        if t in ("{", r"\left"):
            if depth == 0 and text.startswith(r"\left(", m.start()):
                start = m.start()
            depth += 1
        elif t in ("}", r"\right"):
            depth -= 1
            if depth == 0 and start is not None and text.startswith(r"\right)", m.start()):
                out.append((start, m.start()))
                start = None
    return out


PER_EXAMPLE = r"\frac{1}{n} \sum_i (\nabla \ell_i - \nabla L)(\nabla \ell_i - \nabla L)^\top"
"""``(1/n) Σ_i (∇ℓ_i - ∇L)(∇ℓ_i - ∇L)ᵀ``, the per-example covariance, in LaTeX."""
