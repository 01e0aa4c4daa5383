"""The principal flow (Rosca, Wu, Qin & Dherin, TMLR 2023) of every scheme: closed forms,
consistency with the tall trees of the ordinary derivation to order 8, exactness on
quadratic losses at every integer step, and the JAX field against dense references."""

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.linalg
import sympy
from sympy import Rational as R

from bea import Atom, Rule, RuleError, derive, fixed_point
from bea.principal import MU, stability_function, tall_tree_rate
from bea.principal.numeric import principal_flow, psi_function
from bea.schemes import build
from bea.schemes.gd import gradient_descent
from bea.schemes.momentum import heavy_ball, nesterov_momentum
from bea.schemes.rk import runge_kutta
from bea.schemes.tableaux import TABLEAUX

z = sympy.Symbol("z")
beta = sympy.Symbol("beta", real=True)


def flow_of(name, **options):
    return stability_function(build(name, 2, **options))


# -- closed forms -------------------------------------------------------------------------

def test_gd_is_the_paper_principal_flow():
    pf = flow_of("gd")
    assert pf.R == 1 - z
    assert sympy.simplify(pf.psi - sympy.log(1 - z) / z) == 0
    assert pf.series(5) == -1 - z / 2 - z**2 / 3 - z**3 / 4 - z**4 / 5
    assert [(t.z, t.crossing) for t in pf.thresholds] == [(2, -1)]


def test_runge_kutta_stability_functions():
    rk4 = flow_of("rk", method="rk4")
    assert sympy.expand(rk4.R - sum((-z) ** j / sympy.factorial(j) for j in range(5))) == 0
    assert [t.crossing for t in rk4.thresholds] == [1]
    assert abs(float(rk4.thresholds[0].z) - 2.785293563405) < 1e-11
    assert sympy.simplify(flow_of("rk", method="implicit-midpoint").R - (2 - z) / (2 + z)) == 0
    gl4 = flow_of("rk", method="gauss-legendre-4")
    assert sympy.simplify(gl4.R - (z**2 - 6 * z + 12) / (z**2 + 6 * z + 12)) == 0
    assert gl4.thresholds == () and flow_of("rk", method="implicit-euler").thresholds == ()


@pytest.mark.parametrize("nesterov, threshold", [
    (False, 2 * (1 + beta)), (True, 2 * (1 + beta) / (1 + 2 * beta))])
def test_momentum_root_continues_the_slaved_manifold(nesterov, threshold):
    pf = flow_of("momentum", beta="beta", nesterov=nesterov)
    assert sympy.simplify(pf.polynomial.subs(MU, pf.R)) == 0
    assert pf.R.subs({z: 0, beta: R(1, 3)}) == 1
    assert sympy.simplify(pf.series(1) + 1 / (1 - beta)) == 0  # ψ(0): effective rate h/(1-β)
    assert len(pf.thresholds) == 1 and sympy.simplify(pf.thresholds[0].z - threshold) == 0
    assert pf.thresholds[0].crossing == -1


def test_sgd_epoch_is_a_product_over_minibatches():
    pf = flow_of("sgd", batches="3", shuffle="forward")
    z1, z2, z3 = pf.variables
    assert sympy.expand(pf.R - (1 - z1) * (1 - z2) * (1 - z3)) == 0
    assert sympy.simplify(pf.psi - sympy.log(pf.R) / (z1 + z2 + z3)) == 0
    assert flow_of("sgd", batches="3", shuffle="random").R == pf.R


def nested_step(theta, h, f1, f2):
    """θ + h f1(θ + h f2(θ)): R = 1 - z1 + z1 z2 is not symmetric in the atoms."""
    return theta + h * f1(theta + h * f2(theta))


