"""Sections of a coordinate-wise derivation (Adam, RMSProp, normalized GD, user rules).

A :class:`~bea.rule.Derivation` of the coordinate-wise algebra walks
(:func:`derivation_sections`, that algebra's ``render`` part) into

* :class:`~bea.render.sections.Header` (as for every derivation);
* :class:`Legend` — the abbreviations used: ``g = ∇L``, ``H = ∇²L``, ``s = √(g⊙g + ε)``,
  ``q = g/s``, and that products, quotients, powers and functions of vectors act
  elementwise (``⊙``);
* :class:`CoordinateFlow` — one :class:`CoordinateRow` per order, each a list of
  :class:`~bea.coordinatewise.readable.Part` ``(Σ c·g^a s^b) ⊙ body``; a part whose body
  is a preconditioned gradient ``∇R`` is printed with ``R`` (Adam's order 2 with
  ``R = ‖∇L‖_{1,ε} = Σ_j √(g_j² + ε)``, as Cattaneo, Klusowski & Shigida, ICML 2024);
  for a modifying field (``kind == "modifying"``) :class:`CoordinateModifying`, the same
  rows as the parts ``f̃_k`` of ``f̃ = f + h f̃_2 + …``. Where every order is ``-∇`` of a
  potential (:mod:`bea.coordinatewise.losses`; SAM's ``L + ρ‖g‖ + h(…)``)
  :class:`CoordinateLoss` follows: ``θ' = -∇L̃ + O(h^N)`` with ``L̃`` as rows of its orders'
  potentials and the implicit regularizer (``L̃`` less its plain order-1 part).

This module also holds the notation of those parts in unicode text and LaTeX
(:func:`part_text`, :func:`potential_text`) and in JSON (:func:`part_json`); the printers'
``_print_Legend`` / ``_print_CoordinateFlow`` methods lay them out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar

import sympy
from sympy.printing.latex import LatexPrinter as _SympyLatex
from sympy.printing.str import StrPrinter

from ..coordinatewise.maps import MAPS
from ..coordinatewise.readable import G, S, THETA_D, Deriv, DerivF, Hess, MapD, Total, readable
from ..joint import beyond_plain
from ..rule import Derivation
from . import notation as nt
from .readable import GREEK
from .sections import _Walk

__all__ = ["derivation_sections", "Legend", "CoordinateRow", "CoordinateFlow", "CoordinateModifying", "ONE_NORM", "legend_text",
           "part_text", "row_text", "potentials", "potential_text", "potential_definition", "json_expr", "part_json",
           "CoordinateLoss", "loss_parts"]

ONE_NORM = Total(S)
"""``‖∇L‖_{1,ε} = Σ_j s_j``, the perturbed one-norm of the gradient."""


@dataclass(frozen=True)
class Legend:
    """The abbreviations in use: ``loss`` (``L``), ``eps`` (``ε`` of ``s``, or None),
    ``uses_q``, ``uses_third`` (some ``∇^kL`` with ``k ≥ 3``), ``maps`` the names of the
    opaque maps that occur."""

    loss: str | None
    eps: sympy.Expr | None
    uses_q: bool
    uses_third: bool
    maps: tuple = ()


@dataclass(frozen=True)
class CoordinateRow:
    order: int
    parts: tuple


@dataclass(frozen=True)
class CoordinateFlow:
    """``θ' = f_1 + h f_2 + … + O(h^order)`` with coordinate-wise rows."""

    order: int
    rows: tuple
    loss: str | None
    tilde: ClassVar[bool] = False  # rows are parts of a modifying field f̃_k


@dataclass(frozen=True)
class CoordinateModifying(CoordinateFlow):
    """The modifying field ``f̃ = f + h f̃_2 + …`` of a coordinate-wise rule
    (:mod:`bea.coordinatewise.modifying`), rows as :class:`CoordinateFlow`'s."""

    tilde: ClassVar[bool] = True


