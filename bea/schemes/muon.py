"""Muon (momentum orthogonalized by Newton–Schulz) as a coordinate-wise rule with an opaque map.

optax.contrib.muon's conventions after the transient (bias corrections → 1), for a matrix
parameter ``W`` with gradient ``G = ∇L = −f``:

    M⁺ = β M + (1 − β) G,   X = β M⁺ + (1 − β) G  (Nesterov, optax's default)  or  X = M⁺,
    W⁺ = W − h O(X),   O(X) = s · NS^k(X / (‖X‖_F + 10⁻⁸)),
    NS(Y) = a Y + b (YYᵀ) Y + c (YYᵀ)² Y,

``(a, b, c) = (3.4445, −4.7750, 2.0315)``, ``k = 5`` steps, the shape factor
``s = √max(1, n/m)`` for ``W ∈ R^{m×n}`` (optax's ``scale_by_shape``: fan_in = rows), and
NS run on ``Yᵀ`` when ``m > n`` (the same polynomial map). ``O`` is an opaque smooth map
(:mod:`bea.coordinatewise.maps`): the derivation holds ``O(X)``, ``O'(X)[E]``, … and is
the same for every ``(a, b, c, k)``; only the numeric ``O`` differs. ``M`` is slaved to
``W`` (``M = G + O(h)``, so ``X = G + O(h)``). ``β = 0`` is orthogonalized gradient
descent ``W⁺ = W − h O(G)`` (no state).
"""

from __future__ import annotations

import sympy

from ..atoms import Atom
from ..coordinatewise.maps import opaque
from ..rule import Rule

NS_COEFFS = (sympy.Rational("3.4445"), sympy.Rational("-4.7750"), sympy.Rational("2.0315"))
NS_STEPS = 5
NORM_EPS = 1e-8
"""optax's ``eps`` in ``X/(‖X‖_F + eps)``."""

_GRADIENT = (Atom("f", "L"),)


def newton_schulz(coeffs=NS_COEFFS, steps: int = NS_STEPS):
    """The numeric ``O`` of optax.contrib.muon (shape factor included), a JAX function of a matrix."""
    a, b, c = (float(x) for x in coeffs)

    def orthogonalize(x):
        import jax.numpy as jnp  # numeric use only

        if x.ndim != 2:
            raise ValueError(f"Muon's O acts on a matrix, got an array of shape {tuple(x.shape)}; check on "
                             "a problem whose parameters are one matrix (--problem matrix-mlp)")
        m, n = x.shape
        y = x.T if m > n else x
        y = y / (jnp.linalg.norm(y) + NORM_EPS)
        for _ in range(steps):
            gram = y @ y.T
            y = a * y + (b * gram + c * gram @ gram) @ y
        y = y.T if m > n else y
        return jnp.sqrt(max(1.0, n / m)) * y

    return orthogonalize


def build(order: int, beta, no_nesterov: bool = False, ns_steps: int = NS_STEPS,
          ns_coeffs=NS_COEFFS) -> Rule:
    a, b, c = (f"{float(x):g}" for x in ns_coeffs)
    O = opaque("O", newton_schulz(ns_coeffs, ns_steps),
               f"s·NS^{ns_steps}(X/‖X‖_F), NS(Y) = aY + b(YYᵀ)Y + c(YYᵀ)²Y, (a, b, c) = ({a}, {b}, {c}), "
               "s = √max(1, n/m) for W ∈ R^{m×n}",
               rf"s\,\mathrm{{NS}}^{{{ns_steps}}}(X/\|X\|_F), \mathrm{{NS}}(Y) = aY + b(YY^\top)Y + "
               rf"c(YY^\top)^2Y, (a,b,c) = ({a},{b},{c}), s = \sqrt{{\max(1,n/m)}}")
    options = {"beta": str(beta), "nesterov": str(not no_nesterov), "ns_steps": str(ns_steps),
               "ns_coeffs": f"{a},{b},{c}"}
    if beta == 0:
        def orthogonalized(theta, h, f):
            return theta - h * O(-f(theta))

        return Rule(orthogonalized, _GRADIENT, name="muon", algebra="coordinatewise", options=options,
                    description="orthogonalized gradient descent W ← W − h O(∇L)")

    def muon(theta, m, h, f, beta):
        g = -f(theta)
        m = beta * m + (1 - beta) * g
        x = m if no_nesterov else beta * m + (1 - beta) * g
        return theta - h * O(x), m

    return Rule(muon, _GRADIENT, name="muon", n_aux=1, params={"beta": beta}, algebra="coordinatewise",
                options=options,
                description="Muon (optax.contrib.muon after the transient): "
                            + ("heavy-ball" if no_nesterov else "Nesterov") + " momentum, O = Newton–Schulz")


def check_options(typed: dict) -> None:
    """The Newton–Schulz coefficients are evaluated numerically: numbers only."""
    if any(not sympy.sympify(c).is_Number for c in typed.get("ns_coeffs", ())):
        from ._options import SchemeError
        raise SchemeError("--ns-coeffs must be three numbers a,b,c (the orthogonalization is evaluated "
                          "numerically), e.g. 3.4445,-4.7750,2.0315")
