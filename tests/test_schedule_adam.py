"""Schedules in the coordinate-wise algebra (issue 22): Adam, RMSProp, normalized GD with the
step h·η(t), time carried as a scalar coordinate of the tracer (bea/coordinatewise/clock.py).

Exact: with η' = η'' = 0 the scheduled flow and slaved state are the constant-step ones with
h → hη (f_k and S_k times η^k); the η' part of f_2 is −η'/2 · f_1/η for any rule (the clock's
Lie derivative ∂_t(η a_1) = η' a_1). Numeric: Adam's local error slopes N + 1 at three points
of a warmup–cosine schedule, and the negative control without the η' terms.
"""

import json

import numpy as np
import pytest
import sympy
from click.testing import CliRunner

import bea
from bea.atoms import Atom, RuleError
from bea.check.problems import make_problem
from bea.check.schedule import local_errors
from bea.coordinatewise import canonical, sqrt
from bea.schedule import derive_scheduled, eta_symbols
from bea.schedule.named import SCHEDULES
from bea.schemes import build
from cli.main import main

R = sympy.Rational
ETA, ETA1, ETA2 = eta_symbols(3)
ADAM = dict(b1=R(1, 2), b2=R(7, 10), eps=R(1, 10))
WARMUP_COSINE = dict(init_value=0.2, peak_value=1, warmup_steps=1, decay_steps=4, end_value=0.1)
TIMES = (0.5, 1.7, 3.0)  # in the warmup, early and late in the decay
HS = np.geomspace(0.01, 0.04, 4)  # a step from each time stays on one smooth piece
TOLERANCE = 0.3


def _rule(name):
    return build("adam", 3, **ADAM) if name == "adam" else build(name, 3)


@pytest.mark.parametrize("name", ["adam", "normalized"])
def test_a_constant_eta_is_the_constant_step_with_h_eta(name):
    rule = _rule(name)
    plain, timed = bea.derive(rule, 3), derive_scheduled(rule, 3)
    frozen = {ETA1: 0, ETA2: 0}
    for k in range(1, 4):
        assert canonical(timed.flow[k].xreplace(frozen) - ETA**k * plain.flow[k]) == 0, k
    for s_plain, s_timed in zip(plain.velocity or [], timed.velocity or []):
        for k, (a, b) in enumerate(zip(s_plain, s_timed)):
            assert canonical(b.xreplace(frozen) - ETA**k * a) == 0, k


@pytest.mark.parametrize("name", ["adam", "normalized"])
def test_the_eta_prime_part_of_f2_is_the_clock_lie_derivative(name):
    """Φ = (θ + hη a_1 + h²η² a_2 + …, t + h): z_2 = η²(a_2 − a_1'a_1/2) − η' a_1/2."""
    rule = _rule(name)
    plain, timed = bea.derive(rule, 2), derive_scheduled(rule, 2)
    assert canonical(timed.flow[2] - ETA**2 * plain.flow[2] + ETA1 / 2 * plain.flow[1]) == 0
    assert timed.rule.options["schedule"] == "generic" and "η'" in timed.rule.description


def test_adam_state_lags_through_eta_prime():
    """S(θ', t + h) = s'(θ, S): the order-2 state holds η' (∂_t of the order-1 state)."""
    timed = derive_scheduled(_rule("adam"), 2)
    m2 = sympy.sympify(timed.velocity[0][2])
    assert ETA1 in m2.free_symbols and ETA1 not in sympy.sympify(timed.velocity[0][1]).free_symbols


@pytest.fixture(scope="module")
def eta():
    return SCHEDULES["warmup-cosine"].jax(WARMUP_COSINE)


def test_adam_local_error_slopes_and_the_control_without_eta_prime(eta):
    rule = _rule("adam")
    problem = make_problem("logistic", rule.atoms)
    for result in local_errors(rule, 3, eta, TIMES, problem, HS):
        for n, slope in zip(result.orders, result.slopes):
            assert abs(slope - (n + 1)) <= TOLERANCE, (result.t0, n, result.slopes)
    # the negative control: η' = 0 in the order-2 flow leaves the O(h²) error
    for result in local_errors(rule, 2, eta, TIMES, problem, HS, drop_derivatives=True, orders=(2,)):
        assert abs(result.slopes[0] - 2) <= TOLERANCE, (result.t0, result.slopes)


def test_eta_names_taken_by_a_parameter_are_refused():
    def step(theta, v, h, f, eta):
        g = -f(theta)
        v = eta * v + (1 - eta) * g * g
        return theta - h * g / sqrt(v + 1), v

    rule = bea.Rule(step, (Atom("f", "L"),), n_aux=1, params={"eta": sympy.Symbol("eta")}, algebra="coordinatewise")
    with pytest.raises(RuleError, match="schedule's symbols"):
        derive_scheduled(rule, 2)


@pytest.mark.parametrize("scheme", ["sam", "usam"])
def test_a_joint_expansion_is_refused_in_one_line(scheme):
    with pytest.raises(RuleError, match="joint expansion") as caught:
        derive_scheduled(build(scheme, 2, rho_order=1), 2)
    assert "\n" not in str(caught.value)


def test_cli_adam_with_a_named_schedule():
    runner = CliRunner()
    args = ["derive", "--scheme", "adam", "--order", "2", "--schedule", "warmup-cosine",
            "--schedule-set", "warmup_steps=1", "--schedule-set", "decay_steps=10"]
    out = runner.invoke(main, args)
    assert out.exit_code == 0, out.output
    assert "f₂ = η'·g/(2s)" in out.output and "kinks at t = 1, 10" in out.output
    derivation = out.output.split("\nschedule warmup-cosine")[0]  # the schedule's own lines: bea.schedule.report
    assert max(len(line) for line in derivation.splitlines()) <= 100
    data = json.loads(runner.invoke(main, args + ["--format", "json"]).output)
    assert data["options"]["schedule"] == "warmup-cosine" and data["schedule"]["kinks"] == ["1", "10"]