@dataclass(frozen=True)
class CoordinateLoss:
    """``θ' = -∇L̃ + O(h^order)``: ``rows`` the potentials ``P_k`` of ``L̃ = Σ_k h^{k-1} P_k``
    (``f_k = -∇P_k``), ``regularizer`` the same less the plain order-1 part
    (:func:`bea.joint.beyond_plain`: in a joint expansion in ``h`` and ``ρ`` its ``ρ`` terms stay)."""

    order: int
    loss: str | None
    rows: tuple
    regularizer: tuple


def derivation_sections(d: Derivation) -> list:
    """The sections of a coordinate-wise derivation (the coordinate-wise algebra's
    ``render`` part)."""
    gradient = [a for a in d.atoms if a.loss is not None]
    loss = gradient[0].loss if len(gradient) == 1 else None
    shown = [readable(d.flow[k], d.atoms) for k in range(1, d.order + 1)]
    eps = next((r.eps for r in shown if r.eps is not None), None)
    third = any(p.body.has(Deriv) for r in shown for p in r.parts)
    maps = sorted({m.args[0].name for r in shown for p in r.parts for m in p.body.atoms(MapD)})
    rows = tuple(CoordinateRow(k, r.parts) for k, r in enumerate(shown, start=1))
    flow = CoordinateModifying if d.kind == "modifying" else CoordinateFlow
    sections = [_Walk(d).header(), Legend(loss, eps, any(r.uses_q for r in shown), third, tuple(maps)),
                flow(d.order, rows, loss)]
    return sections + ([_loss(d, loss)] if d.kind == "flow" and d.has_loss else [])


def _loss(d: Derivation, loss) -> CoordinateLoss:
    """The modified loss of a flow that has one (``has_loss`` stops asking at the first
    order with a remainder: Adam splits ``f_1`` only)."""
    rows, regularizer = [], []
    for k in range(1, d.order + 1):
        split = d.splits[k].get(None)
        if split is None or not split.weights:
            continue
        potential = sympy.Add(*[w * P for P, w in split.weights.items()])
        rows.append(CoordinateRow(k, readable(potential, d.atoms).parts))
        extra = beyond_plain(d.rule, potential) if k == 1 else potential
        if extra != 0:
            regularizer.append(CoordinateRow(k, readable(extra, d.atoms).parts))
    return CoordinateLoss(d.order, loss, tuple(rows), tuple(regularizer))


def loss_parts(rows: tuple, style: nt.Style, loss) -> list[tuple[str, str]]:
    """``[(sign, text)]`` of ``Σ_k h^{k-1} P_k``: each part of row ``k`` led by ``h^{k-1}``
    (``h·ρ/2 ⟨g, Hg⟩/‖g‖``; LaTeX ``h \\frac{ρ}{2} …``)."""
    out = []
    for row in rows:
        h = style.times_h(row.order - 1)
        lead = f"{h} " if h and style.latex else f"{h}·" if h else ""
        out += [(sign, lead + text) for sign, text in row_parts(row, style, loss)]
    return out


# -- notation -------------------------------------------------------------------------

_NAMES = {"b1": ("β", r"\beta"), "b2": ("ρ", r"\rho"), "eps": ("ε", r"\varepsilon"),
          "weight_decay": ("λ", r"\lambda")}


def _name(symbol: sympy.Symbol, latex: bool) -> str:
    text, tex = _NAMES.get(symbol.name, (GREEK.get(symbol.name, symbol.name), None))
    return (tex or sympy.latex(sympy.Symbol(symbol.name))) if latex else text


def _norm_of(e):
    """``u`` when ``e = Σ[u⊙u]``, else None."""
    if isinstance(e, Total):
        (u,) = e.args
        if u.is_Pow and u.exp == 2:
            return u.base
    return None


def _inner_of(e):
    """``(u, v)`` when ``e = Σ[u⊙v]`` with two vector factors, else None."""
    if isinstance(e, Total):
        factors = sympy.Mul.make_args(e.args[0])
        if len(factors) == 2 and all(not f.is_number for f in factors):
            return factors
    return None


