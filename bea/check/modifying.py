"""Observed orders of a modifying field: the corrected rule against its target flow.

Run on the modifying field truncated at order ``n``, ``f̃^{(n)}_c = Σ_{k≤n} h^{k-1} f̃_{c,k}``
(:func:`bea.modifying.modifying_field`), the rule's one-cycle map ``Φ̃^{(n)}_h`` differs
from the exact flow ``φ_{cycle·h}`` of the target ``θ' = f_1`` by

    e_n(h) = ‖Φ̃^{(n)}_h(θ_0) - φ_{cycle·h}(θ_0)‖ = O(h^k),

with ``k > n`` the first omitted order whose correction is non-zero (``n + 1`` in
general): the same defining property as for a modified flow, with the roles of the map
and the flow exchanged (Chartier, Hairer & Vilmart 2010). Rules with auxiliary state
start on the corrected rule's slaved manifold. The sweep, the integration-error filter
and the fit are :func:`bea.check.orders.measure`'s.
"""

from __future__ import annotations

from typing import Callable, Mapping

import numpy as np

from ..derive import derive
from ..bseries.evaluate import planned_sum
from ..modifying import modifying_field
from .common import CheckError, float64, norm, sub
from .discrete import initial_state, step
from .flows import solver_for
from .orders import LocalErrors, measure, present_orders
from .problems import Problem
from .scales import rate, sweep
from .setup import prepare
from .values import numeric_coefficients

__all__ = ["check_modifying"]


def _corrected_fields(setup, corrections: list, n: int, h: float) -> dict:
    """``label → θ ↦ f̃^{(n)}_label(θ)``: each tree of order ≤ n added to its root's field."""
    by_root: dict = {}
    for k in range(1, n + 1):
        for t, c in corrections[k].items():
            by_root.setdefault(t.label, []).append((t, c * h ** (k - 1)))

    def field(terms):
        return lambda theta: planned_sum([(w, t) for t, w in terms], setup.fields, theta)

    return {label: field(terms) for label, terms in by_root.items()}


def check_modifying(rule, order: int, problem: Problem, values: Mapping | None = None, hs=None,
                    progress: Callable[[int], None] | None = None, notes: list | None = None,
                    window: int = 5):
    """Modifying field of ``rule`` to one order past ``order`` (to know the expected slopes)
    and the observed orders of its truncations ``1 … order``; returns
    ``(derivation, LocalErrors)``."""
    derivation = modifying_field(rule, order + 1)
    if not present_orders(derivation)[order + 1]:
        derivation = modifying_field(rule, order + 2)  # symmetric methods: even corrections vanish
    target = derive(rule, 1)
    with float64():
        setup = prepare(derivation, problem, values, notes)
        corrections = numeric_coefficients(derivation, setup.values)
        flow = numeric_coefficients(target, setup.values)
        solver = solver_for(setup, flow, 1)
        lam = rate(setup, solver, flow)
        if not np.isfinite(lam):
            raise CheckError(f"problem {problem.name}: the gradient is not finite at the initial parameters; "
                             "try another problem")
        grid = np.asarray(hs, float) if hs is not None else sweep(lam)
        increments = {}
        for n in range(1, order + 1):
            for k, h in enumerate(grid):
                theta, aux = initial_state(setup, float(h))
                out = step(setup, theta, aux, float(h), _corrected_fields(setup, corrections, n, float(h)))
                increments[n, k] = sub(out[0], setup.theta0)
        if not all(np.isfinite(norm(d)) for d in increments.values()):
            raise CheckError(f"problem {problem.name}: the corrected iterates are not finite over the h range "
                             f"[{grid[0]:.3g}, {grid[-1]:.3g}]; try a smaller h range or another problem")
        result: LocalErrors = measure(
            setup, grid, range(1, order + 1), present_orders(derivation), derivation.order,
            lambda n, k: increments[n, k], lambda n, h: solver.weights(flow, 1, h), solver, window,
            hs is None, progress)
    return derivation, result
