"""Learning-rate schedules (issue 22): exact scheduled flows, the clock, named schedules, CLI."""

import json
from types import SimpleNamespace

import pytest
import sympy
from click.testing import CliRunner

import bea
from bea.atoms import Atom, RuleError
from bea.bseries.trees import parse, tree
from bea.schedule import CLOCK, collapse, derive_scheduled, eta_symbols, scheduled_state
from bea.schedule.named import SCHEDULES, T
from bea.schemes import gd, momentum, rk, sgd
from cli.main import main

ETA, ETA1, ETA2 = eta_symbols(3)


def flow_of(d, k):
    return {str(t): sympy.simplify(d.field.to_sympy(c)) for t, c in d.flow[k].items()}


def loss_of(d, k):
    (split,) = d.splits[k].values()
    return {str(s): d.field.to_sympy(w) for s, w in split.weights.items()}


def test_gd_flow_order_3_exact():
    d = derive_scheduled(gd.build(3), 3)
    assert flow_of(d, 1) == {"f": ETA}
    assert flow_of(d, 2) == {"f": -ETA1 / 2, "f[f]": -ETA**2 / 2}
    assert flow_of(d, 3) == {"f": ETA2 / 12, "f[f]": ETA * ETA1 / 2,
                             "f[f,f]": ETA**3 / 12, "f[f[f]]": ETA**3 / 3}


def test_gd_modified_loss_orders_2_and_3():
    """L̃ = (η - hη'/2) L + hη²/4 ‖∇L‖² + h²(η''/12 L - ηη'/4 ‖∇L‖² + 3η³/20 ⟨∇L, ∇²L∇L⟩) + …"""
    d = derive_scheduled(gd.build(3), 3)
    assert loss_of(d, 1) == {"L": ETA}
    assert loss_of(d, 2) == {"L": -ETA1 / 2, "L[L|]": ETA**2 / 4}
    assert loss_of(d, 3) == {"L": ETA2 / 12, "L[L|]": -ETA * ETA1 / 4,
                             "L[L|,L|]": sympy.Rational(3, 20) * ETA**3}
    assert d.has_loss is False  # order 3's remainder, as with a constant step


@pytest.mark.parametrize("rule, order", [
    (gd.build(4), 4),
    (sgd.build(3, 3, "forward"), 3),
    (sgd.build(3, 3, "random"), 3),
    (momentum.build(3, sympy.Rational(1, 2), False), 3),
    (momentum.build(3, sympy.Symbol("beta"), True), 3),
    (rk.build(3, method="midpoint", tableau=None, field="gradient"), 3),
])
def test_constant_schedule_is_the_constant_step_flow(rule, order):
    """η = 1, η' = η'' = … = 0 gives bea.derive's flow, tree by tree."""
    d = derive_scheduled(rule, order)
    plain = bea.derive(rule, order)
    constant = {s: 0 for s in eta_symbols(order)[1:]} | {ETA: 1}
    for k in range(1, order + 1):
        got = {t: sympy.simplify(d.field.to_sympy(c).subs(constant)) for t, c in d.flow[k].items()}
        want = {t: plain.field.to_sympy(c) for t, c in plain.flow[k].items()}
        assert {t: c for t, c in got.items() if c != 0} == {t: sympy.simplify(c) for t, c in want.items() if c != 0}


def test_heavy_ball_velocity_lags_the_schedule():
    """v_n = Σ_k β^{k-1} hη(t_{n-k}) f = hf[η/(1-β) - hη'/(1-β)²] + …; t advances h per update."""
    beta = sympy.Symbol("beta")
    rule = momentum.build(2, beta, False)
    state, field = scheduled_state(rule, 2)
    v = state[0]
    assert sympy.simplify(field.to_sympy(v[1][tree("f")]) - ETA / (1 - beta)) == 0
    assert sympy.simplify(field.to_sympy(v[2][tree("f")]) + ETA1 / (1 - beta) ** 2) == 0
    d = derive_scheduled(rule, 2)
    assert sympy.simplify(d.coefficient("f") - ETA / (1 - beta)) == 0
    assert sympy.simplify(d.field.to_sympy(d.flow[2][tree("f")]) + ETA1 * (1 + beta) / (2 * (1 - beta) ** 2)) == 0


def test_rk4_stages_at_their_times():
    """Stages evaluated at t + c_k h: RK4 stays order 4 on the non-autonomous field."""
    d = derive_scheduled(rk.build(4, method="rk4", tableau=None, field="ode"), 4)
    assert all(not d.flow[k] for k in (2, 3, 4))


def test_collapse_rules():
    u = tree(CLOCK)
    assert collapse(tree("f", [u, u])) == (parse("f"), (0, 0, 1))
    assert collapse(tree("f", [u, tree("f")])) == (parse("f[f]"), (1, 1))
    assert collapse(tree("f", [tree(CLOCK, [tree("f")])])) is None
    assert collapse(u) == (u, ())


def test_clock_must_advance_h_per_update():
    def double(theta, h, f):
        return theta + 2 * h * f(theta)

    with pytest.raises(RuleError, match="t' = 2"):
        derive_scheduled(bea.Rule(double, (Atom("f", "L"),)), 2)


def test_coordinatewise_rules_read_eta_once_per_update():
    from bea.schemes import build

    with pytest.raises(RuleError, match="clock 'step'"):
        derive_scheduled(build("adam", 2), 2, clock="field")