def test_random_reshuffling_averages_R_over_orderings():
    atoms = (Atom("f1", "L1"), Atom("f2", "L2"))
    fixed = stability_function(Rule(nested_step, atoms, name="nested"))
    mean = stability_function(Rule(nested_step, atoms, name="nested", shuffle=True))
    z1, z2 = mean.variables
    assert sympy.expand(fixed.R - (1 - z1 + z1 * z2)) == 0
    assert sympy.expand(mean.R - (1 - (z1 + z2) / 2 + z1 * z2)) == 0
    assert sympy.simplify(mean.rate - sympy.log(mean.R)) == 0
    d = derive(Rule(nested_step, atoms, name="nested", shuffle=True), 6)
    assert sympy.expand(mean.rate_series(6) - tall_tree_rate(d, mean.variables)) == 0
    assert sympy.expand(fixed.rate_series(6) - mean.rate_series(6)) != 0


def test_unsupported_rules_are_refused():
    with pytest.raises(ValueError, match="batches"):
        stability_function(build("sgd", 2))
    with pytest.raises(ValueError, match="blocks"):
        stability_function(build("game", 2))


def test_fixed_point_on_sympy_solves_linear_equations_exactly():
    h, lam = sympy.symbols("h lambda", positive=True)
    y = fixed_point(lambda y: 1 + h * (-lam * y), sympy.Integer(1))
    assert sympy.simplify(y - 1 / (1 + h * lam)) == 0
    with pytest.raises(RuleError, match="affine"):
        fixed_point(lambda y: 1 + h * y**2, sympy.Integer(1))


def test_summary_formats():
    pf = flow_of("gd")
    data = json.loads(json.dumps(pf.to_json()))
    assert data["R"] == "1 - z" and data["psi"] == "log(1 - z)/z"
    assert data["variables"] == ["z"] and data["thresholds"] == [{"z": "2", "R": "-1"}]
    assert "commuting Hessians" in pf.to_text() and "ψ(z) = log(1 - z)/z" in pf.to_text()
    assert r"\psi(z) = \frac{\log{\left(1 - z \right)}}{z}" in pf.to_latex()


# -- consistency with the tall trees of the derivation, order 8 --------------------------

CONSISTENCY = [
    ("gd", {}, 8),
    ("rk", {"method": "rk4"}, 8),
    ("rk", {"method": "implicit-midpoint"}, 8),
    ("rk", {"method": "gauss-legendre-4"}, 8),
    ("momentum", {"beta": "beta"}, 8),
    ("momentum", {"beta": "3/10", "nesterov": True}, 8),
    ("momentum", {"beta": "beta", "nesterov": True}, 6),
    ("sgd", {"batches": "2", "shuffle": "forward"}, 8),
    ("sgd", {"batches": "2", "shuffle": "backward"}, 8),
    ("sgd", {"batches": "2", "shuffle": "random"}, 8),
    ("multitask", {"tasks": "2"}, 8),
]


@pytest.mark.parametrize("name, options, order", CONSISTENCY,
                         ids=[f"{n}-{'-'.join(map(str, o.values()))}-{k}" for n, o, k in CONSISTENCY])
def test_series_of_log_R_equals_the_tall_tree_coefficients(name, options, order):
    """Per labeling (monomial in z_c): Σ_{tall t} c(t) Π(-z) = Taylor(log R / cycle)."""
    rule = build(name, order, **options)
    pf = stability_function(rule)
    resummed = pf.rate_series(order)
    tall = tall_tree_rate(derive(rule, order), pf.variables)
    assert sympy.cancel(sympy.together(resummed - tall)) == 0
    degrees = sympy.Poly(tall, *pf.variables).monoms()
    assert max(map(sum, degrees)) >= order - 1  # high orders present (symmetric methods: odd only)


# -- exactness on quadratic losses ---------------------------------------------------------

def _spd(eigenvalues, seed=0):
    q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(len(eigenvalues),) * 2))
    return q @ np.diag(eigenvalues) @ q.T


def _psi_values(pf, zs):
    (var,) = pf.variables
    return np.array([complex(pf.psi.subs(var, sympy.Float(x, 40)).evalf(30)) for x in zs])


def _pf_solution(pf, a, h, theta0, steps):
    """θ(nh) by the matrix exponential of the PF field θ' = Σ ψ(hλ_i)(∇Lᵀu_i)u_i."""
    lam, u = np.linalg.eigh(a)
    field = u @ np.diag(_psi_values(pf, h * lam) * lam) @ u.T
    return [scipy.linalg.expm(n * h * field) @ theta0 for n in range(steps + 1)]


