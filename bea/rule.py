"""A rule and what is derived from it: the data every algebra and layer shares.

A :class:`Rule` is an update rule written as Python (``step``) with its atoms, auxiliary
state, parameters and algebra; a :class:`Derivation` is a series derived from it by
:func:`bea.derive` (a modified flow), :func:`bea.modifying.modifying_field` or
:func:`bea.equivalent_step`, whose questions about its terms go to its algebra.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field as dc_field
from typing import Callable, Mapping

import sympy

from .algebra import Algebra
from .atoms import Atom
from .registry import algebra_named, algebra_of

__all__ = ["Rule", "Family", "Derivation"]


@dataclass(frozen=True)
class Family:
    """Atoms ``f_1 … f_m`` of one indexed family (minibatches), for ``Σ_k`` display.

    ``ordered``: coefficients depend on the relative order of indices (``Σ_{j<k}``);
    otherwise only on which indices coincide (``Σ_{j≠k}``). ``size`` is the number of
    members (an int, or a sympy symbol when the derivation is symbolic in it; then the
    rule is traced with as many members as the order, which realizes every pattern).
    """

    labels: tuple[str, ...]
    losses: tuple[str, ...]
    ordered: bool
    size: object


@dataclass(frozen=True)
class Rule:
    """An update rule: ``step(theta, *aux, h, *atoms, **params)``.

    ``step`` returns the new parameters (and the new auxiliary state when ``n_aux > 0``).
    ``atoms`` are the fields in the order ``step`` takes them. ``blocks`` names the
    parameter blocks when ``theta`` is a tuple (players). ``cycle`` is the number of
    updates of length ``h`` one call of ``step`` stands for. ``shuffle``: average the map
    over all orderings of the atoms (random reshuffling). ``params`` values are numbers,
    sympy symbols or nested tuples of them (a tableau); they choose the coefficient field.
    ``algebra``: the name of a registered algebra (:mod:`bea.registry`): ``"trees"``
    (affine rules, B-series, :mod:`bea.bseries`) or ``"coordinatewise"`` (rules with
    elementwise products, roots, norms: adaptive optimizers, :mod:`bea.coordinatewise`).
    ``small``: ``{name: M}`` declares the parameter ``name`` (a sympy symbol in ``params``,
    e.g. SAM's radius ``rho``) a second small parameter: :func:`bea.derive` then expands
    jointly in ``h`` and it, to order ``M`` in it (:mod:`bea.joint`; at most one).
    """

    step: Callable
    atoms: tuple[Atom, ...]
    name: str = "custom"
    blocks: tuple = (None,)
    n_aux: int = 0
    params: Mapping = dc_field(default_factory=dict)
    cycle: object = 1
    shuffle: bool = False
    family: Family | None = None
    options: Mapping = dc_field(default_factory=dict)
    description: str = ""
    algebra: str = "trees"
    small: Mapping = dc_field(default_factory=dict)

    def __post_init__(self):
        """Refuse malformed fields before any work: ``TypeError`` or ``ValueError`` naming
        the argument (a cycle of 0 would divide by zero, ``h`` is the step size)."""
        if not callable(self.step):
            raise TypeError(f"Rule: step must be a function step(theta, h, *atoms), got {type(self.step).__name__}")
        if not isinstance(self.atoms, (tuple, list)) or not all(isinstance(a, Atom) for a in self.atoms):
            raise TypeError("Rule: atoms must be a tuple of bea.Atom, e.g. (bea.Atom('f', 'L'),)")
        object.__setattr__(self, "atoms", tuple(self.atoms))
        if not isinstance(self.name, str):
            raise TypeError(f"Rule: name must be text, got {type(self.name).__name__}")
        if isinstance(self.n_aux, bool) or not isinstance(self.n_aux, int) or self.n_aux < 0:
            raise ValueError(f"Rule: n_aux must be a whole number ≥ 0, got {self.n_aux!r}")
        if not isinstance(self.params, Mapping) or not all(isinstance(k, str) for k in self.params):
            raise TypeError("Rule: params must be a mapping from parameter names (text) to values")
        for key, value in self.params.items():
            if "h" in {s.name for s in _symbols(value)}:
                raise ValueError(f"Rule: params[{key!r}] uses the symbol h, which is the step size; "
                                 "choose another name")
        _check_cycle(self.cycle)
        algebra_named(self.algebra)
        _check_small(self.small, self.params)
        if self.small and self.n_aux:
            raise ValueError("Rule: a small parameter (small=…) is expanded for rules without auxiliary "
                             "state only (n_aux = 0)")


def _symbols(value) -> set:
    if isinstance(value, (tuple, list)):
        return set().union(*(_symbols(v) for v in value)) if value else set()
    return value.free_symbols if isinstance(value, sympy.Basic) else set()


def _check_small(small, params) -> None:
    """``small`` is ``{name: M}``: at most one parameter of ``params`` whose value is a
    sympy symbol (the joint expansion needs it symbolic), with a whole order ``M ≥ 0``."""
    if not isinstance(small, Mapping) or len(small) > 1:
        raise ValueError(f"Rule: small must be {{name: order}} for at most one parameter, got {small!r}")
    for name, order in small.items():
        if not isinstance(params.get(name), sympy.Symbol):
            raise ValueError(f"Rule: small parameter {name!r} must be a sympy symbol in params "
                             f"(e.g. params={{{name!r}: sympy.Symbol({name!r})}})")
        if isinstance(order, bool) or not isinstance(order, int) or order < 0:
            raise ValueError(f"Rule: the order in the small parameter {name!r} must be a whole number ≥ 0, "
                             f"got {order!r}")


def _check_cycle(cycle) -> None:
    """``cycle`` is a positive number of updates, or a symbol not known to be ``≤ 0``."""
    if isinstance(cycle, bool) or not isinstance(cycle, (int, sympy.Basic)):
        raise TypeError(f"Rule: cycle must be a whole number ≥ 1 or a sympy symbol, got {cycle!r}")
    value = sympy.sympify(cycle)
    if value.is_positive is False or (value.is_number and not value.is_positive):
        raise ValueError(f"Rule: cycle must be positive (the number of updates one call stands for), "
                         f"got {cycle!r}")


@dataclass
class Derivation:
    """A derived modified flow: ``flow[k] = {tree: coeff}`` for ``f_k``, ``k = 1..order``.

    For a coordinate-wise rule ``flow[k]`` is one canonical expression
    (:mod:`bea.coordinatewise.expressions`), ``field`` is ``None``, and ``velocity`` holds
    each slaved state variable as its h-coefficients ``[S_0, …, S_order]``.

    ``splits[k] = {block: GradientSplit}`` (modified loss and remainder of ``f_k``) is
    computed on first use, and is ``None`` unless every atom is a gradient.
    ``velocity``: the slaved auxiliary state ``V(θ)`` per aux variable, if any.
    ``kind``: ``"flow"`` for a modified flow, ``"modifying"`` for the modifying fields
    ``f̃_c`` of :func:`bea.modifying.modifying_field` (``flow[k]`` then holds the order-k
    corrections, each tree belonging to the atom at its root).
    """

    rule: Rule
    order: int
    field: object
    flow: list
    velocity: list | None = None
    kind: str = "flow"

    @property
    def algebra(self) -> Algebra:
        """The algebra the derivation's series live in (:mod:`bea.registry`)."""
        return algebra_of(self.rule)

    @functools.cached_property
    def splits(self) -> list | None:
        return self.algebra.splits(self)

    @property
    def atoms(self) -> tuple[Atom, ...]:
        return self.rule.atoms

    @property
    def has_loss(self) -> bool:
        """Whether every order of every block is a gradient (a modified loss exists)."""
        return self.splits is not None and all(
            not s.remainder for split in self.splits[1:] for s in split.values()
        )

    def coefficient(self, t) -> sympy.Expr:
        """The coefficient of term ``t`` as a sympy expression (for B-series: a tree, or
        its notation)."""
        return self.algebra.coefficient(self, t)
