"""The check of a joint expansion in ``h`` and a second small parameter ``ρ`` (:mod:`bea.joint`).

The derived field ``F = Σ_{a<N, b≤M} h^a ρ^b F_{a,b}`` leaves out terms of order
``h^N`` and ``ρ^{M+1}``. Over one step of length ``h`` the local error of its flow against
the rule is ``h · O(h^N + ρ^{M+1})``. Two paths through the ``(h, ρ)`` plane each make one
truncation the larger, and the fitted log-log slope measures it:

* **along h**, ``ρ = c h^κ`` with ``κ(M+1) > N`` (here ``κ = (N+1)/(M+1)``): the ``ρ``
  truncation is ``h^{1+κ(M+1)} = h^{N+2}``, below the ``h`` truncation: the local error has
  slope ``N + 1`` in ``h``;
* **along ρ**, ``h = c ρ^λ`` with ``λN > M+1`` (here ``λ = (M+2)/N``): the error per unit
  time, error/h, is ``O(ρ^{M+1}) + O(ρ^{M+2})``: slope ``M + 1`` in ``ρ``.

A term left out changes a slope: without ``F_{0,1}`` (SAM's ``−Hg/‖g‖``) the error along h
is ``h·ρ = h^{1+κ}`` and along ρ the error per time is ``ρ``. Both slopes must agree within
:data:`bea.check.orders.SLOPE_TOLERANCE`. The field's terms are evaluated as coordinate-wise
expressions (:func:`bea.coordinatewise.evaluate.evaluate`; a B-series term ``F(t)`` is the
nested differential it stands for), the flow solved by RK4 substeps in float64 (:func:`_flow`), the
rule called with numbers for ``h`` and ``ρ``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import jax
import jax.numpy as jnp
import numpy as np
import sympy

from ..coordinatewise.evaluate import evaluate
from ..coordinatewise.expressions import atom, differential
from ..derive import derive
from ..joint import small_parameter
from ..render.readable import GREEK
from .common import CheckError, float64
from .orders import SLOPE_TOLERANCE
from .problems import Problem
from .scales import field_stiffness
from .setup import _flat
from .values import numeric_parameters, resolve_values

__all__ = ["JointPath", "JointCheck", "check", "components", "joint_text", "joint_json"]

POINTS = 9
"""Points of each sweep (geometric)."""
SPAN = (0.02, 0.2)
"""The dimensionless step ``s = hλ`` (``λ`` the stiffness at ``θ_0``) of each sweep: low
enough to be asymptotic, high enough to stay above round-off for slopes up to 5."""


SUBSTEPS = 32
"""RK4 steps of the flow over one step ``h``."""


@dataclass(frozen=True)
class JointPath:
    """One path: ``along`` ("h" or the small parameter's name), the step sizes and radii of
    its points, the errors measured (error/h along ρ), the fitted and expected slope."""

    along: str
    hs: tuple
    rhos: tuple
    errors: tuple
    slope: float
    expected: int

    @property
    def ok(self) -> bool:
        return abs(self.slope - self.expected) <= SLOPE_TOLERANCE


@dataclass(frozen=True)
class JointCheck:
    order: int
    small_order: int
    small: str
    paths: tuple[JointPath, ...]

    @property
    def ok(self) -> bool:
        return all(p.ok for p in self.paths)


def components(derivation) -> list[tuple[int, int, sympy.Expr]]:
    """``[(a, b, F_{a,b})]``: the terms ``h^a ρ^b F_{a,b}`` of a joint derivation as
    coordinate-wise expressions without ``ρ``."""
    rho, m = small_parameter(derivation.rule)
    out = []
    for a in range(derivation.order):
        row = derivation.flow[a + 1]
        if derivation.field is None:  # one coordinate-wise expression per order
            expr = sympy.sympify(row)
        else:  # B-series: {tree: coefficient}
            expr = sympy.Add(*[derivation.field.to_sympy(c) * _differential(t) for t, c in row.items()])
        for b in range(m + 1):
            part = sympy.expand(sympy.diff(expr, rho, b).subs(rho, 0) / sympy.factorial(b))
            if part != 0:
                out.append((a, b, part))
    return out


def _flow(field, w, h, delta):
    """The flow of ``field`` over time ``h`` from ``delta``: :data:`SUBSTEPS` classical RK4
    steps (global error ``O((h/SUBSTEPS)^4)``, far below the truncation errors measured
    over :data:`SPAN`, and a quarter of Dopri8's stages to compile)."""
    dt = h / SUBSTEPS

    def rk4(_, y):
        k1 = field(y, w)
        k2 = field(y + dt / 2 * k1, w)
        k3 = field(y + dt / 2 * k2, w)
        k4 = field(y + dt * k3, w)
        return y + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)

    return jax.lax.fori_loop(0, SUBSTEPS, rk4, delta)


def _differential(t):
    """``F(t)`` of a rooted tree as the coordinate-wise expression ``D^k f[F(t_1), …]``."""
    if not t.children:
        return atom(t.label)
    return differential(t.label, tuple(_differential(c) for c in t.children))


def check(rule, order: int, problem: Problem, values: Mapping | None = None, hs=None, coefficients=None,
          progress=None, notes: list | None = None):
    """Derive the joint expansion of ``rule`` to ``order`` in ``h`` and measure the two slopes
    of the module docstring; returns ``(derivation, JointCheck)``. ``coefficients`` (testing
    hook) maps the list of components ``[(a, b, F_{a,b})]`` to the ones integrated, e.g. to
    drop one and see the check fail; ``hs`` is not used (each path has its own sweep)."""
    rho, m = small_parameter(rule)
    if tuple(rule.blocks) != (None,) or rule.shuffle or rule.n_aux:
        raise CheckError(f"{rule.name}: the joint check takes one block, no reshuffling and no state")
    derivation = derive(rule, order)
    values = {k: v for k, v in resolve_values(derivation, {**(values or {}), rho.name: 0.0}, notes).items()
              if k != rho.name}
    parts = components(derivation)
    if coefficients is not None:
        parts = list(coefficients(parts))
    exprs = [e for _, _, e in parts]
    with float64():
        theta0, fields, _ = _flat(problem, rule.atoms, (None,))
        params = numeric_parameters({k: v for k, v in rule.params.items() if k != rho.name}, values)
        atoms = [fields[a.label] for a in rule.atoms]

        def field(delta, w):
            return sum(w[i] * e for i, e in enumerate(evaluate(exprs, fields, theta0 + delta, values)))

        @jax.jit
        @jax.vmap
        def error(h, r):  # one compilation, every point of both sweeps at once
            w = jnp.stack([h ** a * r ** b for a, b, _ in parts])
            step = rule.step(theta0, h, *atoms, **params, **{rho.name: r}) - theta0
            return jnp.linalg.norm(step - _flow(field, w, h, jnp.zeros_like(theta0)))

        lam = field_stiffness(theta0, list(fields.values()))
        s = np.geomspace(*SPAN, POINTS)
        kappa, lam_rho = (order + 1) / (m + 1), (m + 2) / order
        along_h = (s / lam, s ** kappa / lam)
        along_rho = (s ** lam_rho / lam, s / lam)
        measured = np.asarray(error(jnp.asarray(np.concatenate([along_h[0], along_rho[0]])),
                                    jnp.asarray(np.concatenate([along_h[1], along_rho[1]]))))
        paths = []
        for i, (name, (h_grid, r_grid), expected, per_time) in enumerate((("h", along_h, order + 1, False),
                                                                          (rho.name, along_rho, m + 1, True))):
            errs = measured[i * POINTS:(i + 1) * POINTS]
            if per_time:
                errs = errs / h_grid
            x = h_grid if name == "h" else r_grid
            if not np.all(np.isfinite(errs)) or np.any(errs <= 0):
                raise CheckError(f"problem {problem.name}: the joint check's errors are not finite and positive")
            slope = float(np.polyfit(np.log(x), np.log(errs), 1)[0])
            paths.append(JointPath(name, tuple(h_grid), tuple(r_grid), tuple(errs), slope, expected))
            if progress is not None:
                progress(1)
    return derivation, JointCheck(order, m, rho.name, tuple(paths))


def joint_text(rule, problem: Problem, result: JointCheck) -> str:
    """The two slopes as a table, one line per path (the parameter by its display name, ρ)."""
    small = GREEK.get(result.small, result.small)
    lines = [f"{rule.name}: joint expansion to order {result.order} in h and {result.small_order} in "
             f"{small}, problem {problem.name}",
             f" {'along':<8} {'path':<16} {'slope':>6} {'expected':>9}  agrees (±{SLOPE_TOLERANCE})"]
    for p in result.paths:
        path = f"{small} ∝ h^{_power(p, True)}" if p.along == "h" else f"h ∝ {small}^{_power(p, False)}"
        what = "error" if p.along == "h" else "error/h"
        along = "h" if p.along == "h" else small
        lines.append(f" {along:<8} {path:<16} {p.slope:>6.2f} {p.expected:>9}  {'yes' if p.ok else 'NO'}  ({what})")
    return "\n".join(lines)


def _power(p: JointPath, rho_of_h: bool) -> str:
    x, y = (p.hs, p.rhos) if rho_of_h else (p.rhos, p.hs)
    return f"{np.log(y[-1] / y[0]) / np.log(x[-1] / x[0]):.3g}"


def joint_json(rule, problem: Problem, result: JointCheck) -> dict:
    return {"scheme": rule.name, "problem": problem.name, "order": result.order, "small": result.small,
            "small_order": result.small_order, "ok": result.ok,
            "paths": [{"along": p.along, "h": list(p.hs), result.small: list(p.rhos), "errors": list(p.errors),
                       "slope": p.slope, "expected": p.expected, "agrees": p.ok} for p in result.paths]}
