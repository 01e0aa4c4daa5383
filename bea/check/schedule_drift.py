"""Drift over a whole schedule: the iterates of a rule with step ``h·η(t_j)`` against the
gradient flow and the modified flows of :func:`bea.schedule.derive_scheduled`.

The modified flow is non-autonomous, ``θ' = Σ_{k≤n} h^{k-1} f_k(θ, t)`` with coefficients
in ``η(t), η'(t), …`` (nested ``jax.jvp`` of the schedule's JAX callable): it is integrated
on ``(θ, t)``, ``t' = 1`` (diffrax's time is ``t``), from ``t = 0`` through the whole run;
the step-size controller is told where the kinks are, and the flows hold on each smooth
piece (at a kink, a jump of ``η'`` leaves an error of order ``h²`` in every flow).

The iterates: call ``j`` of the rule from ``(θ_j, t_j = j·cycle·h)``. A rule on the
augmented field (clock ``"field"``: gd, sgd, Runge–Kutta) takes each atom call at its own
time; a rule with state (clock ``"step"``: momentum) takes ``η(t_j)`` for the call and
carries its velocity, started on the slaved manifold ``V(θ_0, 0)``; a random reshuffling
is the mean over orderings, as in :mod:`.drifting`. Along the iterates: the loss (the
order-1 part at ``η = 1``) and the regularizer ``Σ_{k≥2} h^{k-1} R_k(θ_j, t_j)`` at the
schedule's ``η(t_j)``; the result is a :class:`.drifting.DriftResult` with ``eta`` set.

Default spans are a quarter of the run (:func:`.scheduled.numeric_schedule`): warmup–cosine
warms up over the first quarter and ends its decay at the last update.
"""

from __future__ import annotations

import itertools
from typing import Callable, Mapping

import diffrax
import jax
import jax.numpy as jnp
import numpy as np
import sympy

from ..bseries.evaluate import elementary_differentials, scalar_value
from ..schedule import default_clock, derive_scheduled, eta_symbols, scheduled_state
from ..schedule.derive import time_is_a_block
from .common import ITERATION_LIMIT, MEMORY_LIMIT, CheckError, float64, human_bytes, norm
from .drifting import DriftResult, _compare, _loss_rose, drift_bytes, iterate
from .problems import Problem
from .schedule import eta_derivatives
from .scheduled import numeric_schedule
from .setup import prepare
from .values import numeric_rule

__all__ = ["scheduled_drift", "schedule_peak", "refuse_unless_drifts"]


def schedule_peak(name: str, given: Mapping, total: float) -> float:
    """``max |η|`` over ``[0, total]`` (default spans a quarter of ``total``), sampled."""
    schedule, values = numeric_schedule(name, given, total / 4)
    with float64():
        return float(jnp.max(jnp.abs(jax.vmap(schedule.jax(values))(jnp.linspace(0.0, total, 1025)))))


def refuse_unless_drifts(rule) -> None:
    """:class:`CheckError` (one line) for a rule whose scheduled drift is not implemented."""
    if not time_is_a_block(rule) or tuple(rule.blocks) != (None,):
        raise CheckError(f"drift --schedule covers rules on one parameter block of the B-series algebra "
                         f"(gd, sgd, momentum, rk, --rule), not {rule.name}; use bea check --schedule")


