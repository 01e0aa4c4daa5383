"""Mathematical notation for trees and scalars, in unicode text and in LaTeX.

The public primitives every printer builds on:

* names: :func:`name` (losses and plain labels: ``L1 → L₁``, ``LA → L_A``) and
  :func:`field_name` (atoms). Flow orders are ``f₁, f₂, …`` (:func:`flow_name`); so that
  they never share a name with an atom, a member of an indexed family of fields (a task or
  minibatch field ``f1``, ``f2``, or the summation pattern ``f_k``) carries its index as
  a bracketed superscript, ``f^{[1]}``, ``f^{[k]}`` — the notation of Hairer, Lubich &
  Wanner (*Geometric Numerical Integration*, III.5) for the parts ``f^{[i]}`` of a split
  vector field. A single atom ``f`` and letter-labelled atoms (``f_A``, ``f_x``) print as
  before;
* unicode subscripts and superscripts of digits (:func:`subscript`, :func:`superscript`);
* elementary differentials: ``F(f[f,f[f]]) = f''(f, f'f)`` (a node with one child is
  juxtaposed: ``f'f'f``);
* gradients, for gradient atoms ``f_c = -sign·P_β∇L``: each node with ``k`` children is
  ``∇^{k+1}L`` applied to its children, so ``f[f] = ∇²L ∇L`` and
  ``f[f,f] = -∇³L(∇L, ∇L)``; block atoms get block subscripts (``∇²_{xy}L_x``);
* scalars (unrooted trees) of modified losses: ``‖∇L‖²``, ``⟨∇L_1, ∇L_2⟩``,
  ``⟨∇L, ∇²L ∇L⟩``;
* coefficients (factored, Greek names) and signed sums ``c₁ t₁ - c₂ t₂ + …``.

A :class:`Style` carries the few primitives that differ between text and LaTeX.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import sympy

from ..coefficients import factored
from ..bseries.losses import split_scalar_label
from ..bseries.trees import Tree, sort_key
from .latexform import latex_magnitude, latex_symbol
from .readable import GREEK, mul_text, readable

__all__ = [
    "TEXT", "LATEX", "Style", "subscript", "superscript", "name", "field_name", "flow_name",
    "elementary", "gradient", "bracket", "scalar", "sum_prefix", "coefficient",
    "signed_terms", "join_signed", "signed_sum",
]

_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
_SUP = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def subscript(text: str) -> str:
    """Digits as unicode subscripts: ``"12" → "₁₂"`` (other characters kept)."""
    return text.translate(_SUB)


def superscript(text: str) -> str:
    """Digits as unicode superscripts: ``"3" → "³"`` (other characters kept)."""
    return text.translate(_SUP)


@dataclass(frozen=True)
class Style:
    latex: bool

    def sub(self, base: str, index: str) -> str:
        if not index:
            return base
        if self.latex:
            return f"{base}_{{{index}}}"
        if index.isdigit():
            return base + subscript(index)
        return f"{base}_{index}"

    def member(self, base: str, index: str) -> str:
        """The member ``index`` of an indexed family of fields: ``f^{[index]}``."""
        return f"{base}^{{[{index}]}}" if self.latex else f"{base}^[{index}]"

    def derivative(self, head: str, k: int) -> str:
        """``head`` differentiated ``k`` times: ``f''``, ``f⁽⁴⁾``; a LaTeX head that
        already has a superscript is braced (``{f^{[1]}}'``)."""
        if self.latex and "^" in head:
            head = "{" + head + "}"
        if k <= 3:
            return head + "'" * k
        return head + (f"^{{({k})}}" if self.latex else f"⁽{superscript(str(k))}⁾")

    def nabla(self, power: int, blocks: tuple = ()) -> str:
        blocks = tuple(b for b in blocks if b)
        if self.latex:
            sup = f"^{{{power}}}" if power > 1 else ""
            sub = f"_{{{''.join(blocks)}}}" if blocks else ""
            return rf"\nabla{sup}{sub} "
        sup = superscript(str(power)) if power > 1 else ""
        sub = ("_" + "".join(blocks)) if blocks else ""
        if sub and len(blocks) > 1:
            sub = "_{" + "".join(blocks) + "}"
        return f"∇{sup}{sub}"

    def norm2(self, inner: str) -> str:
        return rf"\|{inner}\|^2" if self.latex else f"‖{inner}‖²"

    def inner(self, a: str, b: str) -> str:
        return rf"\langle {a}, {b} \rangle" if self.latex else f"⟨{a}, {b}⟩"

    def apply(self, tensor: str, args: list[str]) -> str:
        if len(args) == 1:
            return f"{tensor}\\, {args[0]}" if self.latex else f"{tensor} {args[0]}"
        return f"{tensor}({', '.join(args)})"

    def times_h(self, k: int) -> str:
        if k == 0:
            return ""
        if k == 1:
            return "h"
        return f"h^{{{k}}}" if self.latex else f"h{superscript(str(k))}"


TEXT = Style(latex=False)
LATEX = Style(latex=True)


def name(label: str, style: Style) -> str:
    """``L1 → L₁``, ``fx → f_x``, ``L → L``, ``LA → L_A``, ``E → E``; ``L_k`` kept."""
    m = re.fullmatch(r"([A-Za-z])_?([A-Za-z0-9]+)", label)
    if not m:
        return label
    return style.sub(m.group(1), m.group(2))


_MEMBER = re.compile(r"([A-Za-z])(?:_?(\d+)|_([a-z]))")


def field_name(label: str, style: Style) -> str:
    """An atom's name: ``f → f``, ``fA → f_A``; a family member ``f1 → f^{[1]}`` and a
    summation pattern ``f_k → f^{[k]}`` (see the module docstring)."""
    m = _MEMBER.fullmatch(label)
    if m:
        return style.member(m.group(1), m.group(2) or m.group(3))
    return name(label, style)


def flow_name(k: int, style: Style, tilde: bool = False, step: bool = False) -> str:
    """The order-``k`` field of the modified flow: ``f₁``, ``f_{1}``; with ``tilde`` the
    order-``k`` part of a modifying field: ``f̃₂``, ``\\tilde{f}_{2}``; with ``step`` the
    order-``k`` part of a one-step map (:mod:`bea.equivalent`): ``Δ₂``, ``\\Delta_{2}``."""
    if step:
        return style.sub(r"\Delta" if style.latex else "Δ", str(k))
    return style.sub((r"\tilde{f}" if style.latex else "f\u0303") if tilde else "f", str(k))


@functools.lru_cache(maxsize=None)
def elementary(t: Tree, style: Style) -> str:
    """``F(t)`` in prime notation: ``f''(f, f'f)`` (memoized: trees are interned and share
    their subtrees)."""
    head = field_name(t.label, style)
    kids = sorted(t.children, key=sort_key)
    if not kids:
        return head
    args = [elementary(c, style) for c in kids]
    if len(kids) == 1:
        return style.derivative(head, 1) + (" " if style.latex else "") + args[0]
    return f"{style.derivative(head, len(kids))}({', '.join(args)})"


def gradient(t: Tree, atom_of: dict, style: Style) -> str:
    """``G(t)`` in ∇ notation, ``F(t) = (Π_nodes -sign_c) G(t)``: a node with ``k`` children
    is ``∇^{k+1}L`` of its atom's loss applied to its children (memoized per atom table:
    a printer passes the same table for every term)."""
    kept = _GRADIENTS.get(id(atom_of))
    if kept is None or kept[0] is not atom_of:
        kept = _GRADIENTS[id(atom_of)] = (atom_of, {})
    memo = kept[1]
    key = (t, style)
    found = memo.get(key)
    if found is None:
        found = memo[key] = _gradient(t, atom_of, style)
    return found


_GRADIENTS: dict = {}  # id(atom table) -> (the table, kept alive so the id stays its own; memo)


def _gradient(t: Tree, atom_of: dict, style: Style) -> str:
    a = atom_of[t.label]
    kids = sorted(t.children, key=sort_key)
    blocks = (a.block,) + tuple(atom_of[c.label].block for c in kids) if a.block else ()
    tensor = style.nabla(len(kids) + 1, blocks) + name(a.loss, style)
    if not kids:
        return tensor
    return style.apply(tensor, [gradient(c, atom_of, style) for c in kids])


def bracket(x_loss: str, y_loss: str, style: Style) -> str:
    """``[∇L_X, ∇L_Y] = (D∇L_Y)∇L_X - (D∇L_X)∇L_Y`` for losses ``L_X``, ``L_Y``."""
    gx, gy = (style.nabla(1) + name(loss, style) for loss in (x_loss, y_loss))
    return f"[{gx}, {gy}]"


def scalar(s: Tree, style: Style) -> str:
    """A modified-loss scalar (see :mod:`bea.bseries.losses`) in ∇ notation."""
    nodes, edges = [], []

    def walk(u, parent):
        loss, block = split_scalar_label(u.label)
        index = len(nodes)
        nodes.append(loss)
        if parent is not None:
            edges.append((parent, index, block))
        for c in sorted(u.children, key=sort_key):
            walk(c, index)

    walk(s, None)
    if len(nodes) == 1:
        return name(nodes[0], style)
    adj = [[] for _ in nodes]
    for p, c, b in edges:
        adj[p].append((c, b))
        adj[c].append((p, b))
    leaf = min((v for v in range(len(nodes)) if len(adj[v]) == 1),
               key=lambda v: (nodes[v], v))
    (nbr, block), = adj[leaf]

    def vector(v, parent, out_block):
        kids = [(w, b) for w, b in adj[v] if w != parent]
        blocks = (out_block,) + tuple(b for _, b in kids) if out_block else ()
        tensor = style.nabla(len(kids) + 1, blocks) + name(nodes[v], style)
        if not kids:
            return tensor
        return style.apply(tensor, [vector(w, v, b) for w, b in kids])

    left = style.nabla(1, (block,) if block else ()) + name(nodes[leaf], style)
    right = vector(nbr, leaf, block)
    if len(nodes) == 2 and nodes[0] == nodes[1]:
        return style.norm2(left)
    return style.inner(left, right)


def sum_prefix(letters: tuple[str, ...], constraint: str, style: Style) -> str:
    """``Σ_k ``, ``Σ_{j<k} ``, ``\\sum_{j \\neq k} ``: the sum over an index pattern
    (``""`` without letters)."""
    if not letters:
        return ""
    index = constraint or letters[0]
    if style.latex:
        return "\\sum_{" + index.replace("≠", r" \neq ").replace(" distinct", r"\text{ distinct}") + "} "
    return f"Σ_{index} " if len(index) == 1 else f"Σ_{{{index}}} "


@functools.lru_cache(maxsize=65536)
def _tidy(expr: sympy.Expr) -> tuple[int, sympy.Expr]:
    """``(sign, magnitude)``: factored (:func:`bea.coefficients.factored`), with factors
    ``β - 1`` written ``1 - β``. Memoized: a printer asks for the same coefficient in
    several sections and formats, and for its magnitude again."""
    num, den = sympy.fraction(factored(expr))
    sign = -1 if num.could_extract_minus_sign() else 1
    num = -num if sign < 0 else num

    def flip(part):
        nonlocal sign
        out = []
        for f in sympy.Mul.make_args(part):
            base, exp = f.as_base_exp()
            if base.is_Add and len(base.args) == 2:
                const = [a for a in base.args if a.is_Number]
                if const and const[0] < 0:
                    base = -base
                    sign = -sign if exp % 2 else sign
            out.append(sympy.Pow(base, exp))
        return sympy.Mul(*out)

    num, den = flip(num), flip(den)
    magnitude = num / den
    _TIDIED[magnitude] = (1, magnitude)  # the magnitude is its own tidy form
    return sign, magnitude


_TIDIED: dict = {}


def _tidied(expr: sympy.Expr) -> tuple[int, sympy.Expr]:
    found = _TIDIED.get(expr)
    return found if found is not None else _tidy(expr)


@functools.lru_cache(maxsize=65536)
def coefficient(expr: sympy.Expr, style: Style) -> str:
    """A coefficient, factored, with Greek names for β, α, λ: read from the factorisation
    the field holds (:mod:`bea.render.readable`, :mod:`bea.render.latexform`) where it can
    be, else printed by sympy."""
    if not style.latex and expr.is_Rational:
        return _unicode(str(expr))
    form = readable(expr)
    if form is not None:
        return ("-" if form.sign < 0 else "") + _magnitude(form, style)
    sign, expr = _tidied(expr)
    prefix = "-" if sign < 0 else ""
    if style.latex:
        latex_names = {s: latex_symbol(s) for s in expr.free_symbols}
        return prefix + sympy.latex(expr.xreplace(latex_names))
    greek = {s: sympy.Symbol(GREEK.get(s.name, s.name)) for s in expr.free_symbols}
    return _unicode(prefix + sympy.sstr(expr.xreplace(greek) if greek else expr))


def _unicode(text: str) -> str:
    """sympy's ``str`` of a coefficient in bea's text notation: ``β**2 → β²``,
    ``10*β → 10β``, other products ``·``."""
    text = re.sub(r"\*\*(\d+)", lambda m: superscript(m.group(1)), text)
    return re.sub(r"(?<=\d)\*(?=[A-Za-z(α-ω])", "", text).replace("*", "·")


def signed_terms(terms: list[tuple[sympy.Expr, str]], style: Style) -> list[tuple[str, str]]:
    """``[(sign, term text)]`` with sign ``"+"`` or ``"-"``: unit coefficients dropped,
    a sum as coefficient parenthesized."""
    parts = []
    for coeff, body in terms:
        fast = _fast_term(coeff, style)
        if fast is not None:
            sign, text = fast
            parts.append(("-" if sign < 0 else "+", f"{text} {body}" if body and text else text or body))
            continue
        sign, magnitude = _tidied(coeff)
        text = coefficient(magnitude, style)
        if magnitude == 1:
            term = body
        else:
            if isinstance(magnitude, sympy.Add):
                text = f"\\left({text}\\right)" if style.latex else f"({text})"
            term = f"{text} {body}" if body else text
        parts.append(("-" if sign < 0 else "+", term))
    return parts


def _fast_term(coeff: sympy.Expr, style: Style) -> tuple[int, str] | None:
    """``(sign, text of the magnitude)`` without sympy arithmetic (``""`` for a unit), or
    ``None`` where :func:`_tidy` must decide."""
    if coeff.is_Rational:
        p, q = abs(coeff.p), coeff.q
        fraction = rf"\frac{{{p}}}{{{q}}}" if style.latex else f"{p}/{q}"
        return (-1 if coeff.p < 0 else 1), ("" if p == q == 1 else fraction if q != 1 else str(p))
    form = readable(coeff)
    if form is None:
        return None
    return form.sign, _magnitude(form, style)


def _magnitude(form, style: Style) -> str:
    """The magnitude of a readable form, in ``style``."""
    return latex_magnitude(form) if style.latex else _unicode(mul_text(form))


def join_signed(parts: list[tuple[str, str]], first: bool = True) -> str:
    """``t₁ - t₂ + t₃`` from :func:`signed_terms`; ``first=False`` continues a sum
    (``+ t₁ - t₂``)."""
    out = []
    for i, (sign, term) in enumerate(parts):
        if i == 0 and first:
            out.append(("-" if sign == "-" else "") + term)
        else:
            out.append(f"{sign} {term}")
    return " ".join(out)


def signed_sum(terms: list[tuple[sympy.Expr, str]], style: Style) -> str:
    """``c₁ t₁ + c₂ t₂ - …`` with unit coefficients dropped and signs merged; ``0`` if empty."""
    return join_signed(signed_terms(terms, style)) if terms else "0"
