"""The principal flow of an update rule: ``R(z)``, ``ψ(z)``, stability thresholds.

Under commuting Hessians (:data:`bea.principal.linear.COMMUTING_HESSIANS`) one cycle of
a rule multiplies each eigencomponent ``θ_i = u_iᵀθ`` by ``R(z)``, ``z_c = hλ_{c,i}``
(Rosca, Wu, Qin & Dherin, *On a continuous time model of gradient descent dynamics and
instability in deep learning*, TMLR 2023). The linear flow with time-``cycle·h`` map ``R``
is, per eigendirection,

    θ_i' = (ρ(z)/h) θ_i,   ρ(z) = log R(z) / cycle,

and with a single atom ``f = -∇L`` (``g = ∇L``, ``gᵀu_i = λ_i θ_i``) this is the
principal flow ``θ' = Σ_i ψ(hλ_i)(gᵀu_i)u_i`` with ``ψ(z) = log R(z)/z`` (cycle 1); for
gradient descent ``ψ(z) = log(1-z)/z``. In general (several atoms, a cycle of several
updates) the same holds with ``ψ = log R(z)/Σ_c z_c`` and ``g = (1/cycle) Σ_c ∇L_c`` (the mean minibatch loss of an SGD
epoch, the summed loss of a joint multitask step): ``ψ = ρ/ζ``, ``ζ = Σ_c w_c z_c``,
``w_c = 1/cycle``. ``ψ(0) = -1`` for gd, SGD and Runge–Kutta; ``-1/(1-β)`` for momentum.

**Rules with auxiliary state** (momentum): ``(θ, v) ↦ M(z)(θ, v)`` per eigendirection, and
``R`` is the eigenvalue of ``M`` of largest modulus, the one that decides stability
(:mod:`.dominant`, which states the convention where the two have equal modulus). Near
``z = 0`` it is the eigenvalue continuing ``R(0) = 1``: on its eigenvector (the linear
slaved manifold ``v = (1 - 1/R)θ`` for heavy ball) the rule is the map ``θ ↦ Rθ``
(Cattaneo & Shigida, arXiv 2509.08483). Past a branch point it is the other root: heavy
ball beyond ``z = (1 + √β)²``, so that ``|R| > 1`` beyond ``z = 2(1 + β)`` as for the
iterates. ``R`` is given in closed form (radicals, a ``Piecewise`` of the two roots) and,
for the series, as the root of ``p(R, z) = det(R·I - M(z)) = 0`` by a chord iteration.

**Complex logarithm.** Where ``R ≤ 0`` (gradient descent for ``z > 1``) or ``R`` is
complex (momentum between its branch points) ``log`` is the principal branch,
``log|R| + i·arg R`` (``+iπ`` for ``R < 0``), as in Rosca et al. The PF is then complex;
its solution ``R^{t/(cycle·h)} θ_i(0)`` is real at every integer number of cycles, where it
equals the iterates, and its real part ``|R|^{t/τ} cos(π t/τ)`` (``τ = cycle·h``, ``R < 0``)
interpolates the sign-alternating iterates between them.

**Thresholds.** On the positive real axis (all ``z_c = z`` when there are several atoms),
the ``z`` where this ``R`` reaches ``±1`` (``|R| = 1``): gd ``z = 2``, rk4 ``z ≈ 2.785``,
heavy ball ``z = 2(1+β)``, Nesterov ``z = 2(1+β)/(1+2β)``
(:func:`.dominant.thresholds`; decimals where the roots are irrational).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import sympy

from .dominant import DIGITS, DOMINANT, MU, SAMPLE, Threshold, dominant_root, thresholds
from .linear import COMMUTING_HESSIANS, linear_step
from .notation import WIDTH, fit, latex, text

__all__ = ["PrincipalFlow", "Threshold", "stability_function", "COMPLEX_LOG", "MU"]

COMPLEX_LOG = (
    "log is the principal branch, log|R| + i·arg R (+iπ where R < 0; Rosca et al. 2023): the PF "
    "solution R^{t/(cycle·h)}·θ_i(0) is real and equals the iterates at every integer cycle; "
    "its real part interpolates them in between"
)

_Z = sympy.Symbol("z")


@dataclass(frozen=True)
class PrincipalFlow:
    """The principal flow of a rule (see the module docstring for the mathematics).

    ``R``: growth factor of one cycle per eigendirection, in ``variables``; ``psi``:
    ``log R/(cycle·ζ)``; ``weights``: ``w_c = 1/cycle`` with ``ζ = Σ w_c z_c`` and
    ``g = Σ_c w_c ∇L_c``; ``polynomial``:
    ``p(μ, z)`` (``μ`` is :data:`MU`) whose dominant root is ``R`` (``D(z)μ - N(z)`` for a
    rational ``R = N/D``; the characteristic polynomial of ``M`` with auxiliary state);
    ``shuffled``: ``R`` is the mean over orderings of the atoms.
    """

    scheme: str
    variables: tuple
    R: sympy.Expr
    psi: sympy.Expr
    cycle: sympy.Expr
    weights: tuple
    thresholds: tuple
    polynomial: sympy.Expr
    matrix: sympy.Matrix
    shuffled: bool = False
    assumption: str = COMMUTING_HESSIANS

    @property
    def zeta(self) -> sympy.Expr:
        return sum((w * z for w, z in zip(self.weights, self.variables)), sympy.Integer(0))

    @property
    def rate(self) -> sympy.Expr:
        """``ρ = log R / cycle``: ``θ_i' = (ρ/h) θ_i`` per eigendirection."""
        return sympy.log(self.R) / self.cycle

    def R_series(self, order: int) -> sympy.Expr:
        """Taylor polynomial of ``R`` of total degree ``≤ order`` in ``variables``."""
        roots = [_root_series(self.polynomial, self.variables, image, order)
                 for image in self._orderings()]
        return sympy.expand(sum(roots, sympy.Integer(0)) / len(roots))

    def rate_series(self, order: int) -> sympy.Expr:
        """Taylor polynomial of ``ρ = log R / cycle`` of total degree ``≤ order``."""
        gens = self.variables
        w = sympy.Poly(self.R_series(order) - 1, *gens)
        power = sympy.Poly(1, *gens, domain=w.domain)
        log = sympy.Poly(0, *gens, domain=w.domain)
        for k in range(1, order + 1):
            power = _truncate(power * w, order)
            log = log + power * sympy.Rational((-1) ** (k + 1), k)
        return _canonical(log) / self.cycle

    def series(self, order: int) -> sympy.Expr:
        """Taylor polynomial of ``ψ`` to ``z^{order-1}`` (all ``z_c = z`` for several atoms),
        the resummed counterpart of the order-``order`` modified flow."""
        diagonal = {v: _Z for v in self.variables}
        rho = sympy.Poly(self.rate_series(order).subs(diagonal, simultaneous=True), _Z)
        scale = sympy.cancel(self.zeta.subs(diagonal, simultaneous=True) / _Z)
        return _canonical(sympy.quo(rho, sympy.Poly(_Z, _Z)) * sympy.Poly(1 / scale, _Z))

    def _orderings(self):
        if not self.shuffled:
            return [self.variables]
        return list(itertools.permutations(self.variables))

    # -- output ------------------------------------------------------------------------
    def to_json(self) -> dict:
        return {
            "R": str(self.R),
            "psi": str(self.psi),
            "variables": [str(v) for v in self.variables],
            "thresholds": [{"z": str(t.z), "R": _crossing_text(t)} for t in self.thresholds],
            "cycle": str(self.cycle),
            "assumption": self.assumption,
            "eigenvalue": DOMINANT,
            "logarithm": COMPLEX_LOG,
        }

    def _field_text(self) -> str:
        if len(self.variables) == 1 and self.cycle == 1:
            return "θ' = Σ_i ψ(hλ_i) (∇Lᵀu_i) u_i"
        return (f"θ' = Σ_i ψ(z_i) (gᵀu_i) u_i, g = (1/{text(self.cycle)}) Σ_c ∇L_c, "
                "z_c = hλ_{c,i}")

    def _branches(self):
        """``(far, near, where, Δ)`` of a two-root ``R`` (:func:`.dominant.dominant_root`):
        the roots as ``(-b ∓ √Δ, 2a)`` in the symbol ``Δ`` (written out once) where they have
        that form, else ``(root, None)``; the condition for ``far`` as ``(z, strict, bound)``
        or ``(b, Δ)``; and ``Δ = b² - 4ac``."""
        (far, condition), (near, _) = self.R.args
        a, b, c = sympy.Poly(self.polynomial, MU).all_coeffs()
        delta = sympy.expand(b**2 - 4 * a * c)
        if far == (-b - sympy.sqrt(delta)) / (2 * a) and near == (-b + sympy.sqrt(delta)) / (2 * a):
            far, near = (((-b + sign * sympy.sqrt(_DELTA)), 2 * a) for sign in (-1, 1))
        else:
            far, near = (far, None), (near, None)
        return far, near, _half_line(condition) or (b, delta), delta

    def _R_text(self, zs: str) -> list[str]:
        if not isinstance(self.R, sympy.Piecewise):
            psi = text(self.psi) if self._psi_fits() else f"log(R({zs}))/{_factor_text(self.cycle * self.zeta)}"
            return [f"  R({zs}) = {text(self.R)}", f"  ψ({zs}) = {psi}"]
        far, near, where, delta = self._branches()
        if len(where) == 3:
            where = f"{text(where[0])} {'>' if where[1] else '≥'} {text(where[2])}"
        else:
            v, relation, bound = _solved(where[0], self.variables)
            discriminant = "Δ" if far[1] is not None else text(where[1])
            where = f"{text(v)} {relation} {text(bound)} and {discriminant} ≥ 0"
        pad = " " * len(f"  R({zs}) ")
        lines = []
        for lead, form, note in ((f"  R({zs}) = ", far, f"where {where} (the root of larger modulus)"),
                                 (f"{pad}= ", near, "elsewhere (continuing R(0) = 1)")):
            line = f"{lead}{_quotient_text(form)}   {note}"
            lines += [line] if len(line) <= WIDTH else [lead + _quotient_text(form), " " * len(lead) + note]
        if far[1] is not None:
            lines.append(f"  Δ = b² - 4ac = {text(delta)}")
        return lines + [f"  {DOMINANT}", f"  ψ({zs}) = log(R({zs}))/{_factor_text(self.cycle * self.zeta)}"]

    def _psi_fits(self) -> bool:
        """Whether ``ψ`` written out fits a text line; else it is written ``log R/ζ`` (in LaTeX too)."""
        zs = ", ".join(map(text, self.variables))
        return len(f"  ψ({zs}) = {text(self.psi)}") <= WIDTH

    def to_text(self) -> str:
        """The principal flow in bea's text notation, lines of at most 100 characters."""
        zs = ", ".join(map(text, self.variables))
        lines = [
            f"principal flow of {self.scheme} (assumes {self.assumption})",
            *self._R_text(zs),
            f"  {self._field_text()}",
            f"  {COMPLEX_LOG}",
        ]
        if self.thresholds:
            where = ", ".join(f"z = {text(t.z)} (R = {_crossing_text(t)})" for t in self.thresholds)
            line, note = f"  |R| = 1 at {where}", self._threshold_note()
            lines += [line + note] if len(line + note) <= WIDTH else [line, "    " + note.strip()]
        else:
            lines.append("  |R| < 1 for every z > 0 (no threshold on the positive real axis)")
        return "\n".join(part for line in lines for part in fit(line))

    def _threshold_note(self) -> str:
        notes = []
        if any(isinstance(t.z, sympy.Float) for t in self.thresholds):
            notes.append(f"decimals: numeric roots of the exact polynomial, {DIGITS} significant digits")
        if any(sympy.sympify(t.z).free_symbols for t in self.thresholds):
            notes.append(f"symbolic: the dominant root checked with every parameter = {SAMPLE}")
        return f"   ({'; '.join(notes)})" if notes else ""

    def to_latex(self) -> str:
        """The principal flow in LaTeX (sympy's printer, bea's names), one formula a line."""
        zs = ", ".join(latex(v) for v in self.variables)
        if isinstance(self.R, sympy.Piecewise):
            far, near, where, delta = self._branches()
            if len(where) == 3:
                where = f"{latex(where[0])} {_LATEX_RELATIONS['>' if where[1] else '≥']} {latex(where[2])}"
            else:
                v, relation, bound = _solved(where[0], self.variables)
                discriminant = latex(_LATEX_DELTA if far[1] is not None else where[1])
                where = (f"{latex(v)} {_LATEX_RELATIONS[relation]} {latex(bound)} \\text{{ and }} "
                         f"{discriminant} \\ge 0")
            lines = [  # rows and a line of words, not a cases block: rows may be broken
                f"R({zs}) = {_quotient_latex(far)}",
                f"\\text{{where }} {where} \\text{{ (the root of larger modulus); otherwise}}",
                f"R({zs}) = {_quotient_latex(near)}",
                *([f"\\Delta = {latex(delta)}"] if far[1] is not None else []),
                "\\text{R: the eigenvalue of the one-step matrix of largest modulus, continuing } R(0)=1"
                "\\text{; a complex pair (equal modulus): the principal square root, same } |R|",
                f"\\psi({zs}) = \\frac{{\\log R({zs})}}{{{latex(self.cycle * self.zeta)}}}",
            ]
        else:
            psi = (latex(self.psi) if self._psi_fits()
                   else f"\\frac{{\\log R({zs})}}{{{latex(self.cycle * self.zeta)}}}")
            lines = [f"R({zs}) = {latex(self.R)}", f"\\psi({zs}) = {psi}"]
        lines += [f"|R| = 1 \\text{{ at }} z = {latex(t.z)} \\; (R = {_crossing_text(t)})"
                  for t in self.thresholds]
        return "\n".join(lines)