class _Text(StrPrinter):
    def __init__(self, loss):
        super().__init__({"order": "none"})
        self.loss = loss or "L"

    def _print_Symbol(self, e):
        return _name(e, False)

    def _print_Hess(self, e):
        (u,) = e.args
        return "H" + (self._print(u) if u.is_Symbol else f"({self._print(u)})")

    def _print_Deriv(self, e):
        return f"∇{nt.superscript(str(len(e.args) + 1))}{self.loss}({', '.join(map(self._print, e.args))})"

    def _print_DerivF(self, e):
        label, *args = e.args
        return f"D{nt.superscript(str(len(args)))}{label.name}[{', '.join(map(self._print, args))}]"

    def _print_MapD(self, e):
        name, point, *args = e.args
        primes = "′" * len(args) if len(args) <= 3 else f"⁽{nt.superscript(str(len(args)))}⁾"
        shown = f"[{', '.join(map(self._print, args))}]" if args else ""
        return f"{name.name}{primes}({self._print(point)}){shown}"

    def _print_Total(self, e):
        if (u := _norm_of(e)) is not None:
            return f"‖{self._print(u)}‖²"
        if (uv := _inner_of(e)) is not None:
            return f"⟨{self._print(uv[0])}, {self._print(uv[1])}⟩"
        return f"Σ({self._print(e.args[0])})"

    def _print_Pow(self, e, rational=False):
        if (u := _norm_of(e.base)) is not None and (2 * e.exp).is_Integer and e.exp > 0:
            k = 2 * e.exp
            return f"‖{self._print(u)}‖" + (nt.superscript(str(k)) if k != 1 else "")
        if e.exp == sympy.S.Half:
            return f"√({self._print(e.base)})"
        if isinstance(e.base, (Hess, Deriv)) and e.exp.is_Integer and e.exp > 0:
            return f"({self._print(e.base)}){nt.superscript(str(e.exp))}"
        return super()._print_Pow(e, rational)


class _Latex(_SympyLatex):
    def __init__(self, loss):
        super().__init__({"order": "none"})
        self.loss = loss or "L"

    def _print_Symbol(self, e, style="plain"):
        return _name(e, True)

    def _print_Hess(self, e, exp=None):
        (u,) = e.args
        out = "H " + (self._print(u) if u.is_Symbol else rf"\left({self._print(u)}\right)")
        return rf"\left({out}\right)^{{{exp}}}" if exp else out

    def _print_Deriv(self, e, exp=None):
        out = rf"\nabla^{{{len(e.args) + 1}}} {self.loss}\left({', '.join(map(self._print, e.args))}\right)"
        return rf"\left({out}\right)^{{{exp}}}" if exp else out

    def _print_DerivF(self, e, exp=None):
        label, *args = e.args
        out = rf"D^{{{len(args)}}} {label.name}\left[{', '.join(map(self._print, args))}\right]"
        return rf"\left({out}\right)^{{{exp}}}" if exp else out

    def _print_MapD(self, e, exp=None):
        name, point, *args = e.args
        primes = "'" * len(args) if len(args) <= 3 else f"^{{({len(args)})}}"
        shown = rf"\left[{', '.join(map(self._print, args))}\right]" if args else ""
        out = rf"{name.name}{primes}\left({self._print(point)}\right){shown}"
        return rf"\left({out}\right)^{{{exp}}}" if exp else out

    def _print_Total(self, e, exp=None):
        if (u := _norm_of(e)) is not None:
            out = rf"\|{self._print(u)}\|^{{2}}"
        elif (uv := _inner_of(e)) is not None:
            out = rf"\langle {self._print(uv[0])}, {self._print(uv[1])} \rangle"
        else:
            out = rf"\Sigma\left({self._print(e.args[0])}\right)"
        return rf"\left({out}\right)^{{{exp}}}" if exp else out

    def _print_Pow(self, e):
        if (u := _norm_of(e.base)) is not None and (2 * e.exp).is_Integer and e.exp > 0:
            k = 2 * e.exp
            return rf"\|{self._print(u)}\|" + (f"^{{{k}}}" if k != 1 else "")
        return super()._print_Pow(e)


