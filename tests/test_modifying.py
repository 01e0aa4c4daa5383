"""Modifying integrators: exact coefficients, kauri's preprocessed integrator, structure.

kauri computes the preprocessed (modifying) integrator of a tableau as ``e ⋆ φ^{⋆-1}``
(Chartier, Hairer & Vilmart 2010) in elementary weights of ``Σ h^{|t|} φ̃(t)/σ(t) F(t)``;
bea's plain coefficients are ``φ̃(t)/σ(t)``. Both exact (``Fraction`` tableaux).
"""

from fractions import Fraction

import pytest
import sympy

from bea import derive, parse
from bea.bseries.pipeline import trace_map
from bea.bseries.series import TreeSeries
from bea.logarithm import logarithm
from bea.modifying import modifying_field
from bea.schemes import TABLEAUX, build
from bea.bseries.trees import symmetry, trees_of_order


def _coeffs(d, k):
    return {str(t): d.field.to_sympy(c) for t, c in d.flow[k].items()}


def test_explicit_euler_is_the_scaled_exact_flow():
    """``f̃ = (φ_h − id)/h``: the Taylor coefficients of the exact flow, ``1/t!`` per tree."""
    d = modifying_field(build("gd"), 4)
    assert _coeffs(d, 2) == {"f[f]": sympy.Rational(1, 2)}
    assert _coeffs(d, 3) == {"f[f,f]": sympy.Rational(1, 6), "f[f[f]]": sympy.Rational(1, 6)}
    assert _coeffs(d, 4) == {"f[f,f,f]": sympy.Rational(1, 24), "f[f,f[f]]": sympy.Rational(1, 8),
                             "f[f[f,f]]": sympy.Rational(1, 24), "f[f[f[f]]]": sympy.Rational(1, 24)}
    assert d.kind == "modifying"


def test_not_the_negated_drift_beyond_order_two():
    """Subtracting the drift (``−f_3``) is not the modifying field at order 3."""
    drift = derive(build("gd"), 3)
    d = modifying_field(build("gd"), 3)
    assert _coeffs(d, 2) == {str(t): -c for t, c in ((t, drift.coefficient(t)) for t in drift.flow[2])}
    assert _coeffs(d, 3) != {str(t): -drift.coefficient(t) for t in drift.flow[3]}


def test_corrected_scheme_follows_the_target_exactly():
    """Through the pipeline itself: the scheme run on ``f̃`` has the plain flow as modified flow."""
    for name, options in [("gd", {}), ("rk", {"method": "midpoint"}), ("momentum", {"beta": "beta"}),
                          ("sgd", {"batches": "2", "shuffle": "forward"}),
                          ("sgd", {"batches": "3", "shuffle": "random"}), ("multitask", {"tasks": "2"}),
                          ("continual", {"steps": "A:2,B:1"}),
                          ("game", {"mode": "alternating", "rates": "1,2"})]:
        rule = build(name, 4, **options)
        d = modifying_field(rule, 4)
        fields = {a.label: {} for a in rule.atoms}
        for k in range(1, 5):
            for t, c in d.flow[k].items():
                fields[t.label][t] = c
        z = logarithm(trace_map(rule, 4, d.field, fields)[0], 4, TreeSeries(d.field))
        assert all(not z[k] for k in range(2, 5)), name
        first = derive(rule, 1)
        assert {str(t) for t in z[1]} == {str(t) for t in first.flow[1]}, name


def test_symmetric_method_has_even_corrections_only():
    d = modifying_field(build("rk", 6, method="implicit-midpoint"), 6)
    assert not d.flow[2] and not d.flow[4] and not d.flow[6]
    assert d.flow[3] and d.flow[5]


def test_target_flow_may_be_another_derivation():
    """Heun corrected to follow explicit Euler's own modified flow (orders 1–3)."""
    euler = derive(build("rk", 3, method="euler"), 3)
    d = modifying_field(build("rk", 3, method="heun"), 3, target=euler)
    fields = {"f": {t: c for k in range(1, 4) for t, c in d.flow[k].items()}}
    z = logarithm(trace_map(d.rule, 3, d.field, fields)[0], 3, TreeSeries(d.field))
    for k in (2, 3):
        assert {str(t): d.field.to_sympy(c) for t, c in z[k].items()} == {
            str(t): euler.coefficient(t) for t in euler.flow[k]}


def test_game_corrections_live_on_each_players_block():
    d = modifying_field(build("game", 3, mode="simultaneous", rates="alpha,lambda"), 3)
    roots = {t.label for k in (2, 3) for t in d.flow[k]}
    assert roots == {"fx", "fy"}
    # Rosca et al.'s drift-cancelling correction at order 2 on x: (h/2)(α f_x'f_x + λ f_x'f_y)
    alpha, lam = sympy.symbols("alpha lambda", real=True)
    order2 = _coeffs(d, 2)
    assert sympy.simplify(order2["fx[fx]"] - alpha / 2) == 0
    assert sympy.simplify(order2["fx[fy]"] - lam / 2) == 0


