"""The noise of random reshuffling: covariance of the SGD epoch map over orderings.

One epoch over ``m`` minibatch atoms ``f_k = -∇L_k`` in the order ``σ`` is the B-series
``Φ_σ(θ) = θ + h Σ_k f_k + h² Σ_{a≠b} c_σ(f_b[f_a]) f_b'f_a + O(h³)`` with
``c_σ(f_b[f_a]) = 1`` when ``a`` comes before ``b`` in ``σ`` and ``0`` otherwise (traced
by :func:`bea.bseries.pipeline.trace_map`). The ``h`` part does not depend on ``σ``, so the
covariance over uniformly random orderings starts at ``h⁴``:

    Cov_σ(Φ_σ(θ)) = h⁴ E_σ[X_σ ⊗ X_σ] + O(h⁵),   X_σ = order-2 part of Φ_σ minus its mean.

The centred coefficients are antisymmetric (``c_σ(f_b[f_a]) + c_σ(f_a[f_b]) = 1`` for
every ``σ``), so ``X_σ = ½ Σ_{a≠b} x_ab [f_a, f_b]`` with Lie brackets
``[f_a, f_b] = f_b'f_a - f_a'f_b`` (bea's convention) and ``x_ba = -x_ab``; this is
checked, not assumed. Then ``E[X⊗X] = ¼ Σ_{a≠b, c≠d} E[x_ab x_cd] [f_a,f_b] ⊗ [f_c,f_d]``,
and ``E[x_ab x_cd]`` depends only on which of ``a, b, c, d`` coincide: under a uniform
ordering of ``m`` minibatches the relative order of any ``d ≤ 4`` of them is uniform over
the ``d!`` orders, whatever ``m``. So the rule is traced over four minibatches and each
coincidence pattern is averaged over the ``4! = 24`` orders of those four (never over
``m!``); brackets are turned so that a shared index comes first
(``[f_i,f_j] ⊗ [f_k,f_i] = -[f_i,f_j] ⊗ [f_i,f_k]``). The result (Smith, Dherin, Barrett &
De, ICLR 2021, give the mean; this is its second moment)

    Cov_σ(Φ_σ) = h⁴ [ 1/8 Σ_{i≠j} [f_i,f_j] ⊗ [f_i,f_j] + 1/12 Σ_{i,j,k distinct} [f_i,f_j] ⊗ [f_i,f_k] ] + O(h⁵);

disjoint pairs are uncorrelated. The coefficients are those of :func:`epoch_covariance`.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from fractions import Fraction

import sympy

from ..rule import Rule
from ..bseries.pipeline import trace_map
from ..domain import field_for
from ..schemes.sgd import epoch
from ..atoms import Atom
from ..bseries.trees import tree
from .moments import set_partitions
from .outer import OuterTerm, Vector

__all__ = ["PATTERN_SIZE", "BracketProduct", "epoch_covariance", "bracket_vector"]

PATTERN_SIZE = 4
"""Minibatches traced: a product of two order-2 trees involves at most four."""

LETTERS = "ijkl"


@dataclass(frozen=True)
class BracketProduct:
    """``coeff · Σ_{indices distinct} [f_a, f_b] ⊗ [f_c, f_d]``, with ``(a, b, c, d)``
    index letters (``("i", "j", "i", "k")``); the whole covariance is ``h⁴`` times the
    sum of these."""

    coeff: sympy.Rational
    letters: tuple[str, str, str, str]

    @property
    def indices(self) -> tuple[str, ...]:
        return tuple(sorted(set(self.letters)))

    def outer_term(self) -> OuterTerm:
        a, b, c, d = self.letters
        idx = self.indices
        constraint = f"{idx[0]}≠{idx[1]}" if len(idx) == 2 else ",".join(idx) + " distinct"
        return OuterTerm(self.coeff, bracket_vector(a, b), bracket_vector(c, d), idx, constraint)


def bracket_vector(a: str, b: str) -> Vector:
    """``[f_a, f_b] = f_b'f_a - f_a'f_b`` as a :class:`Vector` over ``f_a``, ``f_b``."""
    fa, fb = f"f_{a}", f"f_{b}"
    return Vector(((sympy.Integer(1), f"{fb}[{fa}]"), (sympy.Integer(-1), f"{fa}[{fb}]")), (fa, fb))


def _ordering_coefficients(labels: tuple[str, ...]) -> dict:
    """``{σ: {(a, b): c_σ(f_b[f_a])}}`` for every ordering ``σ`` of ``labels``."""
    field = field_for([])
    rule = Rule(epoch, tuple(Atom(lab, None) for lab in labels), name="sgd")
    increment, _ = trace_map(rule, 2, field)
    out = {}
    for sigma in itertools.permutations(labels):
        to_forward = dict(zip(sigma, labels))
        out[sigma] = {
            (a, b): Fraction(int(field.numer(c)), int(field.denom(c)))
            for a in labels for b in labels
            for c in [increment.get(tree(to_forward[b], [tree(to_forward[a])]), field.zero)]
        }
    return out


def _centred_brackets(labels: tuple[str, ...]) -> dict:
    """``{σ: {(a, b): x_ab}}`` with ``X_σ = ½ Σ_{a≠b} x_ab [f_a, f_b]`` (antisymmetry checked)."""
    coeffs = _ordering_coefficients(labels)
    count = len(coeffs)
    mean = {p: sum(c[p] for c in coeffs.values()) / count for p in next(iter(coeffs.values()))}
    out = {}
    for sigma, c in coeffs.items():
        y = {p: c[p] - mean[p] for p in c}
        for a in labels:
            for b in labels:
                if (a == b and y[a, a]) or y[a, b] != -y[b, a]:
                    raise ArithmeticError("the centred order-2 epoch map is not a sum of Lie brackets")
        out[sigma] = {(a, b): y[a, b] for a in labels for b in labels if a != b}
    return out


def _orient(p: tuple[int, ...]) -> tuple[int, tuple[int, ...]]:
    """``(sign, pattern)``: brackets turned so a shared index comes first in both, then
    relabeled in order of first appearance."""
    a, b, c, d = p
    sign = 1
    if {a, b} & {c, d} and {a, b} != {c, d}:
        shared = ({a, b} & {c, d}).pop()
        if a != shared:
            a, b, sign = b, a, -sign
        if c != shared:
            c, d, sign = d, c, -sign
    elif {a, b} == {c, d} and (a, b) != (c, d):
        c, d, sign = d, c, -sign
    first: dict = {}
    return sign, tuple(first.setdefault(x, len(first)) for x in (a, b, c, d))


def epoch_covariance() -> tuple[BracketProduct, ...]:
    """Leading covariance of the random-reshuffling epoch map: ``Cov_σ = h⁴ Σ terms``.

    Exact rationals, valid for every number of minibatches ``m`` (terms with more
    distinct indices than ``m`` are empty sums); see the module docstring.
    """
    labels = tuple(f"f{k}" for k in range(1, PATTERN_SIZE + 1))
    x = _centred_brackets(labels)
    count = len(x)
    total: dict = {}
    for p in set_partitions(4):
        if p[0] == p[1] or p[2] == p[3]:
            continue
        a, b, c, d = (labels[i] for i in p)
        moment = sum(xs[a, b] * xs[c, d] for xs in x.values()) / count
        sign, key = _orient(p)
        total[key] = total.get(key, Fraction(0)) + sign * moment / 4
    return tuple(BracketProduct(sympy.Rational(v.numerator, v.denominator),
                                tuple(LETTERS[i] for i in key))
                 for key, v in sorted(total.items()) if v)
