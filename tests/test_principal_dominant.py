"""The principal flow follows the dominant eigenvalue of the one-step matrix (issue 20, item 9).

Heavy ball and Nesterov: ``R`` is the root of ``p(μ, z)`` of largest modulus, so the
printed ``R`` is ``±1`` at every printed threshold and ``|R| > 1`` beyond it, and the PF
grows past ``z = 2(1+β)`` like the iterates. Irrational ``R(z)`` (tableaux with surds)
gets numeric thresholds; coordinate-wise rules are refused before any work.
"""

import json
import textwrap

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import sympy
from click.testing import CliRunner

from bea import Atom, Rule
from bea.check import make_problem
from bea.check.common import float64
from bea.check.principal import numeric_flow, principal_trajectory, top_eigenvalue
from bea.check.setup import prepare
from bea.derive import derive
from bea.principal import MU, PrincipalError, Threshold, stability_function
from bea.principal.numeric import psi_function
from bea.schemes import build
from bea.schemes.momentum import heavy_ball, nesterov_momentum
from cli.main import main

z = sympy.Symbol("z")
beta = sympy.Symbol("beta", real=True)
s = sympy.Symbol("s", positive=True)
INSIDE = {False: (1 - s) / (1 + s), True: s / (1 + s)}
"""β in terms of a positive symbol: (-1, 1) for heavy ball, (0, 1) for Nesterov (whose
threshold 2(1+β)/(1+2β) exists for β > -1/2)."""


def momentum(b, nesterov):
    return stability_function(build("momentum", 1, beta=b, nesterov=nesterov))


def threshold_of(b, nesterov):
    return 2 * (1 + b) / (1 + 2 * b) if nesterov else 2 * (1 + b)


# -- the printed R at the printed thresholds -----------------------------------------------

@pytest.mark.parametrize("nesterov", [False, True], ids=["heavy-ball", "nesterov"])
@pytest.mark.parametrize("b", ["1/2", "1/10", "9/10", "-1/4"])
def test_R_is_minus_one_at_the_threshold_numbers(b, nesterov):
    pf = momentum(b, nesterov)
    expected = threshold_of(sympy.Rational(b), nesterov)
    assert [(t.z, t.crossing) for t in pf.thresholds] == [(expected, -1)]
    for t in pf.thresholds:
        assert sympy.nsimplify(sympy.simplify(pf.R.subs(z, t.z))) == t.crossing


@pytest.mark.parametrize("nesterov", [False, True], ids=["heavy-ball", "nesterov"])
def test_R_is_minus_one_at_the_threshold_symbolic(nesterov):
    pf = momentum("beta", nesterov)
    (t,) = pf.thresholds
    assert sympy.simplify(t.z - threshold_of(beta, nesterov)) == 0 and t.crossing == -1
    # every β of the range: the Piecewise picks its branch and the branch is exactly -1
    at = sympy.simplify(pf.R.subs(z, t.z).subs(beta, INSIDE[nesterov]))
    assert sympy.simplify(sympy.factor(at, deep=True)) == -1  # √(square) of a positive polynomial


