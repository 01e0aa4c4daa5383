"""Auxiliary state slaved to the parameters on an invariant manifold.

A rule with auxiliary state (momentum's velocity) maps ``(θ, v) ↦ (θ', v')``. Where the
state is contracted by the step, it settles on a manifold ``v = V(θ)`` that every orbit
approaches geometrically; on it the rule is a map of ``θ`` alone, whose B-series the
logarithm takes (Kovachki & Stuart 2021; Ghosh et al. ICLR 2023; Cattaneo & Shigida 2025).
"""

from __future__ import annotations

from .series import add_into, shift
from ..atoms import RuleError
from .tracing import Vec
from .trees import tree

__all__ = ["slaved_velocity"]


def slaved_velocity(step, tracer, theta, n_aux: int, max_order: int):
    """Invariant manifold ``v = V(θ)`` of a rule with auxiliary state, as term dicts.

    ``step(theta, *v)`` returns ``(θ', *v')``. Invariance means
    ``V(θ'(θ, V(θ))) = v'(θ, V(θ))``. With ``A`` the linear part of ``v ↦ v'`` (read off
    by tracing ``v`` as a probe atom), the residual ``R = v' - V∘θ'`` changes by
    ``(A - I)ΔV`` to leading order, so ``V ← V + (I - A)^{-1} R`` fixes one more order in h
    per sweep; the sweep for order ``n`` traces the step truncated at order ``n`` (Kovachki &
    Stuart 2021; Ghosh et al. ICLR 2023; Cattaneo & Shigida 2025).
    Requires ``I - A`` invertible (e.g. momentum ``β ≠ 1``).
    """
    field = tracer.field
    probes = [tree(f"\0probe{i}") for i in range(n_aux)]
    # linear part A[j][i]: coefficient of probe_i in v'_j when v_i = h·probe_i
    a_matrix = [[field.zero] * n_aux for _ in range(n_aux)]
    for i, p in enumerate(probes):
        v = [tracer.zero() for _ in range(n_aux)]
        v[i] = Vec(tracer, {}, {p: field.one}, 0)
        out = step(theta, *v)
        for j in range(n_aux):
            a_matrix[j][i] = _aux(out, j, n_aux).terms.get(p, field.zero)
    inverse = _inverse(
        [[(field.one if i == j else field.zero) - a_matrix[i][j] for j in range(n_aux)] for i in range(n_aux)],
        field,
    )
    if inverse is None:
        raise RuleError(
            "the auxiliary state is not contracted by the step (I - A is singular, e.g. "
            "momentum β = 1), so it cannot be slaved to the parameters"
        )
    velocity = [dict() for _ in range(n_aux)]
    try:
        for order in range(1, max_order + 1):
            # order ``order`` of the residual is linear in V's order-``order`` part, with
            # matrix ``A - I``: one solve fixes it exactly, and lower orders stay fixed; so
            # each sweep traces the step truncated at that order only
            tracer.max_order = order
            out = step(theta, *[Vec(tracer, {}, dict(v), 0) for v in velocity])
            new_theta = tracer.increment(out[0], (), "the parameter update")
            residual = []
            for j in range(n_aux):
                vj = _aux(out, j, n_aux)
                if vj.base or (vj.terms and vj.deficit != 0):
                    raise _not_small(j, bool(vj.base))
                r = add_into(dict(vj.terms), shift(velocity[j], new_theta, order, field), -field.one)
                residual.append({t: c for t, c in r.items() if t.order == order})
            for i in range(n_aux):
                for j in range(n_aux):
                    if inverse[i][j]:
                        add_into(velocity[i], residual[j], inverse[i][j])
    finally:
        tracer.max_order = max_order
    return velocity


def _not_small(j: int, holds_theta: bool) -> RuleError:
    """Why state ``j`` cannot be slaved here: the manifold ``v = V(θ)`` is a series in h
    that starts at ``O(h)``, so the new state must be ``h`` times something (a velocity)."""
    which = f"auxiliary state {j + 1}"
    if holds_theta:
        return RuleError(
            f"the auxiliary state update is not O(h): the new {which} holds the parameters θ "
            "(an average of the iterates, ema' = β·ema + (1 - β)·θ, is a fast variable whose "
            "fixed point is θ itself); track d = ema - θ instead, d' = β·d - (θ' - θ) is O(h), "
            'and write θ + d for ema, or declare algebra="coordinatewise", which slaves it')
    return RuleError(
        f"the auxiliary state update is not O(h): the new {which} adds an atom value not "
        "multiplied by h (v' = β·v + f(θ)); bea slaves state that is h times a field, a "
        "velocity: track u = h·v instead, u' = β·u + h·f(θ), and write u for h·v")


def _aux(out, j, n_aux):
    if not isinstance(out, (tuple, list)) or len(out) != 1 + n_aux:
        raise RuleError(f"a rule with {n_aux} auxiliary state variable(s) must return "
                        f"{1 + n_aux} values (θ' and the new state)")
    value = out[1 + j]
    if not isinstance(value, Vec):
        raise RuleError("the auxiliary state must be a traced vector")
    return value


def _inverse(matrix, field):
    """Inverse of a small square matrix over ``field`` (Gauss–Jordan), or ``None``."""
    n = len(matrix)
    aug = [row[:] + [field.one if i == j else field.zero for j in range(n)] for i, row in enumerate(matrix)]
    for col in range(n):
        pivot = next((r for r in range(col, n) if aug[r][col]), None)
        if pivot is None:
            return None
        aug[col], aug[pivot] = aug[pivot], aug[col]
        inv = field.one / aug[col][col]
        aug[col] = [x * inv for x in aug[col]]
        for r in range(n):
            if r != col and aug[r][col]:
                factor = aug[r][col]
                aug[r] = [x - factor * y for x, y in zip(aug[r], aug[col])]
    return [row[n:] for row in aug]
