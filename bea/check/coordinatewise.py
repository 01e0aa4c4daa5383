"""Observed orders of coordinate-wise derivations (Adam, RMSProp, normalized GD, user rules):
the coordinate-wise algebra's ``check`` part (:mod:`bea.algebra`).

The same defining property as :mod:`bea.check.orders`: one call of the rule from
``(θ_0, S(θ_0))`` — the auxiliary state on its slaved manifold, ``S = Σ_i h^i S_i``
(:func:`bea.coordinatewise.evaluate.state_function`) — against the exact flow over ``h``
of the truncation ``θ' = f_1 + h f_2 + … + h^{n-1} f_n``; the error is
``O(h^{n+1})``. The flow is solved with diffrax's Dopri8 in float64 (as
:mod:`bea.check.flows`) over the shifted coordinates ``u = θ - θ_0``; the fit and its
filters are :func:`bea.check.orders.measure`'s. An opaque map (Muon's ``O``) sees the
parameters in their matrix shape (:func:`bea.coordinatewise.maps.matrix_shape`).
"""

from __future__ import annotations

from typing import Mapping

import diffrax
import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from ..coordinatewise import canonical
from ..coordinatewise.evaluate import evaluate, state_function
from ..coordinatewise.maps import matrix_shape
from ..derive import derive
from .common import ITERATION_LIMIT, MEMORY_LIMIT, CheckError, float64, human_bytes, norm, sub
from .drifting import _compare, drift_bytes, iterate
from .orders import measure
from .problems import Problem
from .scales import DEFAULT_LR_FRACTION, stiffness, sweep
from .setup import _flat
from .values import numeric_parameters, numeric_rule, resolve_values

__all__ = ["check", "drift", "default_learning_rate"]

STEPS_PER_ITERATION = 64
"""The most solver steps a drift's flow may take per iteration of the rule. A smooth flow
needs one to a few Dopri8 steps per ``h`` at ``rtol = 1e-11``; a flow that needs more is
stiff at this ``h`` (Adam with a tiny ``ε`` where a gradient coordinate nearly vanishes),
and its columns are reported as not integrated instead of the run never ending."""


class _Solver:
    """Exact flows of ``Σ_k w_k f_k`` (``w_k = h^{k-1}`` for ``k ≤ n``, else 0)."""

    def __init__(self, exprs, fields, values, name):
        self.name = name

        def vector_field(t, delta, args):
            w, theta0 = args
            fs = evaluate(exprs, fields, theta0 + delta, values)
            return sum(w[i] * f for i, f in enumerate(fs))

        term = diffrax.ODETerm(vector_field)

        def solve(theta0, w, t1, rtol):
            sol = diffrax.diffeqsolve(term, diffrax.Dopri8(), 0.0, t1, t1 / 16, jnp.zeros_like(theta0),
                                      args=(w, theta0), saveat=diffrax.SaveAt(t1=True),
                                      stepsize_controller=diffrax.PIDController(rtol=rtol, atol=rtol * 1e-2),
                                      max_steps=4096, throw=False)
            return sol.ys[-1], sol.result == diffrax.RESULTS.successful

        def trajectory(theta0, w, ts, rtol):
            sol = diffrax.diffeqsolve(term, diffrax.Dopri8(), 0.0, ts[-1], ts[1] / 4, jnp.zeros_like(theta0),
                                      args=(w, theta0), saveat=diffrax.SaveAt(ts=ts),
                                      stepsize_controller=diffrax.PIDController(rtol=rtol, atol=rtol * 1e-2),
                                      max_steps=STEPS_PER_ITERATION * (ts.shape[0] - 1), throw=False)
            return sol.ys, sol.result == diffrax.RESULTS.successful

        self._final = jax.jit(solve)
        self._trajectory = jax.jit(trajectory)
        self.top = len(exprs)

    def final(self, theta0, w, t1, rtol):
        ys, ok = self._final(theta0, w, t1, rtol)
        if not bool(ok):
            raise CheckError(f"problem {self.name}: the modified flow could not be integrated; "
                             "try a smaller h range, a lower --order, or another problem")
        return ys

    def trajectory(self, theta0, w, ts, rtol):
        """``(θ(t) - θ_0 at the times ts, whether the solve succeeded)``; NaN when it failed."""
        ys, ok = self._trajectory(theta0, w, ts, rtol)
        return (ys if bool(ok) else jnp.full_like(ys, jnp.nan)), bool(ok)

    def weights(self, n: int, h: float):
        return jnp.asarray([h ** (k - 1) if k <= n else 0.0 for k in range(1, self.top + 1)])


