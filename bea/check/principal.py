"""The principal flow beside the iterates (``bea drift --principal``).

The principal flow (PF) of a single-atom rule (Rosca, Wu, Qin & Dherin, TMLR 2023; bea's
generalization in :mod:`bea.principal`) is ``θ' = Σ_i ψ(hλ_i)(gᵀu_i)u_i`` with
``(λ_i, u_i)`` the eigenpairs of ``∇²L(θ)``, ``g = ∇L(θ)`` and ``ψ(z) = log R(z)/z``
(:func:`bea.principal.numeric.psi_function`, the principal branch of the logarithm).

**How it is integrated.** Where ``R(hλ_i) < 0`` (gradient descent at ``hλ > 1``) or is
complex (momentum), ``ψ`` is complex, and so is the PF's solution ``R^{t/h}θ_i(0)`` per
eigendirection: it is real at every integer step, where it equals the iterates, and its
real part interpolates them (:data:`bea.principal.COMPLEX_LOG`). Integrating only the
real part of the field would give ``|R|^{t/h}θ_i(0)``, the envelope, which misses the
sign alternation. So the state is complex, ``θ = a + ib``, integrated as the real pair
``(a, b)`` with diffrax (Dopri8, adaptive, in the shifted coordinates of
:mod:`.setup`), and the comparison uses ``a`` at the times ``t_j = j·h``. The field at a
complex state is the PF's complex-linear extension about its real part: eigenpairs of
``∇²L(a)`` and the gradient ``∇L(a) + i∇²L(a)b``. On a quadratic loss ``∇L`` is affine,
this extension is exact and the PF reproduces the iterates at every integer step to the
solver's tolerance, for ``hλ`` in ``(1, 2)`` and beyond 2 alike; elsewhere it is the
commuting-Hessian approximation of :mod:`bea.principal`.

Every field evaluation takes the dense Hessian and its eigendecomposition, so the problem
may have at most :data:`PARAMETER_LIMIT` parameters. Momentum starts from the slaved
velocity of the order-N derivation (:mod:`.discrete`), which agrees with the PF's linear
slaved manifold up to ``O(h^{N+1})``: the PF of momentum follows the iterates to that
accuracy, not to round-off. Its ``R`` is the eigenvalue of largest modulus
(:mod:`bea.principal.dominant`); past heavy ball's branch point ``hλ = (1 + √β)²`` that is
no longer the slaved root, and the PF and the iterates agree in growth per step (``|R|``,
divergence beyond ``hλ = 2(1 + β)``) rather than in value.
"""

from __future__ import annotations

import dataclasses
from typing import Mapping

import diffrax
import jax
import jax.numpy as jnp
import numpy as np
import sympy

from ..domain import exact_number
from ..principal import MU, PrincipalFlow, stability_function
from ..principal.numeric import psi_function
from .common import CheckError, float64
from .problems import Problem
from .setup import Setup, prepare

__all__ = ["PRINCIPAL_SCHEMES", "PARAMETER_LIMIT", "OSCILLATING_FRACTION", "numeric_flow",
           "principal_trajectory", "top_eigenvalue", "oscillating_rate"]

PRINCIPAL_SCHEMES = ("gd", "rk", "momentum")
"""Schemes whose PF ``drift --principal`` integrates (one loss, no parameter blocks)."""

PARAMETER_LIMIT = 512
"""Most parameters for the PF beside the iterates (a dense ``eigh`` per field evaluation)."""

OSCILLATING_FRACTION = 0.9
"""Without ``--lr``: ``hλ_max`` is this fraction of the rule's first stability threshold
(gradient descent: ``hλ_max = 1.8``, oscillating and contracting), or 1.5 without one."""

_NO_THRESHOLD_Z = 1.5


def numeric_flow(rule, values: Mapping | None) -> PrincipalFlow:
    """The principal flow of ``rule`` with the symbols of ``values`` replaced by numbers.

    The flow is derived again from the rule with the numbers in its parameters, so that the
    dominant root and its thresholds are those of the given values (a symbolic flow's
    thresholds are checked at a sample point only). Refuses (:class:`CheckError`) a scheme
    outside :data:`PRINCIPAL_SCHEMES` and a symbol without a value (defaults are not used:
    the PF's thresholds depend on them).
    """
    if rule.name not in PRINCIPAL_SCHEMES or len(rule.atoms) != 1 or tuple(rule.blocks) != (None,):
        raise CheckError(f"--principal works for {', '.join(PRINCIPAL_SCHEMES)} (one loss, numeric "
                         f"parameters), not for {rule.name}")
    flow = stability_function(rule)
    symbols = (flow.polynomial.free_symbols | flow.R.free_symbols) - set(flow.variables) - {MU}
    given = {str(k): v for k, v in (values or {}).items()}
    missing = sorted(str(s) for s in symbols if str(s) not in given)
    if missing:
        raise CheckError(f"--principal needs a number for {', '.join(missing)}: use --set "
                         f"{missing[0]}=VALUE or the scheme's option (e.g. --{missing[0]} 0.9)")
    exact = {s: exact_number(given[str(s)]) for s in symbols}
    if not exact:
        return flow
    return stability_function(dataclasses.replace(
        rule, params={k: _substituted(v, exact) for k, v in rule.params.items()},
        cycle=_substituted(rule.cycle, exact)))


