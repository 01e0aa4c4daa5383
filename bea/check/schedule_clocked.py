"""Local errors of scheduled flows whose time is a coordinate of the algebra's own tracer
(:mod:`bea.schedule.coordinatewise`: Adam, RMSProp, normalized GD, …), in float64.

The same defining property as :func:`bea.check.schedule.local_errors`: from ``(θ_0, t_0)``
one call of the rule with the step ``h·η(t_0)``, its auxiliary state started on the slaved
manifold ``S(θ_0, t_0) = Σ_i h^i S_i`` (evaluated at ``η^{(j)}(t_0)``), against the flow of
the truncation ``θ' = Σ_{k≤n} h^{k-1} f_k(θ, t)`` from ``t_0`` over the cycle (diffrax,
Dopri8), the ``η^{(j)}(t)`` of the integrator's stage times by nested ``jax.jvp``
(``derivatives``). ``drop_derivatives`` sets ``η' = η'' = … = 0`` in the flow (and
in the state: the constant-step analysis at the current ``η``), the negative control.
The expressions are evaluated by :func:`bea.coordinatewise.evaluate.evaluate`.
"""

from __future__ import annotations

from typing import Callable, Mapping, Sequence

import diffrax
import jax
import jax.numpy as jnp
import numpy as np
import sympy

from ..coordinatewise.evaluate import evaluate, state_function
from ..schedule import derive_scheduled, eta_symbols
from .common import float64, norm, sub
from .problems import Problem
from .setup import _flat
from .values import numeric_parameters

__all__ = ["clocked_local_errors"]


def clocked_local_errors(rule, order: int, derivatives: Callable, times: Sequence[float], problem: Problem,
                         hs: Sequence[float], values: Mapping | None = None, clock: str | None = None,
                         drop_derivatives: bool = False, orders: Sequence[int] | None = None,
                         progress: Callable | None = None) -> list[tuple]:
    """``[(t_0, orders, hs, errors[i][j] of truncation orders[i] at hs[j])]`` for each
    ``t_0``; ``derivatives(t)`` is ``[η(t), η'(t), …, η^{(order-1)}(t)]``; ``values``
    numbers for the rule's symbols (its parameters are substituted by number);
    ``progress(1, stage)`` after each time."""
    d = derive_scheduled(rule, order, clock)
    names = [s.name for s in eta_symbols(order + 1)]
    values = {str(k): float(v) for k, v in (values or {}).items()}
    params = numeric_parameters(dict(rule.params), values)
    exprs = list(d.flow[1:])
    state = [list(v) for v in d.velocity or []]
    if drop_derivatives:
        zero = {sympy.Symbol(n): 0 for n in names[1:]}
        exprs = [sympy.sympify(e).xreplace(zero) for e in exprs]
        state = [[sympy.sympify(e).xreplace(zero) for e in v] for v in state]

    class _State:  # what state_function reads of a derivation
        velocity = state

    def etas(t):
        found = derivatives(t)
        return {**values, **dict(zip(names, found)), **{n: 0.0 for n in names[len(found):]}}

    with float64():
        theta0, fields, _ = _flat(problem, rule.atoms, tuple(rule.blocks))
        f = [fields[a.label] for a in rule.atoms]

        def vector_field(s, delta, args):
            w, t0 = args
            fs = evaluate(exprs, fields, theta0 + delta, etas(t0 + s))
            return sum(w[i] * fk for i, fk in enumerate(fs))

        term = diffrax.ODETerm(vector_field)

        @jax.jit
        def flow(w, t0, t1):
            sol = diffrax.diffeqsolve(term, diffrax.Dopri8(), 0.0, t1, t1 / 16, jnp.zeros_like(theta0),
                                      args=(w, t0), stepsize_controller=diffrax.PIDController(rtol=1e-14, atol=1e-16),
                                      max_steps=4096)
            return theta0 + sol.ys[-1]

        @jax.jit
        def discrete(h, t0):
            at = etas(t0)
            aux = state_function(_State, fields, h, at)(theta0) if rule.n_aux else ()
            out = rule.step(theta0, *aux, h * at[names[0]], *f, **params)
            return out[0] if rule.n_aux else out

        cycle = float(sympy.sympify(rule.cycle))
        orders = tuple(orders or range(1, order + 1))
        results = []
        for t0 in map(float, times):
            errors = [[] for _ in orders]
            for h in map(float, hs):
                theta = discrete(h, t0)
                for i, n in enumerate(orders):
                    w = jnp.asarray([h ** (k - 1) if k <= n else 0.0 for k in range(1, order + 1)])
                    errors[i].append(norm(sub(theta, flow(w, t0, cycle * h))))
            results.append((t0, orders, np.asarray(hs, float), errors))
            if progress:
                progress(1, f"t0 = {t0:g}")
        return results
