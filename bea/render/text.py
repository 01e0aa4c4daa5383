"""Unicode text, as ``bea derive`` prints it."""

from __future__ import annotations

import textwrap

from .outer import outer_text
from . import coordinatewise as cw
from . import notation as nt
from .printer import MathPrinter

__all__ = ["TextPrinter", "WIDTH"]

WIDTH = 100
"""The widest text line: sums longer than that continue on the next line."""


class TextPrinter(MathPrinter):
    format = "text"
    style = nt.TEXT

    def _join(self, parts) -> str:
        return "\n".join(line for lines in parts for line in lines) + "\n"

    def _print_Header(self, h) -> list[str]:
        atoms, cycle = self._print(h.atoms), self._cycle(h.cycle)
        line = f"order {h.order} · atoms: {atoms} · cycle: {cycle}"
        if len(line) <= WIDTH:
            return [f"{h.scheme}: {h.description}", line, ""]
        # many atoms: the order and cycle first, then the atoms broken after commas
        lines, indent = ["atoms: "], " " * len("atoms: ")
        for i, atom in enumerate(atoms.split(", ")):
            piece = atom + ("," if i < atoms.count(", ") else "")
            if lines[-1].strip() and len(lines[-1]) + 1 + len(piece) > WIDTH:
                lines.append(indent)
            lines[-1] += ("" if lines[-1] in ("atoms: ", indent) else " ") + piece
        return [f"{h.scheme}: {h.description}", f"order {h.order} · cycle: {cycle}", *lines, ""]

    def _rows(self, section) -> list[str]:
        return [line for r in section.rows
                for line in self._wrapped(f"  {nt.flow_name(r.order, self.style, section.tilde, section.step)} = ",
                                          r.terms)]

    def _wrapped(self, head: str, terms, tail: str = "") -> list[str]:
        """``head`` and the signed sum of ``terms`` (then ``tail``), broken between terms into
        lines of at most :data:`WIDTH` characters, continuations aligned under the first term;
        a term wider than a line puts its body on a line of its own below its coefficient."""
        bodies = [self._body(t) for t in terms]
        parts = nt.signed_terms(list(zip((t.coeff for t in terms), bodies)), self.style) if terms else []
        return self._wrap_signed(head, parts, bodies, tail)

    @staticmethod
    def _wrap_signed(head: str, parts: list, bodies=(), tail: str = "") -> list[str]:
        """:meth:`_wrapped` for signed parts ``[(sign, text)]``; ``bodies``: the part's text
        after its coefficient, where a part wider than a line may break."""
        pieces = [nt.join_signed(parts[:1])] + [f"{sign} {term}" for sign, term in parts[1:]] if parts else ["0"]
        pieces[-1] += tail
        lines, indent = [head], " " * len(head)
        for i, piece in enumerate(pieces):
            fresh = lines[-1] == head or lines[-1] == indent
            if not fresh and len(lines[-1]) + 1 + len(piece) > WIDTH:
                lines.append(indent)
                fresh = True
            body = bodies[i] if i < len(bodies) else ""
            if len(lines[-1]) + len(piece) > WIDTH and body and piece.endswith(body + (tail if i == len(pieces) - 1 else "")) \
                    and len(piece) > len(body) + 1:
                cut = len(piece) - len(body) - (len(tail) if i == len(pieces) - 1 else 0)
                lines[-1] += piece[:cut].rstrip()
                lines.append(indent + "  " + piece[cut:])
            else:
                lines[-1] += ("" if fresh else " ") + piece
        return [folded for line in lines for folded in _fold(line, indent + "    ")]

    def _print_ModifiedFlow(self, f) -> list[str]:
        head = f"modified flow   θ' = {self._flow_head(f.order)} + O(h{nt.superscript(str(f.order))})"
        return [head] + self._rows(f)

    def _print_ModifyingField(self, f) -> list[str]:
        head = (f"modifying field   f̃ = {self._flow_head(f.order, True)} + O(h{nt.superscript(str(f.order))})")
        note = ("(run on f̃, the scheme follows its first-order flow θ' = f₁ with local error "
                f"O(h{nt.superscript(str(f.order + 1))}); each term corrects the atom at its root)")
        return [head, *textwrap.wrap(note, WIDTH, initial_indent="  ", subsequent_indent="   ")] + self._rows(f)

    def _print_OneStep(self, f) -> list[str]:
        head = f"one step   θ⁺ = {self._step_head(f.order)} + O(h{nt.superscript(str(f.order + 1))})"
        return [head, "  (one cycle of the rule as a map; a rule with state runs on its slaved manifold)"] + self._rows(f)

    def _print_StepLoss(self, sec) -> list[str]:
        return self._print_ModifiedLoss(sec, step=True)

    def _print_CorrectionLoss(self, sec) -> list[str]:
        lines = self._print_ModifiedLoss(sec)
        lines[0] = lines[0].replace("modified loss", "loss to train on", 1)
        return [line.replace("implicit regularizer:", "correction:", 1) for line in lines]

    def _print_FlowInGradients(self, f) -> list[str]:
        return ["", "in gradients"] + self._rows(f) + [""]

    def _print_ModifiedLoss(self, sec, step: bool = False) -> list[str]:
        """``θ' = -∇L̃``; with ``step`` the loss of a one-step map, ``θ⁺ = θ - h∇L̃``."""
        s, block = self.style, sec.block
        who = f" of block {block}" if block else ""
        grad = s.nabla(1, (block,) if block else ())
        name = self._loss_name(block)
        theta = s.sub("θ", block) if block else "θ"
        lhs = f"{theta}⁺ = {theta} - h" if step else f"{theta}' = -"
        title = "equivalent gradient descent" if step else "modified loss"
        error = nt.superscript(str(sec.order + 1 if step else sec.order))
        if not sec.remainders:
            lines = [f"{title}{who}   {lhs}{grad}{name} + O(h{error})"]
        else:
            rs = " + ".join(f"{s.times_h(r.order - 1)} r{nt.subscript(str(r.order))}".strip() for r in sec.remainders)
            lines = [f"{title}{who}: gradient part and remainder (least squares in the tree basis)",
                     f"  {lhs}{grad}{name} + " + (f"h({rs})" if step else rs)]
        mean = f"   (C = {self._sum([sec.mean])})" if sec.mean else ""
        lines += self._wrapped(f"  {name} = ", sec.loss, mean)
        lines += self._wrapped("  implicit regularizer: ", sec.regularizer)
        for r in sec.remainders:
            lines += self._wrapped(f"  r{nt.subscript(str(r.order))} = ", r.terms, "   (not a gradient)")
        return lines

    def _print_Principal(self, p) -> list[str]:
        return ["", *p.flow.to_text().splitlines()]

    # -- noise (bea.stochastic.sections)
    def _print_SMEHeader(self, h) -> list[str]:
        return [f"sgd --sampling iid: stochastic modified equation, weak order {h.order}", h.description,
                "atoms: f^[i] = -∇ℓ_i (i = 1…n), f = -∇L = 1/n Σ_i f^[i], L = 1/n Σ_i ℓ_i · time h per step",
                "", f"SDE   dθ = b(θ) dt + √(h Σ(θ)) dW   (Itô; {h.reference})"]

    def _print_Drift(self, f) -> list[str]:
        return [f"drift   b = {self._flow_head(f.order)}"] + self._rows(f)

    def _print_DriftLoss(self, sec) -> list[str]:
        loss = self._sum(sec.loss)
        return [f"  b = -∇({loss})" if len(sec.loss) > 1 else f"  b = -∇{loss}"]

    def _print_Diffusion(self, d) -> list[str]:
        return ["", f"diffusion   Σ = {outer_text(d.terms, self.style)}",
                f"            = {nt.signed_sum([(d.per_example, _PER_EXAMPLE)], self.style)}"]

    def _print_EpochCovariance(self, c) -> list[str]:
        return ["", "epoch covariance over orderings   Cov_σ(θ after one epoch) = h⁴ K + O(h⁵)",
                f"  K = {outer_text(c.terms, self.style)}",
                "  (sums over distinct minibatches i, j, k in 1…m; [f^[i], f^[j]] = f^[j]'f^[i] - f^[i]'f^[j])"]

    # -- coordinate-wise (bea.render.coordinatewise)
    def _print_Legend(self, leg) -> list[str]:
        notation = textwrap.wrap(f"notation   {cw.legend_text(leg, self.style)}", WIDTH,
                                 subsequent_indent=" " * len("notation   "), break_on_hyphens=False)
        return [*notation, "  (products ⊙, quotients, powers and functions of vectors act elementwise)", ""]

    def _print_CoordinateFlow(self, f) -> list[str]:
        if f.tilde:
            head = [f"modifying field   f̃ = {self._flow_head(f.order, True)} + O(h{nt.superscript(str(f.order))})",
                    "  (run on f̃, the rule follows its first-order flow with local error "
                    f"O(h{nt.superscript(str(f.order + 1))}))"]
        else:
            head = [f"modified flow   θ' = {self._flow_head(f.order)} + O(h{nt.superscript(str(f.order))})"]
        rows = [line for r in f.rows
                for line in self._wrap_signed(f"  {nt.flow_name(r.order, self.style, f.tilde)} = ",
                                              cw.row_parts(r, self.style, f.loss))]
        notes = [f"  where {cw.potential_definition(R, body, self.style, f.loss)}" for R, body in cw.potentials(f)]
        return head + rows + notes

    def _print_CoordinateLoss(self, sec) -> list[str]:
        name = self._loss_name(None)
        return (["", f"modified loss   θ' = -∇{name} + O(h{nt.superscript(str(sec.order))})"]
                + self._wrap_signed(f"  {name} = ", cw.loss_parts(sec.rows, self.style, sec.loss))
                + self._wrap_signed("  implicit regularizer: ", cw.loss_parts(sec.regularizer, self.style, sec.loss)))


def _fold(line: str, indent: str) -> list[str]:
    """``line`` as it is when it fits in :data:`WIDTH` characters; else broken before a sign
    inside parentheses (a coefficient's sum: the outermost group with a break that fits,
    the last such break), continuations starting with ``indent``."""
    lines = []
    while len(line) > WIDTH:
        cut = _inner_break(line)
        if cut is None:
            break
        lines.append(line[:cut].rstrip())
        line = indent + line[cut:].lstrip()
    return lines + [line]


def _inner_break(line: str) -> int | None:
    """The position of the space before the last ``" + "``/``" - "`` within :data:`WIDTH`
    at the least parenthesis depth ≥ 1 (``None``: none)."""
    depth, best = 0, {}
    for i, ch in enumerate(line[:WIDTH - 1]):
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif depth >= 1 and line.startswith((" + ", " - "), i) and i > len(line) - len(line.lstrip()) + 2:
            best[depth] = i
    return best[min(best)] if best else None


_PER_EXAMPLE = "(1/n) Σ_i (∇ℓ_i - ∇L)(∇ℓ_i - ∇L)ᵀ"
