"""One walk of a derivation into sections: plain data that every printer reads.

:func:`walk` turns a B-series :class:`~bea.rule.Derivation` into

* :class:`Header` — scheme, description, order, options, cycle and the :class:`AtomList`;
* :class:`ModifiedFlow` — ``θ' = f_1 + h f_2 + …`` with one :class:`Row` per order, terms
  read as elementary differentials;
* :class:`FlowInGradients` — the same rows in ∇ notation (only with gradient atoms);
* :class:`ModifiedLoss` — per parameter block: the modified loss series, the implicit
  regularizer, the non-gradient remainders, and the exact per-order split.

A row's terms are :class:`Term` objects (an exact sympy coefficient, a body, and the
index pattern summed over); bodies say *what* a term is (:class:`Elementary`,
:class:`Gradient`, :class:`Scalar`, :class:`Bracket`, :class:`Named`), printers say how
it looks. Display terms group an indexed family's trees into index patterns
(:mod:`bea.render.indexing`); ``exact`` terms are what a program reads back: one per tree
over the derivation's own atoms, or per index pattern when the family size is symbolic.

:func:`walk` dispatches on the type of what is printed (``functools.singledispatch``: a
derivation, a derivation with its principal flow, an SDE of :mod:`bea.stochastic`), and a
:class:`~bea.rule.Derivation` on its algebra: each algebra's ``render`` part
(:mod:`bea.algebra`) gives its sections — this module's :func:`derivation_sections` for
B-series, :mod:`bea.render.coordinatewise` for coordinate-wise rules — and printers gain
``_print_<Section>`` methods for new section types, without touching this walk.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from typing import ClassVar

import sympy

from ..rule import Derivation
from ..domain import exact_number
from ..joint import small_parameter, truncation_text
from ..bseries.trees import Tree, labels_of, tree
from .indexing import Patterns, group, stem, with_pattern_atoms

__all__ = [
    "walk", "Term", "IndexSum", "Elementary", "Gradient", "Scalar", "Bracket", "Named",
    "Header", "AtomList", "Row", "ModifiedFlow", "FlowInGradients", "ModifiedLoss", "LossOrder",
    "ModifyingField", "ModifyingInGradients", "CorrectionLoss", "OneStep", "OneStepInGradients", "StepLoss",
    "WithPrincipal", "Principal",
]

H = sympy.Symbol("h")


# -- terms ----------------------------------------------------------------------------

@dataclass(frozen=True)
class IndexSum:
    """``Σ`` over the index letters (``("j", "k")``) under a constraint (``"j<k"``,
    ``"j≠k"``, ``"i,j,k distinct"`` or ``""``)."""

    letters: tuple[str, ...]
    constraint: str = ""


@dataclass(frozen=True)
class Elementary:
    """``F(t)`` of a rooted atom tree (``f[f,f[f]]``)."""

    tree: Tree


@dataclass(frozen=True)
class Gradient:
    """``G(t)`` in ∇ notation of a rooted atom tree, ``F(t) = sign·G(t)`` (the term's
    coefficient already holds the sign); ``atoms`` maps labels to :class:`~bea.Atom`."""

    tree: Tree
    atoms: dict


@dataclass(frozen=True)
class Scalar:
    """A modified-loss scalar: an unrooted tree over loss labels (``L1[L2|]``)."""

    tree: Tree


@dataclass(frozen=True)
class Bracket:
    """The Lie bracket ``[∇L_x, ∇L_y]`` of two loss gradients."""

    x: str
    y: str


@dataclass(frozen=True)
class Named:
    """A quantity defined elsewhere in the output (the mean loss ``C``)."""

    name: str


@dataclass(frozen=True)
class Term:
    coeff: sympy.Expr
    body: object
    over: IndexSum | None = None


# -- sections -------------------------------------------------------------------------

@dataclass(frozen=True)
class AtomList:
    """The atoms in update order; ``symbolic`` = ``(field stem, loss stem, size)`` when they
    are an indexed family of symbolic size (``f_k = -∇L_k, k = 1…m``)."""

    atoms: tuple
    symbolic: tuple | None = None


@dataclass(frozen=True)
class Header:
    scheme: str
    description: str
    order: int
    options: dict
    cycle: object
    atoms: AtomList
    kind: str = "flow"


@dataclass(frozen=True)
class Row:
    """The order-``order`` field ``f_order``: display ``terms`` and ``exact`` terms."""

    order: int
    terms: tuple[Term, ...]
    exact: tuple[Term, ...] = ()


@dataclass(frozen=True)
class ModifiedFlow:
    """``θ' = f_1 + h f_2 + … + O(h^order)``; terms are :class:`Elementary`."""

    order: int
    rows: tuple[Row, ...]
    tilde: ClassVar[bool] = False  # rows are parts of a modifying field f̃_k
    step: ClassVar[bool] = False  # rows are the parts Δ_k of a one-step map


