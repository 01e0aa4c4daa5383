"""The scheduled check as ``bea check --schedule`` runs it: numbers for a named schedule,
the times along it, the step sizes, and the expected slopes.

:func:`bea.check.schedule.local_errors` measures the one-cycle errors of the truncations
``n = 1 … N`` of a scheduled flow from ``(θ_0, t_0)``; this module chooses what it measures:

* **numbers** (:func:`numeric_schedule`): the parameters given, over optax's defaults; a
  missing span (``warmup_steps``, ``decay_steps``, …) is :data:`SPANS` times a unit of time
  and announced; any other missing parameter is refused;
* **times** (:func:`check_times`): the midpoint of each bounded smooth piece (a quarter and
  three quarters into the longest) and one unit past the last kink (where ``η`` does not
  vanish there: a zero step has no error to fit);
* **step sizes**: seven, geometric over a factor 64, the same at every time (the flows
  compile once): the largest ``0.1/(λ·η_max)`` (``λ`` the largest Jacobian norm of the
  loss gradients at ``θ_0``, ``η_max`` over the times) and small enough that a cycle from
  each time stays on its smooth piece; the slope is fitted over the four smallest whose
  error is measurable (:data:`FITTED`);
* **expected slopes**: the error of truncation ``n`` is ``O(h^k)`` for the first ``k > n``
  whose ``f_k`` does not vanish identically (``n + 1`` as a rule), read off a derivation
  one order further.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Mapping

import jax
import numpy as np
import sympy
from jax.flatten_util import ravel_pytree

from ..schedule import derive_scheduled
from ..schedule.named import SCHEDULES, Schedule
from .common import CheckError, float64
from .orders import SLOPE_TOLERANCE
from .problems import Problem
from .scales import field_stiffness
from .schedule import local_errors
from .values import numeric_rule

__all__ = ["SPANS", "numeric_schedule", "check_times", "planned_times", "ScheduleCheck", "check_schedule"]

SPANS = {"warmup_steps": 1, "decay_steps": 4, "transition_steps": 4, "stable_steps": 1}
"""Default spans in units of time (``bea check``: the unit 1; ``bea drift``: a quarter of
the run): a warmup of 1, a decay (warmup–cosine: ending) at 4."""

RATE = 0.1
"""The largest ``h·η·λ`` of the check's step sizes (seven, down to a 64th of it)."""

FITTED, FLOOR = 4, 1e-13
"""The slope is fitted over the four smallest ``h`` whose error is above ``1e-13`` (the
flows are solved at ``rtol = 1e-14``): the asymptotic regime where the error is measurable."""


def numeric_schedule(name: str, given: Mapping, unit: float = 1.0, notes: list | None = None) -> tuple:
    """``(schedule, values)``: the named schedule and numbers for all its parameters
    (module docstring); :class:`CheckError` for a parameter without a number, a span that
    is not positive, kinks out of order or a number beyond the floating-point range."""
    schedule: Schedule = SCHEDULES[name]
    values = schedule.values(given)
    filled = {}
    for key, value in values.items():
        if getattr(value, "is_Symbol", False):
            if key not in SPANS or key in given:
                raise CheckError(f"schedule {name}: give a number for {key} (--schedule-set {key}=VALUE)")
            filled[key] = sympy.nsimplify(SPANS[key] * unit) if unit == 1 else sympy.Float(SPANS[key] * unit)
    if filled and notes is not None:
        notes.append(f"schedule {name}: " + ", ".join(f"{k}={float(v):.4g}" for k, v in filled.items())
                     + " (time units; set with --schedule-set)")
    values = schedule.values({**given, **filled})
    for key, value in values.items():
        if not math.isfinite(float(value)):
            raise CheckError(f"schedule {name}: {key} is beyond the floating-point range (|x| < 1.8e308)")
        if key in SPANS and not float(value) > 0:
            raise CheckError(f"schedule {name}: {key} must be positive, got {value}")
    kinks = [float(k) for k in schedule.kinks(values)]
    if any(b <= a for a, b in zip(kinks, kinks[1:])) or any(k < 0 for k in kinks):
        raise CheckError(f"schedule {name}: its pieces end out of order (kinks at "
                         f"{', '.join(f'{k:g}' for k in kinks)}); check the spans")
    return schedule, values