def _substituted(value, exact: dict):
    """``value`` (a parameter: number, sympy expression or nested tuple) with ``exact`` put in."""
    if isinstance(value, sympy.Basic):
        return value.subs(exact)
    if isinstance(value, (tuple, list)):
        return type(value)(_substituted(v, exact) for v in value)
    return value


def _loss(setup: Setup):
    (atom,) = setup.derivation.rule.atoms
    return setup.losses[atom.loss]


def _check_size(setup: Setup) -> None:
    if setup.n_params > PARAMETER_LIMIT:
        raise CheckError(f"--principal takes the dense Hessian: at most {PARAMETER_LIMIT} parameters, "
                         f"problem {setup.problem.name} has {setup.n_params}; use --problem oscillating "
                         "or a smaller --size")


def top_eigenvalue(derivation, problem: Problem, values: Mapping | None = None) -> float:
    """``λ_max`` of ``∇²L(θ_0)`` (dense; the problem within :data:`PARAMETER_LIMIT`)."""
    with float64():
        setup = prepare(derivation, problem, values)
        _check_size(setup)
        return float(jnp.linalg.eigvalsh(jax.hessian(_loss(setup))(setup.theta0))[-1])


def oscillating_rate(flow: PrincipalFlow, lam: float) -> tuple[float, float]:
    """``(h, hλ_max)`` with ``hλ_max`` = :data:`OSCILLATING_FRACTION` × the first threshold."""
    zs = [float(sympy.re(sympy.N(t.z))) for t in flow.thresholds]
    zs = [z for z in zs if z > 0]
    z = OSCILLATING_FRACTION * min(zs) if zs else _NO_THRESHOLD_Z
    if not lam > 0:
        raise CheckError(f"the Hessian at θ0 has no positive eigenvalue (λ_max = {lam:.3g}); give --lr")
    return z / lam, z


def _solver(setup: Setup, flow: PrincipalFlow):
    """The jitted solve ``(h, ts, rtol) ↦ solution``, kept in the problem's ``compiled`` dict."""
    key = ("principal", str(flow.polynomial), float(flow.weights[0]), tuple(setup.derivation.rule.atoms))
    if key in setup.problem.compiled:
        return setup.problem.compiled[key]
    psi = psi_function(flow)
    weight = float(flow.weights[0])
    loss = _loss(setup)
    gradient, hessian = jax.grad(loss), jax.hessian(loss)

    def field(t, state, h):
        a, b = state
        hess = hessian(a)
        g = (gradient(a) + 1j * (hess @ b)) * weight
        lam, u = jnp.linalg.eigh(hess)
        out = u @ (psi(h * lam) * (u.T @ g))
        return out.real, out.imag

    def solve(h, ts, rtol):
        zero = jnp.zeros_like(setup.theta0)
        return diffrax.diffeqsolve(
            diffrax.ODETerm(field), diffrax.Dopri8(), 0.0, ts[-1], h / 8, (zero, zero), args=h,
            saveat=diffrax.SaveAt(ts=ts), max_steps=1 << 18, throw=False,
            stepsize_controller=diffrax.PIDController(rtol=rtol, atol=rtol * 1e-2))

    setup.problem.compiled[key] = jax.jit(solve)
    return setup.problem.compiled[key]


def principal_trajectory(setup: Setup, flow: PrincipalFlow, h: float, ts, rtol: float = 1e-12):
    """``(Re θ(t) at the times ts, stacked; whether the solve succeeded)`` for the PF from θ_0.

    The complex state is the real pair ``(a, b)``; see the module docstring for the field.
    A failed solve (step budget exhausted, non-finite field) gives NaN.
    """
    _check_size(setup)
    sol = _solver(setup, flow)(h, jnp.asarray(ts), rtol)
    ok = bool(sol.result == diffrax.RESULTS.successful)
    ys = sol.ys[0] + setup.theta0
    return (ys if ok else jnp.full_like(ys, np.nan)), ok