_DELTA = sympy.Symbol("Δ")
_LATEX_DELTA = sympy.Symbol("Delta")


def _quotient_text(form) -> str:
    """``(numerator)/denominator`` of a branch of ``R``; ``numerator`` alone over 1 or ``None``."""
    numerator, denominator = form
    if denominator in (1, None):
        return text(numerator)
    return f"({text(numerator)})/{_factor_text(denominator)}"


def _quotient_latex(form) -> str:
    numerator, denominator = form
    numerator = numerator.xreplace({_DELTA: _LATEX_DELTA})
    if denominator in (1, None):
        return latex(numerator)
    return f"\\frac{{{latex(numerator)}}}{{{latex(denominator)}}}"


_LATEX_RELATIONS = {">": ">", "≥": r"\ge", "<": "<"}


def _solved(b, variables) -> tuple:
    """``b > 0`` as ``(v, relation, bound)``: solved for ``v`` where ``b`` is linear in one
    variable with a number as coefficient (``z > β + 1``), else ``(b, ">", 0)`` with ``b``
    factored (``(β + 1)(z - 1) > 0``)."""
    for v in variables:
        k = sympy.diff(b, v)
        if k.is_Number and k != 0 and not (b - k * v).has(*variables):
            return v, ">" if k > 0 else "<", sympy.expand(-(b - k * v) / k)
    return sympy.factor(b), ">", sympy.Integer(0)


