"""Observed orders: one-cycle errors of the truncated flows and their fitted slopes.

Let ``Φ_h`` be one call of the rule (one cycle of ``cycle`` updates; for a random
reshuffling the mean over all orderings) and ``φ^n_T`` the exact flow over ``T = cycle·h``
of the truncation ``θ' = f_1 + h f_2 + … + h^{n-1} f_n``. The full modified flow
reproduces ``Φ_h`` as a formal series, so

    e_n(h) = ‖Φ_h(θ_0) - φ^n_{cycle·h}(θ_0)‖ = cycle·h^{k+1}‖f_{k+1}(θ_0)‖ + O(h^{k+2}),

with ``k ≥ n`` the first omitted order with ``f_{k+1}(θ_0) ≠ 0`` (the README's *Conventions*, the
defining property). The expected slope is read off the derivation's exact coefficients
(``n + 1``, more where the next orders vanish: an order-p Runge–Kutta method has
``f_2 = … = f_p = 0``, a symmetric one no even orders), so measure on non-polynomial
problems.

The flow is solved at ``rtol = 1e-14`` and, to estimate its integration error, at
``1e-12``. A point enters the least-squares fit of ``log e`` against ``log h`` only when
its error is 100 times the integration error and 1000 ulps of the displacement; of the
automatic grid (:func:`bea.check.scales.sweep`) the ``window`` smallest such h are fitted
— the asymptotic regime, before the next orders bend the curve.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import numpy as np

from ..derive import derive
from .common import CheckError, float64, norm, sub
from .discrete import initial_state, step
from .flows import solver_for
from .problems import Problem
from .scales import rate, sweep
from .setup import prepare
from .values import numeric_coefficients, resolve_values

__all__ = ["LocalErrors", "local_errors", "measure", "check", "SLOPE_TOLERANCE"]

SLOPE_TOLERANCE = 0.3
"""A fitted slope agrees when ``|slope - expected| ≤ SLOPE_TOLERANCE``."""

_RTOL, _RTOL_COARSE = 1e-14, 1e-12


@dataclass
class LocalErrors:
    """One-cycle errors ``e_n(h)`` per truncation order and the fitted slopes.

    ``errors[i][j]`` is the error of order ``orders[i]`` at ``hs[i][j]``; ``integration``
    the estimated integration error there; ``used[i][j]`` whether the point entered the
    fit; ``expected[i]`` the slope the theory gives (``None`` when every omitted order the
    derivation knows vanishes: then the slope must be at least ``minimum[i]``).
    """

    orders: tuple
    hs: list
    errors: list
    integration: list
    used: list
    slopes: list
    expected: list
    minimum: list
    tolerance: float = SLOPE_TOLERANCE

    def agrees(self, i: int) -> bool:
        """Whether order ``orders[i]`` shows the expected slope (and was measurable)."""
        if not np.isfinite(self.slopes[i]):
            return False
        if self.expected[i] is None:
            return self.slopes[i] >= self.minimum[i] - self.tolerance
        return abs(self.slopes[i] - self.expected[i]) <= self.tolerance

    @property
    def ok(self) -> bool:
        return all(self.agrees(i) for i in range(len(self.orders)))


def present_orders(derivation) -> list[bool]:
    """Whether ``f_k`` has a non-zero coefficient, ``k = 0 … order`` (exact)."""
    return [False] + [any(c for c in derivation.flow[k].values()) for k in range(1, derivation.order + 1)]


def local_errors(derivation, problem: Problem, hs: Sequence[float] | None = None,
                 orders: Sequence[int] | None = None, values: Mapping | None = None,
                 coefficients: list | None = None, window: int = 5,
                 progress: Callable[[int], None] | None = None, notes: list | None = None) -> LocalErrors:
    """One-cycle errors of the truncated flows against the discrete map, and slopes.

    ``orders`` default to ``1 … derivation.order``; the expected slope of order ``n``
    needs the first non-zero ``f_k``, ``k > n``, so derive one order more than you check
    (as :func:`check` does). ``hs`` is the h sweep (every point that passes the accuracy
    filter is fitted), or ``None`` for the automatic grid. ``values`` gives numbers for
    symbols (defaults reported in ``notes``). ``coefficients`` replaces the flow's
    numeric coefficients (``[{tree: float}]`` per order): a deliberately wrong flow must
    fail the check.
    """
    with float64():
        setup = prepare(derivation, problem, values, notes)
        coeffs = coefficients or numeric_coefficients(derivation, setup.values)
        top = derivation.order
        orders = tuple(orders or range(1, top + 1))
        present = present_orders(derivation)
        solver = solver_for(setup, coeffs, max(orders))
        lam = rate(setup, solver, coeffs)
        if not np.isfinite(lam):
            raise CheckError(f"problem {problem.name}: the gradient is not finite at the initial parameters; "
                             "try another problem")
        grid = np.asarray(hs, float) if hs is not None else sweep(lam)
        increments = []
        for h in grid:
            theta, aux = initial_state(setup, float(h))
            increments.append(sub(step(setup, theta, aux, float(h))[0], setup.theta0))
        if not all(np.isfinite(norm(d)) for d in increments):
            raise CheckError(f"problem {problem.name}: the iterates are not finite over the h range "
                             f"[{grid[0]:.3g}, {grid[-1]:.3g}]; try a smaller h range or another problem")
        return measure(setup, grid, orders, present, top, lambda n, k: increments[k],
                       lambda n, h: solver.weights(coeffs, n, h), solver, window, hs is None, progress)


def measure(setup, grid, orders, present, top, increment, weights, solver, window, automatic,
            progress=None) -> LocalErrors:
    """Errors and fitted slopes of ``increment(n, k)`` (the discrete displacement for
    truncation ``n`` at ``grid[k]``) against the flow with ``weights(n, h)`` over one cycle;
    the expected slope of ``n`` is the first order ``> n`` that ``present`` marks."""
    result = LocalErrors(tuple(orders), [], [], [], [], [], [], [])
    for n in orders:
        following = [k for k in range(n + 1, top + 1) if present[k]]
        expected = following[0] if following else None
        result.expected.append(expected)
        result.minimum.append(expected if expected else top + 1)
        errs, integ, floor = [], [], []
        for k, h in enumerate(grid):
            w = weights(n, float(h))
            t1 = setup.cycle * float(h)
            fine = solver.final(setup.theta0, w, t1, _RTOL)
            coarse = solver.final(setup.theta0, w, t1, _RTOL_COARSE)
            displacement = increment(n, k)
            errs.append(norm(sub(displacement, fine)))
            integ.append(norm(sub(fine, coarse)))
            floor.append(1e3 * np.finfo(float).eps * norm(displacement))
        errs, integ = np.asarray(errs), np.asarray(integ)
        valid = np.flatnonzero((errs > 100 * integ) & (errs > np.asarray(floor)))
        if automatic:
            valid = valid[:window]
        used = np.zeros(len(grid), bool)
        used[valid] = True
        slope = np.polyfit(np.log(grid[used]), np.log(errs[used]), 1)[0] if used.sum() >= 3 else np.nan
        result.hs.append(grid)
        result.errors.append(errs)
        result.integration.append(integ)
        result.used.append(used)
        result.slopes.append(float(slope))
        if progress:
            progress(1)
    return result


def check(rule, order: int, problem: Problem, values: Mapping | None = None, hs=None,
          coefficients: Callable[[list], list] | None = None, progress=None,
          notes: list | None = None):
    """Derive ``rule`` far enough to know the expected slopes of orders ``1 … order`` and
    measure them; returns ``(derivation, LocalErrors)``. ``coefficients`` (testing hook)
    maps the numeric coefficients to the ones used, e.g. to change one and see the check
    fail. Defaults used for symbols are reported in ``notes``. For B-series rules (the
    B-series algebra's ``check`` part); :func:`bea.check.check` takes any rule."""
    derivation = derive(rule, order + 1)
    if not present_orders(derivation)[order + 1]:
        derivation = derive(rule, order + 2)  # f_{N+1} vanishes (symmetric method, …)
    values = resolve_values(derivation, values, notes)
    coeffs = numeric_coefficients(derivation, values)
    if coefficients is not None:
        coeffs = coefficients(coeffs)
    return derivation, local_errors(derivation, problem, hs, range(1, order + 1), values, coeffs,
                                    progress=progress)