@pytest.mark.parametrize("b", ["1/2", "beta"])
def test_printed_json_R_at_printed_threshold(b):
    result = CliRunner().invoke(main, ["derive", "--scheme", "momentum", "--beta", b, "--order", "1",
                                       "--principal", "-f", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)["principal"]
    names = {"z": z, "beta": beta}
    R = sympy.parse_expr(data["R"], local_dict=names)
    (t,) = data["thresholds"]
    at = R.subs(z, sympy.parse_expr(t["z"], local_dict=names)).subs(beta, INSIDE[False])
    assert t["R"] == "-1" and sympy.simplify(at) == -1
    assert "largest modulus" in data["eigenvalue"]


def test_text_states_the_branch_convention():
    result = CliRunner().invoke(main, ["derive", "--scheme", "momentum", "--beta", "1/2", "--order", "1",
                                       "--principal"])
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "where z ≥ √2 + 3/2 (the root of larger modulus)" in text  # (1 + √β)², β = 1/2
    assert "largest modulus" in text and "same |R|" in text
    assert "|R| = 1 at z = 3 (R = -1)" in text
    latex = momentum("1/2", False).to_latex()
    assert r"z \ge \sqrt{2} + \frac{3}{2}" in latex and "largest modulus" in latex


# -- R is the dominant root ----------------------------------------------------------------

@pytest.mark.parametrize("nesterov", [False, True], ids=["heavy-ball", "nesterov"])
@pytest.mark.parametrize("b", ["1/2", "1/10", "-1/4"])
def test_R_has_the_largest_modulus_and_grows_past_the_threshold(b, nesterov):
    pf = momentum(b, nesterov)
    poly = sympy.Poly(pf.polynomial, MU)
    crossing = float(pf.thresholds[0].z)
    for x in np.linspace(0.01, 2 * crossing, 97):
        coeffs = [complex(c.subs(z, x)) for c in poly.all_coeffs()]
        r = complex(pf.R.subs(z, sympy.Float(x, 30)))
        assert abs(r) == pytest.approx(max(abs(np.roots(coeffs))), rel=1e-9, abs=1e-12)
        assert abs(np.polyval(coeffs, r)) < 1e-12
        assert (abs(r) > 1) == (x > crossing)


def test_R_continues_one_and_is_continuous_for_positive_beta():
    pf = momentum("1/2", False)
    at = lambda x: complex(pf.R.subs(z, sympy.Float(x, 30)))  # noqa: E731
    assert abs(at(1e-6) - (1 - 2e-6)) < 1e-10  # R = 1 - z/(1 - β) + O(z²)
    root = np.sqrt(0.5)
    for corner in ((1 - root) ** 2, 1.5, (1 + root) ** 2):  # branch points, and b = 0 between
        assert abs(at(corner - 1e-12) - at(corner + 1e-12)) < 1e-5
    for x in np.linspace((1 - root) ** 2, (1 + root) ** 2, 52)[1:-1]:  # the complex pair
        r = at(x)
        assert r.imag > 0 and abs(r) == pytest.approx(root, rel=1e-14)
    assert at((1 + root) ** 2 + 0.1).real < -root  # past the branch point: the larger |μ|


def test_a_contracting_state_is_required():
    with pytest.raises(PrincipalError, match="does not contract"):
        momentum("2", False)


def _growing_step(theta, v, h, f, beta, gamma):
    """``v ← βv + h f(θ) − γ h f(v)``: det M = β + γz, a complex pair leaves the unit disc."""
    v = beta * v + h * f(theta) - gamma * h * f(v)
    return theta + v, v


def test_complex_pair_crossing_the_unit_circle_is_a_threshold():
    rule = Rule(_growing_step, (Atom("f", "L"),), name="growing", n_aux=1,
                params={"beta": sympy.Rational(1, 2), "gamma": sympy.Integer(1)})
    pf = stability_function(rule)
    assert pf.thresholds == (Threshold(sympy.Rational(1, 2), 0),)
    r = complex(pf.R.subs(z, sympy.Rational(1, 2)))
    assert abs(abs(r) - 1) < 1e-15 and r.imag > 0.5
    assert "(R = complex)" in pf.to_text()


# -- the PF past the threshold diverges like the iterates --------------------------------

def _iterate(nesterov, b, a, h, theta0, steps):
    rule = nesterov_momentum if nesterov else heavy_ball
    theta, v, out = theta0, np.zeros_like(theta0), [theta0]
    for _ in range(steps):
        theta, v = rule(theta, v, h, lambda x: -a @ x, b)
        out.append(theta)
    return np.array(out)


def _rate(path, start, stop):
    norms = np.linalg.norm(path, axis=1)
    return (norms[stop] / norms[start]) ** (1 / (stop - start))


@pytest.mark.parametrize("nesterov, b, top", [(False, 0.5, 3.4), (False, 0.1, 2.5), (True, 0.5, 1.8)])
def test_pf_diverges_like_the_iterates_on_a_diagonal_quadratic(nesterov, b, top):
    """Past z = 2(1+β) (Nesterov 2(1+β)/(1+2β)): the iterates from v = 0 grow per step by
    the spectral radius of M(hλ_max); the PF θ_i(nh) = exp(n z_i ψ(z_i)) θ_i(0), with the
    JAX ψ that drift --principal integrates, grows by |R(hλ_max)| — the same number."""
    pf = momentum(str(sympy.nsimplify(b)), nesterov)
    assert top > float(pf.thresholds[0].z)
    h, lam = 1.0, np.array([0.05, 0.6, 1.1, top])
    theta0 = np.random.default_rng(0).normal(size=4)
    iterates = _iterate(nesterov, b, np.diag(lam), h, theta0, 80)
    with float64():
        psi = np.asarray(psi_function(pf)(jnp.asarray(h * lam)))
    pf_path = np.array([(np.exp(n * h * lam * psi) * theta0).real for n in range(81)])
    R_top = abs(complex(pf.R.subs(z, sympy.Float(top, 30))))
    assert R_top > 1.05
    assert abs(np.exp(h * top * psi[-1])) == pytest.approx(R_top, rel=1e-12)
    assert _rate(iterates, 40, 80) == pytest.approx(R_top, rel=1e-3)
    assert _rate(pf_path, 40, 80) == pytest.approx(R_top, rel=1e-3)
    assert np.linalg.norm(pf_path[80]) > 1e3 * np.linalg.norm(theta0)


def test_drift_pf_diverges_like_the_iterates_past_the_threshold():
    """Through the drift code path (diffrax, complex state) on the oscillating quadratic,
    heavy ball β = 1/2 at hλ_max = 3.3 > 3: PF and iterates grow by |R(3.3)| per step."""
    rule = build("momentum", 2, beta="1/2")
    derivation = derive(rule, 2)
    problem = make_problem("oscillating", rule.atoms)
    lam = top_eigenvalue(derivation, problem)
    flow = numeric_flow(rule, {})
    h, k = 3.3 / lam, 40
    R_top = abs(complex(flow.R.subs(z, sympy.Float(3.3, 30))))
    with float64():
        setup = prepare(derivation, problem, None)
        ys, ok = principal_trajectory(setup, flow, h, jnp.arange(k + 1) * h)
        loss = problem.losses["L"]
        grad = jax.jit(jax.grad(loss))
        theta, v, iterates = problem.params, jnp.zeros_like(problem.params), [problem.params]
        for _ in range(k):
            v = 0.5 * v - h * grad(theta)
            theta = theta + v
            iterates.append(theta)
    assert ok
    assert R_top > 1.05
    assert _rate(np.asarray(ys), 20, 40) == pytest.approx(R_top, rel=1e-2)
    assert _rate(np.array(iterates), 20, 40) == pytest.approx(R_top, rel=1e-2)


def test_numeric_flow_uses_the_given_numbers():
    flow = numeric_flow(build("momentum"), {"beta": 0.5})
    assert flow.thresholds == (Threshold(sympy.Integer(3), -1),)
    assert sympy.simplify(flow.R.subs(z, 3)) == -1


# -- irrational R(z) -----------------------------------------------------------------------

def _tableau(tmp_path, a, b):
    path = tmp_path / "tableau.json"
    path.write_text(json.dumps({"A": a, "b": b}))
    return str(path)


def test_irrational_explicit_tableau_has_numeric_thresholds(tmp_path):
    tableau = _tableau(tmp_path, [[0, 0], ["sqrt(2)", 0]], ["1/2", "1/2"])
    pf = stability_function(build("rk", 2, tableau=tableau))
    assert sympy.expand(pf.R - (1 - z + sympy.sqrt(2) / 2 * z**2)) == 0
    (t,) = pf.thresholds  # R = 1 at z = √2; R = -1 nowhere (negative discriminant)
    assert t.crossing == 1 and isinstance(t.z, sympy.Float)
    assert abs(t.z - sympy.sqrt(2)) < 1e-14
    assert abs(complex(pf.R.subs(z, t.z)) - 1) < 1e-13
    assert "1.41421356237310 (R = +1)" in pf.to_text() and "15 significant digits" in pf.to_text()
    psi = psi_function(pf)
    for x in (0.3, 1.0, 2.5):
        expected = complex(sympy.N(pf.psi.subs(z, sympy.Float(x, 30)), 30))
        with float64():
            assert complex(psi(x)) == pytest.approx(expected, rel=1e-12)


def test_sdirk_with_sqrt3_in_lowest_terms(tmp_path):
    g = "1/2 + sqrt(3)/6"  # γ = (3 + √3)/6: two-stage SDIRK of order 3
    tableau = _tableau(tmp_path, [[g, 0], ["-sqrt(3)/3", g]], ["1/2", "1/2"])
    pf = stability_function(build("rk", 2, tableau=tableau))
    gamma = (3 + sympy.sqrt(3)) / 6
    reference = 1 - z * (1 - (1 - 2 * gamma) * z / (2 * (1 + gamma * z))) / (1 + gamma * z)
    assert sympy.simplify(pf.R - reference) == 0
    numerator, denominator = sympy.fraction(pf.R)
    assert sympy.degree(denominator, z) == 2  # no common factor over ℚ(√3)
    assert pf.thresholds == ()  # A-stable


def test_cli_irrational_tableau(tmp_path):
    tableau = _tableau(tmp_path, [[0, 0], ["sqrt(2)", 0]], ["1/2", "1/2"])
    result = CliRunner().invoke(main, ["derive", "--scheme", "rk", "--tableau", tableau, "--order", "2",
                                       "--principal", "-f", "json"])
    assert result.exit_code == 0, result.output
    (t,) = json.loads(result.stdout)["principal"]["thresholds"]
    assert t == {"z": "1.41421356237310", "R": "+1"}


# -- coordinate-wise rules: refused before any work ----------------------------------------

USER_RULES = textwrap.dedent('''
    import bea

    def normalized_step(theta, h, f):
        g = f(theta)
        return theta + h * g / bea.sqrt(g * g + 1)
''')


@pytest.mark.parametrize("args", [["--scheme", "adam"], ["--scheme", "rmsprop"], ["--scheme", "normalized"],
                                  ["--rule", "RULES:normalized_step"]])
def test_coordinatewise_principal_is_refused_up_front(args, tmp_path, monkeypatch):
    import cli.derive_cmd

    rules = tmp_path / "rules.py"
    rules.write_text(USER_RULES)
    args = [a.replace("RULES", str(rules)) for a in args]

    def no_work(*_, **__):
        raise AssertionError("the derivation started")

    monkeypatch.setattr(cli.derive_cmd, "derive_with_progress", no_work)
    result = CliRunner().invoke(main, ["derive", *args, "--order", "2", "--principal"])
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "coordinate-wise" in lines[0] and "linear on linear fields" in lines[0]
    assert "Traceback" not in result.output


def test_library_refuses_coordinatewise_rules():
    with pytest.raises(PrincipalError, match="coordinate-wise"):
        stability_function(build("adam", 1))


def test_drift_principal_refuses_coordinatewise_schemes():
    result = CliRunner().invoke(main, ["drift", "--principal", "--iterations", "3", "-s", "adam"])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "not for adam" in lines[0]