def _crossing_text(t: Threshold) -> str:
    return f"{t.crossing:+d}" if t.crossing else "complex"


def _factor_text(expr) -> str:
    printed = text(expr)
    return printed if expr.is_Symbol or expr.is_Number else f"({printed})"


def _half_line(condition):
    """``(z, strict, a)`` when a condition on one variable ``z`` is ``z > a`` / ``z ≥ a``, else ``None``."""
    if len(condition.free_symbols) != 1:
        return None
    (z,) = condition.free_symbols
    region = condition.as_set()
    if isinstance(region, sympy.Interval) and region.end == sympy.oo:
        return z, bool(region.left_open), region.start
    return None


def stability_function(rule) -> PrincipalFlow:
    """The principal flow of ``rule`` under commuting Hessians (exact, closed form).

    Traces ``rule.step`` itself on linear fields (:func:`bea.principal.linear.linear_step`),
    takes the eigenvalue of ``M(z)`` of largest modulus (:func:`.dominant.dominant_root`),
    averages over orderings for random reshuffling, and finds where it reaches ``±1``.
    """
    variables, matrix = linear_step(rule)
    polynomial = _characteristic(matrix)
    R = dominant_root(polynomial, variables, rule.name)
    shuffled = bool(rule.shuffle) and not _symmetric(R, variables)
    if shuffled:
        perms = list(itertools.permutations(variables))
        R = sum((R.subs(dict(zip(variables, p)), simultaneous=True) for p in perms),
                sympy.Integer(0)) / math.factorial(len(variables))
    cycle = sympy.Integer(rule.cycle) if isinstance(rule.cycle, int) else rule.cycle
    weights = tuple(1 / cycle for _ in variables)
    zeta = sum((w * z for w, z in zip(weights, variables)), sympy.Integer(0))
    psi = sympy.log(R) / (cycle * zeta)
    # on the diagonal z_c = z every ordering gives the same R: thresholds need no averaging
    return PrincipalFlow(rule.name, variables, R, psi, cycle, weights,
                         thresholds(polynomial, variables, R), polynomial, matrix, shuffled)