def test_symbolic_batch_count_refused():
    with pytest.raises(RuleError, match="--batches"):
        derive_scheduled(sgd.build(2, None, "random"), 2)


@pytest.mark.parametrize("name, optax_name, values", [
    ("warmup-cosine", "warmup_cosine_decay_schedule",
     dict(init_value=0.1, peak_value=1, warmup_steps=10, decay_steps=100, end_value=0.05)),
    ("linear-warmup", "linear_schedule", dict(init_value=0.1, end_value=1, transition_steps=20, transition_begin=5)),
    ("cosine", "cosine_decay_schedule", dict(init_value=1, decay_steps=50, alpha=0.1, exponent=2)),
    ("exponential", "exponential_decay", dict(init_value=1, transition_steps=10, decay_rate=0.5)),
])
def test_named_schedules_are_optax_formulas(name, optax_name, values):
    optax = pytest.importorskip("optax")
    import jax

    jax.config.update("jax_enable_x64", True)
    schedule = SCHEDULES[name]
    assert schedule.optax == optax_name
    mine, theirs = schedule.jax(values), getattr(optax, optax_name)(**values)
    expr = schedule.expression(values)
    for n in range(0, 130, 7):
        assert abs(float(mine(float(n))) - float(theirs(n))) < 1e-12
        assert abs(float(expr.subs(T, n)) - float(theirs(n))) < 1e-12


def test_named_schedule_kinks_and_bad_parameters():
    s = SCHEDULES["wsd"]
    assert s.kinks(dict(warmup_steps=1, stable_steps=2, decay_steps=3)) == [1, 3, 6]
    with pytest.raises(ValueError, match="no parameter"):
        s.values({"peak": 1})
    with pytest.raises(ValueError, match="not an exact number|not a number"):
        s.values({"peak_value": "1+1"})


def bea_cli(*args):
    result = CliRunner().invoke(main, list(args))
    return SimpleNamespace(returncode=result.exit_code, stdout=result.stdout, stderr=result.stderr)


def test_cli_generic_and_named():
    out = bea_cli("derive", "--scheme", "gd", "--order", "2", "--schedule", "generic")
    assert out.returncode == 0, out.stderr
    assert "η = η(t), the schedule; η', η'' its derivatives in t" in out.stdout
    assert "L̃ = η L - h·η'/2 L + h·η²/4 ‖∇L‖²" in out.stdout
    named = bea_cli("derive", "--scheme", "gd", "--order", "2", "--schedule", "warmup-cosine",
                    "--schedule-set", "warmup_steps=1", "--schedule-set", "decay_steps=10", "-f", "json")
    assert named.returncode == 0, named.stderr
    data = json.loads(named.stdout)
    assert data["options"]["schedule"] == "warmup-cosine"
    assert data["schedule"]["kinks"] == ["1", "10"] and len(data["schedule"]["derivatives"]) == 2
    plain = bea_cli("derive", "--scheme", "gd", "--order", "2")
    assert "η" not in plain.stdout


@pytest.mark.parametrize("args, message", [
    (("--scheme", "gd", "--schedule", "bogus"), "choose none, generic"),
    (("--scheme", "gd", "--schedule", "cosine", "--schedule-set", "nope=1"), "no parameter"),
    (("--scheme", "gd", "--schedule", "generic", "--schedule-set", "a=1"), "named schedule"),
    (("--scheme", "gd", "--schedule", "generic", "--modifying"), "does not combine"),
    (("--scheme", "sgd", "--schedule", "generic"), "--batches"),
])
def test_cli_bad_input_one_line(args, message):
    out = bea_cli("derive", *args)
    assert out.returncode == 2
    assert message in out.stderr and len(out.stderr.strip().splitlines()) == 1


def test_implicit_euler_reads_eta_at_the_end_of_its_step():
    """θ⁺ = θ + h η(t + h) f(θ⁺): the adjoint of explicit Euler, f₂ = +η'/2 f + η²/2 f'f."""
    def implicit(theta, h, f):
        return bea.fixed_point(lambda y: theta + h * f(y), theta)

    d = derive_scheduled(bea.Rule(implicit, (Atom("f", "L"),)), 2)
    assert flow_of(d, 2) == {"f": ETA1 / 2, "f[f]": ETA**2 / 2}


def test_schedule_parameter_names_h_and_t_refused():
    with pytest.raises(ValueError, match="the time or the step size"):
        SCHEDULES["cosine"].values({"decay_steps": "t"})


def test_forward_epoch_coefficients_depend_on_the_position():
    """Update k of a forward epoch sees η(t + (k-1)h): f₂ ∋ ((k-1)/3 - 1/2)η' f^[k], printed per
    member (no Σ_k, which would show the first member's coefficient for all)."""
    from bea.render import render

    d = derive_scheduled(sgd.build(2, 3, "forward"), 2)
    leaves = {str(t): c for t, c in flow_of(d, 2).items() if "[" not in str(t)}
    assert leaves == {"f1": -ETA1 / 2, "f2": -ETA1 / 6, "f3": ETA1 / 6}
    text = render(d, "text")
    assert "-η'/2 f^[1] - η'/6 f^[2] + η'/6 f^[3]" in text and "Σ" not in text
    shuffled = render(derive_scheduled(sgd.build(2, 3, "random"), 2), "text")
    assert "-η'/6 Σ_k f^[k]" in shuffled