def _expr(e, style: nt.Style, loss) -> str:
    if style.latex:
        return _Latex(loss).doprint(e)
    text = _Text(loss).doprint(e)
    text = re.sub(r"\*\*(\d+)", lambda m: nt.superscript(m.group(1)), text)
    return re.sub(r"(?<=\d)\*(?=[^\d])", "", text).replace("*", "·")


def _scalar(c, style: nt.Style) -> str:
    """A scalar coefficient, factored (``1 - β`` rather than ``β - 1``), with Greek names."""
    sign, mag = nt._tidy(c)
    if style.latex:
        return ("-" if sign < 0 else "") + _Latex(None).doprint(mag)
    return ("-" if sign < 0 else "") + _expr(mag, style, None)


def _coefficient(monomials, style: nt.Style) -> tuple[int, str]:
    """``(sign, text)`` of ``Σ c·g^a s^b`` (a single term: its sign pulled out)."""
    terms = []
    for c, m in monomials:
        sign, mag = nt._tidy(c)
        terms.append(("-" if sign < 0 else "+", _scalar(mag * m, style)))
    if len(terms) == 1:
        return (-1 if terms[0][0] == "-" else 1), terms[0][1]
    return 1, nt.join_signed(terms)


def potential_text(potential, style: nt.Style, loss) -> str:
    """``R``: ``‖∇L‖_{1,ε}`` for ``Σ_j s_j``, else ``Σ_j Φ(g_j)``."""
    loss = loss or "L"
    if potential == ONE_NORM:
        return rf"\|\nabla {loss}\|_{{1,\varepsilon}}" if style.latex else f"‖∇{loss}‖₁,ε"
    return _expr(potential, style, loss)


def part_text(part, style: nt.Style, loss) -> tuple[int, str]:
    """``(sign, text)`` of one part ``coeff ⊙ body`` (``∇R`` for a preconditioned gradient)."""
    if len(part.monomials) == 1 and not part.body.has(Hess, Deriv, DerivF, MapD):
        (c, m), = part.monomials
        sign, mag = nt._tidy(c)
        return sign, _scalar(mag * m * part.body, style)
    sign, coeff = _coefficient(part.monomials, style)
    if part.potential is not None:
        nabla = r"\nabla " if style.latex else "∇"
        body = nabla + potential_text(part.potential, style, loss)
    else:
        body = _expr(part.body, style, loss)
    odot = r" \odot " if style.latex else " ⊙ "
    if coeff == "1":
        return sign, body
    wrap = len(part.monomials) > 1
    if wrap:
        coeff = rf"\left({coeff}\right)" if style.latex else f"({coeff})"
    plain = all(m == 1 for _, m in part.monomials)  # scalar coefficient: no ⊙
    return sign, f"{coeff}{' ' if plain else odot}{body}"


def row_parts(row: CoordinateRow, style: nt.Style, loss) -> list[tuple[str, str]]:
    """``[(sign, text)]`` of a row's parts, as :func:`bea.render.notation.signed_terms` gives."""
    return [("-" if s < 0 else "+", t) for s, t in (part_text(p, style, loss) for p in row.parts)]


def row_text(row: CoordinateRow, style: nt.Style, loss) -> str:
    return nt.join_signed(row_parts(row, style, loss)) if row.parts else "0"


def potentials(flow: CoordinateFlow) -> list:
    """The distinct ``(R, body)`` of the rows, in order of appearance."""
    seen: dict = {}
    for row in flow.rows:
        for p in row.parts:
            if p.potential is not None:
                seen.setdefault(p.potential, p.body)
    return list(seen.items())