def check_times(schedule: Schedule, values: Mapping, eta: Callable, unit: float = 1.0) -> list[float]:
    """The midpoint of each bounded smooth piece but the longest, a quarter and three
    quarters into the longest, and ``unit`` past the start of the last piece where ``η``
    does not vanish there (or where there is no other time)."""
    starts = [float(s) for s, _ in schedule.pieces(values)]
    bounded = list(zip(starts, starts[1:]))
    longest = max(bounded, key=lambda p: p[1] - p[0], default=None)
    times = []
    for a, b in bounded:
        times += [a + (b - a) / 4, a + 3 * (b - a) / 4] if (a, b) == longest else [(a + b) / 2]
    last = starts[-1] + unit
    if float(eta(last)) != 0.0 or not times:
        times.append(last)
    return times


def planned_times(name: str, given: Mapping) -> list[float]:
    """The times :func:`check_schedule` measures at (for a progress bar: one unit each)."""
    schedule, values = numeric_schedule(name, given)
    with float64():
        return check_times(schedule, values, schedule.jax(values))


def _fit(hs, errors) -> float:
    """The log–log slope over the :data:`FITTED` smallest ``h`` whose error is above
    :data:`FLOOR` (NaN with fewer than three)."""
    used = np.flatnonzero(errors > FLOOR)[:FITTED]
    if len(used) < 3:
        return float("nan")
    return float(np.polyfit(np.log(hs[used]), np.log(errors[used]), 1)[0])


def _stiffness(problem: Problem) -> float:
    """The largest Jacobian norm of the loss gradients ``∇L_c`` at the problem's parameters."""
    base, unravel = ravel_pytree(problem.params)
    grads = [lambda x, L=L: jax.grad(lambda y: L(unravel(y)))(x) for L in problem.losses.values()]
    return field_stiffness(base.astype(float), grads)


@dataclass
class ScheduleCheck:
    """Errors and slopes at each time: ``results`` (:class:`bea.check.schedule.ScheduledErrors`);
    ``expected[i]`` the slope of ``orders[i]`` (``None``: at least ``minimum[i]``)."""

    schedule: str
    values: dict
    orders: tuple
    expected: list
    minimum: list
    results: list
    tolerance: float = SLOPE_TOLERANCE
    kinks: list = field(default_factory=list)

    def agrees(self, slope: float, i: int) -> bool:
        if not np.isfinite(slope):
            return False
        if self.expected[i] is None:
            return slope >= self.minimum[i] - self.tolerance
        return abs(slope - self.expected[i]) <= self.tolerance

    @property
    def ok(self) -> bool:
        return all(self.agrees(s, i) for r in self.results for i, s in enumerate(r.slopes))


def check_schedule(rule, order: int, name: str, given: Mapping, problem: Problem,
                   values: Mapping | None = None, progress: Callable | None = None,
                   notes: list | None = None, drop_derivatives: bool = False) -> ScheduleCheck:
    """The scheduled flow of ``rule`` checked at :func:`check_times` of the schedule ``name``
    with parameters ``given`` (module docstring). ``values``: numbers for the rule's
    symbols; ``progress(1, stage)`` after each time; ``drop_derivatives``: the negative
    control of :func:`bea.check.schedule.local_errors`."""
    schedule, sched_values = numeric_schedule(name, given, 1.0, notes)
    rule = numeric_rule(rule, values, notes)  # the rule's symbols as numbers: a faster derivation
    with float64():
        eta = schedule.jax(sched_values)
        times = check_times(schedule, sched_values, eta)
        d = derive_scheduled(rule, order + 1)
        present = [False] + [bool(d.flow[k]) and (not isinstance(d.flow[k], dict) or any(d.flow[k].values()))
                             for k in range(1, order + 2)]
        peak = max(max(abs(float(eta(t))) for t in times), 1e-12)
        kinks = [float(k) for k in schedule.kinks(sched_values)]
        gap = min(k - t0 for t0 in times for k in [*kinks, math.inf] if k > t0)
        top = min(RATE / (_stiffness(problem) * peak), gap / (2 * float(rule.cycle)))
        results = local_errors(rule, order + 1, eta, times, problem, np.geomspace(top / 64, top, 7), values,
                               None, drop_derivatives, range(1, order + 1), progress)
    for x in results:
        x.slopes = [_fit(x.hs, np.asarray(e)) for e in x.errors]
    expected = []
    for n in range(1, order + 1):
        following = [k for k in range(n + 1, order + 2) if present[k]]
        expected.append(following[0] if following else None)
    minimum = [e or order + 2 for e in expected]
    return ScheduleCheck(name, {k: str(v) for k, v in sched_values.items()}, tuple(range(1, order + 1)),
                         expected, minimum, results, kinks=kinks)
