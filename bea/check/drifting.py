"""Drift over many steps: the iterates against the gradient flow and the modified flows.

Over ``K`` calls of the rule the iterates ``θ_j`` are compared with the gradient flow
(``n = 1``) and the truncated modified flows at times ``j·cycle·h``: the observed drift
``θ_j - φ^1`` against the predicted drift ``φ^n - φ^1`` (norm ratio and cosine), the
distances ``‖θ_j - φ^n‖``, and along the iterates the loss ``R_1(θ)`` and the implicit
regularizer ``Σ_{k≥2} h^{k-1} R_k(θ)``, where ``f_k = -∇R_k + remainder`` is the
derivation's gradient split (rules on one parameter block with gradient atoms; the
scalars ``R_k`` by :func:`bea.bseries.evaluate.scalar_value`).

Work is bounded before it starts: at most :data:`~bea.check.common.ITERATION_LIMIT`
iterations, and the stored iterates and trajectories within
:data:`~bea.check.common.MEMORY_LIMIT`. Iterates that leave every reasonable range
(non-finite, or ``10^6`` times farther from ``θ_0`` than the problem's scale) are
reported as ``diverged_at``, and a loss ``R_1`` that rises along them (more than
:data:`LOSS_RISE` times its start) as ``loss_rose_at``: either way a warning names a
smaller learning rate checked to keep the iterates bounded (and the loss down) over the
same iterations, and the run still reports, but means nothing.

``progress(n, stage)`` hears of ``n`` more units of :func:`drift_work` done: one per
iteration, then ``iterations`` per flow integrated (the slow part: diffrax compiles and
integrates ``iterations + 1`` saved points); ``stage`` names the work, and ``n = 0``
announces a stage as it starts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping

import jax
import jax.numpy as jnp
import numpy as np

from ..bseries.evaluate import scalar_value
from .common import ITERATION_LIMIT, MEMORY_LIMIT, CheckError, float64, human_bytes, norm, sub
from .discrete import initial_state, step
from .flows import solver_for
from .principal import principal_trajectory
from .problems import Problem
from .scales import DEFAULT_LR_FRACTION, series_rate
from .setup import Setup, prepare
from .values import numeric_coefficients, resolve_values, to_float

__all__ = ["DriftResult", "drift", "default_learning_rate", "drift_bytes", "drift_work", "LOSS_RISE"]

LOSS_RISE = 1.0
"""A loss ``R_1`` more than ``LOSS_RISE·|R_1(θ_0)|`` above its start (for a positive loss:
over twice its start) along the iterates: they do not descend, so no flow of ``-∇R``
describes them (momentum at ``β = 0.9`` and ``h = 0.2/λ``: 5.6 → 77 by step 10)."""

HALVINGS = 20
"""Smaller learning rates tried, ``h/2 … h/2^20``, for a rate checked to behave."""


@dataclass
class DriftResult:
    """Drift over ``iterations`` calls of the rule at learning rate ``h``.

    Arrays are indexed by the call ``j = 0 … K`` (time ``times[j] = j·cycle·h``):
    ``observed[j] = ‖θ_j - φ^1(t_j)‖``; per order ``n``: ``distance[n][j] = ‖θ_j - φ^n(t_j)‖``,
    ``ratio[n][j] = ‖φ^n - φ^1‖ / ‖θ_j - φ^1‖`` and ``cosine[n][j]`` between predicted
    and observed drift; ``loss[j] = R_1(θ_j)`` and ``regularizer[j] = Σ_{k≥2} h^{k-1}
    R_k(θ_j)`` (``None`` when the rule has no modified loss representation);
    ``diverged_at`` the first call whose iterate diverged (else ``None``), ``loss_rose_at``
    the first whose loss rose past :data:`LOSS_RISE` (else ``None``);
    ``principal[j] = ‖θ_j - Re φ^PF(t_j)‖`` when the principal flow was asked for
    (:mod:`.principal`), else ``None``; under a schedule (:mod:`.schedule_drift`)
    ``eta[j] = η(t_j)`` and ``schedule`` names it and its parameters, else ``None``.
    """

    h: float
    orders: tuple
    times: np.ndarray
    observed: np.ndarray
    distance: dict
    ratio: dict
    cosine: dict
    loss: np.ndarray | None
    regularizer: np.ndarray | None
    n_params: int
    diverged_at: int | None = None
    principal: np.ndarray | None = None
    loss_rose_at: int | None = None
    eta: np.ndarray | None = None
    schedule: str | None = None


def drift_bytes(n_params: int, iterations: int, orders: int) -> int:
    """Bytes of the stored iterates and of the flows' trajectories (float64)."""
    return 8 * n_params * (iterations + 1) * (orders + 1)


