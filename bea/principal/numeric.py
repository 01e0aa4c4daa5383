"""The principal flow as a JAX function of ``(params, *batch)`` on pytrees.

For a loss ``L`` with Hessian ``∇²L = Σ_i λ_i u_i u_iᵀ`` at ``θ`` and ``g = ∇L(θ)``, the
principal flow (PF) of a single-atom rule is

    θ' = Σ_i ψ(hλ_i) (gᵀu_i) u_i,   ψ(z) = log R(z) / z,   g = ∇L/cycle

(Rosca, Wu, Qin & Dherin, TMLR 2023; ``R`` from :func:`bea.principal.stability_function`;
gradient descent: ``ψ(z) = log(1-z)/z``). It treats the Hessian as constant along the step,
which is the commuting-Hessian assumption with one atom, and is exact on quadratic losses.
``ψ`` is complex where ``R ≤ 0`` (principal branch ``log|R| + iπ``), so the field is
returned with a complex dtype; see :data:`bea.principal.COMPLEX_LOG` for what its real part
means at integer steps.

Two modes:

* ``"exact"``: the dense Hessian of the flattened parameters (``jax.flatten_util``) and
  ``jnp.linalg.eigh``; refused above ``max_params`` parameters.
* ``"topk"`` (matrix-free): the top-``k`` eigenpairs by LOBPCG
  (``jax.experimental.sparse.linalg.lobpcg_standard``) on a Hessian-vector-product
  operator; the PF on their span, and on the orthogonal complement the order-``N`` series
  ``Σ_{j<N} a_j h^j (∇²L)^j g_⊥`` of ``ψ(z) = Σ_j a_j z^j`` through HVPs only (each product
  projected back onto the complement). **Approximation:** on the complement ``ψ`` is
  truncated after ``z^{N-1}``, an error of order ``|hλ_{k+1}|^N`` per component (the
  truncated modified flow of order ``N``); it is small only when the remaining spectrum
  satisfies ``|hλ| < 1`` (inside the series' radius of convergence, smaller for momentum).
  LOBPCG finds the *algebraically* largest eigenvalues, so strongly negative curvature is
  left to the series. Needs ``5k < n``.

``R`` is the eigenvalue of the one-step matrix of largest modulus
(:mod:`bea.principal.dominant`): with ``p(μ, z) = aμ² + bμ + c`` the root
``(−b − √Δ)/(2a)`` where ``b > 0`` and ``Δ = b² − 4ac ≥ 0``, else ``(−b + √Δ)/(2a)``
(principal square root: ``Im R > 0`` on a complex pair when ``a > 0``), the same branches as
the symbolic ``R``. Evaluation of ``ψ`` avoids the ``0/0`` at ``z = 0`` and the cancellation
in ``R − 1``: with ``R_2`` the other root (``R_2 = 0`` for ``p`` linear),
``R − 1 = −p(1, z)/(a·(1 − R_2))`` and ``p(1, z)/z`` is a polynomial, so
``ψ = [log1p(x)/x]·(x/z)`` with ``x = R − 1``; this form is used where ``R`` is nearer to 1
than ``R_2`` (always near ``z = 0``), ``(R − 1)/z`` elsewhere. A real ``R < 0`` is taken
with imaginary part ``+0``, so ``log R = log|R| + iπ`` as in the symbolic ``ψ``.
"""

from __future__ import annotations

from typing import Callable

import jax
import jax.numpy as jnp
import sympy
from jax.experimental.sparse.linalg import lobpcg_standard
from jax.flatten_util import ravel_pytree

from ..schemes import build
from .flow import MU, PrincipalFlow, stability_function

__all__ = ["MAX_EXACT_PARAMETERS", "principal_flow", "psi_function"]

MAX_EXACT_PARAMETERS = 4096


def _check_numeric(flow: PrincipalFlow) -> sympy.Symbol:
    if len(flow.variables) != 1:
        raise ValueError(f"the JAX principal flow takes one loss; {flow.scheme!r} has atoms "
                         f"{', '.join(map(str, flow.variables))}")
    (z,) = flow.variables
    stray = (flow.polynomial.free_symbols | flow.R.free_symbols) - {z, MU}
    if stray or not flow.cycle.is_number:
        raise ValueError(f"the principal flow of {flow.scheme!r} has symbolic parameters "
                         f"({', '.join(sorted(map(str, stray)))}); give them numbers")
    return z


