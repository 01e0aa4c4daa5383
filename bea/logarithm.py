"""Backward error analysis: from the series of an update map to its modified flow.

The update map (one step, or one cycle of ``m`` steps) is a B-series
``Φ(θ) = θ + Σ_t a(t) h^{|t|} F(t)(θ)``. Its modified field over the cycle,
``Z = Σ_t z(t) h^{|t|} F(t)``, is the vector field whose time-one flow is ``Φ``:

    exp(Z) = θ + Σ_{j≥1} (1/j!) P_j,   P_1 = Z,   P_j = P_{j-1}' Z,

(HLW IX.1; ``P_j'Z`` is the Lie derivative: grafting for trees,
:func:`bea.bseries.series.lie_derivative`). Comparing orders,
``z`` at order ``n`` is ``a`` at order ``n`` minus ``Σ_{j≥2} P_j/j!`` at order ``n``, and
``P_j`` at order ``n`` only needs ``z`` below ``n``; so one pass over the orders builds
``z`` with every ``P_j`` reused, never re-expanded. The per-update modified flow is
``Z/(cycle·h)``: ``θ' = f_1 + h f_2 + …`` with ``f_k = Σ_{|t|=k} z(t)/cycle · F(t)``.

The loop is the same in every algebra (:mod:`bea.algebra`): it only adds, scales and
takes Lie derivatives of the series it is handed. Auxiliary state is slaved to the
parameters beforehand, and a random reshuffling averaged over orderings, by the algebra's
tracing (:mod:`bea.bseries.pipeline`).
"""

from __future__ import annotations

import math
from fractions import Fraction

__all__ = ["logarithm"]


def logarithm(map_terms, max_order: int, series, progress=None) -> list:
    """Orders ``1..max_order`` of the field ``Z`` with ``exp(Z) = Φ`` (``Z[0]`` empty).

    ``map_terms`` holds ``Φ(θ) - θ``. Returns a list indexed by order. ``series`` gives
    the operations on the algebra's series (``by_order``, ``zero``, ``nonzero``,
    ``add_into``, ``lie``, ``number``): :class:`bea.bseries.series.TreeSeries` for
    B-series, :class:`bea.coordinatewise.calculus.CoordinateSeries` for coordinate-wise
    expressions; the loop is the same.
    """
    alg = series
    a = alg.by_order(map_terms, max_order)
    z: list = [alg.zero() for _ in range(max_order + 1)]
    # powers[j][n]: order-n part of P_j = (L_Z)^{j-1} Z
    powers: list[list] = [[alg.zero() for _ in range(max_order + 1)] for _ in range(max_order + 1)]
    inv_fact = [alg.number(Fraction(1, math.factorial(j))) for j in range(max_order + 1)]
    for n in range(1, max_order + 1):
        correction = alg.zero()
        for j in range(2, n + 1):
            part = alg.zero()
            for k in range(1, n - j + 2):
                lower = powers[j - 1][n - k]
                if alg.nonzero(lower) and alg.nonzero(z[k]):
                    part = alg.add_into(part, alg.lie(lower, z[k], n))
            powers[j][n] = part
            correction = alg.add_into(correction, part, inv_fact[j])
        zn = alg.add_into(alg.add_into(alg.zero(), a[n]), correction, -inv_fact[0])
        z[n] = zn
        powers[1][n] = zn
        if progress is not None:
            progress(n)
    return z