def check(rule, order: int, problem: Problem, values: Mapping | None = None, hs=None,
          coefficients=None, progress=None, notes: list | None = None):
    """Derive ``rule`` to order ``order + 1`` and measure the slopes of orders ``1 … order``;
    returns ``(derivation, LocalErrors)`` like :func:`bea.check.orders.check`.

    ``coefficients`` (testing hook, as :func:`bea.check.orders.check`'s) maps the flow's
    expressions ``[f_1, …, f_{order+1}]`` to the ones integrated, e.g. to change one and
    see the check fail; the expected slopes stay those of the derivation."""
    rule = numeric_rule(rule, values, notes)
    derivation = derive(rule, order + 1)
    values = resolve_values(derivation, values, notes)
    params = numeric_parameters(dict(rule.params), values)
    with float64(), matrix_shape(_matrix_shape(problem)):
        theta0, fields, _ = _flat(problem, rule.atoms, tuple(rule.blocks))
        exprs = list(derivation.flow[1:])
        if coefficients is not None:
            exprs = list(coefficients(exprs))
        solver = _Solver(exprs, fields, values, problem.name)
        if hs is None:
            lam = float(jnp.max(jnp.abs(evaluate([exprs[0]], fields, theta0, values)[0])))
            # λ = max |f_1| (not a stiffness): a decade below the B-series grid, where the
            # order-3 errors of AdamW on the logistic problem are asymptotic (slope 4.03;
            # from hλ = 0.004 up, the next orders still bend the curve: slope 4.42)
            grid = sweep(max(lam, 1e-12), low=0.0004, points=21)
        else:
            grid = np.asarray(hs, float)
        call, start = _start(rule, derivation, fields, values, params, theta0)

        @jax.jit
        def increment(h):  # one compilation for every h of the grid
            return sub(call(*start(h), h)[0], theta0)

        increments = [increment(jnp.float64(h)) for h in grid]
        finite = [k for k, d in enumerate(increments) if np.isfinite(float(jnp.linalg.norm(ravel_pytree(d)[0])))]
        if len(finite) < (5 if hs is None else len(grid)):
            raise CheckError(
                f"problem {problem.name}: the rule started on its truncated slaved state is not finite "
                f"over the h range [{grid[0]:.3g}, {grid[-1]:.3g}] (e.g. a square root of a negative second "
                "moment where a gradient coordinate nearly vanishes at these parameters); try a larger "
                "--eps, a lower --order, or another problem")
        # the automatic grid keeps the step sizes where the state is finite (the small ones)
        grid, increments = grid[finite], [increments[k] for k in finite]
        present = [False] + [canonical(e) != 0 for e in derivation.flow[1:]]

        class _Setup:
            cycle = 1.0

        _Setup.theta0 = theta0
        errors = measure(_Setup, grid, tuple(range(1, order + 1)), present, derivation.order,
                         lambda n, k: increments[k], solver.weights, solver, 5, hs is None, progress)
    return derivation, errors


def _matrix_shape(problem: Problem):
    """The shape an opaque map (:mod:`bea.coordinatewise.maps`) sees: the parameters' when
    they are one matrix, else None (the map gets the flat vector)."""
    params = problem.params
    return tuple(params.shape) if getattr(params, "ndim", None) == 2 else None


def _start(rule, derivation, fields, values, params, theta0):
    """The jitted call ``(θ, state, h) ↦ (θ', state')`` of the rule and the slaved start
    ``h ↦ (θ_0, S(θ_0))``."""
    f = fields[rule.atoms[0].label]

    @jax.jit
    def call(theta, aux, h):
        out = rule.step(theta, *aux, h, f, **params)
        return (out[0], tuple(out[1:])) if rule.n_aux else (out, ())

    def start(h):
        aux = tuple(state_function(derivation, fields, h, values)(theta0)) if rule.n_aux else ()
        return theta0, aux

    return call, start