def legend_text(legend: Legend, style: nt.Style) -> str:
    """``g = ∇L, H = ∇²L, s = √(g⊙g + ε), q = g/s``."""
    L = legend.loss or "L"
    if style.latex:
        parts = [rf"g = \nabla {L}", rf"H = \nabla^{{2}} {L}"]
        if legend.eps is not None and legend.eps.free_symbols:
            parts.append(rf"s = \sqrt{{g \odot g + {_Latex(L).doprint(legend.eps)}}}")
        elif legend.eps is not None:  # a number: named ε, as ‖∇L‖_{1,ε} has it
            parts.append(rf"s = \sqrt{{g \odot g + \varepsilon}}, \varepsilon = {_Latex(L).doprint(legend.eps)}")
        if legend.uses_q:
            parts.append("q = g / s")
        parts += [_map_legend(name, style) for name in legend.maps]
        return ", ".join(parts)
    parts = [f"g = ∇{L}", f"H = ∇²{L}"]
    if legend.uses_third:
        parts.append(f"∇ᵏ{L}(u, …) its k-th derivative")
    if legend.eps is not None and legend.eps.free_symbols:
        parts.append(f"s = √(g⊙g + {_expr(legend.eps, style, L)})")
    elif legend.eps is not None:  # a number: named ε, as ‖∇L‖₁,ε has it
        parts.append(f"s = √(g⊙g + ε), ε = {_expr(legend.eps, style, L)}")
    if legend.uses_q:
        parts.append("q = g/s")
    parts += [_map_legend(name, style) for name in legend.maps]
    return ", ".join(parts) if legend.loss else "atoms as listed"


def _map_legend(name: str, style: nt.Style) -> str:
    """What an opaque map is, and that its derivatives are multilinear maps: a flow with
    ``P(g)`` has no modified loss unless ``P`` is a gradient, so each ``f_k`` is a field."""
    known = MAPS.get(name)
    if style.latex:
        what = known.legend_tex if known is not None and known.legend_tex else r"\text{an opaque smooth map}"
        return (rf"{name}(X) = {what}, {name}' \text{{ and }} {name}'' \text{{ its derivatives (multilinear;}}, "
                r"\text{no modified loss: each } f_k \text{ is a field)}")
    what = known.legend if known is not None and known.legend else "an opaque smooth map"
    return f"{name}(X) = {what}, {name}′(X)[E], {name}′′(X)[E, F] its derivatives (no modified loss: each fₖ is a field)"


def potential_definition(potential, body, style: nt.Style, loss) -> str:
    """``‖∇L‖_{1,ε} = Σ_j √(g_j² + ε)``, with ``∇R = body``."""
    name = potential_text(potential, style, loss)
    grad = (r"\nabla " if style.latex else "∇") + name
    (phi,) = potential.args
    j = sympy.Symbol("g_j")
    value = phi.subs(S, sympy.sqrt(G**2 + sympy.Symbol("eps"))).subs(G, j)
    sum_ = (r"\sum_j " if style.latex else "Σ_j ") + _expr(value, style, loss)
    if potential != ONE_NORM:
        return f"{grad} = {_expr(body, style, loss)}, {name} = {sum_}"
    return f"{name} = {sum_}, {grad} = {_expr(body, style, loss)}"


# -- JSON -----------------------------------------------------------------------------

def json_expr(e) -> str:
    """sympy syntax over ``g, s, q, theta``, parameters and ``H(u)``, ``D(u, v, …)``
    (``∇^{k+1}L``), ``Df(label, u, …)``, ``Sum(u)`` (``Σ_j u_j``), ``Map(P, X, u, …)``
    (``D^kP(X)[u, …]`` of an opaque map)."""
    renamed = e.xreplace({THETA_D: sympy.Symbol("theta")})
    text = (sympy.sstr(renamed, order="none").replace("Hess(", "H(").replace("DerivF(", "Df(")
            .replace("Deriv(", "D(").replace("Total(", "Sum("))
    return re.sub(r"MapD\((\w+), ", r"Map_\1(", text)


def part_json(part) -> dict:
    out = {"coeff": [{"scalar": str(sympy.factor(c)), "vector": json_expr(m)} for c, m in part.monomials],
           "body": json_expr(part.body)}
    if part.potential is not None:
        out["potential"] = json_expr(part.potential)
    return out