@dataclass(frozen=True)
class FlowInGradients(ModifiedFlow):
    """The modified flow with gradient atoms, terms as :class:`Gradient`."""


@dataclass(frozen=True)
class ModifyingField(ModifiedFlow):
    """The modifying field ``f̃ = f̃_1 + h f̃_2 + …`` (:mod:`bea.modifying`): the scheme run
    on ``f̃`` follows the target flow; each term belongs to the atom at its tree's root."""

    tilde: ClassVar[bool] = True


@dataclass(frozen=True)
class ModifyingInGradients(FlowInGradients):
    """The modifying field with gradient atoms, terms as :class:`Gradient`."""

    tilde: ClassVar[bool] = True


@dataclass(frozen=True)
class OneStep(ModifiedFlow):
    """One cycle of the rule as a map, ``θ⁺ = θ + h Δ_1 + h² Δ_2 + …`` (:mod:`bea.equivalent`;
    on the slaved manifold when the rule has state); rows are the ``Δ_k``."""

    step: ClassVar[bool] = True


@dataclass(frozen=True)
class OneStepInGradients(FlowInGradients):
    """The one-step map with gradient atoms, terms as :class:`Gradient`."""

    step: ClassVar[bool] = True


@dataclass(frozen=True)
class LossOrder:
    """Order ``order`` of one block's split: modified-loss weights (terms over
    :class:`Scalar`) and remainder (over :class:`Elementary`), as exact terms."""

    order: int
    weights: tuple[Term, ...]
    remainder: tuple[Term, ...]


@dataclass(frozen=True)
class ModifiedLoss:
    """One block's modified loss ``L̃ = Σ_k h^{k-1} (weights of order k)``.

    ``loss``: the series (order-1 part replaced by ``C`` when it is a family's mean loss,
    then ``mean`` holds ``C``'s definition); ``regularizer``: the orders ``≥ 2``;
    ``remainders``: the non-gradient rows ``r_k`` (antisymmetric pairs as Lie brackets);
    ``orders``: the exact split per order.
    """

    block: str | None
    order: int
    loss: tuple[Term, ...]
    mean: Term | None
    regularizer: tuple[Term, ...]
    remainders: tuple[Row, ...]
    orders: tuple[LossOrder, ...]

    @property
    def exists(self) -> bool:
        """Whether this block's modified loss exists (no remainder at any order)."""
        return not any(o.remainder for o in self.orders)


@dataclass(frozen=True)
class StepLoss(ModifiedLoss):
    """The loss of the equivalent gradient descent ``θ⁺ = θ − h∇L̃`` of one block."""


@dataclass(frozen=True)
class CorrectionLoss(ModifiedLoss):
    """The loss whose negative gradient is the modifying field of one block: training on it
    with the scheme follows the target flow (where it exists; else the remainders)."""


# -- the walk -------------------------------------------------------------------------