def scheduled_drift(rule, order: int, name: str, given: Mapping, problem: Problem, h: float, iterations: int,
                    values: Mapping | None = None, progress: Callable | None = None,
                    notes: list | None = None) -> DriftResult:
    """Iterates vs the gradient flow vs the modified flows of orders ``2 … order`` of
    ``rule`` under the schedule ``name`` (parameters ``given``) over ``iterations`` calls."""
    refuse_unless_drifts(rule)
    if not 1 <= iterations <= ITERATION_LIMIT:
        raise CheckError(f"--iterations must be between 1 and {ITERATION_LIMIT}, got {iterations}")
    rule = numeric_rule(rule, values, notes)
    clock, cycle = default_clock(rule), int(rule.cycle)
    schedule, sched_values = numeric_schedule(name, given, iterations * cycle * h / 4, notes)
    d = derive_scheduled(rule, order, clock)
    symbols = eta_symbols(order)
    with float64():
        eta = schedule.jax(sched_values)
        setup = prepare(d, problem, {s.name: 1.0 for s in symbols}, notes)
        need = drift_bytes(setup.n_params, iterations, order)
        if need > MEMORY_LIMIT:
            raise CheckError(f"{iterations} iterations on {setup.n_params} parameters need about "
                             f"{human_bytes(need)} (limit {human_bytes(MEMORY_LIMIT)}); use fewer "
                             "--iterations or a smaller --size")
        coeffs = [_functions(d.flow[k], d.field, symbols) for k in range(order + 1)]
        ts = jnp.arange(iterations + 1) * cycle * h
        one_step = _stepper(rule, clock, setup, eta, h, cycle)
        state = (setup.theta0, (0, *_slaved(rule, clock, setup, eta, h, order)))
        iterates, diverged_at = iterate(one_step, state, iterations, h, 1.0 + norm(problem.params), progress, notes)
        losses, regs = _along(d, setup, eta, h, order, symbols, iterates, ts)
        rose_at = None if diverged_at is not None else _loss_rose(losses)
        if rose_at is not None and notes is not None:
            notes.append(f"warning: the loss rose from {losses[0]:.4g} to {losses[rose_at]:.4g} by step {rose_at} "
                         f"(h = {h:.3g}): the iterates do not descend and follow no flow; try --lr {h / 4:.3g}")
        solve = _trajectory(coeffs, setup.fields, eta, order, h, setup.theta0, schedule.kinks(sched_values))
        flows = {}
        for n in range(1, order + 1):
            stage = "gradient flow" if n == 1 else f"order-{n} flow"
            if progress:
                progress(0, stage)
            ys, ok = solve(jnp.asarray([1.0 if k <= n else 0.0 for k in range(order + 1)]), ts)
            flows[n] = ys
            if not bool(ok) and notes is not None:
                notes.append(f"warning: the order-{n} flow could not be integrated over the schedule at "
                             f"h = {h:.3g} (stiff or not finite); its columns are NaN")
            if progress:
                progress(iterations, stage)
        result = _compare(h, tuple(range(1, order + 1)), ts, iterates, flows, losses, regs, setup.n_params,
                         diverged_at)
        result.loss_rose_at = rose_at
        result.eta = np.asarray(jax.vmap(eta)(ts))
        result.schedule = f"{name} ({', '.join(f'{k}={float(v):.4g}' for k, v in sched_values.items())})"
        return result


def _functions(terms: dict, field, symbols) -> list:
    """``[(tree, c(η, η', …))]``: each coefficient as a JAX function of the η-derivatives."""
    out = []
    for t, c in terms.items():
        expr = field.to_sympy(c)
        if expr != 0:
            out.append((t, sympy.lambdify([symbols], expr, modules="jax")))
    return out


def _stepper(rule, clock: str, setup, eta, h: float, cycle: int):
    """``(θ_j, (j, aux…)) ↦ (θ_{j+1}, (j + 1, aux…))``, jitted (module docstring)."""
    atoms = [setup.fields[a.label] for a in rule.atoms]
    params = setup.params
    if clock == "field":
        dim = setup.theta0.shape[0]

        def augmented(f):
            return lambda z: jnp.concatenate([eta(z[dim]) * f(z[:dim]), jnp.ones((1,), z.dtype)])

        orderings = list(itertools.permutations(atoms)) if rule.shuffle else [atoms]

        @jax.jit
        def one(theta, aux):
            z = jnp.concatenate([theta, jnp.asarray([aux[0] * cycle * h], theta.dtype)])
            outs = [rule.step(z, h, *[augmented(f) for f in perm], **params)[:dim] for perm in orderings]
            return sum(outs) / len(outs), (aux[0] + 1,)

        return one

    @jax.jit
    def one(theta, aux):
        j, *velocity = aux
        value = eta(j * cycle * h * 1.0)
        frozen = [lambda *p, f=f: value * f(*p) for f in atoms]
        out = rule.step(theta, *velocity, h, *frozen, **params)
        return (out[0], (j + 1, *out[1:])) if rule.n_aux else (out, (j + 1,))

    return one