def psi_function(flow: PrincipalFlow) -> Callable[[jax.Array], jax.Array]:
    """``ψ`` as a JAX function of real ``z`` (any shape), complex-valued (principal log)."""
    z = _check_numeric(flow)
    poly = sympy.Poly(flow.polynomial, MU)
    if poly.degree() > 2:
        raise ValueError(f"{flow.scheme!r}: ψ is evaluated for linear steps of size ≤ 2")
    coefficients = [sympy.lambdify(z, c, modules="jax") for c in poly.all_coeffs()]
    p1 = sympy.Poly(poly.as_expr().subs(MU, 1), z)
    ratio = sympy.lambdify(z, sympy.quo(p1, sympy.Poly(z, z)).as_expr(), modules="jax")

    def psi(zv):
        zc = jnp.asarray(zv) + 0j
        ones = jnp.ones_like(zc)
        a, *rest = (f(zc) * ones for f in coefficients)
        if len(rest) == 1:  # p = aμ + c: R = -c/a, R_2 = 0
            x_over_z = -ratio(zc) * ones / a
        else:
            r, other = _dominant(a, *rest)
            safe = lambda d: jnp.where(d == 0, 1, d)  # noqa: E731
            formula = -ratio(zc) * ones / (a * safe(1 - other))
            direct = (r - 1) / safe(zc)
            x_over_z = jnp.where(jnp.abs(1 - other) > jnp.abs(1 - r), formula, direct)
        x = _plus_zero(zc * x_over_z)
        nonzero = x != 0
        log_ratio = jnp.where(nonzero, jnp.log1p(x) / jnp.where(nonzero, x, 1), 1)
        return log_ratio * x_over_z

    return psi


def _dominant(a, b, c):
    """``(R, R_2)``: the root of ``aμ² + bμ + c`` of largest modulus and the other one."""
    delta = b * b - 4 * a * c
    root = jnp.sqrt(delta)
    minus = (b.real > 0) & (delta.real >= 0)
    r = _plus_zero(jnp.where(minus, (-b - root) / (2 * a), (-b + root) / (2 * a)))
    return r, -b / a - r


def _plus_zero(x):
    """``x`` with a zero imaginary part made ``+0`` (``log`` of a negative real: ``+iπ``)."""
    return jax.lax.complex(x.real, x.imag + 0.0)


def _series_coefficients(flow: PrincipalFlow, order: int) -> list[float]:
    z = _check_numeric(flow)
    poly = sympy.Poly(flow.series(order), z)
    return [float(poly.coeff_monomial(z**j)) for j in range(order)]


def principal_flow(loss, h, *, flow: PrincipalFlow | None = None, mode: str = "exact",
                   k: int = 8, order: int = 8, iterations: int = 200,
                   max_params: int = MAX_EXACT_PARAMETERS):
    """A jittable ``field(params, *batch)`` returning the PF ``θ'`` as a complex pytree.

    ``loss(params, *batch)`` is a scalar; ``h`` the learning rate; ``flow`` the principal
    flow of a single-atom rule (default: gradient descent). ``mode="exact"`` uses the dense
    Hessian (at most ``max_params`` parameters); ``mode="topk"`` uses the top-``k``
    eigenpairs (``iterations`` LOBPCG steps) and the order-``order`` series elsewhere.
    """
    flow = stability_function(build("gd")) if flow is None else flow
    psi = psi_function(flow)
    if mode not in ("exact", "topk"):
        raise ValueError(f"mode must be 'exact' or 'topk', got {mode!r}")
    if mode == "topk" and (not isinstance(order, int) or order < 1 or k < 1):
        raise ValueError(f"topk needs k ≥ 1 and an integer order ≥ 1 (got k={k!r}, order={order!r})")
    coefficients = _series_coefficients(flow, order) if mode == "topk" else None
    weight = float(flow.weights[0])

    def field(params, *batch):
        flat, unravel = ravel_pytree(params)
        n = flat.size
        flat_loss = lambda x: loss(unravel(x), *batch)  # noqa: E731
        g = jax.grad(flat_loss)(flat) * weight
        if mode == "exact":
            if n > max_params:
                raise ValueError(f"exact principal flow: {n} parameters exceed the limit "
                                 f"{max_params} (dense Hessian); use mode='topk'")
            lam, u = jnp.linalg.eigh(jax.hessian(flat_loss)(flat))
            out = u @ (psi(h * lam) * (u.T @ g))
        else:
            if not 0 < 5 * k < n:
                raise ValueError(f"topk principal flow needs 5k < n parameters (k={k}, n={n})")
            hvp = lambda v: jax.jvp(jax.grad(flat_loss), (flat,), (v,))[1]  # noqa: E731
            start = jax.random.normal(jax.random.PRNGKey(0), (n, k), dtype=flat.dtype)
            lam, u, _ = lobpcg_standard(jax.vmap(hvp, in_axes=1, out_axes=1), start, m=iterations)
            project = lambda v: v - u @ (u.T @ v)  # noqa: E731
            rest = project(g)
            term, series = rest, coefficients[0] * rest
            for a in coefficients[1:]:
                term = h * project(hvp(term))
                series = series + a * term
            out = u @ (psi(h * lam) * (u.T @ g)) + series
        real, imag = unravel(out.real), unravel(out.imag)
        return jax.tree_util.tree_map(lambda r, i: r + 1j * i, real, imag)

    return field
