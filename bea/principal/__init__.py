"""All orders at once: the principal flow and exact resummation on quadratics.

Rosca, Wu, Qin & Dherin (TMLR 2023) resum the pure-Hessian (tall-tree) part of gradient
descent's modified flow into ``θ' = Σ_i ψ(hλ_i)(gᵀu_i)u_i``, ``ψ(z) = log(1-z)/z``, exact on
quadratic losses. bea does this for every rule under commuting Hessians by tracing the
rule on linear fields (:mod:`.linear`) into its stability function ``R(z)`` (:mod:`.flow`),
the eigenvalue of the one-step matrix of largest modulus (:mod:`.dominant`); :mod:`.tall` reads the same quantity from a derivation's tall trees, the second code path
the tests compare against.
"""

from .dominant import DOMINANT
from .flow import COMPLEX_LOG, MU, PrincipalFlow, Threshold, stability_function
from .linear import COMMUTING_HESSIANS, PrincipalError, linear_step, require_linear, variables_for
from .tall import tall_tree_rate

__all__ = [
    "COMMUTING_HESSIANS", "COMPLEX_LOG", "DOMINANT", "MU", "PrincipalError", "PrincipalFlow", "Threshold",
    "linear_step", "require_linear", "stability_function", "tall_tree_rate", "variables_for",
]
