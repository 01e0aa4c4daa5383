"""Named schedules ``η(t)``: optax's formulas with the step count replaced by the time ``t``.

Update ``n`` takes the step ``h·η(t_n)``, ``t_n = n·h``. A named schedule is optax's
formula (same name and parameter names where optax has one) read as a function of the
time ``t``: ``warmup_steps = T`` is a warmup over ``T`` time units, i.e. ``T/h`` updates,
and the values are multipliers of ``h``. Each schedule is a list of smooth pieces; at the
boundaries between them (the end of a warmup, the start of a decay: :meth:`Schedule.kinks`)
``η`` or a derivative jumps, and the modified flow holds on each smooth piece.

Parameter values are exact numbers or plain names (then symbols); nothing is evaluated.
:meth:`Schedule.jax` gives the JAX callable ``t ↦ η(t)`` the numeric checks differentiate
by ``jax.jvp``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

import sympy

from ..domain import exact_number

__all__ = ["Schedule", "SCHEDULES", "schedule_named", "T"]

T = sympy.Symbol("t", nonnegative=True)
"""The time ``t = n·h``."""

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class Schedule:
    """A named schedule: ``pieces(p)`` lists ``(start, η on [start, next start))`` for the
    parameter values ``p`` (a dict of sympy numbers or symbols)."""

    name: str
    optax: str | None
    params: tuple[str, ...]
    defaults: dict
    pieces_of: Callable[[dict], list]
    summary: str

    def values(self, given: dict | None = None) -> dict:
        """The parameter values: ``given`` (numbers, exact text, or names) over the defaults;
        a parameter with neither is the symbol of its name."""
        given = dict(given or {})
        unknown = sorted(set(given) - set(self.params))
        if unknown:
            raise ValueError(f"schedule {self.name} has no parameter {unknown[0]!r}; "
                             f"its parameters: {', '.join(self.params)}")
        out = {}
        for p in self.params:
            value = given.get(p, self.defaults.get(p))
            out[p] = sympy.Symbol(p, positive=True) if value is None else _value(p, value)
        return out

    def pieces(self, given: dict | None = None) -> list:
        return self.pieces_of(self.values(given))

    def kinks(self, given: dict | None = None) -> list:
        """The times where one smooth piece ends and the next begins."""
        return [start for start, _ in self.pieces(given)[1:]]

    def expression(self, given: dict | None = None, derivative: int = 0) -> sympy.Expr:
        """``η^{(derivative)}(t)`` as a sympy ``Piecewise`` in :data:`T` (one smooth piece:
        the expression itself)."""
        pieces = [(start, sympy.diff(expr, T, derivative)) for start, expr in self.pieces(given)]
        if len(pieces) == 1:
            return pieces[0][1]
        ends = [start for start, _ in pieces[1:]]
        return sympy.Piecewise(*[(expr, T < end) for (_, expr), end in zip(pieces, ends)],
                               (pieces[-1][1], True))

    def jax(self, given: dict | None = None) -> Callable:
        """``t ↦ η(t)`` in JAX (numbers only), piece by piece (``jax.jvp`` differentiates it)."""
        import jax.numpy as jnp

        pieces = self.pieces(given)
        free = set().union(*(sympy.sympify(e).free_symbols | sympy.sympify(s).free_symbols
                             for s, e in pieces)) - {T}
        if free:
            raise ValueError(f"schedule {self.name}: give numbers for {', '.join(sorted(map(str, free)))}")
        fns = [sympy.lambdify(T, e, modules="jax") for _, e in pieces]
        starts = [float(s) for s, _ in pieces[1:]]

        def eta(t):
            t = jnp.asarray(t)
            value = fns[-1](t) + 0 * t
            for start, fn in zip(reversed(starts), reversed(fns[:-1])):
                value = jnp.where(t < start, fn(t) + 0 * t, value)
            return value

        return eta


def _value(name: str, value):
    if isinstance(value, str) and _NAME.match(value.strip()):
        if value.strip() in ("t", "h"):
            raise ValueError(f"schedule parameter {name}: {value.strip()!r} is the time or the step size; "
                             "choose another name")
        return sympy.Symbol(value.strip(), positive=True)
    try:
        return exact_number(value)
    except ValueError as exc:
        raise ValueError(f"schedule parameter {name}: {exc}") from None


def _linear(a, b, start, length):
    return a + (b - a) * (T - start) / length


def _cosine(init, decay_steps, alpha, exponent, start=0):
    decayed = ((1 + sympy.cos(sympy.pi * (T - start) / decay_steps)) / 2) ** exponent
    return init * ((1 - alpha) * decayed + alpha)


def _warmup_cosine(p):
    w, d = p["warmup_steps"], p["decay_steps"]
    alpha = p["end_value"] / p["peak_value"]
    return [(0, _linear(p["init_value"], p["peak_value"], 0, w)),
            (w, _cosine(p["peak_value"], d - w, alpha, p["exponent"], w)),
            (d, p["end_value"])]


def _wsd(p):
    w, s, d = p["warmup_steps"], p["stable_steps"], p["decay_steps"]
    return [(0, _linear(p["init_value"], p["peak_value"], 0, w)), (w, p["peak_value"]),
            (w + s, _linear(p["peak_value"], p["end_value"], w + s, d)), (w + s + d, p["end_value"])]


def _inverse_sqrt(p):
    w = p["warmup_steps"]
    return [(0, p["peak_value"] * T / w), (w, p["peak_value"] * sympy.sqrt(w / T))]


SCHEDULES: dict[str, Schedule] = {s.name: s for s in [
    Schedule("constant", "constant_schedule", ("value",), {"value": 1}, lambda p: [(0, p["value"])],
             "η = value"),
    Schedule("linear-warmup", "linear_schedule", ("init_value", "end_value", "transition_steps", "transition_begin"),
             {"init_value": 0, "end_value": 1, "transition_begin": 0},
             lambda p: ([(0, p["init_value"])] if p["transition_begin"] != 0 else [])
             + [(p["transition_begin"], _linear(p["init_value"], p["end_value"], p["transition_begin"],
                                                p["transition_steps"])),
                (p["transition_begin"] + p["transition_steps"], p["end_value"])],
             "linear from init_value to end_value over transition_steps, then constant"),
    Schedule("cosine", "cosine_decay_schedule", ("init_value", "decay_steps", "alpha", "exponent"),
             {"init_value": 1, "alpha": 0, "exponent": 1},
             lambda p: [(0, _cosine(p["init_value"], p["decay_steps"], p["alpha"], p["exponent"])),
                        (p["decay_steps"], p["init_value"] * p["alpha"])],
             "cosine decay from init_value to alpha·init_value over decay_steps"),
    Schedule("warmup-cosine", "warmup_cosine_decay_schedule",
             ("init_value", "peak_value", "warmup_steps", "decay_steps", "end_value", "exponent"),
             {"init_value": 0, "peak_value": 1, "end_value": 0, "exponent": 1}, _warmup_cosine,
             "linear warmup to peak_value, cosine decay to end_value at decay_steps (warmup included)"),
    Schedule("exponential", "exponential_decay", ("init_value", "transition_steps", "decay_rate"),
             {"init_value": 1}, lambda p: [(0, p["init_value"] * p["decay_rate"] ** (T / p["transition_steps"]))],
             "init_value·decay_rate^(t/transition_steps) (not staircase)"),
    Schedule("inverse-sqrt", None, ("peak_value", "warmup_steps"), {"peak_value": 1}, _inverse_sqrt,
             "linear warmup to peak_value, then peak_value·sqrt(warmup_steps/t)"),
    Schedule("wsd", None, ("init_value", "peak_value", "warmup_steps", "stable_steps", "decay_steps", "end_value"),
             {"init_value": 0, "peak_value": 1, "end_value": 0}, _wsd,
             "warmup–stable–decay: linear warmup, constant peak_value, linear decay to end_value"),
]}
"""The named schedules (``generic`` is the symbolic ``η(t)`` itself, not listed here)."""


def schedule_named(name: str) -> Schedule:
    found = SCHEDULES.get(name)
    if found is None:
        raise ValueError(f"unknown schedule {name!r}; choose generic or one of {', '.join(SCHEDULES)}")
    return found
