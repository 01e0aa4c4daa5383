"""Exact moments of a sampled minibatch field, as symmetric sums over example indices.

SGD with i.i.d. minibatches (Li, Tai & E, ICML 2017; JMLR 2019) steps along the random
field ``f_S = (1/B) Σ_{s=1}^B f_{a_s}``, where ``f_i = -∇ℓ_i`` are the per-example atoms
(``i = 1 … n``) and the batch ``a_1 … a_B`` is drawn

* **with replacement**: ``B`` independent uniform draws from ``1 … n``;
* **without replacement**: a uniform ``B``-subset (in uniformly random slot order).

Any ``k``-linear expression in ``k`` copies of ``f_S`` (the nodes of a tree, the factors
of an outer product ``f_S ⊗ f_S``) has an exact expectation, a finite average: expand
``B^{-k} Σ_{s_1…s_k}`` over batch slots and group the slot tuples by the partition ``π``
of the ``k`` positions into equal slots (``(B)_{|π|}`` tuples each, the falling factorial).
Distinct slots carry independent uniform examples with replacement, distinct examples
without. Grouping the example assignments by the partition ``ρ`` of positions into equal
*examples* gives

    E[f_S^{⊗k}] = Σ_ρ c_ρ S_ρ,   S_ρ = Σ_{i: constant on the blocks of ρ, distinct across} ⊗_j f_{i_j},

    with replacement:     c_ρ = Σ_{π finer than ρ} (B)_{|π|} / (B^k n^{|π|}),
    without replacement:  c_ρ = (B)_{|ρ|} / (B^k (n)_{|ρ|}).

No batch is enumerated and ``B``, ``n`` may be sympy symbols. For ``k = 1``,
``E f_S = (1/n) Σ_i f_i = f̄ = -∇L``. For ``k = 2`` the covariance
``E[f_S ⊗ f_S] - f̄ ⊗ f̄`` is recognized (:func:`minibatch_covariance`) as
``c · Σ_i (f_i - f̄) ⊗ (f_i - f̄)`` with ``c = 1/(nB)`` with replacement and
``c = (n - B)/(nB(n - 1))`` without (the finite-population factor ``(n-B)/(n-1)``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import sympy

__all__ = ["Sampling", "SamplingError", "set_partitions", "batch_moment", "minibatch_covariance"]


class SamplingError(ValueError):
    """Sampling options that do not describe a minibatch draw."""


@dataclass(frozen=True)
class Sampling:
    """A minibatch draw: ``batch`` ``B`` of ``examples`` ``n``, ``replace`` or not.

    ``batch`` and ``examples`` are positive integers or sympy symbols (made positive
    integers here); ``n ≥ 2`` (one example makes the step deterministic), and without
    replacement a numeric batch must not exceed ``n``.
    """

    batch: object
    examples: object
    replace: bool = True

    def __post_init__(self):
        for name in ("batch", "examples"):
            value = getattr(self, name)
            if isinstance(value, sympy.Symbol):
                object.__setattr__(self, name, sympy.Symbol(value.name, positive=True, integer=True))
            elif isinstance(value, int) and not isinstance(value, bool) and value >= 1:
                object.__setattr__(self, name, sympy.Integer(value))
            elif isinstance(value, sympy.Integer) and value >= 1:
                pass
            else:
                raise SamplingError(f"{name} must be a positive integer or a symbol, got {value!r}")
        if self.examples.is_Integer and self.examples < 2:
            raise SamplingError("examples must be at least 2 (one example has no sampling noise)")
        if not self.replace and self.batch.is_Integer and self.examples.is_Integer \
                and self.batch > self.examples:
            raise SamplingError(f"a batch of {self.batch} cannot be drawn without replacement "
                                f"from {self.examples} examples")


@cache
def set_partitions(k: int) -> tuple[tuple[int, ...], ...]:
    """Partitions of ``k`` positions as restricted growth strings: ``(0, 0)`` puts both
    positions in one block, ``(0, 1)`` in two; block ids in order of first appearance."""
    if k == 0:
        return ((),)
    out = []
    for p in set_partitions(k - 1):
        top = max(p, default=-1)
        out.extend(p + (b,) for b in range(top + 2))
    return tuple(out)


def _blocks(p: tuple[int, ...]) -> int:
    return len(set(p))


def _finer(pi: tuple[int, ...], rho: tuple[int, ...]) -> bool:
    """Whether every block of ``pi`` lies inside a block of ``rho``."""
    image: dict = {}
    return all(image.setdefault(a, b) == b for a, b in zip(pi, rho))


def _falling(x, j: int):
    return sympy.Mul(*[x - r for r in range(j)])


def batch_moment(k: int, sampling: Sampling) -> dict[tuple[int, ...], sympy.Expr]:
    """``E[f_S^{⊗k}] = Σ_ρ c_ρ S_ρ`` as ``{ρ: c_ρ}`` (module docstring), zeros dropped."""
    B, n = sampling.batch, sampling.examples
    out = {}
    for rho in set_partitions(k):
        if sampling.replace:
            c = sum((_falling(B, _blocks(pi)) / (B**k * n**_blocks(pi))
                     for pi in set_partitions(k) if _finer(pi, rho)), sympy.Integer(0))
        else:
            slots = _falling(B, _blocks(rho))
            c = 0 if slots == 0 else slots / (B**k * _falling(n, _blocks(rho)))
        c = sympy.factor(sympy.simplify(c))
        if c != 0:
            out[rho] = c
    return out


def minibatch_covariance(sampling: Sampling) -> sympy.Expr:
    """``c`` with ``Cov(f_S) = c · Σ_i (f_i - f̄)(f_i - f̄)ᵀ``, from :func:`batch_moment`.

    In the basis ``S_same = Σ_i f_i ⊗ f_i``, ``S_distinct = Σ_{i≠j} f_i ⊗ f_j``:
    ``f̄ ⊗ f̄ = (S_same + S_distinct)/n²`` and ``Σ_i (f_i - f̄)^{⊗2} = (1 - 1/n) S_same
    - S_distinct/n``. The covariance is solved for ``c`` from its ``S_distinct`` part and
    its ``S_same`` part is checked to agree (it must: a covariance of an exchangeable
    draw is centred); the per-example covariance ``(1/n) Σ_i (∇ℓ_i - ∇L)(∇ℓ_i - ∇L)ᵀ``
    is then multiplied by ``n c`` (``1/B``, times ``(n-B)/(n-1)`` without replacement).
    """
    n = sampling.examples
    second = batch_moment(2, sampling)
    same = second.get((0, 0), 0) - 1 / n**2
    distinct = second.get((0, 1), 0) - 1 / n**2
    c = sympy.factor(-n * distinct)
    if sympy.simplify(same - c * (1 - 1 / n)) != 0:
        raise ArithmeticError("the minibatch covariance is not a centred per-example sum")
    return c