def default_learning_rate(derivation, problem: Problem, values: Mapping | None = None,
                          fraction: float = DEFAULT_LR_FRACTION) -> float:
    """``h = fraction / Λ`` with ``Λ = max(‖Df_1(θ_0)‖, max_k (‖f_k(θ_0)‖_∞ / ‖f_1(θ_0)‖_∞)^{1/(k-1)})``
    over the derivation's orders ``k ≥ 2``: the B-series rule of
    :func:`bea.check.scales.series_rate`, read off the fields' sizes at ``θ_0`` since a
    coordinate-wise coefficient is an expression, not a number per tree. At that ``h`` each
    ``h^{k-1} f_k`` is at most ``fraction^{k-1}`` times ``f_1`` in every coordinate's scale
    where the rule starts. The largest coordinate, not the 2-norm, because the expansion's
    radius is set by the worst coordinate: with optax's Adam (``ε = 10⁻⁸``) on the MLP,
    ``f_2`` is large only where a gradient coordinate nearly vanishes; the leading rate
    alone chose ``h = 1.7·10⁻⁷`` (the order-2 flow 2.4× farther from the iterates than
    the gradient flow), the 2-norm growth ``4·10⁻⁸`` (1.7× farther), this rule
    ``2.9·10⁻⁹`` (8.5× closer)."""

    values = resolve_values(derivation, values, None)
    with float64(), matrix_shape(_matrix_shape(problem)):
        theta0, fields, _ = _flat(problem, derivation.rule.atoms, tuple(derivation.rule.blocks))
        leading = jax.jit(lambda th: evaluate([derivation.flow[1]], fields, th, values)[0])

        class _Leading:
            pass

        _Leading.theta0, _Leading.fields = theta0, {"f_1": leading}
        sizes = [float(jnp.max(jnp.abs(f))) for f in evaluate(list(derivation.flow[1:]), fields, theta0, values)]
        growth = max([(s / sizes[0]) ** (1.0 / k) for k, s in enumerate(sizes[1:], start=1)
                      if sizes[0] > 0 and np.isfinite(s)], default=0.0)
        return fraction / max(stiffness(_Leading), growth)


def drift(derivation, problem: Problem, h: float, iterations: int,
          values: Mapping | None = None, progress=None, notes: list | None = None):
    """Iterates vs the leading flow vs the modified flows of orders ``2 … derivation.order``
    (a :class:`bea.check.drifting.DriftResult`, without modified losses)."""

    if iterations < 1:
        raise CheckError(f"iterations must be at least 1, got {iterations}")
    if iterations > ITERATION_LIMIT:
        raise CheckError(f"--iterations {iterations} is over the limit of {ITERATION_LIMIT} iterations")
    rule = derivation.rule
    values = resolve_values(derivation, values, notes)
    params = numeric_parameters(dict(rule.params), values)
    with float64(), matrix_shape(_matrix_shape(problem)):
        theta0, fields, _ = _flat(problem, rule.atoms, tuple(rule.blocks))
        n_params = int(theta0.size)
        need = drift_bytes(n_params, iterations, derivation.order)
        if need > MEMORY_LIMIT:
            raise CheckError(f"{iterations} iterations on {n_params} parameters need about "
                             f"{human_bytes(need)} (limit {human_bytes(MEMORY_LIMIT)}); use fewer "
                             "--iterations or a smaller --size")
        solver = _Solver(list(derivation.flow[1:]), fields, values, problem.name)
        call, start = _start(rule, derivation, fields, values, params, theta0)
        scale = 1.0 + norm(problem.params)
        iterates, diverged_at = iterate(lambda theta, aux: call(theta, aux, h), start(h), iterations, h,
                                        scale, progress, notes)
        ts = jnp.arange(iterations + 1) * h
        orders = tuple(range(1, derivation.order + 1))
        flows = {}
        for n in orders:
            stage = "gradient flow" if n == 1 else f"order-{n} flow"
            if progress:
                progress(0, stage)
            ys, ok = solver.trajectory(theta0, solver.weights(n, h), ts, 1e-11)
            flows[n] = ys + theta0
            if progress:
                progress(iterations, stage)
            if not ok and notes is not None:
                notes.append(f"warning: the order-{n} flow could not be integrated over the run at "
                             f"h = {h:.3g} (stiff or not finite); its columns are NaN")
        return _compare(h, orders, ts, iterates, flows, [], [], n_params, diverged_at)
