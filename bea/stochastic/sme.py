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

import json
from dataclasses import dataclass

import sympy

from ..derive import Derivation, Rule, derive
from ..render import notation as nt
from ..tracing import Atom
from .moments import Sampling, batch_moment, minibatch_covariance
from .outer import OuterTerm, Vector, outer_json, outer_text

__all__ = ["WEAK_ORDERS", "SME", "sme"]

WEAK_ORDERS = (1, 2)
H = sympy.Symbol("h")
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
    """

    sampling: Sampling
    order: int
    drift: Derivation
    covariance: sympy.Expr
    diffusion: tuple[OuterTerm, ...]

    # -- printing -------------------------------------------------------------------
    def _options(self) -> dict:
        s = self.sampling
        return {"batch": _plain(s.batch), "examples": _plain(s.examples), "replace": s.replace}

    def _describe(self) -> str:
        s = self.sampling
        how = "with" if s.replace else "without"
        sizes = ", ".join(f"{k} = {v}" for k, v in (("B", s.batch), ("n", s.examples)) if v.is_Integer)
        return (f"SGD with i.i.d. minibatches of B from n examples, {how} replacement"
                + (f" ({sizes})" if sizes else ""))

    def _drift_rows(self, style) -> list[str]:
        rows = []
        for k in range(1, self.order + 1):
            terms = [(self.drift.field.to_sympy(c), nt.elementary(t, style))
                     for t, c in sorted(self.drift.flow[k].items(), key=lambda tc: str(tc[0]))]
            rows.append((nt.flow_name(k, style), nt.signed_sum(terms, style)))
        return rows

    def _loss(self, style) -> str:
        parts = []
        for k in range(1, self.order + 1):
            for s, w in self.drift.splits[k][None].weights.items():
                parts.append((self.drift.field.to_sympy(w) * H ** (k - 1), nt.scalar(s, style)))
        return nt.signed_sum(parts, style)

    def _per_example(self, style) -> str:
        s = self.sampling
        factor = sympy.factor(self.covariance * s.examples)
        if style.latex:
            body = r"\frac{1}{n} \sum_i (\nabla \ell_i - \nabla L)(\nabla \ell_i - \nabla L)^\top"
        else:
            body = "(1/n) Σ_i (∇ℓ_i - ∇L)(∇ℓ_i - ∇L)ᵀ"
        return nt.signed_sum([(factor, body)], style)

    def to_text(self) -> str:
        b = " + ".join(f"h^{k - 1} " * (k > 1) + nt.flow_name(k, nt.TEXT) for k in range(1, self.order + 1))
        lines = [
            f"sgd --sampling iid: stochastic modified equation, weak order {self.order}",
            self._describe(),
            "atoms: f^[i] = -∇ℓ_i (i = 1…n), f = -∇L = 1/n Σ_i f^[i], L = 1/n Σ_i ℓ_i · time h per step",
            "",
            "SDE   dθ = b(θ) dt + √(h Σ(θ)) dW   (Itô)",
            f"drift   b = {b}".replace("h^1 ", "h "),
        ]
        lines += [f"  {name} = {body}" for name, body in self._drift_rows(nt.TEXT)]
        loss = self._loss(nt.TEXT)
        lines += [f"  b = -∇({loss})" if self.order > 1 else f"  b = -∇{loss}", "",
                  f"diffusion   Σ = {outer_text(self.diffusion, nt.TEXT)}",
                  f"            = {self._per_example(nt.TEXT)}", "", f"({REFERENCE})"]
        return "\n".join(lines)

    def to_latex(self) -> str:
        rows = [f"{name} &= {body}" for name, body in self._drift_rows(nt.LATEX)]
        rows += [rf"b &= -\nabla\left({self._loss(nt.LATEX)}\right)",
                 rf"\Sigma &= {outer_text(self.diffusion, nt.LATEX)}",
                 rf"&= {self._per_example(nt.LATEX)}"]
        return "\\begin{align*}\n" + " \\\\\n".join(rows) + "\n\\end{align*}"

    def to_json(self) -> str:
        return json.dumps(self.data(), indent=2, ensure_ascii=False)

    def data(self) -> dict:
        """The JSON document: ``drift`` as flow terms of the atom ``f`` (bea's flow JSON),
        ``drift_loss`` (``b = -∇ Σ_k h^{k-1} Σ coeff S(tree)``) and ``diffusion``
        (``Σ`` in the grammar of :mod:`bea.stochastic.outer`; noise ``√(h Σ) dW``)."""
        field = self.drift.field
        drift = [{"order": k, "terms": [{"tree": str(t), "coeff": str(sympy.factor(field.to_sympy(c)))}
                                        for t, c in sorted(self.drift.flow[k].items(), key=lambda tc: str(tc[0]))]}
                 for k in range(1, self.order + 1)]
        loss = [{"order": k, "terms": [{"tree": str(s), "coeff": str(sympy.factor(field.to_sympy(w))),
                                        "text": nt.scalar(s, nt.TEXT)}
                                       for s, w in self.drift.splits[k][None].weights.items()]}
                for k in range(1, self.order + 1)]
        symbols = sorted({s.name for s in self.covariance.free_symbols})
        return {
            "scheme": "sgd", "sampling": "iid", "kind": "sme", "description": self._describe(),
            "options": self._options(), "order": self.order,
            "atoms": ["f"],
            "atom_fields": [{"label": "f", "loss": "L", "block": None, "sign": 1}],
            "examples": {"label": "f_i", "loss": "ℓ_i", "mean": "f = 1/n Σ_i f_i"},
            "sde": "dθ = b dt + sqrt(h Σ) dW",
            "drift": drift, "drift_loss": loss,
            "diffusion": {"matrix": "Σ", "terms": outer_json(self.diffusion)},
            "symbols": symbols, "reference": REFERENCE,
        }


def _plain(x):
    return int(x) if x.is_Integer else str(x)


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
