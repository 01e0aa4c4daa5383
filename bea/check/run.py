"""The checks of any rule: each call goes to the ``check`` part of the rule's algebra.

``bea.check.check``, ``drift``, ``default_learning_rate`` and ``check_modifying`` are
these functions; the B-series part is :mod:`.bseries`, the coordinate-wise one
:mod:`.coordinatewise` (:data:`bea.algebra.PARTS` lists what a part defines). An
operation the algebra lacks is refused in one line before any work (:class:`CheckError`).
A rule with a second small parameter (:mod:`bea.joint`) is checked by :mod:`.joint`, by its
slopes in ``h`` and in that parameter, whatever its algebra.
"""

from __future__ import annotations

from typing import Callable, Mapping

from ..joint import small_parameter
from ..registry import algebra_of
from . import joint
from .common import CheckError
from .problems import Problem
from .scales import DEFAULT_LR_FRACTION

__all__ = ["check", "check_modifying", "default_learning_rate", "drift"]


def check(rule, order: int, problem: Problem, values: Mapping | None = None, hs=None,
          coefficients: Callable[[list], list] | None = None, progress=None,
          notes: list | None = None):
    """Derive ``rule`` far enough to know the expected slopes of orders ``1 … order`` and
    measure them; returns ``(derivation, LocalErrors)``. ``coefficients`` (testing hook)
    maps the flow's coefficients (or expressions) to the ones used, e.g. to change one and
    see the check fail. Defaults used for symbols are reported in ``notes``. A rule with a
    small parameter returns ``(derivation, JointCheck)`` (:func:`bea.check.joint.check`)."""
    if small_parameter(rule) is not None:
        return joint.check(rule, order, problem, values=values, hs=hs, coefficients=coefficients,
                           progress=progress, notes=notes)
    return algebra_of(rule).part("check").check(
        rule, order, problem, values=values, hs=hs, coefficients=coefficients, progress=progress, notes=notes)


def check_modifying(rule, order: int, problem: Problem, values: Mapping | None = None, hs=None,
                    progress: Callable[[int], None] | None = None, notes: list | None = None,
                    window: int = 5):
    """The modifying field of ``rule`` and the observed orders of its truncations
    ``1 … order``; returns ``(derivation, LocalErrors)``."""
    _refuse_joint(rule, "the modifying field's check")
    algebra = algebra_of(rule)
    algebra.refuse_unless("check-modifying", rule, CheckError)
    return algebra.part("check").check_modifying(
        rule, order, problem, values=values, hs=hs, progress=progress, notes=notes, window=window)


def drift(derivation, problem: Problem, h: float, iterations: int, values: Mapping | None = None,
          progress: Callable[[int], None] | None = None, notes: list | None = None, principal=None):
    """Iterates vs gradient flow vs the modified flows of orders ``2 … derivation.order``
    (a :class:`.drifting.DriftResult`); also vs the principal flow ``principal`` when given."""
    _refuse_joint(derivation.rule, "the drift over many steps")
    part = derivation.algebra.part("check")
    if principal is None:
        return part.drift(derivation, problem, h, iterations, values=values, progress=progress, notes=notes)
    derivation.algebra.refuse_unless("principal", derivation.rule, CheckError)
    return part.drift(derivation, problem, h, iterations, values=values, progress=progress, notes=notes,
                      principal=principal)


def default_learning_rate(derivation, problem: Problem, values: Mapping | None = None,
                          fraction: float = DEFAULT_LR_FRACTION) -> float:
    """The learning rate ``bea drift`` uses when none is given: ``fraction`` over the
    problem's stiffness as the derivation's algebra measures it."""
    return derivation.algebra.part("check").default_learning_rate(derivation, problem, values, fraction)


def _refuse_joint(rule, what: str) -> None:
    """A joint expansion in ``h`` and a small parameter has its own check (:mod:`.joint`);
    the other checks read a flow in ``h`` alone: refused in one line."""
    found = small_parameter(rule)
    if found is not None:
        raise CheckError(f"{what} is not available for {rule.name}, a joint expansion in h and {found[0]} "
                         f"(bea check measures its slopes in both)")