# A derivation's kind → its sections: the field, the field in gradients, the loss.
_SECTIONS = {
    "flow": (ModifiedFlow, FlowInGradients, ModifiedLoss),
    "modifying": (ModifyingField, ModifyingInGradients, CorrectionLoss),
    "step": (OneStep, OneStepInGradients, StepLoss),
}

@functools.singledispatch
def walk(d) -> list:
    """The sections of a derivation, in print order."""
    raise TypeError(f"no printer walk for {type(d).__name__}")


@walk.register
def _(d: Derivation) -> list:
    return d.algebra.part("render").derivation_sections(d)


def derivation_sections(d: Derivation) -> list:
    """The sections of a B-series derivation (the B-series algebra's ``render`` part)."""
    return _Walk(d).sections()


@dataclass(frozen=True)
class Principal:
    """The principal flow of the scheme (:func:`bea.principal.stability_function`):
    ``R(z)``, ``ψ(z)`` and the stability thresholds, all orders at once."""

    flow: object


@dataclass(frozen=True)
class WithPrincipal:
    """A derivation printed together with its principal flow (``bea derive --principal``)."""

    derivation: Derivation
    principal: object


@walk.register
def _(d: WithPrincipal) -> list:
    return walk(d.derivation) + [Principal(d.principal)]


