"""LaTeX coefficients printed from the field's factorisation (bea.render.latexform) are
those ``sympy.latex`` prints of the factored, sign-normalised form (the route the LaTeX
and Markdown printers took before)."""

from __future__ import annotations

import random

import sympy

import bea
from bea.coefficients import field_of
from bea.render import notation as nt
from bea.render.readable import readable
from bea.schemes import build


def _reference_tidy(expr):
    """``(sign, magnitude)``: ``sympy.factor``, then two-term factors with a negative
    constant negated (``β - 1 → 1 - β``) and the sign taken out."""
    num, den = sympy.fraction(sympy.factor(expr))
    sign = -1 if num.could_extract_minus_sign() else 1
    num = -num if sign < 0 else num

    def flip(part):
        nonlocal sign
        out = []
        for f in sympy.Mul.make_args(part):
            base, exp = f.as_base_exp()
            if base.is_Add and len(base.args) == 2 and any(a.is_Number and a < 0 for a in base.args):
                base = -base
                sign = -sign if exp % 2 else sign
            out.append(sympy.Pow(base, exp))
        return sympy.Mul(*out)

    magnitude = flip(num) / flip(den)  # before reading the sign, which flip changes
    return sign, magnitude


def _reference_latex(magnitude) -> str:
    names = {s: sympy.Symbol("lambda" if s.name == "lam" else s.name) for s in magnitude.free_symbols}
    return sympy.latex(magnitude.xreplace(names))


def _reference_signed(expr, body="X"):
    sign, magnitude = _reference_tidy(expr)
    if magnitude == 1:
        term = body
    else:
        text = _reference_latex(magnitude)
        term = rf"\left({text}\right) {body}" if magnitude.is_Add else f"{text} {body}"
    return ("-" if sign < 0 else "+", term)


def _check(exprs) -> int:
    """Compare every expression both ways; return how many took the factorisation route."""
    fast = 0
    for e in exprs:
        sign, magnitude = _reference_tidy(e)
        assert nt.coefficient(e, nt.LATEX) == ("-" if sign < 0 else "") + _reference_latex(magnitude), e
        assert nt.signed_terms([(e, "X")], nt.LATEX) == [_reference_signed(e)], e
        fast += readable(e) is not None
    return fast


def test_derivation_coefficients_print_as_sympy_latex():
    h = sympy.Symbol("h")
    cases = [("momentum", 5, {"beta": "beta"}), ("momentum", 4, {"beta": "beta", "nesterov": True}),
             ("game", 3, {"mode": "alternating", "rates": "alpha,lam"}),
             ("game", 3, {"mode": "simultaneous", "rates": "alpha,lam"}), ("sgd", 4, {})]
    exprs = []
    for name, order, options in cases:
        d = bea.derive(build(name, order, **options), order)
        for k in range(1, order + 1):
            for c in d.flow[k].values():
                e = d.field.to_sympy(c)
                exprs += [e, -e, e * h ** (k - 1)]
    fast = _check(exprs)
    assert fast > len(exprs) // 2  # the factorisation route is the common one, not the fallback


def test_random_rational_functions_in_names_that_sort_differently():
    """Symbol pairs whose LaTeX names sort otherwise than their text names (``beta`` <
    ``m`` but ``m`` < ``β``; ``eta`` < ``gamma`` but ``γ`` < ``η``), subscripted and
    primed names, and sums with negative first terms."""
    rng = random.Random(5)
    exprs = []
    for names in [("beta", "m"), ("gamma", "eta"), ("b1", "eps"), ("eta", "etaprime"), ("alpha", "lam")]:
        symbols = sympy.symbols(names)
        field = field_of(symbols)

        def poly():
            return sum(rng.randint(-5, 5) * symbols[0] ** rng.randint(0, 3) * symbols[1] ** rng.randint(0, 3)
                       for _ in range(rng.randint(2, 4)))

        for _ in range(15):
            num, den = poly(), poly()
            if num == 0 or den == 0:
                continue
            exprs.append(field.to_sympy(field.from_sympy(rng.randint(1, 3) * num * poly() / (den * symbols[1]))))
    fast = _check(exprs)
    assert fast > len(exprs) // 2


def test_shapes():
    beta, m, b1 = sympy.symbols("beta m b1")
    _check([beta * (beta + 1) ** 2 / (1 - beta) ** 5, (beta + 1) / (2 * (1 - beta) ** 3),
            3 * beta ** 2 / (2 * m), (m - 2 * beta ** 2 * m + 7) * beta / m ** 2, b1 ** 2 / (b1 - 1),
            -(beta - 3) * (beta + 2) / 5, sympy.Rational(-3, 4), sympy.Integer(1), 1 / (1 - beta) ** 3,
            (beta ** 2 + 1) / 2, 2 * beta - 2])
