"""Numeric checks of scheduled flows (:mod:`bea.schedule`): the one-cycle local error and
the error over a whole schedule, in float64.

A scheduled derivation's ``f_k(θ, t) = Σ c_k(η(t), η'(t), …) F(tree)(θ)`` is evaluated
with the elementary differentials of :func:`bea.bseries.evaluate.elementary_differentials`
and the schedule's derivatives ``η^{(j)}(t)`` by nested ``jax.jvp`` of its JAX callable.

* :func:`local_errors` — from ``(θ_0, t_0)``, one call of the scheduled rule (update ``n``
  with step ``h·η(t_0 + n h)``; a random reshuffling averaged over every ordering; the
  velocity started on its slaved manifold ``V(θ_0, t_0)``) against the flow of the
  truncation ``θ' = Σ_{k≤n} h^{k-1} f_k(θ, t)`` integrated with diffrax from ``t_0`` over
  the cycle. The error is ``O(h^{n+1})``; the fitted log–log slope must be ``n + 1``.
  ``drop_derivatives`` sets ``η' = η'' = … = 0`` in the flow (the constant-step flow at the
  current ``η``): the negative control, whose slopes fall to 2.
* :func:`quadratic_schedule_error` — gd on ``L = λθ²/2`` over a whole schedule: the
  iterates are the product ``Π_k (1 - hη(t_k)λ)``, the order-``N`` flow is linear,
  ``θ' = a(t)θ``, so ``θ(T) = exp(∫a)``, integrated piece by piece (Gauss–Legendre): the
  relative error shrinks as ``h^N`` when the kinks lie on the grid of update times.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import diffrax
import jax
import jax.numpy as jnp
import numpy as np
import sympy

from ..bseries.evaluate import elementary_differentials
from ..bseries.trees import Tree
from ..schedule import default_clock, derive_scheduled, eta_symbols, scheduled_state
from ..schedule.derive import time_is_a_block
from .common import float64, norm, sub
from .problems import Problem
from .schedule_clocked import clocked_local_errors
from .setup import prepare

__all__ = ["ScheduledErrors", "eta_derivatives", "local_errors", "quadratic_schedule_error"]


def eta_derivatives(eta: Callable, t, count: int):
    """``[η(t), η'(t), …, η^{(count-1)}(t)]`` by nested ``jax.jvp``."""
    out, fn = [], eta
    for _ in range(count):
        out.append(fn(t))
        fn = (lambda g: lambda s: jax.jvp(g, (s,), (jnp.ones_like(s),))[1])(fn)
    return out


def _coefficient_functions(terms: dict, field, values: Mapping, symbols, drop: bool):
    """``[(tree, c(η, η', …))]`` as JAX functions of the list of η-derivatives."""
    fixed = {sympy.Symbol(k): v for k, v in values.items()}
    out = []
    for t, c in terms.items():
        expr = field.to_sympy(c).xreplace(fixed)
        if drop:
            expr = expr.xreplace({s: 0 for s in symbols[1:]})
        if expr != 0:
            out.append((t, sympy.lambdify([symbols], expr, modules="jax")))
    return out


@dataclass
class ScheduledErrors:
    """``errors[i][j]``: error of truncation ``orders[i]`` at ``hs[j]``; fitted ``slopes``."""

    t0: float
    orders: tuple
    hs: np.ndarray
    errors: list
    slopes: list


def local_errors(rule, order: int, eta: Callable, times: Sequence[float], problem: Problem,
                 hs: Sequence[float], values: Mapping | None = None, clock: str | None = None,
                 drop_derivatives: bool = False, orders: Sequence[int] | None = None,
                 progress: Callable | None = None) -> list[ScheduledErrors]:
    """One-cycle errors of the truncations ``n = 1 … order`` of the scheduled flow of
    ``rule`` from ``(θ_0, t_0)``, for each ``t_0`` in ``times`` (module docstring; the flows
    are compiled once for all of them). ``values``: numbers for the rule's symbolic
    parameters. ``hs``: the step sizes (small enough that a cycle stays on one smooth piece
    of the schedule). ``orders``: the truncations measured (default ``1 … order``).
    ``progress(1, stage)`` after each time. A rule whose algebra carries the time itself
    (Adam, RMSProp, …) is measured by :func:`bea.check.schedule_clocked.clocked_local_errors`."""
    if not time_is_a_block(rule):
        measured = clocked_local_errors(rule, order, lambda t: eta_derivatives(eta, t, order), times, problem,
                                        hs, values, clock, drop_derivatives, orders, progress)
        return [ScheduledErrors(t0, o, grid, e, [float(np.polyfit(np.log(grid), np.log(np.asarray(x)), 1)[0])
                                                 for x in e]) for t0, o, grid, e in measured]
    clock = default_clock(rule) if clock is None else clock
    d = derive_scheduled(rule, order, clock)
    symbols = eta_symbols(order)
    values = {str(k): float(v) for k, v in (values or {}).items()}
    with float64():
        setup = prepare(d, problem, {**values, **{s.name: 1.0 for s in symbols}})
        params = {k: v for k, v in setup.params.items()}
        fields = setup.fields
        coeffs = [_coefficient_functions(d.flow[k], d.field, values, symbols, drop_derivatives)
                  for k in range(order + 1)]
        state = None
        if rule.n_aux:
            by_order, state_field = scheduled_state(rule, order, clock)
            state = [[_coefficient_functions(v[n], state_field, values, symbols, False)
                      for n in range(order + 1)] for v in by_order]
        theta0 = setup.theta0
        orders = tuple(orders or range(1, order + 1))
        solvers = [_flow_solver(coeffs, n, fields, eta, order, theta0) for n in orders]
        grid = np.asarray(hs, float)
        results = []
        for t0 in map(float, times):
            errors = [[] for _ in orders]
            for h in map(float, grid):
                discrete = _discrete(rule, clock, fields, params, eta, theta0, t0, h, state, order)
                for i, solve in enumerate(solvers):
                    errors[i].append(norm(sub(discrete, solve(h, t0, float(setup.cycle) * h))))
            slopes = [float(np.polyfit(np.log(grid), np.log(np.asarray(e)), 1)[0]) for e in errors]
            results.append(ScheduledErrors(t0, orders, grid, errors, slopes))
            if progress:
                progress(1, f"t0 = {t0:g}")
        return results


def _field_value(coeffs_k, etas, tree_values, scale):
    total = None
    for t, c in coeffs_k:
        term = _scaled(c(etas) * scale, tree_values[t])
        total = term if total is None else _plus(total, term)
    return total


def _plus(a, b):
    """``a + b`` on points: arrays, or tuples of blocks (games)."""
    return jax.tree_util.tree_map(jnp.add, a, b)


def _scaled(c, v):
    return jax.tree_util.tree_map(lambda x: c * x, v)


def _flow_solver(coeffs, n, fields, eta, order, theta0):
    """``(h, t_0, t_1) ↦ θ(t_1)`` of ``θ' = Σ_{k≤n} h^{k-1} f_k(θ, t)`` from ``(θ_0, t_0)``
    (diffrax, Dopri8), compiled once for every ``h`` and ``t_0``."""
    trees = sorted({t for k in range(1, n + 1) for t, _ in coeffs[k]})

    def vector_field(s, delta, args):
        h, t0 = args
        etas = eta_derivatives(eta, t0 + s, order)
        values = elementary_differentials(trees, fields, _plus(theta0, delta))
        total = jax.tree_util.tree_map(jnp.zeros_like, theta0)
        for k in range(1, n + 1):
            part = _field_value(coeffs[k], etas, values, h ** (k - 1))
            if part is not None:
                total = _plus(total, part)
        return total

    term = diffrax.ODETerm(vector_field)

    @jax.jit
    def solve(h, t0, t1):
        sol = diffrax.diffeqsolve(term, diffrax.Dopri8(), 0.0, t1, t1 / 16,
                                  jax.tree_util.tree_map(jnp.zeros_like, theta0), args=(h, t0),
                                  stepsize_controller=diffrax.PIDController(rtol=1e-14, atol=1e-16),
                                  max_steps=4096)
        return jax.tree_util.tree_map(lambda x, y: x + y[-1], theta0, sol.ys)

    return solve


def _discrete(rule, clock, fields, params, eta, theta0, t0, h, state, order):
    """``θ`` after one call of the scheduled rule from ``(θ_0, t_0)`` (mean over orderings
    when shuffled; velocity on its slaved manifold)."""
    atoms = [fields[a.label] for a in rule.atoms]
    if clock == "field":
        dim = theta0.shape[0]

        def augmented(f):
            return lambda z: jnp.concatenate([eta(z[dim]) * f(z[:dim]), jnp.ones((1,), z.dtype)])

        z0 = jnp.concatenate([theta0, jnp.asarray([t0])])
        orderings = itertools.permutations(atoms) if rule.shuffle else [atoms]
        outs = [rule.step(z0, h, *[augmented(f) for f in perm], **params)[:dim] for perm in orderings]
        return sum(outs) / len(outs)
    value = eta(jnp.asarray(t0))
    if rule.blocks == (None,):
        frozen = [lambda *p, f=f: value * f(*p) for f in atoms]
    else:  # a game's atom f(x, y) is its own block of the field on the tuple of blocks
        frozen = [lambda *p, f=f, i=rule.blocks.index(a.block): value * f(tuple(p))[i]
                  for f, a in zip(atoms, rule.atoms)]
    aux = ()
    if rule.n_aux:
        etas = eta_derivatives(eta, jnp.asarray(t0), order)
        trees = sorted({t for v in state for part in v for t, _ in part})
        tree_values = elementary_differentials(trees, fields, theta0)
        aux = tuple(sum((_field_value(v[n], etas, tree_values, h ** n) for n in range(1, order + 1)
                         if v[n]), jnp.zeros_like(theta0)) for v in state)
    out = rule.step(theta0, *aux, h, *frozen, **params)
    return out[0] if rule.n_aux else out


def quadratic_schedule_error(order: int, eta: Callable, kinks: Sequence[float], total: float, h: float,
                             lam: float = 1.0, nodes: int = 24) -> float:
    """Relative error ``|θ_flow(T) - θ_K| / |θ_K|`` of gd's order-``order`` scheduled flow on
    ``L = λθ²/2`` over ``K = T/h`` updates (``T`` and the kinks multiples of ``h``)."""
    from ..schemes import gd

    d = derive_scheduled(gd.build(order), order)
    symbols = eta_symbols(order)
    steps = int(round(total / h))
    with float64():
        ts = jnp.arange(steps) * h
        product = float(jnp.prod(1.0 - h * lam * jax.vmap(eta)(ts)))
        # the field is linear: a tree F(t)(θ) is (-λ)^{|t|} θ for a chain, 0 otherwise
        rate_terms = []
        for k in range(1, order + 1):
            for t, c in d.flow[k].items():
                if _chain(t):
                    rate_terms.append((k, t.order, sympy.lambdify([symbols], d.field.to_sympy(c), modules="jax")))

        def rate(s):
            etas = eta_derivatives(eta, s, order)
            return sum(c(etas) * h ** (k - 1) * (-lam) ** size for k, size, c in rate_terms)

        x, w = np.polynomial.legendre.leggauss(nodes)
        edges = [0.0] + [float(k) for k in kinks if 0 < k < total] + [float(total)]
        integral = 0.0
        for a, b in zip(edges[:-1], edges[1:]):
            s = jnp.asarray((b - a) / 2 * x + (a + b) / 2)
            integral += float(jnp.sum(jnp.asarray(w) * jax.vmap(rate)(s))) * (b - a) / 2
        return abs(np.exp(integral) - product) / abs(product)


def _chain(t: Tree) -> bool:
    return len(t.children) == 0 or (len(t.children) == 1 and _chain(t.children[0]))