# -- an independent implementation ----------------------------------------------------------

kauri = pytest.importorskip("kauri")
from kauri.cem.cem import antipode_impl  # noqa: E402
from kauri.gentrees import trees_up_to_order  # noqa: E402
from kauri.maps import Map  # noqa: E402


def _notation(rep) -> str:
    """kauri's ``list_repr`` (children…, root label) → bea's ``f[…]``."""
    kids = [_notation(c) for c in rep[:-1]]
    return "f" + ("[" + ",".join(kids) + "]" if kids else "")


@pytest.mark.parametrize("method,order", [("euler", 6), ("rk4", 8), ("implicit-midpoint", 6), ("heun", 6)])
def test_modifying_field_agrees_with_kauri(method, order):
    tab = TABLEAUX[method]
    fr = lambda x: Fraction(int(x.p), int(x.q))  # noqa: E731  (sympy Rational → Fraction)
    rk = kauri.RK([[fr(x) for x in row] for row in tab.a], [fr(x) for x in tab.b])
    exact = Map(lambda t: Fraction(1, t.factorial()))
    preprocessed = exact ^ (rk.elementary_weights_map() & Map(antipode_impl))
    d = modifying_field(build("rk", order, method=method), order)
    trees = [t for t in trees_up_to_order(order) if t.nodes() >= 1]
    assert len(trees) == sum(len(trees_of_order(k, ("f",))) for k in range(1, order + 1))
    for t in trees:
        ours = d.field.to_sympy(d.flow[t.nodes()].get(parse(_notation(t.list_repr)), d.field.zero))
        assert Fraction(int(ours.p), int(ours.q)) == Fraction(preprocessed(t)) / symmetry(parse(_notation(t.list_repr)))


def test_cli_derive_modifying_prints_the_field_and_the_loss_to_train_on():
    import json

    from click.testing import CliRunner

    from cli.main import main

    out = CliRunner().invoke(main, ["derive", "--scheme", "gd", "--order", "3", "--modifying"])
    assert out.exit_code == 0, out.output
    assert "f̃₂ = 1/2 f'f" in out.output
    assert "L̃ = L - h/4 ‖∇L‖²" in out.output
    data = json.loads(CliRunner().invoke(
        main, ["derive", "--scheme", "momentum", "--beta", "beta", "--order", "2", "--modifying", "-f", "json"]).output)
    assert data["kind"] == "modifying" and data["symbols"] == ["beta"]
    beta = sympy.Symbol("beta")
    (term,) = data["flow"][1]["terms"]
    assert term["tree"] == "f[f]"
    assert sympy.simplify(sympy.parse_expr(term["coeff"], local_dict={"beta": beta})
                          - (1 + beta) / (2 * (1 - beta) ** 2)) == 0


# -- numerically: the corrected rule follows its first-order flow to O(h^{N+1}) -------------

SLOPE_CASES = [
    ("gd", {}, 5, "quartic"),
    ("rk", {"method": "midpoint"}, 5, "rosenbrock"),
    ("sgd", {"batches": "2", "shuffle": "forward"}, 3, None),
    ("sgd", {"batches": "2", "shuffle": "backward"}, 3, None),
    ("sgd", {"batches": "2", "shuffle": "random"}, 3, None),
    ("momentum", {"beta": "1/2"}, 3, "quartic"),
    ("game", {"mode": "alternating", "rates": "1,1/2", "steps": "2,1"}, 3, None),
]


@pytest.mark.parametrize("name,options,order,problem", SLOPE_CASES,
                         ids=[f"{c[0]}-{'-'.join(map(str, c[1].values()))}-{c[2]}" for c in SLOPE_CASES])
def test_corrected_rule_has_local_error_slope_n_plus_one(name, options, order, problem):
    from bea.check import check_modifying, problem_for

    rule = build(name, order + 1, **options)
    notes = []
    values = {"beta": 0.3, "alpha": 1.0, "lambda": 0.5}
    prob = problem_for(rule, problem, None, 0, "check", notes)
    d, result = check_modifying(rule, order, prob, values=values, notes=notes)
    assert d.kind == "modifying"
    assert result.ok, (result.slopes, result.expected)
    assert result.expected[-1] >= order + 1


def test_check_cli_modifying_json():
    import json

    from click.testing import CliRunner

    from cli.main import main

    out = CliRunner().invoke(main, ["check", "--scheme", "gd", "--order", "3", "--modifying",
                                    "--problem", "quartic", "--format", "json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert data["modifying"] is True and data["ok"] is True
    assert [o["expected"] for o in data["orders"]] == [2, 3, 4]
