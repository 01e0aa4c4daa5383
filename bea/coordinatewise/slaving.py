"""Auxiliary state of a coordinate-wise rule slaved to the parameters.

Adam's moments are ``O(1)``: ``m ≈ g``, ``v ≈ g⊙g``. With the step ``(θ, s) ↦ (θ', s')``
the state settles on an invariant manifold ``s = S(θ) = S_0 + h S_1 + …``:
``S(θ') = s'(θ, S(θ))``. At ``h^0`` the state update is
``s' = F(θ, s) + O(h)``: ``S_0 = F(θ, S_0)`` is solved by Newton's method, exact when
``F`` is affine in ``s`` or triangular (RMSProp with momentum: ``v`` first, then ``u``);
with ``A = ∂F/∂s`` at ``S_0`` (parameters and coordinate-wise expressions), each sweep
``S ← S + (I - A)^{-1} R`` on the residual ``R = s'(θ, S) - S∘θ'`` fixes one more order
in h, since ``R`` changes by ``(A - I)ΔS + O(h ΔS)`` (Kovachki & Stuart 2021; Cattaneo,
Klusowski & Shigida, ICML 2024, for Adam). State that does not settle — ``I - A``
singular, like Adagrad's growing sum ``v' = v + g⊙g`` — is refused.

A scheduled rule (step ``h·η(t)``) is not autonomous in ``θ``; with the time ``t`` as a
coordinate (:mod:`bea.coordinatewise.clock`) the augmented map ``(θ, s, t) ↦ (θ', s',
t + cycle·h)`` is, and the same argument gives a manifold ``s = S(θ, t)`` with
``S(θ', t + cycle·h) = s'(θ, S(θ, t))``: the residual's shift is taken in ``t`` too.
``η`` enters with ``h`` only, so ``S_0`` and ``A`` are those of the constant step.
"""

from __future__ import annotations

import sympy

from ..atoms import RuleError
from .calculus import deep_symbols
from .expressions import canonical, frozen
from .boundary import from_sympy, to_canonical
from .ring import RING, ZERO, sum_
from .ring_calculus import taylor_shift
from .tracing import Traced

__all__ = ["slaved_state"]


def slaved_state(step, tracer, n_aux: int) -> list[list]:
    """The invariant manifold ``S(θ)`` as h-coefficient lists (ring elements), one per
    state variable. ``step(theta, *state)`` returns ``(θ', *state')`` as traced values.

    The leading-order solve is small (``h^0`` parts such as ``f``, ``f⊙f``, ``1 − β``)
    and runs on canonical sympy expressions; the order-by-order sweeps run in the ring.
    """
    n = tracer.max_order
    probes = [frozen(f"\0s{i}") for i in range(n_aux)]
    out = _outputs(step, tracer, [tracer.constant(RING.frozen(p.name)) for p in probes], n_aux)
    leading = [to_canonical(o.coeffs[0]) for o in out[1:]]
    for value in leading:
        if any(set(probes) & deep_symbols(x) for x in value.free_symbols if x not in probes):
            raise RuleError("the auxiliary state enters an atom, a norm or an inner product at "
                            "leading order, so it cannot be slaved coordinate-wise")
    jacobian = sympy.Matrix(n_aux, n_aux, lambda j, i: canonical(sympy.diff(leading[j], probes[i])))
    current = sympy.zeros(n_aux, 1)
    for _ in range(n_aux + 1):  # Newton: exact for affine and triangular updates
        at = dict(zip(probes, current))
        residual = sympy.Matrix([canonical(x.xreplace(at)) for x in leading]) - current
        a = jacobian.xreplace(at).applyfunc(canonical)
        system = sympy.eye(n_aux) - a
        if canonical(system.det()) == 0:
            raise RuleError(
                "the auxiliary state does not settle: I - A is singular for its update "
                f"s' = A s + … with A = {a.tolist()} (an ever-growing sum like Adagrad's has "
                "A = 1), so it cannot be slaved to the parameters")
        inverse = system.inv().applyfunc(canonical)
        if all(r == 0 for r in residual):
            break
        current = (current + inverse * residual).applyfunc(canonical)
    else:
        raise RuleError("the leading-order state equation s = F(θ, s) is not solved exactly by "
                        "Newton's method (the update is nonlinear in the state beyond a "
                        "triangular structure)")
    inverse = [[from_sympy(inverse[i, j]) for j in range(n_aux)] for i in range(n_aux)]
    state = [[from_sympy(x)] + [ZERO()] * n for x in current]
    for _ in range(n):
        out = _outputs(step, tracer, [Traced(tracer, s) for s in state], n_aux)
        increment = tracer.increment(out[0], "the parameter update")
        residual = [[a_ - b_ for a_, b_ in zip(o.coeffs, _shifted(s, increment, n, tracer.clock))]
                    for o, s in zip(out[1:], state)]
        if all(c.is_zero() for r in residual for c in r):
            break
        state = [[s[k] + sum_([inverse[i][j] * residual[j][k] for j in range(n_aux)])
                  for k in range(n + 1)] for i, s in enumerate(state)]
    return state


def _shifted(series, increment, n, clock=None):
    """``S(θ + δ)`` for ``S = Σ h^i S_i``: each ``S_i`` shifted, truncated at ``h^n``; with
    a ``clock``, ``S(θ + δ, t + cycle·h)``: first in ``t`` (``δ`` is taken at ``(θ, t)``,
    so it is not differentiated in ``t``), then in ``θ``."""
    if clock is not None:
        series = clock.shift(series, n)
    out = [ZERO()] * (n + 1)
    for i, c in enumerate(series):
        if not c.is_zero():
            for k, v in enumerate(taylor_shift(c, increment, n - i)):
                out[i + k] = out[i + k] + v
    return out


def _outputs(step, tracer, state, n_aux):
    out = step(tracer.parameters(), *state)
    if not isinstance(out, (tuple, list)) or len(out) != 1 + n_aux:
        raise RuleError(f"a rule with {n_aux} auxiliary state variable(s) must return "
                        f"{1 + n_aux} values (θ' and the new state)")
    out = [tracer.constant(o) if not isinstance(o, Traced) else o for o in out]
    return out
