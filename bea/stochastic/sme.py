"""Stochastic modified equations of SGD with i.i.d. minibatches (Li, Tai & E).

Li, Tai & E (ICML 2017; JMLR 2019, Thm. 1 and 3) approximate SGD, ``θ ← θ + h f_S(θ)``
with the minibatch field ``f_S = -(1/B) Σ_{a∈S} ∇ℓ_a``, by the Itô SDE

    dθ = b(θ) dt + √(h Σ(θ)) dW,   time h per step,

in the weak sense: ``|E φ(θ_k) - E φ(X_{kh})| = O(h^p)`` over a fixed horizon. Here ``Σ`` is
the covariance of the *minibatch* gradient (the per-example covariance divided by ``B``,
times ``(n-B)/(n-1)`` without replacement), so the noise scale ``√h`` and the batch
size are both in ``Σ``'s convention, as in the paper.

Derivation (exact, no Monte Carlo). The SGD increment is the one-node B-series
``Δ = h f_S``; its moments are exact finite averages over batches
(:mod:`bea.stochastic.moments`): ``E Δ = h f̄`` with ``f̄ = -∇L``, ``L = (1/n) Σ_i ℓ_i``,
and ``E Δ⊗Δ = h² (f̄⊗f̄ + Cov f_S)``. The SDE's one-step Itô–Taylor moments are
``E[X_h - θ] = h b + (h²/2) b'b + O(h³)`` and ``E[(X_h - θ)^{⊗2}] = h² (b⊗b + Σ) + O(h³)``
(the ``Σ`` terms in the first moment, ``(h/2) tr(hΣ ∇²b)``, are ``O(h³)``). Matching the
first two moments to ``O(h^{p+1})`` (Milstein's theorem, Li–Tai–E Thm. 3) gives weak
order ``p``:

* ``p = 1``: ``b = f̄ = -∇L``;
* ``p = 2``: ``b = f̄ - (h/2) f̄'f̄ = -∇(L + (h/4)‖∇L‖²)``, the order-2 modified flow of
  the mean map ``θ + h f̄``, derived here by bea's pipeline (:func:`bea.derive`);
* both: ``Σ = Cov f_S`` (:func:`bea.stochastic.moments.minibatch_covariance`).

Orders above 2 need the ``Σ`` corrections to the drift and are not derived.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy

from ..rule import Derivation, Rule
from ..derive import derive
from ..atoms import Atom
from .moments import Sampling, batch_moment, minibatch_covariance
from .outer import OuterTerm, Vector

__all__ = ["WEAK_ORDERS", "SME", "sme"]

WEAK_ORDERS = (1, 2)
REFERENCE = "Li, Tai & E, ICML 2017; JMLR 2019"


def mean_step(theta, h, f, w):
    """The mean SGD map ``θ + h E[f_S] = θ + w h f̄`` (``w = n·E-coefficient``, here 1)."""
    return theta + w * h * f(theta)


@dataclass
class SME:
    """``dθ = b dt + √(h Σ) dW`` for i.i.d. minibatches, to weak order ``order``.

    ``drift``: the derivation of ``b`` (``b = f_1 + h f_2``, atom ``f = -∇L``, with its
    modified loss in ``drift.splits``). ``covariance``: ``c`` in
    ``Σ = c Σ_i (f_i - f)(f_i - f)ᵀ``; ``diffusion``: the same as :class:`OuterTerm` s.
    Printed like a derivation: ``bea.render.render(sme, "text" | "latex" | "json")``.
    """

    sampling: Sampling
    order: int
    drift: Derivation
    covariance: sympy.Expr
    diffusion: tuple[OuterTerm, ...]


def sme(order: int, batch, examples, replace: bool = True) -> SME:
    """The SME of SGD with i.i.d. minibatches to weak ``order`` (1 or 2), exactly.

    ``batch`` (``B``) and ``examples`` (``n``): positive integers or sympy symbols.
    """
    if order not in WEAK_ORDERS:
        raise ValueError(f"the SME is derived to weak order 1 or 2, got {order!r}")
    sampling = Sampling(batch, examples, replace)
    (mean_coeff,) = batch_moment(1, sampling).values()  # E f_S = c Σ_i f_i = (n c) f̄
    weight = sympy.factor(mean_coeff * sampling.examples)
    rule = Rule(mean_step, (Atom("f", "L"),), name="sgd-mean", params={"w": weight},
                description="mean SGD step θ + h E[f_S]")
    c = minibatch_covariance(sampling)
    centred = Vector(((sympy.Integer(1), "f_i"), (sympy.Integer(-1), "f")))
    return SME(sampling, order, derive(rule, order), c, (OuterTerm(c, centred, centred, ("i",)),))
