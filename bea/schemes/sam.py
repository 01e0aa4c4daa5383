"""Sharpness-aware minimization: SAM and unnormalized SAM (schemes ``sam``, ``usam``).

    SAM   θ ← θ − h ∇L(θ + ρ g/‖g‖)   (Foret et al., ICLR 2021),
    USAM  θ ← θ − h ∇L(θ + ρ g)       (Andriushchenko & Flammarion, ICML 2022),

``g = ∇L(θ) = −f(θ)``. The radius ``ρ`` is a second small parameter: the derivation is a
joint expansion in ``h`` and ``ρ`` (:mod:`bea.joint`), to ``--order N`` in ``h`` and
``--rho-order M`` in ``ρ``. USAM is affine in the atom's values (a B-series, like a
Runge–Kutta stage at ``θ − ρ h f``); SAM divides by ``‖g‖`` (the coordinate-wise algebra).
At first order (Compagnoni et al., ICML 2023) USAM follows ``−∇(L + (ρ/2)‖∇L‖²)`` and SAM
``−∇(L + ρ‖∇L‖)``, each plus gradient descent's ``−(h/4)∇‖∇L‖²``.
"""

import sympy

from ..atoms import Atom
from ..coordinatewise import norm
from ..rule import Rule

RHO = sympy.Symbol("rho", positive=True)
"""The radius ``ρ`` (symbolic: the joint expansion is in it)."""


def sam(theta, h, f, rho):
    g = -f(theta)
    return theta + h * f(theta + rho * g / norm(g))


def usam(theta, h, f, rho):
    g = -f(theta)
    return theta + h * f(theta + rho * g)


def build_sam(order: int, rho_order: int) -> Rule:
    return Rule(sam, (Atom("f", "L"),), name="sam", params={"rho": RHO}, small={"rho": rho_order},
                algebra="coordinatewise", options={"rho_order": str(rho_order)},
                description="SAM θ ← θ − h∇L(θ + ρ∇L/‖∇L‖)")


def build_usam(order: int, rho_order: int) -> Rule:
    return Rule(usam, (Atom("f", "L"),), name="usam", params={"rho": RHO}, small={"rho": rho_order},
                options={"rho_order": str(rho_order)}, description="unnormalized SAM θ ← θ − h∇L(θ + ρ∇L)")
