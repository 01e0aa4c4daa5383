"""The base printers, in sympy's printer shape.

:meth:`Printer.doprint` walks a derivation once into sections (:func:`bea.render.sections.walk`)
and prints each with :meth:`Printer._print`, which dispatches on the object's class along
its MRO to a method ``_print_<ClassName>`` — a printer for a new format overrides only the
methods whose output differs, and a section type a printer does not know is an error
(never partial output). :class:`MathPrinter` adds what the text, LaTeX and Markdown
printers share: term bodies, signed sums and names in one :class:`~bea.render.notation.Style`.
"""

from __future__ import annotations

from . import notation as nt
from .sections import Term, walk

__all__ = ["Printer", "MathPrinter"]


class Printer:
    """Base printer: ``doprint(d) = _join([_print(s) for s in walk(d)])``."""

    format: str = ""

    def doprint(self, d) -> str:
        return self._join([self._print(s) for s in walk(d)])

    def _join(self, parts: list) -> str:
        raise NotImplementedError

    def _print(self, obj):
        for cls in type(obj).__mro__:
            method = getattr(self, f"_print_{cls.__name__}", None)
            if method is not None:
                return method(obj)
        raise NotImplementedError(f"{type(self).__name__} cannot print {type(obj).__name__}")


class MathPrinter(Printer):
    """Terms and names in :attr:`style` (unicode text or LaTeX)."""

    style: nt.Style = nt.TEXT

    # -- term bodies
    def _print_Elementary(self, b) -> str:
        return nt.elementary(b.tree, self.style)

    def _print_Gradient(self, b) -> str:
        return nt.gradient(b.tree, b.atoms, self.style)

    def _print_Scalar(self, b) -> str:
        return nt.scalar(b.tree, self.style)

    def _print_Bracket(self, b) -> str:
        return nt.bracket(b.x, b.y, self.style)

    def _print_Named(self, b) -> str:
        return b.name

    def _body(self, t: Term) -> str:
        """A term without its coefficient: ``Σ_{j<k} f_j'f_k``."""
        prefix = nt.sum_prefix(t.over.letters, t.over.constraint, self.style) if t.over else ""
        return prefix + self._print(t.body)

    def _sum(self, terms) -> str:
        """``c₁ t₁ - c₂ t₂ + …`` (``0`` when empty)."""
        return nt.signed_sum([(t.coeff, self._body(t)) for t in terms], self.style)

    # -- names
    def _print_AtomList(self, a) -> str:
        s = self.style
        if a.symbolic is not None:
            field, loss, size = a.symbolic
            f, L = nt.field_name(f"{field}_k", s), nt.name(f"{loss}_k", s)
            return f"{f} = -{s.nabla(1)}{L}, k = 1…{size}"
        parts = []
        for atom in a.atoms:
            if atom.loss is None:
                parts.append(nt.field_name(atom.label, s))
                continue
            grad = s.nabla(1, (atom.block,) if atom.block else ()) + nt.name(atom.loss, s)
            parts.append(f"{nt.field_name(atom.label, s)} = {'-' if atom.sign > 0 else '+'}{grad}")
        return ", ".join(parts)

    @staticmethod
    def _cycle(cycle) -> str:
        return f"{cycle} update{'s' if cycle != 1 else ''} of length h"

    def _loss_name(self, block) -> str:
        tilde = r"\tilde{L}" if self.style.latex else "L̃"
        return self.style.sub(tilde, block) if block else tilde

    def _step_head(self, order: int) -> str:
        """``θ + h Δ₁ + h² Δ₂ + …`` (a one-step map, :mod:`bea.equivalent`)."""
        s = self.style
        return "θ + " + " + ".join(f"{s.times_h(k)} {nt.flow_name(k, s, step=True)}" for k in range(1, order + 1))

    def _flow_head(self, order: int, tilde: bool = False) -> str:
        """``f₁ + h f₂ + h² f₃`` (``f̃₁ + h f̃₂ + …`` with ``tilde``)."""
        s = self.style
        return " + ".join(f"{s.times_h(k - 1)} {nt.flow_name(k, s, tilde)}".strip() for k in range(1, order + 1))