def drift_work(iterations: int, orders: int, principal: bool = False) -> int:
    """Units of progress of a drift run: the iterations, then ``iterations`` per flow."""
    return iterations * (1 + orders + bool(principal))


def _modified_loss(setup: Setup, upto: int, h: float):
    """``θ ↦ (R_1(θ), Σ_{2≤k≤upto} h^{k-1} R_k(θ))`` from the gradient split, or None."""
    d = setup.derivation
    if d.splits is None or tuple(d.rule.blocks) != (None,):
        return None
    terms = [(k, s, to_float(d.field.to_sympy(w), setup.values))
             for k in range(1, upto + 1) if None in d.splits[k]  # f_k = 0: no split
             for s, w in d.splits[k][None].weights.items()]

    def value(theta):
        memo: dict = {}
        loss = sum(w * scalar_value(s, setup.losses, theta, memo=memo) for k, s, w in terms if k == 1)
        reg = sum(w * h ** (k - 1) * scalar_value(s, setup.losses, theta, memo=memo) for k, s, w in terms if k > 1)
        return loss, reg

    return jax.jit(value)


def _diverged(theta, scale: float) -> bool:
    size = norm(theta)
    return not np.isfinite(size) or size > 1e6 * scale


def _rose(value: float, start: float) -> bool:
    return not np.isfinite(value) or value - start > LOSS_RISE * abs(start)


def _behaves(one_step, state, iterations: int, scale: float, loss=None) -> bool:
    """Whether the iterates stay bounded (and, given ``loss``, the loss does not rise)."""
    theta, aux = state
    start = None if loss is None else float(loss(theta))
    for _ in range(iterations):
        theta, aux = one_step(theta, aux)
        if _diverged(theta, scale) or (loss is not None and _rose(float(loss(theta)), start)):
            return False
    return True


def _advice(rates, h: float, iterations: int, scale: float, loss=None) -> str:
    """A smaller ``--lr`` run and found to behave (:func:`_behaves`), the largest of
    ``h/2, h/4, …``; without ``rates`` (``h ↦ (one_step, state)``) an unchecked hint."""
    if rates is None:
        return f"try --lr {h / 10:.3g} or smaller"
    what = "the iterates bounded" + ("" if loss is None else " and the loss below twice its start")
    for k in range(1, HALVINGS + 1):
        if _behaves(*rates(h / 2 ** k), iterations, scale, loss):
            return f"--lr {h / 2 ** k:.3g} keeps {what} over the {iterations} iterations (checked)"
    return f"no --lr down to {h / 2 ** HALVINGS:.3g} keeps {what}; try another problem"


def iterate(one_step, state, iterations: int, h: float, scale: float, progress=None, notes=None,
            rates=None):
    """``[θ_0, …, θ_K]`` from ``state = (θ_0, aux_0)`` by ``one_step(θ, aux)``, and the first
    step at which the iterates diverged (``None``: they did not; a warning joins ``notes``,
    with a smaller rate checked through ``rates``, ``h ↦ (one_step, state)``, when given)."""
    theta, aux = state
    iterates, diverged_at = [theta], None
    for j in range(1, iterations + 1):
        theta, aux = one_step(theta, aux)
        iterates.append(theta)
        if diverged_at is None and _diverged(theta, scale):
            diverged_at = j
        if progress:
            progress(1, "iterating")
    if diverged_at is not None and notes is not None:
        notes.append(f"warning: the iterates diverged at step {diverged_at}; the result is not "
                     f"meaningful; {_advice(rates, h, iterations, scale)}")
    return iterates, diverged_at


