"""Exact flows of the truncated modified flows, integrated with diffrax in float64.

``δ' = Σ_i w_i F(t_i)(θ_0 + δ)``, ``δ(0) = 0``, with Dopri8 (adaptive): the flow's
displacement ``φ_t(θ_0) - θ_0``, so the tolerances apply to the small displacement and
not to ``θ_0``. The weights ``w(t) = c(t) h^{|t|-1}`` (zero for ``|t| > n``), the end time
and the tolerance are arguments, so one compilation serves every truncation order and
every h; a solver is kept in the problem's ``compiled`` dict keyed by its trees and atoms
(single-atom rules — gd, every Runge–Kutta method, momentum — share one). A failed solve
(step budget exhausted, non-finite field) over one cycle raises
:class:`~bea.check.common.CheckError` naming the problem; over a long trajectory it is
reported, and the trajectory is NaN.
"""

from __future__ import annotations

from typing import Callable, Mapping

import diffrax
import jax
import jax.numpy as jnp

from ..bseries.evaluate import elementary_differentials, planned_sum
from ..bseries.trees import Tree, trees_of_order
from .common import CheckError
from .setup import Setup

__all__ = ["Solver", "solver_for"]


class Solver:
    """Compiled solves of the flow over ``trees`` for the atom ``fields``."""

    def __init__(self, trees: tuple[Tree, ...], fields: Mapping[str, Callable], name: str):
        self.trees, self.name = trees, name

        def vector_field(t, delta, args):
            w, theta0 = args
            theta = jax.tree_util.tree_map(jnp.add, theta0, delta)
            return planned_sum([(w[i], tr) for i, tr in enumerate(trees)], fields, theta)

        term = diffrax.ODETerm(vector_field)

        def solve(theta0, w, t1, rtol, saveat, max_steps):
            zero = jax.tree_util.tree_map(jnp.zeros_like, theta0)
            sol = diffrax.diffeqsolve(
                term, diffrax.Dopri8(), 0.0, t1, t1 / 16, zero, args=(w, theta0), saveat=saveat,
                stepsize_controller=diffrax.PIDController(rtol=rtol, atol=rtol * 1e-2),
                max_steps=max_steps, throw=False,
            )
            return sol.ys, sol.result == diffrax.RESULTS.successful

        self._final = jax.jit(lambda theta0, w, t1, rtol: solve(
            theta0, w, t1, rtol, diffrax.SaveAt(t1=True), 4096))
        self._trajectory = jax.jit(lambda theta0, w, ts, rtol: solve(
            theta0, w, ts[-1], rtol, diffrax.SaveAt(ts=ts), 1 << 16))
        self.sizes = jax.jit(lambda theta: jnp.stack([
            jnp.sqrt(sum(jnp.vdot(x, x) for x in jax.tree_util.tree_leaves(v)))
            for v in elementary_differentials(trees, fields, theta).values()]))

    def _checked(self, ys, ok):
        if not bool(ok):
            raise CheckError(f"problem {self.name}: the modified flow could not be integrated (the solver "
                             "failed or the field is not finite); try a smaller --lr or h range, a lower "
                             "--order, or another problem")
        return ys

    def final(self, theta0, w, t1: float, rtol: float):
        """The displacement ``δ(t1)``."""
        ys = self._checked(*self._final(theta0, w, t1, rtol))
        return jax.tree_util.tree_map(lambda x: x[-1], ys)

    def trajectory(self, theta0, w, ts, rtol: float):
        """``(δ(t) at the times ts, stacked along the first axis of every leaf; whether the
        solve succeeded)``: a failed solve is all NaN."""
        ys, ok = self._trajectory(theta0, w, ts, rtol)
        ok = bool(ok)
        return (ys if ok else jax.tree_util.tree_map(lambda x: jnp.full_like(x, jnp.nan), ys)), ok

    def weights(self, coeffs: list, n: int, h: float) -> jnp.ndarray:
        """``w(t) = c(t) h^{|t|-1}`` for ``|t| ≤ n``, else 0."""
        return jnp.asarray([
            coeffs[t.order].get(t, 0.0) * h ** (t.order - 1) if t.order <= n else 0.0
            for t in self.trees
        ])


def solver_for(setup: Setup, coeffs: list, upto: int) -> Solver:
    """The solver for the trees of orders ≤ ``upto`` (all trees when one atom, else the
    trees with a non-zero coefficient), shared through the problem's ``compiled`` dict."""
    d = setup.derivation
    labels = tuple(a.label for a in d.atoms)
    if len(labels) == 1:
        trees = tuple(t for k in range(1, upto + 1) for t in trees_of_order(k, labels))
    else:
        trees = tuple(sorted({t for k in range(1, upto + 1) for t, c in coeffs[k].items() if c}))
    key = ("solver", trees, tuple(d.rule.atoms), tuple(d.rule.blocks))
    if key not in setup.problem.compiled:
        setup.problem.compiled[key] = Solver(trees, setup.fields, setup.problem.name)
    return setup.problem.compiled[key]
