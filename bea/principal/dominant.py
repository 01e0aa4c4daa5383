"""The dominant eigenvalue of the one-step matrix ``M(z)``: the ``R`` of the principal flow.

With auxiliary state (momentum) one update maps ``(θ_i, v_i) ↦ M(z)(θ_i, v_i)`` per
eigendirection and ``p(μ, z) = det(μI − M(z))`` has two roots. Generic iterates grow like
the root of largest modulus, so that root decides stability and is the principal flow's
``R``. Near ``z = 0`` it is the root continuing ``R(0) = 1`` (a rule whose other root has
modulus ``≥ 1`` at ``z = 0`` is refused: its auxiliary state does not contract). Writing
``p = aμ² + bμ + c``, ``Δ = b² − 4ac`` and ``r± = (−b ± √Δ)/(2a)`` (principal square root):

* **real roots** (``Δ ≥ 0``): ``|r₋| > |r₊|`` exactly when ``b > 0``, so
  ``R = r₋`` where ``b > 0`` and ``Δ ≥ 0``, else ``r₊`` (at ``b = 0`` the roots are ``±r``,
  equal modulus: ``r₊`` is taken);
* **complex pair** (``Δ < 0``, a branch point on each side): both roots have modulus
  ``√(c/a)``; ``R = r₊ = (−b + i√(−Δ))/(2a)``, ``Im R > 0`` for ``a > 0`` (momentum). The
  other root is its conjugate: same ``|R|``, and from a real start the same real part of the
  PF solution ``R^{t/h}θ_i(0)``.

``R`` is a ``sympy.Piecewise`` of the two branches. At ``Δ = 0`` they agree, so ``R`` is
continuous along the positive real axis wherever the choice only changes at a branch
point. Heavy ball, ``0 < β < 1``: ``R`` continues ``R(0) = 1`` up to ``(1 − √β)²``, is
complex with ``|R|² = β`` up to ``(1 + √β)²``, then the more negative real root, which is
``−1`` at ``z = 2(1 + β)`` and below ``−1`` beyond: the PF diverges there like the iterates.
Rules without auxiliary state have one root, ``R = N(z)/D(z)``.

**Thresholds** (:func:`thresholds`, all ``z_c = z``): positive ``z`` where this ``R`` reaches
``+1`` or ``−1``, or where a complex ``R`` reaches ``|R| = 1`` (``c = a``). Candidates are the
roots of ``p(±1, z)`` and ``c(z) − a(z)``; a candidate is kept only when the dominant ``R``
takes that value there (a non-dominant root crossing ``±1`` is no threshold). Exact when
the roots are rational or the parameters symbolic (radicals, kept when valid at the
sample point, every parameter ``1/3``); otherwise decimals rounded to
:data:`DIGITS` significant digits from the numeric roots (sympy ``nroots``, 30 digits) of
the exact polynomial, whose coefficients may be irrational (a tableau with ``√3``).
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy

from .linear import PrincipalError

__all__ = ["DIGITS", "DOMINANT", "MU", "Threshold", "dominant_root", "sample", "thresholds"]

MU = sympy.Dummy("mu")
"""The unknown of the characteristic polynomial (a Dummy: no clash with user symbols)."""

DIGITS = 15
"""Significant digits of a threshold given as a decimal."""

DOMINANT = (
    "R is the eigenvalue of the one-step matrix of largest modulus (it decides stability), "
    "continuing R(0) = 1; where the two have equal modulus (a complex-conjugate pair between "
    "branch points) R takes the principal square root, (-b + i√(-Δ))/(2a) of aμ² + bμ + c: "
    "the other is its conjugate, with the same |R|"
)

SAMPLE = sympy.Rational(1, 3)
"""Value of every symbolic parameter where a symbolic root is tested (sign, dominance)."""

_Z = sympy.Symbol("z")
_TOLERANCE = 1e-9


@dataclass(frozen=True)
class Threshold:
    """The dominant ``R`` reaches ``crossing`` at ``z`` (all ``z_c = z``): ``+1``, ``-1``, or
    ``0`` for a complex ``R`` on the unit circle (``|R| = 1``)."""

    z: sympy.Expr
    crossing: int


def sample(expr, extra: dict | None = None) -> complex:
    """``expr`` at the sample point: every free symbol :data:`SAMPLE`, ``extra`` first."""
    if extra:
        expr = expr.subs(extra, simultaneous=True)
    values = {s: SAMPLE for s in expr.free_symbols}
    return complex(sympy.N(expr.subs(values), 30))


def dominant_root(polynomial, variables, name) -> sympy.Expr:
    """The root of ``p(μ, z)`` of largest modulus, continuing ``R(0) = 1`` (module docstring).

    Raises :class:`~bea.principal.linear.PrincipalError` (a ``ValueError``) when no single
    root tends to 1, when another root has modulus ``≥ 1`` at ``z = 0`` (tested at the
    sample point for symbolic parameters), or when the step has more than two eigenvalues.
    """
    poly = sympy.Poly(polynomial, MU)
    at_zero = {v: 0 for v in variables}
    if poly.degree() == 1:
        a, c = poly.all_coeffs()
        root = sympy.cancel(-c / a)
        if abs(sample(root, at_zero) - 1) > _TOLERANCE:
            raise PrincipalError(f"rule {name!r}: its linear step does not tend to the identity as z → 0")
        return root
    if poly.degree() != 2:
        raise PrincipalError(f"rule {name!r}: its linear step has {poly.degree()} eigenvalues; the principal "
                         "flow follows the dominant one for at most one auxiliary state variable")
    a, b, c = poly.all_coeffs()
    delta = sympy.expand(b**2 - 4 * a * c)
    plus = (-b + sympy.sqrt(delta)) / (2 * a)
    minus = (-b - sympy.sqrt(delta)) / (2 * a)
    values = [sample(r, at_zero) for r in (plus, minus)]
    near = [i for i, v in enumerate(values) if abs(v - 1) < _TOLERANCE]
    if len(near) != 1:
        raise PrincipalError(f"rule {name!r}: no single eigenvalue of its linear step tends to 1 as "
                         "z → 0 (the auxiliary state is not contracted)")
    other = abs(values[1 - near[0]])
    if other >= 1 - _TOLERANCE:
        raise PrincipalError(f"rule {name!r}: at z = 0 its linear step has an eigenvalue of modulus "
                         f"{other:.6g} ≥ 1 besides 1 (the auxiliary state does not contract; momentum "
                         "needs |β| < 1): no principal flow")
    return sympy.Piecewise((minus, (b > 0) & (delta >= 0)), (plus, True))


def thresholds(polynomial, variables, R) -> tuple[Threshold, ...]:
    """Positive ``z`` (all ``z_c = z``) where the dominant ``R`` reaches ``±1`` or, complex,
    ``|R| = 1``; sorted by value (module docstring)."""
    diagonal = {v: _Z for v in variables}
    p = polynomial.subs(diagonal, simultaneous=True)
    r = R.subs(diagonal, simultaneous=True)
    candidates = [(z, crossing) for crossing in (1, -1) for z in _positive_roots(p.subs(MU, crossing))]
    poly = sympy.Poly(p, MU)
    if poly.degree() == 2:
        a, _, c = poly.all_coeffs()
        candidates += [(z, 0) for z in _positive_roots(c - a)]
    found: list[Threshold] = []
    for z, crossing in candidates:
        value = sample(r, {_Z: z})
        if crossing:
            reached = abs(value - crossing) < _TOLERANCE
        else:
            reached = abs(abs(value) - 1) < _TOLERANCE and abs(value.imag) > _TOLERANCE
        if reached and all(abs(sample(z - t.z)) > _TOLERANCE for t in found):
            found.append(Threshold(z, crossing))
    return tuple(sorted(found, key=lambda t: sample(t.z).real))


def _positive_roots(expr) -> list:
    """Roots ``z > 0`` of a polynomial in ``z`` (symbolic: positive at the sample point)."""
    q = sympy.Poly(expr, _Z)
    if q.is_zero:
        return []
    while q.degree() > 0 and q.eval(0) == 0:
        q = sympy.quo(q, sympy.Poly(_Z, _Z))
    if q.degree() < 1:
        return []
    if q.free_symbols - {_Z}:
        roots = [sympy.factor(r) for r in sympy.roots(q)]
    elif q.domain.is_QQ or q.domain.is_ZZ:
        roots = [r if r.is_Rational else sympy.Float(r.evalf(DIGITS), DIGITS) for r in set(q.real_roots())]
    else:  # irrational coefficients: numeric roots of the exact polynomial
        roots = [sympy.Float(sympy.re(r), DIGITS) for r in q.nroots(n=30, maxsteps=200)
                 if abs(sympy.im(r)) <= 1e-20 * max(1, abs(r))]
    out = []
    for r in roots:
        value = sample(r)
        if abs(value.imag) < _TOLERANCE and value.real > 0:
            out.append(r)
    return out
