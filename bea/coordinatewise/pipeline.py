"""Tracing a coordinate-wise :class:`bea.Rule` into the h-series of its update map.

``Φ(θ) - θ = Σ_{n≥1} h^n a_n`` with ``a_n`` elements of :mod:`bea.coordinatewise.ring`
(the slaved state leaves as canonical sympy expressions); auxiliary state is
slaved first (:func:`bea.coordinatewise.slaving.slaved_state`). :func:`bea.derive` takes
the logarithm of this series with :class:`bea.coordinatewise.calculus.CoordinateSeries`.
A scheduled rule (its step a :class:`~bea.coordinatewise.clock.Clocked`) is called with
``h·η`` for ``h``, its state slaved on ``(θ, t)``, and its series are pairs
``(θ part, t part)`` (:mod:`bea.coordinatewise.clock`).
"""

from __future__ import annotations

from ..domain import exact_number
from ..atoms import RuleError
from .boundary import to_canonical
from .clock import Clocked
from .ring import ZERO
from .slaving import slaved_state
from .tracing import Traced, Tracer

__all__ = ["trace_map"]


def trace_map(rule, order: int, corrections=None) -> tuple[list, list | None]:
    """``[0, a_1, …, a_N]`` of one cycle (ring elements: the logarithm runs on them), and
    the slaved state ``[[S_0, …, S_N], …]`` (canonical sympy expressions, as a
    :class:`~bea.derive.Derivation` holds them); ``corrections`` (label → ``[c_2, …]``,
    elements) runs the rule on modified atoms."""
    if tuple(rule.blocks) != (None,):
        raise RuleError("coordinate-wise rules act on one parameter vector; blocks (players) "
                        "are not supported")
    if rule.shuffle:
        raise RuleError("averaging over orderings is not supported for coordinate-wise rules")
    params = {k: _param(v) for k, v in rule.params.items()}
    clock = rule.step.clock if isinstance(rule.step, Clocked) else None
    tracer = Tracer(order, params.values(), clock)
    h = tracer.h if clock is None else tracer.h * Traced(tracer, [clock.eta()] + [0] * order)
    atoms = tracer.atoms(rule.atoms, corrections)
    if rule.n_aux:
        step = lambda th, *s: rule.step(th, *s, h, *atoms, **params)  # noqa: E731
        state = slaved_state(step, tracer, rule.n_aux)
        result = step(tracer.parameters(), *[Traced(tracer, s) for s in state])[0]
        velocity = [[to_canonical(c) for c in s] for s in state]
        return _clocked(tracer.increment(result, "the parameter update"), clock), velocity
    return _clocked(tracer.increment(rule.step(tracer.parameters(), h, *atoms, **params)), clock), None


def _clocked(increment: list, clock) -> list:
    """The increment, with a clock its pairs ``(θ part, t part)``: ``t`` advances ``cycle·h``."""
    if clock is None:
        return increment
    return [(a, ZERO() if n != 1 else ZERO() + clock.cycle) for n, a in enumerate(increment)]


def _param(value):
    if isinstance(value, (tuple, list)):
        return type(value)(_param(v) for v in value)
    return exact_number(value)
