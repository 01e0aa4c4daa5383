"""The FLINT rational-function field and the printing that reads its factorisation,
each against its slow sympy reference."""

from __future__ import annotations

import random
import re

import pytest
import sympy
from sympy.polys.domains import QQ

import bea
from bea.coefficients import RationalFunctionField, _canonical_sum, factored, field_of
from bea.domain import exact_number, field_for
from bea.render import notation as nt
from bea.schemes import build

beta, alpha, lam, m = (sympy.Symbol(n, real=True) for n in ("beta", "alpha", "lam", "m"))


def _random_rational(rng, symbols, degree=3):
    def poly():
        return sum(rng.randint(-4, 4) * sympy.Mul(*[s ** rng.randint(0, degree) for s in symbols])
                   for _ in range(rng.randint(1, 4)))
    den = 0
    while den == 0:
        den = poly()
    return poly() / den


def test_field_arithmetic_matches_sympy_fraction_field():
    rng = random.Random(3)
    symbols = (alpha, beta)
    ours = field_of(symbols)
    ref = QQ.frac_field(*ours.symbols)
    for _ in range(150):
        a, b = (_random_rational(rng, symbols) for _ in range(2))
        x, y = ours.from_sympy(a), ours.from_sympy(b)
        u, v = ref.from_sympy(a), ref.from_sympy(b)
        results = [(x + y, u + v), (x - y, u - v), (x * y, u * v), (x * 3 - 1, u * ref(3) - ref.one)]
        if y:
            results.append((x / y, u / v))
        for got, want in results:
            assert sympy.expand(sympy.cancel(ours.to_sympy(got) - ref.to_sympy(want))) == 0
            assert bool(got) == bool(want)
        assert (x - x) == ours.zero and not (x - x)
        assert x == ours.from_sympy(ours.to_sympy(x))  # canonical: equal values compare equal


def test_elements_are_canonical_and_hashable():
    f = field_of((beta,))
    b = f.gen(beta)
    one_minus = f.one - b
    q1 = (b * b - 1) / (b - 1)
    q2 = b + 1
    assert q1 == q2 and hash(q1) == hash(q2)
    assert (one_minus / one_minus) == f.one
    assert f(sympy.Rational(1, 3)) * 3 == f.one
    with pytest.raises(ZeroDivisionError):
        f.one / f.zero


def test_to_sympy_is_sympys_factored_form():
    rng = random.Random(7)
    for symbols in [(beta,), (alpha, lam), (m,), (beta, m)]:
        f = field_of(symbols)
        for _ in range(60):
            e = _random_rational(rng, symbols)
            if e == 0:
                continue
            ours = f.to_sympy(f.from_sympy(e))
            want = sympy.factor(e)
            assert ours == want, (e, ours, want)
            assert factored(sympy.expand(e)) == sympy.factor(sympy.expand(e))


def test_canonical_sums_equal_evaluated_sums():
    rng = random.Random(11)
    for _ in range(500):
        symbols = rng.choice([(alpha,), (alpha, beta), (beta, alpha), (lam, m)])
        terms = {tuple(rng.randint(0, 4) for _ in symbols): rng.choice([1, -1, 2, -3, 12])
                 for _ in range(rng.randint(1, 6))}
        built = _canonical_sum(symbols, tuple(terms.items()))
        ref = sympy.Add(*[c * sympy.Mul(*[s ** e for s, e in zip(symbols, ex)]) for ex, c in terms.items()])
        assert built == ref and hash(built) == hash(ref) and built.args == ref.args


def test_field_for_picks_flint_for_symbols_and_sympy_for_surds():
    assert field_for([1, sympy.Rational(1, 2)]) is QQ
    assert isinstance(field_for([beta]), RationalFunctionField)
    assert field_for([beta, 2]) is field_for([beta])  # one field per symbol set
    surd = field_for([sympy.sqrt(3), beta])
    assert not isinstance(surd, RationalFunctionField)


def test_from_sympy_refuses_text_and_foreign_expressions():
    f = field_of((beta,))
    with pytest.raises(TypeError):
        f.from_sympy("beta")
    with pytest.raises(ValueError):
        f.from_sympy(sympy.sqrt(beta))
    with pytest.raises(ValueError):
        f.from_sympy(alpha)