def _characteristic(matrix: sympy.Matrix) -> sympy.Expr:
    """``det(μI - M)`` with denominators in ``z`` cleared (a polynomial in ``μ`` and ``z``).

    Cancelled over the field of its coefficients (``extension=True``): a tableau with ``√3``
    gives ``R = N/D`` in lowest terms, without a common factor over ``ℚ(√3)``."""
    n = matrix.shape[0]
    det = (MU * sympy.eye(n) - matrix).det(method="berkowitz")
    numerator, _ = sympy.fraction(sympy.cancel(sympy.together(det), extension=True))
    return sympy.expand(numerator)


def _symmetric(R, variables) -> bool:
    for a, b in zip(variables, variables[1:]):
        if sympy.simplify(R - R.subs({a: b, b: a}, simultaneous=True)) != 0:
            return False
    return True


def _canonical(p: sympy.Poly) -> sympy.Expr:
    """A polynomial as an expression with each coefficient factored (``1/(1 - β)``)."""
    return sympy.Add(*[sympy.factor(c) * sympy.Mul(*[g**e for g, e in zip(p.gens, m)])
                       for m, c in p.terms()])


def _truncate(p: sympy.Poly, order: int) -> sympy.Poly:
    kept = {m: c for m, c in p.as_dict(native=True).items() if sum(m) <= order}
    return sympy.Poly.from_dict(kept, *p.gens, domain=p.domain) if kept else p.mul_ground(0)


def _root_series(polynomial, variables, image, order: int) -> sympy.Expr:
    """Series of the root ``μ(z)`` of ``p(μ, z) = 0`` with ``μ(0) = 1``, total degree ``≤ order``.

    ``p`` is taken with ``variables`` replaced by ``image`` (a permutation of them, for the
    mean over orderings). Chord iteration ``μ ← μ - p(μ, z)/∂_μ p(1, 0)``: the error is
    multiplied by ``1 - ∂_μ p(μ, z)/∂_μ p(1, 0) = O(z)``, so each sweep fixes one degree.
    """
    p = polynomial.subs(dict(zip(variables, image)), simultaneous=True)
    slope = sympy.diff(p, MU).subs(MU, 1).subs({v: 0 for v in variables})
    coeffs = [sympy.Poly(c, *variables) for c in sympy.Poly(p, MU).all_coeffs()]
    inverse = sympy.Poly(1 / slope, *variables)
    mu = sympy.Poly(1, *variables)
    for _ in range(order + 1):
        value = coeffs[0]
        for c in coeffs[1:]:
            value = _truncate(value * mu, order) + c
        if value.is_zero:
            break
        mu = mu - _truncate(value * inverse, order)
    return mu.as_expr()
