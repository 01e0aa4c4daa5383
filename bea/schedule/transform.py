"""A rule with the step ``h·η(t)``: the rule on ``(θ, t)`` that the B-series engine traces.

Update ``n`` of a scheduled rule takes the step ``h·η(t_n)`` with ``t_n = n·h``. Adding
the time ``t`` as a parameter block makes the rule autonomous: each atom ``f_c`` becomes
``g_c(θ, t) = η(t) f_c(θ)`` (same label, same loss and block) and a clock atom
``u(θ, t) = 1`` lives on the block ``t`` (label :data:`CLOCK`). :func:`scheduled` returns
that rule; :mod:`bea.schedule.derive` traces it and reads the trees back as ``f``-trees
times derivatives of ``η``.

Where the time of an update is read is a property of the rule, so there are two clocks:

* ``"field"`` — the rule integrates the augmented field ``F_c = (g_c, u)``: every atom call
  sees its own time, so an SGD epoch's update ``k`` is taken at ``t + (k-1)h``, a
  Runge–Kutta stage at ``t + c_k h`` and an implicit step at its end point. It needs a rule
  on one block without auxiliary state (the default for those);
* ``"step"`` — ``η(t_n)`` for the whole call of the step, and ``t`` advances ``cycle·h``
  per call (the default for rules with state or several blocks: heavy ball and Nesterov,
  whose velocity takes ``η(t)·h f`` while ``t`` advances by ``h``, not by the velocity —
  running momentum on the augmented field would move ``t`` by ``h/(1-β)`` per update —
  and games, one round per update).
"""

from __future__ import annotations

import dataclasses

import sympy

from ..atoms import Atom, RuleError
from ..registry import algebra_of
from ..rule import Rule

__all__ = ["CLOCK", "CLOCKS", "TIME_BLOCK", "scheduled", "default_clock"]

CLOCK = "\0clock"
"""The label of the clock atom ``u = 1`` on the time block (``t' = 1``)."""

TIME_BLOCK = "\0t"
"""The name of the time block of a scheduled rule."""

CLOCKS = ("field", "step")


def default_clock(rule: Rule) -> str:
    """``"field"`` for a rule on one block without auxiliary state, else ``"step"``."""
    return "field" if rule.n_aux == 0 and rule.blocks == (None,) else "step"


def scheduled(rule: Rule, clock: str | None = None) -> Rule:
    """The rule on ``(θ, t)`` with atoms ``g_c = η(t) f_c`` and the clock ``u = 1``.

    ``clock`` is ``"field"`` or ``"step"`` (module docstring; ``None``: :func:`default_clock`).
    The result is an ordinary two-block :class:`~bea.Rule` (blocks ``rule.blocks + (t,)``),
    never averaged over orderings itself: a random reshuffling permutes the ``g_c`` and
    not the clock, which :func:`bea.schedule.derive_scheduled` does.
    """
    if not isinstance(rule, Rule):
        raise TypeError(f"scheduled() takes a bea.Rule, got {type(rule).__name__}")
    algebra_of(rule).refuse_unless("schedule", rule)
    clock = default_clock(rule) if clock is None else clock
    if clock not in CLOCKS:
        raise ValueError(f"clock must be one of {', '.join(CLOCKS)}, got {clock!r}")
    if any(a.label == CLOCK for a in rule.atoms) or TIME_BLOCK in rule.blocks:
        raise RuleError(f"rule {rule.name!r} already uses bea's clock label")
    cycle = sympy.sympify(rule.cycle)
    if not cycle.is_Integer:
        raise RuleError(f"rule {rule.name!r}: a schedule needs a numeric cycle (an epoch's updates see "
                        f"different η(t), so its coefficients depend on the position in the epoch); "
                        f"give the number of updates (sgd: --batches M)")
    if clock == "field" and (rule.n_aux or rule.blocks != (None,)):
        raise RuleError(f"rule {rule.name!r}: clock 'field' needs a rule on one block without "
                        "auxiliary state; use clock 'step'")
    step = _field_clocked(rule) if clock == "field" else _step_clocked(rule, int(cycle))
    atoms = rule.atoms + (Atom(CLOCK, None, TIME_BLOCK),)
    return dataclasses.replace(rule, step=step, atoms=atoms, blocks=rule.blocks + (TIME_BLOCK,),
                               shuffle=False, family=None)


def _field_clocked(rule: Rule):
    """The step on ``(θ, t)`` that runs ``rule.step`` on the augmented fields ``(g_c, u)``."""

    def step(params, h, *atoms, **values):
        theta, t = params
        *fields, clock = atoms
        augmented = [_Augmented(g, clock) for g in fields]
        return rule.step(theta + t, h, *augmented, **values)

    return step


class _Augmented:
    """``F_c(z) = g_c(z) + u(z)``: the atom with the clock, on the joint point ``(θ, t)``."""

    def __init__(self, field, clock):
        self.field, self.clock = field, clock

    def __call__(self, *parts):
        return self.field(*parts) + self.clock(*parts)


def _step_clocked(rule: Rule, cycle: int):
    """The step on ``(θ…, t)`` that runs ``rule.step`` with ``η`` frozen at the call's time
    ``t`` and advances ``t`` by ``cycle·h``; the result is the joint point (one vector)."""
    n_aux = rule.n_aux
    one_block = rule.blocks == (None,)

    def step(params, *rest, **values):
        *blocks, t = params
        aux, h, atoms = rest[:n_aux], rest[n_aux], rest[n_aux + 1:]
        *fields, clock = atoms
        frozen = [_Frozen(g, t) for g in fields]
        out = rule.step(blocks[0] if one_block else tuple(blocks), *aux, h, *frozen, **values)
        new, new_aux = (out[0], tuple(out[1:])) if n_aux else (out, ())
        joint = new if one_block else _sum(new, len(blocks), rule.name)
        joint = joint + t + cycle * h * clock(*blocks, t)
        return (joint, *new_aux) if n_aux else joint

    return step


class _Frozen:
    """``g_c`` evaluated at the call's time ``t`` (the point's blocks given by the rule)."""

    def __init__(self, field, t):
        self.field, self.t = field, t

    def __call__(self, *parts):
        return self.field(*parts, self.t)


def _sum(blocks, expected: int, name: str):
    if not isinstance(blocks, (tuple, list)) or len(blocks) != expected:
        raise RuleError(f"rule {name!r}: the step must return one value per parameter block ({expected})")
    total = blocks[0]
    for b in blocks[1:]:
        total = total + b
    return total
