"""The polynomial ring of coordinate-wise expressions (bea.coordinatewise.ring).

Its arithmetic, calculus and conversion are held against the sympy canonical form it
replaced (bea.coordinatewise.expressions / calculus), which stays the reference: every
comparison is the canonical form of a difference being zero. The last test derives Adam
with symbolic parameters and with numbers and holds the first equal to the second once
the numbers are put in.
"""

import pytest
import sympy

from bea import derive
from bea.coordinatewise import atom, calculus, canonical, differential, readable, total
from bea.coordinatewise.expressions import frozen
from bea.coordinatewise.boundary import from_sympy, to_canonical
from bea.coordinatewise.ring import RING, Elem
from bea.coordinatewise import ring_calculus
from bea.coordinatewise.ring_calculus import taylor_shift
from bea.schemes import build

F = atom("f")
EPS, B = sympy.symbols("eps b", real=True)
S = sympy.sqrt(F**2 + EPS)
W = frozen("w")
SAMPLES = [
    F / S,
    F**3 / S**5 + EPS * F / S**3,
    differential("f", [F / S]) * F**2 / (1 - B) + S,
    total(F**2) ** sympy.Rational(-1, 2) * F,
    differential("f", [F, F**2 / S]) / S**3 - B * F,
    sympy.exp(F) * sympy.tanh(F / S) + sympy.log(1 + F**2),
]


def same(a, b) -> bool:
    return canonical(a - b) == 0


@pytest.mark.parametrize("expr", SAMPLES)
def test_round_trip_is_the_canonical_form(expr):
    assert same(to_canonical(from_sympy(expr)), expr)
    assert to_canonical(from_sympy(expr)) == canonical(to_canonical(from_sympy(expr)))


def test_roots_reduce_and_zero_is_recognised():
    s = from_sympy(S)
    assert (s * s - from_sympy(F**2 + EPS)).is_zero()
    assert s.inverse() == s / from_sympy(F**2 + EPS)            # 1/R = R/b: no root below
    assert all(RING.factors[fid][0] != RING.ctx.gen(s.gens()[0]) for fid, _ in s.inverse().den)
    # ε f/s³ + f³/s³ = f/s: collects to one term
    assert (from_sympy(EPS * F / S**3 + F**3 / S**3) - from_sympy(F / S)).is_zero()


def test_differentials_are_linear_over_scalars_only_on_a_basis():
    # f²/p + ε/p = 1 inside the argument: the p-adic monomials make D f[·] collect
    p = F**2 + EPS
    lhs = from_sympy(differential("f", [F**2 / p]) + EPS * differential("f", [1 / p]))
    assert (lhs - from_sympy(differential("f", [sympy.S.One]))).is_zero()
    # a vector factor does not move out: D f[f⊙u] is its own atom
    assert not (from_sympy(differential("f", [F * F])) - from_sympy(F * differential("f", [F]))).is_zero()


@pytest.mark.parametrize("expr", SAMPLES[:5])
def test_directional_derivative_matches_the_sympy_calculus(expr):
    direction = F / S + B * differential("f", [F])
    ours = ring_calculus.derivative(from_sympy(expr), from_sympy(direction))
    assert same(to_canonical(ours), calculus.derivative(expr, direction))


def test_taylor_shift_matches_the_sympy_calculus():
    h_terms = [0, F / S, differential("f", [F]) * B]
    ours = taylor_shift(from_sympy(S * F), [from_sympy(d) for d in h_terms], 3)
    theirs = calculus.shift(S * F, h_terms, 3)
    assert all(same(to_canonical(a), b) for a, b in zip(ours, theirs))


def test_substitution_reaches_inside_atoms_and_totals():
    expr = from_sympy(differential("f", [W * F]) + total(W * F) * W)
    value = from_sympy(F / S)
    i = from_sympy(W).gens()[0]
    ours = to_canonical(ring_calculus.substitute(expr, {i: value}, {}))
    assert same(ours, differential("f", [F**2 / S]) + total(F**2 / S) * F / S)


def test_elements_refuse_floats_and_division_by_zero():
    with pytest.raises(ValueError, match="not an exact number"):
        from_sympy(sympy.Float(0.5) * F)
    with pytest.raises(ZeroDivisionError):
        Elem(RING.zero_poly).inverse()


def test_symbolic_adam_at_numbers_is_numeric_adam():
    order = 3
    symbolic = derive(build("adam", order, b1="b1", b2="b2", eps="eps"), order)
    numeric = derive(build("adam", order, b1="0.9", b2="0.999", eps="1e-8"), order)
    values = {symbolic.rule.params["b1"]: sympy.Rational(9, 10),
              symbolic.rule.params["b2"]: sympy.Rational(999, 1000),
              symbolic.rule.params["eps"]: sympy.Rational(1, 10**8)}
    for k in range(1, order + 1):
        assert same(calculus.substitute(symbolic.flow[k], values), numeric.flow[k])


@pytest.mark.parametrize("coeff", [
    (1 + B) / (2 * readable.S * (1 - B)) - readable.G**2 * (B + 1) / (2 * readable.S**3 * (1 - B)),
    readable.G**3 / readable.S**5 * EPS + readable.G / readable.S**3 * (readable.S**2 - readable.G**2) + B,
    sympy.Rational(-1999, 200000000) / readable.S**3 + 990 / readable.S,
])
def test_coefficient_monomials_in_the_ring_are_those_of_sympy(coeff):
    ours = readable._gs_monomials_in_ring(coeff)
    assert ours is not None and ours == readable._gs_monomials_in_sympy(coeff)


def test_coefficients_with_g_inside_a_function_take_the_sympy_route():
    coeff = sympy.exp(-readable.G**2 / 2) * (readable.G**2 - 1) / 2
    assert readable._gs_monomials_in_ring(coeff) is None
    assert {m for _, m in readable._gs_monomials(coeff)} == {readable.G**2 * sympy.exp(-readable.G**2 / 2),
                                                              sympy.exp(-readable.G**2 / 2)}


def test_the_zero_element_has_no_generators():
    zero = from_sympy(sympy.S.Zero)
    assert zero.gens() == [] and zero.deep() == frozenset()
    assert ring_calculus.substitute(zero, {from_sympy(W).gens()[0]: from_sympy(F)}, {}).is_zero()
