"""Time as a scalar coordinate of a coordinate-wise rule: the step ``h·η(t)``, ``t = n·h``.

A scheduled rule is not autonomous in ``θ``: update ``n`` takes the step ``h·η(t_n)``.
With the time ``t`` as a coordinate the augmented map is autonomous,

    (θ, s, t) ↦ (θ + A(θ, s; hη(t)), s'(θ, s; hη(t)), t + c·h)

(``s`` the auxiliary state, ``c`` the rule's cycle, clock ``"step"``: ``η`` is read at the
call's time ``t`` and holds for the whole call). At a fixed ``t`` the values ``η, η', η'',
…`` are scalar parameters of the ring (:meth:`Clock.eta`); the coordinate ``t`` enters
through the derivation ``∂_t η^{(j)} = η^{(j+1)}`` (:meth:`Clock.derivative`; atoms, ``θ``
and the rule's parameters do not depend on ``t``), so every shift and Lie derivative of
the pipeline gains its ``t`` part:

* the slaved state is a manifold ``s = S(θ, t)`` of the augmented map,
  ``S(θ', t + c h) = s'(θ, S(θ, t))``; the shift ``S(θ + δ, t + ch)`` is
  ``Σ_k (ch)^k/k! ∂_t^k S`` taken at ``θ + δ`` (:meth:`Clock.shift`, then the ``θ`` shift);
* the logarithm runs on pairs ``(θ part, t part)`` (:class:`ClockedSeries`):
  ``L_Z P = D_{Z_θ} P + Z_t ∂_t P``. The ``t`` part of the cycle's map is ``c h`` exactly,
  so the field's ``t`` part must come out ``t' = 1`` per update, which is asserted
  (:meth:`ClockedSeries.theta_part`).

:class:`Clocked` marks a rule's step as scheduled; the tracer passes ``h·η`` for ``h``.
The names of ``η^{(j)}`` are the caller's (:mod:`bea.schedule.symbols`).
"""

from __future__ import annotations

import math
from typing import Callable

import flint
import sympy

from ..atoms import RuleError
from .boundary import to_canonical
from .ring import RING, ZERO, Elem
from .ring_calculus import derivative as ring_derivative, partial

__all__ = ["Clock", "Clocked", "ClockedSeries"]


class Clock:
    """The symbols ``η^{(j)}`` (``symbol(j)``, created as they are needed) and the time a
    call of the rule advances, ``cycle·h``."""

    def __init__(self, symbol: Callable[[int], sympy.Symbol], cycle: int):
        self.symbol = symbol
        self.cycle = cycle
        self._gens: list[int] = []
        self._memo: dict = {}

    def gen(self, j: int) -> int:
        """The ring generator of ``η^{(j)}``."""
        while len(self._gens) <= j:
            self._gens.append(RING.param(self.symbol(len(self._gens))).gens()[0])
        return self._gens[j]

    def eta(self, j: int = 0) -> Elem:
        return RING.var(self.gen(j))

    def derivative(self, e: Elem) -> Elem:
        """``∂_t e = Σ_j ∂e/∂η^{(j)} · η^{(j+1)}`` (:func:`partial` follows roots and
        functions; an atom, total or map whose argument held ``η`` is refused: ``η`` enters
        with ``h``, never at the ``h^0`` points and monomials those are built on)."""
        gens = e.gens()
        for i in gens:
            if RING.gens[i].kind in ("atom", "total", "map") and self._holds(i):
                raise RuleError("η(t) entered an atom's argument, a norm or a map's point at leading "
                                "order (does the rule divide by h?): the scheduled rule cannot be expanded")
        out = ZERO()
        for j, g in enumerate(list(self._gens)):
            if g in gens:
                out = out + partial(e, g) * self.eta(j + 1)
        return out

    def _holds(self, i: int) -> bool:
        """Whether generator ``i``'s arguments (points, roots' bases, …) hold an ``η^{(j)}``."""
        found = self._memo.get(i)
        if found is None:
            g = RING.gens[i]
            if g.kind == "root":
                args = [g.root[1]]
            elif g.kind == "map":
                args = [*RING.args[i], RING.points[i]]
            elif g.kind in ("atom", "total", "exp", "log", "tanh", "pow"):
                args = [a for a in RING.args.get(i, ()) if isinstance(a, Elem)]
            else:
                args = []
            etas = set(self._gens)
            found = any(j in etas or self._holds(j) for a in args for j in a.gens())
            self._memo[i] = found
        return found

    def shift(self, series: list, n: int) -> list:
        """``S(t + cycle·h)`` for ``S = Σ_i h^i S_i`` (elements), truncated at ``h^n``."""
        out = list(series[:n + 1]) + [ZERO()] * (n + 1 - len(series[:n + 1]))
        for i, c in enumerate(series[:n + 1]):
            term = c
            for k in range(1, n - i + 1):
                term = self.derivative(term)
                if term.is_zero():
                    break
                out[i + k] = out[i + k] + term * flint.fmpq(self.cycle ** k, math.factorial(k))
        return out


class Clocked:
    """A rule's step with the step size ``h·η(t)`` (clock ``"step"``): traced, the rule is
    called with ``h·η`` for ``h``; called on numbers, it is the rule itself (pass
    ``h·η(t_n)`` as the step)."""

    def __init__(self, step: Callable, clock: Clock):
        self.step, self.clock = step, clock

    def __call__(self, *args, **kwargs):
        return self.step(*args, **kwargs)


class ClockedSeries:
    """The logarithm's operations on pairs ``(θ part, t part)`` of ring elements
    (:func:`bea.logarithm.logarithm`; the module docstring has the Lie derivative)."""

    def __init__(self, clock: Clock):
        self.clock = clock

    def by_order(self, terms, max_order: int) -> list:
        return [terms[n] if n < len(terms) else self.zero() for n in range(max_order + 1)]

    def zero(self):
        return (ZERO(), ZERO())

    def nonzero(self, x) -> bool:
        return not (x[0].is_zero() and x[1].is_zero())

    def add_into(self, acc, x, factor=None):
        if factor is None:
            return (acc[0] + x[0], acc[1] + x[1])
        return (acc[0] + x[0] * factor, acc[1] + x[1] * factor)

    def lie(self, p, z, max_order: int):
        out = []
        for part in p:
            value = ring_derivative(part, z[0])
            if not z[1].is_zero():
                value = value + z[1] * self.clock.derivative(part)
            out.append(value)
        return tuple(out)

    def number(self, q):
        return flint.fmpq(q.numerator, q.denominator)

    def theta_part(self, z: list, rule_name: str) -> list:
        """The ``θ`` parts of the field of one cycle, after checking its ``t`` part is
        ``cycle·h`` (``t' = 1`` per update) and nothing else."""
        for k, (_, time) in enumerate(z[1:], start=1):
            expected = self.clock.cycle if k == 1 else 0
            if not (time - expected).is_zero():
                raise RuleError(f"rule {rule_name!r}: its clock does not advance t by h per update "
                                f"(order {k} of t' is {to_canonical(time)})")
        return [zk[0] for zk in z]
