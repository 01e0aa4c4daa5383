"""Markdown with inline LaTeX, as the catalogue in ``derivations/`` holds it."""

from __future__ import annotations

from .outer import outer_text
from . import coordinatewise as cw
from . import notation as nt
from .latex import PER_EXAMPLE
from .printer import MathPrinter

__all__ = ["MarkdownPrinter"]


class MarkdownPrinter(MathPrinter):
    format = "markdown"
    style = nt.LATEX

    def _join(self, parts) -> str:
        return "\n".join(line for lines in parts for line in lines) + "\n"

    def _print_Header(self, h) -> list[str]:
        lines = [f"# `{h.scheme}` — {h.description}", "",
                 f"- order: {h.order}", f"- atoms (update order): ${self._print(h.atoms)}$",
                 f"- cycle: {self._cycle(h.cycle)}"]
        if h.options:
            lines.append("- options: " + ", ".join(f"`{k}={v}`" for k, v in h.options.items()))
        return lines

    def _rows(self, f) -> list[str]:
        return [f"- ${nt.flow_name(r.order, self.style, f.tilde, f.step)} = {self._sum(r.terms)}$" for r in f.rows]

    def _print_ModifiedFlow(self, f) -> list[str]:
        head = f"$\\theta' = {self._flow_head(f.order)} + O({self.style.times_h(f.order)})$"
        return ["", "## Modified flow", "", head, ""] + self._rows(f)

    def _print_ModifyingField(self, f) -> list[str]:
        head = rf"$\tilde f = {self._flow_head(f.order, True)} + O({self.style.times_h(f.order)})$"
        note = ("Run on $\\tilde f$, the scheme follows its first-order flow $\\theta' = f_{1}$ with local error "
                f"$O({self.style.times_h(f.order + 1)})$; each term corrects the atom at its tree's root.")
        return ["", "## Modifying field", "", head, "", note, ""] + self._rows(f)

    def _print_OneStep(self, f) -> list[str]:
        head = rf"$\theta^+ = {self._step_head(f.order).replace('θ', chr(92) + 'theta', 1)} + O({self.style.times_h(f.order + 1)})$"
        note = "One cycle of the rule as a map; a rule with state runs on its slaved manifold."
        return ["", "## One step", "", head, "", note, ""] + self._rows(f)

    def _print_OneStepInGradients(self, f) -> list[str]:
        return ["", "In gradients:", ""] + self._rows(f) + ["", "## Equivalent gradient descent",
                                                            "", r"$\theta^+ = \theta - h \nabla \tilde{L}$", ""]

    def _print_ModifyingInGradients(self, f) -> list[str]:
        return ["", "In gradients:", ""] + self._rows(f) + ["", "## Loss to train on", ""]

    def _print_CorrectionLoss(self, sec) -> list[str]:
        lines = self._print_ModifiedLoss(sec)
        return [line.replace("implicit regularizer:", "correction:", 1) for line in lines]

    def _print_FlowInGradients(self, f) -> list[str]:
        return ["", "In gradients:", ""] + self._rows(f) + ["", "## Modified loss", ""]

    def _print_Principal(self, p) -> list[str]:
        f = p.flow
        return (["", "## Principal flow", "", f"Assumes {f.assumption}.", ""]
                + [f"- ${line}$" for line in f.to_latex().splitlines()] + ["", f.to_json()["logarithm"]])

    def _print_ModifiedLoss(self, sec) -> list[str]:
        who = f" (block ${sec.block}$)" if sec.block else ""
        mean = f", $C = {self._sum([sec.mean])}$" if sec.mean else ""
        lines = [f"- ${self._loss_name(sec.block)} = {self._sum(sec.loss)}${who}{mean}",
                 f"- implicit regularizer: ${self._sum(sec.regularizer)}$"]
        return lines + [f"- remainder $r_{{{r.order}}} = {self._sum(r.terms)}$ (not a gradient; "
                        "least-squares split in the tree basis)" for r in sec.remainders]

    # -- coordinate-wise (bea.render.coordinatewise)
    def _print_Legend(self, leg) -> list[str]:
        return [f"- notation: ${cw.legend_text(leg, self.style)}$; products ($\\odot$), quotients, powers "
                "and functions of vectors act elementwise"]

    def _print_CoordinateFlow(self, f) -> list[str]:
        if f.tilde:
            title = "## Modifying field"
            head = rf"$\tilde f = {self._flow_head(f.order, True)} + O({self.style.times_h(f.order)})$"
        else:
            title = "## Modified flow"
            head = f"$\\theta' = {self._flow_head(f.order)} + O({self.style.times_h(f.order)})$"
        rows = [f"- ${nt.flow_name(r.order, self.style, f.tilde)} = {cw.row_text(r, self.style, f.loss)}$"
                for r in f.rows]
        notes = [f"- where ${cw.potential_definition(R, body, self.style, f.loss)}$" for R, body in cw.potentials(f)]
        return ["", title, "", head, ""] + rows + notes

    def _print_CoordinateLoss(self, sec) -> list[str]:
        name, s = self._loss_name(None), self.style
        terms = nt.join_signed(cw.loss_parts(sec.rows, s, sec.loss))
        regularizer = nt.join_signed(cw.loss_parts(sec.regularizer, s, sec.loss)) or "0"
        return ["", "## Modified loss", "", f"$\\theta' = -\\nabla {name} + O({s.times_h(sec.order)})$", "",
                f"- ${name} = {terms}$", f"- implicit regularizer: ${regularizer}$"]

    # -- noise (bea.stochastic.sections)
    def _print_SMEHeader(self, h) -> list[str]:
        return [f"# `sgd --sampling iid` — stochastic modified equation, weak order {h.order}", "",
                f"- {h.description}",
                r"- atoms: $f^{[i]} = -\nabla \ell_i$ ($i = 1 \dots n$), $f = -\nabla L$, "
                r"$L = \frac{1}{n} \sum_i \ell_i$; time $h$ per step",
                r"- SDE (Itô): $d\theta = b(\theta)\,dt + \sqrt{h \Sigma(\theta)}\,dW$" + f" ({h.reference})"]

    def _print_Drift(self, f) -> list[str]:
        return ["", "## Drift", "", f"$b = {self._flow_head(f.order)}$", ""] + self._rows(f)

    def _print_DriftLoss(self, sec) -> list[str]:
        return [rf"- $b = -\nabla\left({self._sum(sec.loss)}\right)$"]

    def _print_Diffusion(self, d) -> list[str]:
        return ["", "## Diffusion", "", f"$\\Sigma = {outer_text(d.terms, self.style)}"
                f" = {nt.signed_sum([(d.per_example, PER_EXAMPLE)], self.style)}$"]

    def _print_EpochCovariance(self, c) -> list[str]:
        return ["", "## Epoch covariance over orderings", "",
                rf"$\operatorname{{Cov}}_\sigma = h^{{4}} \left({outer_text(c.terms, self.style)}\right) + O(h^{{5}})$",
                "", r"Sums over distinct minibatches in $1 \dots m$; $[f^{[i]}, f^{[j]}] = {f^{[j]}}'f^{[i]} - "
                r"{f^{[i]}}'f^{[j]}$."]