class _Walk:
    def __init__(self, d: Derivation):
        self.d = d
        fam = d.rule.family
        self.family = fam
        self.symbolic = fam is not None and not isinstance(fam.size, int)
        self.atom_of = with_pattern_atoms(d.atoms, fam)
        # a rule presented as a general ODE (rk's default, --field ode): f without a loss
        self.ode = d.rule.options.get("field") == "ode"

    def _group(self, terms: dict, scalar: bool, exact: bool = False):
        """Grouped by index pattern for display (any family); for exact terms only when the
        family size is symbolic."""
        grouped = self.family is not None and (self.symbolic or not exact)
        patterns = Patterns(self.family, scalar) if grouped else None
        return [(rep, c, IndexSum(letters, cons) if letters else None)
                for rep, c, cons, letters in group(terms, patterns, self.d.field)]

    def sections(self) -> list:
        d = self.d
        flow, in_gradients, loss = _SECTIONS[d.kind]
        out = [self.header(), flow(d.order, tuple(self.flow_row(k, False) for k in range(1, d.order + 1)))]
        if not self.ode and d.splits is not None:
            out.append(in_gradients(d.order, tuple(self.flow_row(k, True) for k in range(1, d.order + 1))))
            out += [self.loss(block, loss) for block in dict.fromkeys(a.block for a in d.atoms)]
        return out

    def header(self) -> Header:
        r, fam = self.d.rule, self.family
        symbolic = (stem(fam.labels[0]), stem(fam.losses[0]), fam.size) if self.symbolic else None
        atoms = tuple(replace(a, loss=None) for a in self.d.atoms) if self.ode else tuple(self.d.atoms)
        joint = truncation_text(r, self.d.order)  # a second small parameter (bea.joint)
        description = " — ".join(part for part in (r.description, joint) if part)
        return Header(r.name, description, self.d.order, dict(r.options), r.cycle,
                      AtomList(atoms, symbolic), self.d.kind)

    def flow_row(self, k: int, gradient: bool) -> Row:
        terms = []
        for rep, coeff, over in self._group(self.d.flow[k], scalar=False):
            if gradient:
                sign = _sign(rep, self.atom_of)
                terms.append(Term(coeff * sign, Gradient(rep, self.atom_of), over))
            else:
                terms.append(Term(coeff, Elementary(rep), over))
        exact = () if gradient else self._exact(self.d.flow[k], Elementary, scalar=False)
        return Row(k, tuple(terms), exact)

    def _exact(self, terms: dict, body, scalar: bool) -> tuple[Term, ...]:
        return tuple(Term(c, body(rep), over) for rep, c, over in self._group(terms, scalar, exact=True))

    def loss(self, block, section=ModifiedLoss) -> ModifiedLoss:
        d = self.d
        weights, remainders, orders = {}, [], []
        for k in range(1, d.order + 1):
            split = d.splits[k].get(block)
            if split is None:
                continue
            weights[k] = [Term(c, Scalar(rep), over) for rep, c, over in self._group(split.weights, scalar=True)]
            if split.remainder:
                remainders.append(Row(k, tuple(self.remainder(split.remainder))))
            orders.append(LossOrder(k, self._exact(split.weights, Scalar, scalar=True),
                                    self._exact(split.remainder, Elementary, scalar=False)))
        first, mean = self._mean(weights.get(1, []))
        series = {**weights, 1: first} if 1 in weights else weights
        return section(block, d.order, _in_h(series), mean, self._regularizer(weights),
                            tuple(remainders), tuple(orders))

    def _regularizer(self, weights: dict) -> tuple[Term, ...]:
        """The orders ``≥ 2`` of the loss; with a second small parameter ``ρ`` (:mod:`bea.joint`)
        also the order-1 terms in ``ρ`` (USAM's ``ρ/2 ‖∇L‖²``): the loss less its ``h = ρ = 0`` part."""
        small = small_parameter(self.d.rule)
        if small is None or 1 not in weights:
            return _in_h(weights, start=2)
        rho = small[0]
        first = [replace(t, coeff=t.coeff - t.coeff.subs(rho, 0)) for t in weights[1]]
        return tuple(t for t in first if sympy.expand(t.coeff) != 0) + _in_h(weights, start=2)

    def _mean(self, first: list[Term]):
        """For a minibatch family, the order-1 part ``1/m Σ_k L_k`` is written ``C``, the mean
        loss (Smith et al. 2021): returns the order-1 terms and ``C``'s definition (or None)."""
        fam = self.family
        if fam is None or len(first) != 1:
            return first, None
        (term,) = first
        if term.over is None or term.over.letters != ("k",) or \
                sympy.simplify(term.coeff * exact_number(fam.size) - 1) != 0:
            return first, None
        return [Term(sympy.Integer(1), Named("C"))], term

    def remainder(self, terms: dict) -> list[Term]:
        """The remainder in ∇ notation; antisymmetric pairs ``c(F(Y[X]) - F(X[Y]))`` become
        Lie brackets ``c [∇L_X, ∇L_Y]`` (continual learning, SGD epochs)."""
        grouped = {str(rep): (rep, c, over) for rep, c, over in self._group(terms, scalar=False)}
        out = []
        for key, (rep, coeff, over) in list(grouped.items()):
            if key not in grouped:
                continue
            if rep.order == 2 and rep.label != rep.children[0].label and self.atom_of[rep.label].block is None:
                x, y = rep.children[0].label, rep.label
                partner = grouped.get(str(tree(x, [tree(y)])))
                if partner is not None and partner[2] == over and sympy.expand(partner[1] + coeff) == 0:
                    del grouped[key], grouped[str(partner[0])]
                    first, second = sorted((x, y), key=lambda label: (len(label), label))
                    sign = 1 if (first, second) == (x, y) else -1
                    out.append(Term(sign * coeff, Bracket(self.atom_of[first].loss, self.atom_of[second].loss), over))
                    continue
            out.append(Term(coeff * _sign(rep, self.atom_of), Gradient(rep, self.atom_of), over))
        return out


def _sign(t: Tree, atom_of: dict) -> int:
    """``F(t) = sign · G(t)`` with ``G`` in ∇ notation: ``sign = Π_nodes (-sign_c)``."""
    sign = 1
    for label in labels_of(t):
        sign *= -atom_of[label].sign
    return sign


def _in_h(orders: dict, start: int = 1) -> tuple[Term, ...]:
    """``Σ_k h^{k-1} (terms of order k)`` for orders ``≥ start``."""
    return tuple(Term(t.coeff * H ** (k - 1), t.body, t.over)
                 for k, terms in orders.items() if k >= start for t in terms)
