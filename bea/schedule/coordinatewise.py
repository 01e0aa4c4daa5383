"""Schedules for rules of an algebra without parameter blocks (the coordinate-wise one:
Adam, AdamW, RMSProp, normalized GD, Muon, user rules with ``sqrt``/``norm``).

The B-series engine adds the time as a parameter block (:func:`bea.schedule.scheduled`);
an algebra without blocks carries it as a scalar coordinate of its own tracer
(:mod:`bea.coordinatewise.clock`): update ``n`` of the rule is called with the step
``h·η(t_n)`` (clock ``"step"``: ``η`` read once per call, ``t`` advancing ``cycle·h``),
``η, η', …`` at the current ``t`` are scalar parameters, and the slaved state and the
logarithm take their shifts in ``t`` through ``∂_t η^{(j)} = η^{(j+1)}``. The flow is
``θ' = f_1(θ, t) + h f_2(θ, t) + …`` with coefficients in the rule's parameters and
``η, η', …`` (names of :mod:`bea.schedule.symbols`); the slaved state ``S(θ, t)`` stays on
the derivation (``velocity``), as for the rule without a schedule.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Callable

import sympy

from ..atoms import RuleError
from ..coordinatewise.clock import Clock, Clocked
from ..domain import exact_number, flatten
from ..estimate import MAX_TERMS, check_work
from ..logarithm import logarithm
from ..registry import algebra_of
from ..rule import Derivation, Rule
from .symbols import LEGEND, eta_name

__all__ = ["clocked", "derive_clocked"]


def clocked(rule: Rule) -> Rule:
    """``rule`` with the step ``h·η(t)`` (its step a :class:`~bea.coordinatewise.clock.Clocked`)."""
    cycle = sympy.sympify(rule.cycle)
    if not cycle.is_Integer:
        raise RuleError(f"rule {rule.name!r}: a schedule needs a numeric cycle, got {rule.cycle}")
    used = {str(s) for v in flatten(rule.params.values()) for s in exact_number(v).free_symbols}
    clash = sorted(n for n in used if re.fullmatch(r"eta(prime)*", n))
    if clash:
        raise RuleError(f"rule {rule.name!r}: the parameter name(s) {clash} are the schedule's symbols")
    clock = Clock(lambda j: sympy.Symbol(eta_name(j)), int(cycle))
    return dataclasses.replace(rule, step=Clocked(rule.step, clock))


def derive_clocked(rule: Rule, order: int, clock: str | None = None,
                   progress: Callable[[int], None] | None = None, max_terms: int | None = MAX_TERMS,
                   schedule: str = "generic") -> Derivation:
    """The modified flow of ``rule`` with the step ``h·η(t)``, as
    :func:`bea.schedule.derive_scheduled` states it (``clock``: ``None`` or ``"step"``)."""
    algebra = algebra_of(rule)
    algebra.refuse_unless("schedule", rule)
    if clock not in (None, "step"):
        raise RuleError(f"rule {rule.name!r}: a {algebra.title} rule reads η(t) once per update "
                        f"(clock 'step'); clock {clock!r} is for rules traced as B-series")
    if max_terms is not None:
        check_work(rule, order, max_terms)
    timed = clocked(rule)
    traced = algebra.trace(timed, order)
    z = logarithm(traced.increment, order, traced.series, progress)
    flow = algebra.per_update(timed, z, traced)
    shown = dataclasses.replace(rule, options={**rule.options, "schedule": schedule},
                                description=f"{rule.description or rule.name}, step h·η(t)\n{LEGEND}")
    return Derivation(shown, order, flow.field, flow.terms, flow.state)
