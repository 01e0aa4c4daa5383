"""Sections of SGD's noise: the stochastic modified equation and the reshuffled epoch covariance.

Registered walks (:func:`bea.render.sections.walk`), on importing :mod:`bea.stochastic`, for

* :class:`bea.stochastic.SME` — Li, Tai & E's ``dθ = b dt + √(h Σ) dW`` for i.i.d.
  minibatches: :class:`SMEHeader`, :class:`Drift` (the rows ``b = f₁ + h f₂`` as
  elementary differentials of the mean atom ``f = -∇L``), :class:`DriftLoss`
  (``b = -∇(L + (h/4)‖∇L‖²)`` at order 2) and :class:`Diffusion` (``Σ`` as sums of
  outer products, :mod:`bea.stochastic.outer`);
* :class:`WithEpochCovariance` — a random-reshuffling derivation printed with the
  covariance of its epoch map over orderings at leading order,
  ``Cov_σ = h⁴ Σ terms + O(h⁵)`` (:func:`bea.stochastic.reshuffle.epoch_covariance`),
  as an :class:`EpochCovariance` section after the mean flow's sections.

The drift sections reuse the walk of an ordinary derivation (the drift *is* the modified
flow of the mean map ``θ + h f̄``), so its rows and loss print exactly as ``bea derive``'s.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy

from ..rule import Derivation
from ..render.sections import ModifiedFlow, ModifiedLoss, _Walk, walk
from .sme import REFERENCE, SME

__all__ = ["SMEHeader", "Drift", "DriftLoss", "Diffusion", "WithEpochCovariance", "EpochCovariance"]


@dataclass(frozen=True)
class SMEHeader:
    """Sampling of the SME: ``batch`` ``B``, ``examples`` ``n`` (sympy), ``replace``."""

    order: int
    batch: sympy.Expr
    examples: sympy.Expr
    replace: bool
    reference: str = REFERENCE

    @property
    def description(self) -> str:
        how = "with" if self.replace else "without"
        sizes = ", ".join(f"{k} = {v}" for k, v in (("B", self.batch), ("n", self.examples)) if v.is_Integer)
        return (f"SGD with i.i.d. minibatches of B from n examples, {how} replacement"
                + (f" ({sizes})" if sizes else ""))

    @property
    def options(self) -> dict:
        plain = lambda x: int(x) if x.is_Integer else str(x)  # noqa: E731
        return {"batch": plain(self.batch), "examples": plain(self.examples), "replace": self.replace}


@dataclass(frozen=True)
class Drift(ModifiedFlow):
    """The SME's drift ``b = f₁ + h f₂ + …`` (rows over the mean atom ``f = -∇L``)."""


@dataclass(frozen=True)
class DriftLoss(ModifiedLoss):
    """``b = -∇(Σ_k h^{k-1} weights of order k)``: the drift as a gradient."""


@dataclass(frozen=True)
class Diffusion:
    """``Σ = Σ_terms`` (:class:`bea.stochastic.outer.OuterTerm`); ``per_example``: the
    factor ``n c`` of ``Σ = n c · (1/n) Σ_i (∇ℓ_i - ∇L)(∇ℓ_i - ∇L)ᵀ``."""

    terms: tuple
    per_example: sympy.Expr


@dataclass(frozen=True)
class WithEpochCovariance:
    """A random-reshuffling derivation with its epoch covariance (``bea derive --covariance``)."""

    derivation: Derivation
    terms: tuple  # BracketProduct s


@dataclass(frozen=True)
class EpochCovariance:
    """``Cov_σ(Φ_σ(θ)) = h⁴ Σ terms + O(h⁵)`` over uniformly random orderings of the
    minibatches (``terms``: :class:`bea.stochastic.outer.OuterTerm` over ``f_i, f_j, …``)."""

    terms: tuple


@walk.register
def _(d: SME) -> list:
    w = _Walk(d.drift)
    s = d.sampling
    return [SMEHeader(d.order, s.batch, s.examples, s.replace),
            Drift(d.order, tuple(w.flow_row(k, False) for k in range(1, d.order + 1))),
            w.loss(None, DriftLoss),
            Diffusion(tuple(d.diffusion), sympy.factor(d.covariance * s.examples))]


@walk.register
def _(d: WithEpochCovariance) -> list:
    return walk(d.derivation) + [EpochCovariance(tuple(t.outer_term() for t in d.terms))]
