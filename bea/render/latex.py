"""LaTeX: the modified flow and the modified loss as rows of one ``align*``.

Long rows are broken: a line holds at most :data:`MAX_TERMS` terms and, past its first
term, at most :data:`MAX_WIDTH` characters of the term's unicode rendering (a proxy for
its typeset width; 60 characters of math are about 300 pt in 10 pt type, inside an
article's 345 pt text width). Continuation lines start ``&\\quad`` and so align after the
``=`` of their row.
"""

from __future__ import annotations

from ..stochastic.outer import outer_text
from . import coordinatewise as cw
from . import notation as nt
from .printer import MathPrinter
from .text import TextPrinter

__all__ = ["LatexPrinter", "MAX_TERMS", "MAX_WIDTH"]

MAX_TERMS = 4
MAX_WIDTH = 60


class LatexPrinter(MathPrinter):
    format = "latex"
    style = nt.LATEX

    def _join(self, parts) -> str:
        rows = [row for rows in parts for row in rows]
        return "\n".join([r"\begin{align*}", " \\\\\n".join(rows), r"\end{align*}"]) + "\n"

    def _print_Header(self, h) -> list[str]:
        return []

    def _print_FlowInGradients(self, f) -> list[str]:
        return []

    def _print_ModifiedFlow(self, f) -> list[str]:
        return [self._row(nt.flow_name(r.order, self.style, f.tilde, f.step), r.terms) for r in f.rows]

    def _print_ModifiedLoss(self, sec) -> list[str]:
        mean = rf", \quad C = {self._sum([sec.mean])}" if sec.mean else ""
        rows = [self._row(self._loss_name(sec.block), sec.loss) + mean]
        sup = f"^{{{sec.block}}}" if sec.block else ""
        return rows + [self._row(f"r_{{{r.order}}}{sup}", r.terms) for r in sec.remainders]

    def _print_Principal(self, p) -> list[str]:
        return [line.replace(" = ", " &= ", 1) for line in p.flow.to_latex().splitlines()]

    # -- noise (bea.render.noise)
    def _print_SMEHeader(self, h) -> list[str]:
        return []

    def _print_Drift(self, f) -> list[str]:
        return self._print_ModifiedFlow(f)

    def _print_DriftLoss(self, sec) -> list[str]:
        return [rf"b &= -\nabla\left({self._sum(sec.loss)}\right)"]

    def _print_Diffusion(self, d) -> list[str]:
        return [rf"\Sigma &= {outer_text(d.terms, self.style)}",
                rf"&= {nt.signed_sum([(d.per_example, PER_EXAMPLE)], self.style)}"]

    def _print_EpochCovariance(self, c) -> list[str]:
        return [rf"\operatorname{{Cov}}_\sigma &= h^{{4}} \left({outer_text(c.terms, self.style)}\right) + O(h^{{5}})"]

    # -- coordinate-wise (bea.render.coordinatewise)
    def _print_Legend(self, leg) -> list[str]:
        return []

    def _print_CoordinateFlow(self, f) -> list[str]:
        rows = []
        for r in f.rows:
            parts = [("-" if s < 0 else "+", t) for s, t in (cw.part_text(p, self.style, f.loss) for p in r.parts)]
            lines = [parts[i:i + 2] for i in range(0, len(parts), 2)] or [[("+", "0")]]
            head = f"{nt.flow_name(r.order, self.style, f.tilde)} &= {nt.join_signed(lines[0])}"
            rows.append(" \\\\\n".join([head] + [rf"&\quad {nt.join_signed(line, first=False)}" for line in lines[1:]]))
        return rows

    def _row(self, lhs: str, terms) -> str:
        """``lhs &= t₁ + … \\\\ &\\quad + …``, broken into lines (see the module docstring)."""
        if not terms:
            return f"{lhs} &= 0"
        parts = nt.signed_terms([(t.coeff, self._body(t)) for t in terms], self.style)
        widths = [len(text) for _, text in nt.signed_terms([(t.coeff, _TEXT._body(t)) for t in terms], nt.TEXT)]
        lines, start, width = [], 0, 0
        for i, w in enumerate(widths):
            if i > start and (i - start == MAX_TERMS or width + w > MAX_WIDTH):
                lines.append(parts[start:i])
                start, width = i, 0
            width += w + 3
        lines.append(parts[start:])
        head = f"{lhs} &= {nt.join_signed(lines[0])}"
        return " \\\\\n".join([head] + [rf"&\quad {nt.join_signed(line, first=False)}" for line in lines[1:]])


_TEXT = TextPrinter()

PER_EXAMPLE = r"\frac{1}{n} \sum_i (\nabla \ell_i - \nabla L)(\nabla \ell_i - \nabla L)^\top"
"""``(1/n) Σ_i (∇ℓ_i - ∇L)(∇ℓ_i - ∇L)ᵀ``, the per-example covariance, in LaTeX."""