def drift(derivation, problem: Problem, h: float, iterations: int, values: Mapping | None = None,
          progress: Callable[[int], None] | None = None, notes: list | None = None,
          principal=None) -> DriftResult:
    """Iterates vs gradient flow vs the modified flows of orders ``2 … derivation.order``;
    also vs the principal flow ``principal`` (a numeric :class:`bea.principal.PrincipalFlow`,
    see :func:`.principal.numeric_flow`) when given. For B-series derivations (the
    B-series algebra's ``check`` part); :func:`bea.check.drift` takes any derivation."""
    if iterations < 1:
        raise CheckError(f"iterations must be at least 1, got {iterations}")
    if iterations > ITERATION_LIMIT:
        raise CheckError(f"--iterations {iterations} is over the limit of {ITERATION_LIMIT} iterations")
    with float64():
        setup = prepare(derivation, problem, values, notes)
        need = drift_bytes(setup.n_params, iterations, derivation.order)
        if need > MEMORY_LIMIT:
            raise CheckError(f"{iterations} iterations on {setup.n_params} parameters need about "
                             f"{human_bytes(need)} (limit {human_bytes(MEMORY_LIMIT)}); use fewer "
                             "--iterations or a smaller --size")
        coeffs = numeric_coefficients(derivation, setup.values)
        orders = tuple(range(1, derivation.order + 1))
        solver = solver_for(setup, coeffs, derivation.order)
        ts = jnp.arange(iterations + 1) * setup.cycle * h
        modified_loss = _modified_loss(setup, derivation.order, h)
        scale = 1.0 + norm(problem.params)

        def rates(x):
            return (lambda theta, aux: step(setup, theta, aux, x)), initial_state(setup, x)

        iterates, diverged_at = iterate(*rates(h), iterations, h, scale, progress, notes, rates)
        losses, regs = [], []
        if modified_loss is not None:
            for th in iterates:
                loss, reg = modified_loss(th)
                losses.append(float(loss))
                regs.append(float(reg))
        rose_at = None if diverged_at is not None else _loss_rose(losses)
        if rose_at is not None and notes is not None:
            notes.append(f"warning: the loss rose from {losses[0]:.4g} to {losses[rose_at]:.4g} by step "
                         f"{rose_at} (h = {h:.3g}): the iterates do not descend and follow no flow; "
                         + _advice(rates, h, iterations, scale, lambda th: modified_loss(th)[0]))
        flows = {}
        for n in orders:
            stage = "gradient flow" if n == 1 else f"order-{n} flow"
            if progress:
                progress(0, stage)
            ys, ok = solver.trajectory(setup.theta0, solver.weights(coeffs, n, h), ts, 1e-11)
            flows[n] = jax.tree_util.tree_map(jnp.add, ys, setup.theta0)
            if progress:
                progress(iterations, stage)
            if not ok and notes is not None:
                notes.append(f"warning: the order-{n} flow could not be integrated over the run at "
                             f"h = {h:.3g} (stiff or not finite); its columns are NaN")
        result = _compare(h, orders, ts, iterates, flows, losses, regs, setup.n_params, diverged_at)
        result.loss_rose_at = rose_at
        if principal is not None:
            if progress:
                progress(0, "principal flow")
            ys, ok = principal_trajectory(setup, principal, h, ts)
            result.principal = np.array([norm(sub(th, ys[j])) for j, th in enumerate(iterates)])
            if progress:
                progress(iterations, "principal flow")
            if not ok and notes is not None:
                notes.append(f"warning: the principal flow could not be integrated over the run at "
                             f"h = {h:.3g}; its column is NaN")
        return result


def _loss_rose(losses: list) -> int | None:
    """The first step whose loss rose past :data:`LOSS_RISE` (``None``: none, or no loss)."""
    return next((j for j, value in enumerate(losses) if _rose(value, losses[0])), None)


def _compare(h, orders, ts, iterates, flows, losses, regs, n_params, diverged_at) -> DriftResult:
    """The :class:`DriftResult` of ``iterates`` against ``flows`` (``{n: trajectory}`` at ``ts``)."""
    at = lambda ys, j: jax.tree_util.tree_map(lambda x: x[j], ys)  # noqa: E731
    size = len(iterates)
    observed = np.zeros(size)
    distance = {n: np.zeros(size) for n in orders}
    ratio = {n: np.full(size, np.nan) for n in orders[1:]}
    cosine = {n: np.full(size, np.nan) for n in orders[1:]}
    with np.errstate(over="ignore", invalid="ignore"):
        for j, th in enumerate(iterates):
            gradient_flow = at(flows[1], j)
            obs = sub(th, gradient_flow)
            observed[j] = norm(obs)
            for n in orders:
                distance[n][j] = norm(sub(th, at(flows[n], j)))
                if n > 1 and observed[j] > 0:
                    pred = sub(at(flows[n], j), gradient_flow)
                    pn = norm(pred)
                    ratio[n][j] = pn / observed[j]
                    dot = sum(float(jnp.vdot(a, b)) for a, b in
                              zip(jax.tree_util.tree_leaves(pred), jax.tree_util.tree_leaves(obs)))
                    cosine[n][j] = dot / (pn * observed[j]) if pn > 0 else np.nan
    return DriftResult(h, orders, np.asarray(ts), observed, distance, ratio, cosine,
                       np.asarray(losses) if losses else None, np.asarray(regs) if regs else None,
                       n_params, diverged_at)


def default_learning_rate(derivation, problem: Problem, values: Mapping | None = None,
                          fraction: float = DEFAULT_LR_FRACTION) -> float:
    """``h = fraction / Λ`` with ``Λ`` the rate of the derivation's series at ``θ_0``
    (:func:`.scales.series_rate`: the leading flow's stiffness and the growth of the
    coefficients, which carry the rule's state, e.g. momentum's ``1/(1-β)²``). For B-series
    derivations; :func:`bea.check.default_learning_rate` takes any derivation."""
    with float64():
        setup = prepare(derivation, problem, resolve_values(derivation, values))
        return fraction / series_rate(setup, numeric_coefficients(derivation, setup.values))
