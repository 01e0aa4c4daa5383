"""Backward error analysis: from the series of an update map to its modified flow.

The update map (one step, or one cycle of ``m`` steps) is a B-series
``Φ(θ) = θ + Σ_t a(t) h^{|t|} F(t)(θ)``. Its modified field over the cycle,
``Z = Σ_t z(t) h^{|t|} F(t)``, is the vector field whose time-one flow is ``Φ``:

    exp(Z) = θ + Σ_{j≥1} (1/j!) P_j,   P_1 = Z,   P_j = P_{j-1}' Z,

(HLW IX.1; ``P_j'Z`` is grafting, :func:`bea.series.lie_derivative``). Comparing orders,
``z`` at order ``n`` is ``a`` at order ``n`` minus ``Σ_{j≥2} P_j/j!`` at order ``n``, and
``P_j`` at order ``n`` only needs ``z`` below ``n``; so one pass over the orders builds
``z`` with every ``P_j`` reused, never re-expanded. The per-update modified flow is
``Z/(cycle·h)``: ``θ' = f_1 + h f_2 + …`` with ``f_k = Σ_{|t|=k} z(t)/cycle · F(t)``.

Two more operations complete the pipeline: the mean of a map over all orderings of its
atoms (random reshuffling), computed as an average over relabelings of each tree rather
than over the ``m!`` orderings; and the slaving of auxiliary state (a velocity) to the
parameters on an invariant manifold.
"""

from __future__ import annotations

import itertools
import math

from .rules import RuleError, Vec
from .series import add_into, by_order, lie_derivative, shift
from .trees import labels_of, relabel, tree

__all__ = ["logarithm", "average_over_orderings", "slaved_velocity"]


def logarithm(map_terms: dict, max_order: int, field, progress=None) -> list[dict]:
    """Orders ``1..max_order`` of the field ``Z`` with ``exp(Z) = Φ`` (``Z[0]`` empty).

    ``map_terms`` holds ``Φ(θ) - θ``. Returns a list indexed by order.
    """
    a = by_order(map_terms, max_order)
    z: list[dict] = [dict() for _ in range(max_order + 1)]
    # powers[j][n]: order-n part of P_j = (L_Z)^{j-1} Z
    powers: list[list[dict]] = [[dict() for _ in range(max_order + 1)] for _ in range(max_order + 1)]
    inv_fact = [field.one / field(math.factorial(j)) for j in range(max_order + 1)]
    for n in range(1, max_order + 1):
        correction: dict = {}
        for j in range(2, n + 1):
            part: dict = {}
            for k in range(1, n - j + 2):
                lower = powers[j - 1][n - k]
                if lower and z[k]:
                    add_into(part, lie_derivative(lower, z[k], n, field))
            powers[j][n] = part
            add_into(correction, part, inv_fact[j])
        zn = dict(a[n])
        for t, c in correction.items():
            value = zn.get(t, field.zero) - c
            if value:
                zn[t] = value
            else:
                zn.pop(t, None)
        z[n] = zn
        powers[1][n] = zn
        if progress is not None:
            progress(n)
    return z


def average_over_orderings(map_terms: dict, labels: tuple[str, ...], field) -> dict:
    """Mean of ``Φ_σ`` over all orderings ``σ`` of ``labels``.

    ``Φ_σ`` is ``Φ`` with the atoms permuted by ``σ``. The mean coefficient of a tree
    ``t`` using ``d`` distinct labels is the average of ``Φ``'s coefficient over the
    ``m!/(m-d)!`` injective relabelings of those labels (each relabeling is hit by
    ``(m-d)!`` permutations), so no ordering is ever enumerated; the work is one
    average per relabeling class (pattern) of trees.
    """
    label_set = set(labels)
    out: dict = {}
    seen = set()
    for t in list(map_terms):
        key = _pattern(t, label_set)
        if key in seen:
            continue
        seen.add(key)
        used = sorted({lab for lab in labels_of(t) if lab in label_set})
        images = [relabel(t, dict(zip(used, target))) for target in itertools.permutations(labels, len(used))]
        mean = sum((map_terms.get(i, field.zero) for i in images), field.zero) / field(len(images))
        if mean:
            for image in images:
                out[image] = mean
    return out


def _pattern(t, label_set) -> str:
    """A relabeling-invariant key of ``t``: its least relabeling to ``0, 1, …`` (as text)."""
    used = sorted({lab for lab in labels_of(t) if lab in label_set})
    return min(
        str(relabel(t, {u: f"\0{p}" for u, p in zip(used, perm)}))
        for perm in itertools.permutations(range(len(used)))
    )


def slaved_velocity(step, tracer, theta, n_aux: int, max_order: int):
    """Invariant manifold ``v = V(θ)`` of a rule with auxiliary state, as term dicts.

    ``step(theta, *v)`` returns ``(θ', *v')``. Invariance means
    ``V(θ'(θ, V(θ))) = v'(θ, V(θ))``. With ``A`` the linear part of ``v ↦ v'`` (read off
    by tracing ``v`` as a probe atom), the residual ``R = v' - V∘θ'`` changes by
    ``(A - I)ΔV`` to leading order, so ``V ← V + (I - A)^{-1} R`` fixes one more order in h
    per sweep (Kovachki & Stuart 2021; Ghosh et al. ICLR 2023; Cattaneo & Shigida 2025).
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
    for _ in range(max_order + 2):
        out = step(theta, *[Vec(tracer, {}, dict(v), 0) for v in velocity])
        new_theta = tracer.increment(out[0], (), "the parameter update")
        residual = []
        for j in range(n_aux):
            vj = _aux(out, j, n_aux)
            if vj.base or (vj.terms and vj.deficit != 0):
                raise RuleError("the auxiliary state update is not O(h)")
            r = add_into(dict(vj.terms), shift(velocity[j], new_theta, max_order, field), -field.one)
            residual.append(r)
        if not any(residual):
            return velocity
        for i in range(n_aux):
            for j in range(n_aux):
                if inverse[i][j]:
                    add_into(velocity[i], residual[j], inverse[i][j])
    raise RuleError("the invariant-manifold expansion did not converge")


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