SPECTRA = {"oscillating": [0.05, 0.4, 0.9, 1.6], "diverging": [0.1, 0.5, 1.3, 2.3]}


@pytest.mark.parametrize("spectrum", SPECTRA)
@pytest.mark.parametrize("scheme", ["gd", "rk4"])
def test_pf_is_exact_on_quadratics(scheme, spectrum):
    h = 1.0
    a = _spd(SPECTRA[spectrum])
    if scheme == "rk4":
        a = a * 1.25  # hλ_max = 2.875 > 2.785 in the diverging case
        pf = flow_of("rk", method="rk4")
        tab = TABLEAUX["rk4"]
        step = lambda th, f: runge_kutta(th, h, f, tuple(tuple(map(float, r)) for r in tab.a),  # noqa: E731
                                         tuple(map(float, tab.b)))
    else:
        pf, step = flow_of("gd"), lambda th, f: gradient_descent(th, h, f)  # noqa: E731
    theta = theta0 = np.random.default_rng(1).normal(size=4)
    pf_path = _pf_solution(pf, a, h, theta0, 15)
    for n in range(16):
        scale = np.linalg.norm(theta)
        assert np.linalg.norm(pf_path[n].real - theta) <= 1e-13 * scale
        assert np.linalg.norm(pf_path[n].imag) <= 1e-13 * scale
        theta = step(theta, lambda x: -a @ x)


@pytest.mark.parametrize("nesterov, spectrum", [(False, [0.05, 1.0, 1.8, 2.1]),
                                                (True, [0.05, 0.7, 1.3, 1.7])])
def test_pf_is_exact_for_momentum_on_its_slaved_manifold(nesterov, spectrum):
    """Velocity per eigendirection v_0 = (1 - 1/R(hλ_i)) θ_i(0): the eigenvector of the
    linear step (θ' = θ + v', θ' = Rθ). R is complex for heavy ball at hλ = 1 (both roots
    complex), so the iteration runs in complex arithmetic; hλ > 1 gives real negative R.
    (Nesterov at hλ = 1 has R = 0, where no flow exists.)"""
    b, h = 0.1, 1.0
    pf = flow_of("momentum", beta="1/10", nesterov=nesterov)
    a = _spd(spectrum)
    lam, u = np.linalg.eigh(a)
    r = np.array([complex(pf.R.subs(z, sympy.Float(x, 40)).evalf(30)) for x in h * lam])
    theta0 = np.random.default_rng(2).normal(size=4).astype(complex)
    theta, v = theta0, u @ ((1 - 1 / r) * (u.T @ theta0))
    rule = nesterov_momentum if nesterov else heavy_ball
    pf_path = _pf_solution(pf, a, h, theta0, 15)
    for n in range(16):
        assert np.linalg.norm(pf_path[n] - theta) <= 1e-13 * np.linalg.norm(theta)
        theta, v = rule(theta, v, h, lambda x: -a @ x, b)


# -- JAX ----------------------------------------------------------------------------------

def _loss(params, x):
    w, c = params["w"], params["c"]
    return 0.5 * jnp.sum((x @ w) ** 2) / x.shape[0] + 0.25 * jnp.sum(w**4) + jnp.sum(jnp.cos(c) * w[:2])


def _dense_reference(loss, params, h, pf, *batch):
    from jax.flatten_util import ravel_pytree
    flat, unravel = ravel_pytree(params)
    f = lambda p: loss(unravel(p), *batch)  # noqa: E731
    lam, u = np.linalg.eigh(np.asarray(jax.hessian(f)(flat)))
    g = np.asarray(jax.grad(f)(flat))
    return u @ (_psi_values(pf, h * lam) * (u.T @ g))