def _slaved(rule, clock: str, setup, eta, h: float, order: int) -> tuple:
    """The auxiliary state on its slaved manifold ``V(θ_0, 0) = Σ_n h^n V_n``."""
    if not rule.n_aux:
        return ()
    by_order, field = scheduled_state(rule, order, clock)
    symbols = eta_symbols(order)
    etas = eta_derivatives(eta, jnp.asarray(0.0), order)
    out = []
    for v in by_order:
        parts = [(h ** n, _functions(v[n], field, symbols)) for n in range(len(v))]
        trees = sorted({t for _, fs in parts for t, _ in fs})
        values = elementary_differentials(trees, setup.fields, setup.theta0)
        out.append(sum((scale * c(etas) * values[t] for scale, fs in parts for t, c in fs),
                       jnp.zeros_like(setup.theta0)))
    return tuple(out)


def _along(d, setup, eta, h, order, symbols, iterates, ts) -> tuple[list, list]:
    """The loss (order-1 part at ``η = 1``) and the regularizer at ``(θ_j, t_j)``, or two
    empty lists when the rule has no modified loss."""
    if d.splits is None:
        return [], []
    terms = [(k, s, sympy.lambdify([symbols], d.field.to_sympy(w), modules="jax"))
             for k in range(1, order + 1) if None in d.splits[k] for s, w in d.splits[k][None].weights.items()]
    unit = [1.0] + [0.0] * (order - 1)

    @jax.jit
    def value(theta, t):
        etas, memo = eta_derivatives(eta, t, order), {}
        loss = sum(w(unit) * scalar_value(s, setup.losses, theta, memo=memo) for k, s, w in terms if k == 1)
        reg = sum(w(etas) * h ** (k - 1) * scalar_value(s, setup.losses, theta, memo=memo)
                  for k, s, w in terms if k > 1)
        return loss, reg

    pairs = [value(theta, t) for theta, t in zip(iterates, ts)]
    return [float(a) for a, _ in pairs], [float(b) for _, b in pairs]


def _trajectory(coeffs, fields, eta, order: int, h: float, theta0, kinks):
    """``(mask, ts) ↦ (θ(ts), ok)`` of ``θ' = Σ_k mask_k h^{k-1} f_k(θ, t)`` from ``(θ_0, 0)``
    (diffrax, Dopri8; compiled once for every truncation: ``mask`` selects the orders)."""
    trees = sorted({t for k in range(1, order + 1) for t, _ in coeffs[k]})

    def vector_field(s, delta, mask):
        etas = eta_derivatives(eta, s, order)
        values = elementary_differentials(trees, fields, theta0 + delta)
        total = jnp.zeros_like(theta0)
        for k in range(1, order + 1):
            for t, c in coeffs[k]:
                total = total + mask[k] * h ** (k - 1) * c(etas) * values[t]
        return total

    jumps = [float(k) for k in kinks]
    controller = diffrax.PIDController(rtol=1e-11, atol=1e-13)
    if jumps:
        controller = diffrax.ClipStepSizeController(controller, jump_ts=jnp.asarray(jumps))
    term = diffrax.ODETerm(vector_field)

    @jax.jit
    def solve(mask, ts):
        sol = diffrax.diffeqsolve(term, diffrax.Dopri8(), 0.0, ts[-1], ts[1] - ts[0], jnp.zeros_like(theta0),
                                  args=mask, saveat=diffrax.SaveAt(ts=ts), stepsize_controller=controller,
                                  max_steps=1 << 16, throw=False)
        return theta0 + sol.ys, sol.result == diffrax.RESULTS.successful

    return solve