def test_exact_number_refuses_underscores():
    with pytest.raises(ValueError, match="without '_'"):
        exact_number("1e4_00")
    with pytest.raises(ValueError, match="without '_'"):
        exact_number("1_000")


# --- printing: the readable form against the sympy route it replaced ----------------------

_GREEK = {"beta": "β", "alpha": "α", "lam": "λ", "lambda": "λ", "gamma": "γ", "rho": "ρ", "eta": "η"}


def _reference_tidy(expr):
    """The sympy route (sympy.factor, fraction, flip of two-term factors)."""
    num, den = sympy.fraction(sympy.factor(expr))
    sign = -1 if num.could_extract_minus_sign() else 1
    num = -num if sign < 0 else num

    def flip(part):
        nonlocal sign
        out = []
        for f in sympy.Mul.make_args(part):
            base, exp = f.as_base_exp()
            if base.is_Add and len(base.args) == 2:
                const = [a for a in base.args if a.is_Number]
                if const and const[0] < 0:
                    base = -base
                    sign = -sign if exp % 2 else sign
            out.append(sympy.Pow(base, exp))
        return sympy.Mul(*out)

    num, den = flip(num), flip(den)
    return sign, num / den


def _reference_text(expr) -> str:
    sign, mag = _reference_tidy(expr)
    greek = {s: sympy.Symbol(_GREEK.get(s.name, s.name)) for s in mag.free_symbols}
    text = ("-" if sign < 0 else "") + sympy.sstr(mag.subs(greek) if greek else mag)
    text = re.sub(r"\*\*(\d+)", lambda mm: nt.superscript(mm.group(1)), text)
    return re.sub(r"(?<=\d)\*(?=[A-Za-z(α-ω])", "", text).replace("*", "·")


def _reference_signed(expr, body="X"):
    sign, mag = _reference_tidy(expr)
    text = _reference_text(mag)
    if mag == 1:
        term = body
    else:
        term = f"({text}) {body}" if isinstance(mag, sympy.Add) else f"{text} {body}"
    return ("-" if sign < 0 else "+", term)


def _corpus():
    """Every coefficient of symbolic derivations across the schemes, times h powers (as the
    modified-loss sections print them)."""
    h = sympy.Symbol("h")
    cases = [("momentum", 6, {"beta": "beta"}), ("momentum", 4, {"beta": "beta", "nesterov": True}),
             ("game", 3, {"mode": "alternating", "rates": "alpha,lam"}),
             ("game", 3, {"mode": "simultaneous", "rates": "alpha,lam"}),
             ("sgd", 3, {"shuffle": "random"}), ("sgd", 3, {"shuffle": "forward"})]
    exprs = []
    for name, order, options in cases:
        d = bea.derive(build(name, order, **options), order)
        for k in range(1, order + 1):
            for c in d.flow[k].values():
                e = d.field.to_sympy(c)
                exprs += [e, -e, e * h ** (k - 1), e / 2]
    return exprs


@pytest.fixture(scope="module")
def corpus():
    return _corpus()


def test_factored_equals_sympy_factor_on_derivations(corpus):
    for e in corpus[::3]:
        assert factored(e) == sympy.factor(e), e


def test_text_coefficients_match_the_sympy_route(corpus):
    for e in corpus:
        assert nt.coefficient(e, nt.TEXT) == _reference_text(e), e
        assert nt.signed_terms([(e, "X")], nt.TEXT) == [_reference_signed(e)], e


def test_text_of_shapes_sympy_distributes():
    """The shapes the readable form leaves to sympy still print as sympy prints them."""
    for e in [2 * beta - 2, (beta ** 2 + 1) / 2, 1 / (1 - beta), 1 / (1 - beta) ** 3,
              (beta + 1) / (2 * beta - 2), -beta - 1, beta ** 2 - 3 * beta + 1, sympy.Rational(-3, 4),
              alpha * lam - 1, (1 - alpha * lam) / (3 * (alpha - lam) ** 2)]:
        assert nt.coefficient(e, nt.TEXT) == _reference_text(e), e
        assert nt.signed_terms([(e, "X")], nt.TEXT) == [_reference_signed(e)], e