@pytest.mark.parametrize("scheme", [("gd", {}), ("momentum", {"beta": "1/2"})])
def test_jax_exact_mode_matches_dense_reference(scheme):
    from jax.flatten_util import ravel_pytree
    pf = flow_of(scheme[0], **scheme[1])
    x = jax.random.normal(jax.random.PRNGKey(3), (20, 5))
    params = {"w": jnp.linspace(-1.0, 1.5, 5), "c": jnp.array([0.3, -0.2])}
    field = jax.jit(principal_flow(_loss, 0.9, flow=pf))
    out = field(params, x)
    assert jax.tree_util.tree_structure(out) == jax.tree_util.tree_structure(params)
    flat = ravel_pytree(jax.tree_util.tree_map(jnp.real, out))[0] + 1j * ravel_pytree(
        jax.tree_util.tree_map(jnp.imag, out))[0]
    ref = _dense_reference(_loss, params, 0.9, pf, x)
    assert np.abs(ref.imag).max() > 1e-3  # some hλ > 1: the complex branch is exercised
    np.testing.assert_allclose(np.asarray(flat), ref, rtol=1e-12, atol=1e-12)


def test_psi_function_is_smooth_at_zero():
    psi = psi_function(flow_of("gd"))
    assert complex(psi(0.0)) == -1
    np.testing.assert_allclose(complex(psi(1e-9)), -1 - 0.5e-9, rtol=1e-15)


def test_jax_topk_matches_exact_when_the_rest_is_small():
    """Top 4 directions at hλ ∈ (1, 2), the other 36 at hλ ≤ 0.02: order-8 series error
    ≤ 0.02^8 relative on the complement."""
    n, h = 40, 1.0
    spectrum = np.concatenate([[1.9, 1.6, 1.3, 1.1], np.linspace(0.001, 0.02, n - 4)])
    a = jnp.asarray(_spd(spectrum, seed=4))
    loss = lambda p: 0.5 * p["x"] @ a @ p["x"]  # noqa: E731
    params = {"x": jnp.asarray(np.random.default_rng(5).normal(size=n))}
    exact = principal_flow(loss, h)(params)["x"]
    topk = jax.jit(principal_flow(loss, h, mode="topk", k=4, order=8))(params)["x"]
    np.testing.assert_allclose(np.asarray(topk), np.asarray(exact), rtol=0, atol=1e-10 * np.abs(exact).max())
    low = principal_flow(loss, h, mode="topk", k=4, order=1)(params)["x"]
    assert np.abs(np.asarray(low - exact)).max() > 1e-4  # the series order matters


def test_jax_refuses_too_many_parameters_and_symbolic_flows():
    loss = lambda p: jnp.sum(p**2)  # noqa: E731
    with pytest.raises(ValueError, match="exceed the limit"):
        principal_flow(loss, 0.1, max_params=10)(jnp.ones(11))
    with pytest.raises(ValueError, match="symbolic"):
        principal_flow(loss, 0.1, flow=flow_of("momentum"))
    with pytest.raises(ValueError, match="5k < n"):
        principal_flow(loss, 0.1, mode="topk", k=4)(jnp.ones(12))


def test_cli_derive_principal_in_every_format():
    import json

    from click.testing import CliRunner

    from cli.main import main

    run = lambda *args: CliRunner().invoke(main, ["derive", "--scheme", "momentum", "--order", "2", "--principal", *args])  # noqa: E731
    text = run()
    assert text.exit_code == 0 and "principal flow of momentum" in text.output and "ψ(z) =" in text.output
    assert r"\psi(z) &=" in run("-f", "latex").output
    assert "## Principal flow" in run("-f", "markdown").output
    data = json.loads(run("-f", "json").output)
    beta, z = sympy.symbols("beta z")
    R = sympy.parse_expr(data["principal"]["R"], local_dict={"beta": beta, "z": z})
    # the continuing root of μ² − (1 + β − z)μ + β = 0 (heavy ball on f = −λθ)
    assert sympy.simplify(R**2 - (1 + beta - z) * R + beta) == 0
    bad = CliRunner().invoke(main, ["derive", "--scheme", "game", "--principal"])
    assert bad.exit_code == 2 and "Traceback" not in bad.output
