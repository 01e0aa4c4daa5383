"""What the one pipeline needs from an algebra of series, stated once.

bea derives every modified flow by the same steps (:func:`bea.derive`): trace the rule
into the series of one cycle ``Φ(θ) - θ`` (slaving auxiliary state first), take the
logarithm of that series (:func:`bea.logarithm.logarithm`), divide by the cycle. What a
*series* is depends on the rule:

* ``"trees"`` (:mod:`bea.bseries`): B-series over labelled rooted trees, for affine rules
  (gd, sgd, games, Runge–Kutta, momentum, affine user rules);
* ``"coordinatewise"`` (:mod:`bea.coordinatewise`): expressions with elementwise
  products, roots and norms (Adam, RMSProp, normalized steps, user rules with ``sqrt``).

An :class:`Algebra` is one such kind of series: the steps the pipeline asks of it, the
size of its work (:mod:`bea.estimate`), the capabilities it has (an operation it lacks is
refused in one line before any work, :meth:`Algebra.refuse_unless`), and its *parts* in
the outer layers — the walk into printable sections (:mod:`bea.render`), the JAX code
generator (:mod:`bea.codegen`) and the numeric checks (:mod:`bea.check`) — named by
module so that the core never imports those layers (they import jax and numpy; the core
starts without them). The registry of algebras is :mod:`bea.registry`; the contract every
registered algebra meets is ``tests/test_algebra_contract.py``.
"""

from __future__ import annotations

import abc
import importlib
from dataclasses import dataclass
from types import ModuleType
from typing import Callable, ClassVar, Mapping

from .atoms import RuleError

__all__ = ["Algebra", "CAPABILITIES", "PARTS", "Flow", "Traced", "Unsupported", "WorkModel"]

CAPABILITIES: dict[str, str] = {
    "loss": "the modified loss (the split of each order into -∇ of a loss and a remainder)",
    "modifying": "modifying fields (--modifying)",
    "modifying-target": "modifying fields toward a chosen target flow",
    "principal": "the principal flow (--principal)",
    "equivalent": "the equivalent one-step map (--equivalent gd)",
    "blocks": "parameter blocks (players of a game)",
    "shuffle": "averaging over orderings of the atoms (random reshuffling)",
    "check-modifying": "numeric checks of modifying fields (bea check --modifying)",
    "schedule": "learning-rate schedules (--schedule, bea.schedule)",
}
"""Operations an algebra may or may not have; each algebra declares the ones it has."""

PARTS: dict[str, tuple[str, ...]] = {
    "render": ("derivation_sections",),
    "codegen": ("emit_module",),
    "check": ("check", "drift", "default_learning_rate"),
}
"""The outer layers' parts of an algebra and the functions each part module defines:

* ``render.derivation_sections(derivation) -> list`` — the sections every printer prints;
* ``codegen.emit_module(derivation, values) -> str`` — a standalone JAX module;
* ``check.check(rule, order, problem, values, hs, coefficients, progress, notes)``,
  ``check.drift(derivation, problem, h, iterations, values, progress, notes, principal)``,
  ``check.default_learning_rate(derivation, problem, values, fraction)``; with the
  ``"check-modifying"`` capability also ``check.check_modifying(...)``.
"""


class Unsupported(RuleError):
    """An operation the rule's algebra does not have (one line: what, for which rule)."""


@dataclass(frozen=True)
class Traced:
    """One cycle of a rule in an algebra: ``increment`` is ``Φ(θ) - θ`` in the algebra's
    series, ``state`` the slaved auxiliary state (``None`` without state), ``series`` the
    operations :func:`bea.logarithm.logarithm` needs on it, ``field`` the coefficient
    field the series is over (``None`` when the algebra keeps no separate field)."""

    increment: object
    state: list | None
    series: object
    field: object | None


@dataclass(frozen=True)
class Flow:
    """A derived series, per update: ``terms[k]`` is order ``k`` (``terms[0]`` empty),
    over ``field``; ``state`` the slaved auxiliary state in the same field."""

    terms: list
    field: object | None
    state: list | None


@dataclass(frozen=True)
class WorkModel:
    """The size of an algebra's work, for :mod:`bea.estimate`: ``base(order, atoms,
    modifying)`` work units (``unit``), the multiplier ``field(order, symbols, digits,
    modifying)`` of every coefficient operation for ``symbols`` free symbols and numbers
    of ``digits`` digits (square roots cost the same in every algebra), and
    ``passes(order, modifying)`` with ``why_passes(order, modifying)`` naming the extra
    passes for the reader."""

    unit: str
    base: Callable[[int, int, bool], int]
    field: Callable[[int, int, int, bool], int]
    passes: Callable[[int, bool], int]
    why_passes: Callable[[int, bool], tuple[str, ...]]


class Algebra(abc.ABC):
    """One kind of series the pipeline runs on (the module docstring lists them)."""

    name: ClassVar[str]
    """The name a :class:`bea.Rule` gives in ``algebra=``."""
    capabilities: ClassVar[frozenset[str]]
    """The keys of :data:`CAPABILITIES` this algebra has."""
    parts: ClassVar[Mapping[str, str]]
    """Layer (a key of :data:`PARTS`) → the module implementing it for this algebra."""
    work: ClassVar[WorkModel]
    title: ClassVar[str]
    """The algebra for a reader ("B-series", "coordinate-wise")."""
    numbers_first: ClassVar[bool] = False
    """Whether ``bea drift`` derives with the run's numbers substituted for the symbols
    (much faster where symbols cost a lot, as in the coordinate-wise ring)."""
    refusals: ClassVar[Mapping[str, str]] = {}
    """Capability it lacks → why, for the refusal (``{rule}`` is replaced by the rule's name)."""

    @abc.abstractmethod
    def trace(self, rule, order: int) -> Traced:
        """The series of one cycle of ``rule`` to ``order`` (auxiliary state slaved)."""

    @abc.abstractmethod
    def per_update(self, rule, z: list, traced: Traced) -> Flow:
        """The logarithm ``z`` of one cycle (orders ``0..N``) as the flow per update."""

    @abc.abstractmethod
    def modifying(self, rule, order: int, target, progress) -> Flow:
        """The modifying fields of ``rule`` to ``order`` (:mod:`bea.modifying`)."""

    @abc.abstractmethod
    def splits(self, derivation) -> list | None:
        """Per order, the split into ``-∇`` of a loss and a remainder; ``None`` without one."""

    @abc.abstractmethod
    def coefficient(self, derivation, term):
        """The coefficient of ``term`` (the algebra's name for one term) as sympy."""

    @abc.abstractmethod
    def free_symbols(self, derivation) -> set[str]:
        """The names of the symbols the derivation's terms depend on."""

    def accepts(self, rule) -> bool:
        """Whether this algebra traces ``rule`` to order 1 (how a plain function's algebra
        is found, :func:`bea.rule_from_function`)."""
        try:
            self.trace(rule, 1)
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException:  # the user's code, or this algebra's tracer, refused it
            return False
        return True

    def refuse_unless(self, capability: str, rule, error: type[RuleError] = None) -> None:
        """Raise ``error`` (default :class:`Unsupported`) unless this algebra has ``capability``."""
        if capability in self.capabilities:
            return
        reason = self.refusals.get(capability)
        if reason is None:
            reason = (f"{CAPABILITIES[capability]} is not available for {{rule}}, a {self.title} rule")
        raise (error or Unsupported)(reason.format(rule=rule.name))

    def part(self, layer: str) -> ModuleType:
        """The module of this algebra's ``layer`` (imported on first use)."""
        return importlib.import_module(self.parts[layer])
