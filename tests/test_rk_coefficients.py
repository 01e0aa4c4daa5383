"""Modified equations of Runge–Kutta methods against the literature (HLW ch. IX;
REFERENCES.md), exactly."""

import json

import pytest
import sympy
from sympy import Rational as R

from bea import derive, parse
from bea.schemes import SchemeError, TABLEAUX, build


def flow(method, order):
    d = derive(build("rk", order, method=method), order)
    return [{str(t): d.field.to_sympy(c) for t, c in d.flow[k].items()} for k in range(order + 1)]


def test_explicit_euler_through_h3():
    f = flow("euler", 4)
    assert f[1] == {"f": 1}
    assert f[2] == {"f[f]": R(-1, 2)}
    assert f[3] == {"f[f,f]": R(1, 12), "f[f[f]]": R(1, 3)}
    assert f[4] == {"f[f,f[f]]": R(-1, 12), "f[f[f,f]]": R(-1, 12), "f[f[f[f]]]": R(-1, 4)}


def test_gd_equals_explicit_euler():
    gd = derive(build("gd", 5), 5)
    rk = derive(build("rk", 5, method="euler"), 5)
    assert gd.flow == rk.flow


def test_tall_trees_of_euler_sum_to_log1p():
    f = flow("euler", 9)
    chain = "f"
    for n in range(1, 10):
        assert f[n][chain] == R((-1) ** (n + 1), n)
        chain = f"f[{chain}]"


def test_implicit_euler_is_the_adjoint():
    f = flow("implicit-euler", 3)
    assert f[2] == {"f[f]": R(1, 2)}
    assert f[3] == {"f[f,f]": R(1, 12), "f[f[f]]": R(1, 3)}


@pytest.mark.parametrize("method, expected", [
    ("implicit-midpoint", {"f[f,f]": R(-1, 24), "f[f[f]]": R(1, 12)}),
    ("trapezoid", {"f[f,f]": R(1, 12), "f[f[f]]": R(1, 12)}),
    ("midpoint", {"f[f,f]": R(-1, 24), "f[f[f]]": R(-1, 6)}),
    ("heun", {"f[f,f]": R(1, 12), "f[f[f]]": R(-1, 6)}),
    ("ralston", {"f[f[f]]": R(-1, 6)}),
])
def test_second_order_methods_at_h2(method, expected):
    f = flow(method, 3)
    assert f[2] == {}
    assert f[3] == expected


def test_rk3_and_rk4_leading_terms():
    f3 = flow("rk3", 4)
    assert f3[2] == f3[3] == {} and f3[4]
    f4 = flow("rk4", 5)
    assert f4[2] == f4[3] == f4[4] == {}
    assert f4[5]["f[f[f[f[f]]]]"] == R(-1, 120)


@pytest.mark.parametrize("method", list(TABLEAUX))
def test_classical_order_p_means_f2_to_fp_vanish(method):
    p = TABLEAUX[method].order
    f = flow(method, p + 1)
    assert all(f[k] == {} for k in range(2, p + 1))
    assert f[p + 1], f"{method} should have a non-zero correction at h^{p}"


@pytest.mark.parametrize("method", [m for m, t in TABLEAUX.items() if t.symmetric])
def test_symmetric_methods_have_only_even_powers_of_h(method):
    f = flow(method, 6)
    assert f[2] == f[4] == f[6] == {}
    assert f[3] or f[5]


def test_gauss_legendre_coefficients_are_rational():
    d = derive(build("rk", 5, method="gauss-legendre-4"), 5)
    for c in d.flow[5].values():
        assert d.field.to_sympy(c).is_Rational


def test_tableau_file_with_decimals_and_fractions(tmp_path):
    path = tmp_path / "heun.json"
    path.write_text(json.dumps({"A": [[0, 0], ["1", 0]], "b": ["0.5", "1/2"]}))
    from_file = derive(build("rk", 4, tableau=str(path)), 4)
    named = derive(build("rk", 4, method="heun"), 4)
    assert from_file.flow == named.flow


@pytest.mark.parametrize("data, message", [
    ({"A": [[0, 0]], "b": [1, 0]}, "square"),
    ({"A": [[0, 0], [1]], "b": [0.5, 0.5]}, "square"),
    ({"A": [[0]], "b": ["__import__('os')"]}, "not a number"),
    ({"A": [[0]], "b": [True]}, "not a number"),
    ({"A": [[0]], "b": [0.5]}, "sum to 1"),
    ({"b": [1]}, "must hold"),
])
def test_bad_tableaux_are_rejected(tmp_path, data, message):
    path = tmp_path / "t.json"
    path.write_text(json.dumps(data))
    with pytest.raises(SchemeError, match=message):
        build("rk", 2, tableau=str(path))


def test_literal_coefficient_lookup():
    d = derive(build("gd", 3), 3)
    assert d.coefficient("f[f[f]]") == R(1, 3)
    assert d.coefficient(parse("f[f,f]")) == R(1, 12)
    assert sympy.simplify(d.coefficient("f[f]") + R(1, 2)) == 0


def test_symbolic_tableau_family_of_second_order_methods():
    """a21 = c, b = (1 - 1/(2c), 1/(2c)): f_3 = (3c-2)/12 f''(f,f) - 1/6 f'f'f, which gives
    explicit midpoint (c = 1/2), Heun (c = 1) and Ralston (c = 2/3, no f''(f,f) term)."""
    from bea import Atom, Rule
    from bea.schemes.rk import runge_kutta

    c = sympy.Symbol("c", positive=True)
    rule = Rule(runge_kutta, (Atom("f", "L"),), name="rk2(c)",
                params={"a": ((0, 0), (c, 0)), "b": (1 - 1 / (2 * c), 1 / (2 * c))})
    d = derive(rule, 3)
    assert d.flow[2] == {}
    assert sympy.simplify(d.coefficient("f[f,f]") - (3 * c - 2) / 12) == 0
    assert d.coefficient("f[f[f]]") == R(-1, 6)
    for method, value in [("midpoint", R(1, 2)), ("heun", 1), ("ralston", R(2, 3))]:
        assert d.coefficient("f[f,f]").subs(c, value) == flow(method, 3)[3].get("f[f,f]", 0)
