"""Mathematical notation for trees and scalars, in unicode text and in LaTeX.

Three readings of a term:

* elementary differentials: ``F(f[f,f[f]]) = f''(f, f'f)`` (a node with one child is
  juxtaposed: ``f'f'f``);
* gradients, for gradient atoms ``f_c = -sign·P_β∇L``: each node with ``k`` children is
  ``∇^{k+1}L`` applied to its children, so ``f[f] = ∇²L ∇L`` and
  ``f[f,f] = -∇³L(∇L, ∇L)``; block atoms get block subscripts (``∇²_{xy}L_x``);
* scalars (unrooted trees) of modified losses: ``‖∇L‖²``, ``⟨∇L_1, ∇L_2⟩``,
  ``⟨∇L, ∇²L ∇L⟩``.

A :class:`Style` carries the few primitives that differ between text and LaTeX.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sympy

from .trees import Tree, labels_of, sort_key

__all__ = ["TEXT", "LATEX", "Style", "coefficient", "signed_sum", "name"]

_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
_SUP = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
_GREEK = {"beta": "β", "alpha": "α", "lam": "λ", "lambda": "λ", "gamma": "γ", "rho": "ρ", "eta": "η"}


@dataclass(frozen=True)
class Style:
    latex: bool

    def sub(self, base: str, index: str) -> str:
        if not index:
            return base
        if self.latex:
            return f"{base}_{{{index}}}"
        if index.isdigit():
            return base + index.translate(_SUB)
        return f"{base}_{index}"

    def nabla(self, power: int, blocks: tuple = ()) -> str:
        blocks = tuple(b for b in blocks if b)
        if self.latex:
            sup = f"^{{{power}}}" if power > 1 else ""
            sub = f"_{{{''.join(blocks)}}}" if blocks else ""
            return rf"\nabla{sup}{sub} "
        sup = str(power).translate(_SUP) if power > 1 else ""
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

    def primes(self, k: int) -> str:
        if k <= 3:
            return "'" * k
        return f"^{{({k})}}" if self.latex else f"⁽{str(k).translate(_SUP)}⁾"

    def times_h(self, k: int) -> str:
        if k == 0:
            return ""
        if k == 1:
            return "h"
        return f"h^{{{k}}}" if self.latex else f"h{str(k).translate(_SUP)}"


TEXT = Style(latex=False)
LATEX = Style(latex=True)


def name(label: str, style: Style) -> str:
    """``f1 → f₁``, ``fx → f_x``, ``L → L``, ``LA → L_A``, ``E → E``; ``f_k`` kept."""
    m = re.fullmatch(r"([A-Za-z])_?([A-Za-z0-9]+)", label)
    if not m:
        return label
    return style.sub(m.group(1), m.group(2))


def elementary(t: Tree, style: Style) -> str:
    """``F(t)`` in prime notation: ``f''(f, f'f)``."""
    head = name(t.label, style)
    kids = sorted(t.children, key=sort_key)
    if not kids:
        return head
    args = [elementary(c, style) for c in kids]
    if len(kids) == 1:
        return f"{head}'{args[0]}" if not style.latex else f"{head}' {args[0]}"
    return f"{head}{style.primes(len(kids))}({', '.join(args)})"


def gradient_form(t: Tree, atom_of: dict, style: Style) -> tuple[int, str]:
    """``F(t) = sign · G(t)`` with ``G`` in ∇ notation; returns ``(sign, G text)``."""
    sign = 1
    for lab in labels_of(t):
        sign *= -atom_of[lab].sign
    return sign, _gradient(t, atom_of, style)


def _gradient(t: Tree, atom_of: dict, style: Style) -> str:
    a = atom_of[t.label]
    kids = sorted(t.children, key=sort_key)
    blocks = (a.block,) + tuple(atom_of[c.label].block for c in kids) if a.block else ()
    tensor = style.nabla(len(kids) + 1, blocks) + name(a.loss, style)
    if not kids:
        return tensor
    return style.apply(tensor, [_gradient(c, atom_of, style) for c in kids])


def bracket(x: str, y: str, atom_of: dict, style: Style) -> str:
    """``[∇L_X, ∇L_Y] = (D∇L_Y)∇L_X - (D∇L_X)∇L_Y = F(Y[X]) - F(X[Y])`` for labels X, Y."""
    gx, gy = (style.nabla(1) + name(atom_of[v].loss, style) for v in (x, y))
    return f"[{gx}, {gy}]"


def scalar(s: Tree, style: Style) -> str:
    """A modified-loss scalar (see :mod:`bea.losses`) in ∇ notation."""
    nodes, edges = [], []

    def walk(u, parent):
        loss, _, block = u.label.partition("|")
        index = len(nodes)
        nodes.append(loss)
        if parent is not None:
            edges.append((parent, index, block or None))
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


def _tidy(expr: sympy.Expr) -> tuple[int, sympy.Expr]:
    """``(sign, magnitude)``: factored, with factors ``β - 1`` written ``1 - β``."""
    num, den = sympy.fraction(sympy.factor(expr))
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
    return sign, num / den


def coefficient(expr: sympy.Expr, style: Style) -> str:
    """A coefficient, factored, with Greek names for β, α, λ."""
    sign, expr = _tidy(expr)
    prefix = "-" if sign < 0 else ""
    if style.latex:
        latex_names = {s: sympy.Symbol("lambda" if s.name == "lam" else s.name) for s in expr.free_symbols}
        return prefix + sympy.latex(expr.subs(latex_names))
    greek = {s: sympy.Symbol(_GREEK.get(s.name, s.name)) for s in expr.free_symbols}
    text = prefix + sympy.sstr(expr.subs(greek) if greek else expr)
    text = re.sub(r"\*\*(\d+)", lambda m: m.group(1).translate(_SUP), text)
    return re.sub(r"(?<=\d)\*(?=[A-Za-z(α-ω])", "", text).replace("*", "·")


def signed_sum(terms: list[tuple[sympy.Expr, str]], style: Style) -> str:
    """``c₁ t₁ + c₂ t₂ - …`` with unit coefficients dropped and signs merged."""
    parts = []
    for coeff, body in terms:
        sign, magnitude = _tidy(coeff)
        negative = sign < 0
        text = coefficient(magnitude, style)
        if magnitude == 1:
            term = body
        else:
            if isinstance(magnitude, sympy.Add):
                text = f"\\left({text}\\right)" if style.latex else f"({text})"
            term = f"{text} {body}" if body else text
        parts.append(("-" if negative else "+", term))
    if not parts:
        return "0"
    first_sign, first = parts[0]
    out = ("-" if first_sign == "-" else "") + first
    for sign, term in parts[1:]:
        out += f" {sign} {term}"
    return out
