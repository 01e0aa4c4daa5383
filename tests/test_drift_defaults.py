"""Defaults of ``bea drift`` that account for the rule's state, warnings that name a
checked learning rate, a summary that never claims a comparison that failed, progress
over every stage, and ``--set`` values range-checked like the scheme options (issue 24)."""

import re

import numpy as np
import pytest
import sympy
from click.testing import CliRunner

from bea import derive
from bea.check import default_learning_rate, drift, make_problem
from bea.check.drifting import DriftResult, drift_work
from bea.check.report import drift_text
from bea.schemes import build
from cli.main import main

NINE_TENTHS = sympy.Rational(9, 10)


def _momentum(beta=NINE_TENTHS, order=2):
    return derive(build("momentum", order, beta=beta, nesterov=False), order)


def test_default_rate_carries_momentum_coefficient_growth():
    """Heavy ball's series grows like ``hλ(1+β)/(2(1-β)²)`` (f_2/f_1): the default h is
    gd's times ``2(1-β)²/(1+β)`` (0.2/λ before, the same as gd's)."""
    gd, momentum = derive(build("gd", 2), 2), _momentum()
    problem = make_problem("quadratic", gd.rule.atoms)
    ratio = default_learning_rate(momentum, problem) / default_learning_rate(gd, problem)
    assert ratio == pytest.approx(2 * 0.1 ** 2 / 1.9, rel=1e-9)


def test_momentum_default_drift_descends_and_the_modified_flow_is_closer():
    """The user's command on the library: momentum β = 0.9 on the MLP at the default rate.
    At the old default (0.2/λ) the loss rose 5.6 → 77 and the flows were 1.0× apart."""
    d = _momentum()
    problem = make_problem("mlp", d.rule.atoms)
    notes = []
    r = drift(d, problem, default_learning_rate(d, problem), 100, notes=notes)
    assert notes == [] and r.diverged_at is None and r.loss_rose_at is None
    assert r.loss[-1] < 0.5 * r.loss[0] and np.all(np.diff(r.loss) <= 0)
    assert r.distance[2][-1] < 0.3 * r.distance[1][-1] and r.cosine[2][-1] > 0.98
    assert "× closer to the iterates than the gradient flow" in drift_text(d.rule, problem, r)


def test_a_rising_loss_is_warned_with_a_checked_rate_and_no_comparison_is_claimed():
    d = _momentum()
    problem = make_problem("mlp", d.rule.atoms, size=8)
    notes = []
    h = default_learning_rate(d, problem) / (2 * 0.1 ** 2 / 1.9)  # the old default, 0.2/λ
    r = drift(d, problem, h, 40, notes=notes)
    assert r.diverged_at is None and r.loss_rose_at is not None
    assert len(notes) == 1 and notes[0].startswith("warning: the loss rose from ")
    suggested = float(re.search(r"--lr (\S+) keeps the iterates bounded and the loss below twice its "
                                r"start over the 40 iterations \(checked\)", notes[0]).group(1))
    assert suggested < h
    again = drift(d, problem, suggested, 40, notes=(later := []))
    assert again.loss_rose_at is None and again.diverged_at is None and later == []
    text = drift_text(d.rule, problem, r)
    assert "no comparison is meaningful" in text and "closer" not in text


def test_divergence_names_a_rate_checked_to_stay_bounded():
    d = derive(build("gd", 2), 2)
    problem = make_problem("quadratic", d.rule.atoms)
    notes = []
    r = drift(d, problem, 100.0, 10, notes=notes)
    assert r.diverged_at is not None
    found = re.fullmatch(rf"warning: the iterates diverged at step {r.diverged_at}; the result is not "
                         r"meaningful; --lr (\S+) keeps the iterates bounded over the 10 iterations "
                         r"\(checked\)", notes[0])
    assert found, notes
    assert drift(d, problem, float(found.group(1)), 10).diverged_at is None


def _result(near, far, ratio):
    times = np.arange(3.0)
    return DriftResult(0.01, (1, 2), times, np.full(3, far), {1: np.full(3, far), 2: np.full(3, near)},
                       {2: np.full(3, ratio)}, {2: np.full(3, 0.5)}, None, None, 4)


def test_summary_claims_closer_only_when_it_is():
    rule = build("gd", 2)
    problem = make_problem("quadratic", rule.atoms)
    assert "at j=2: the order-2 modified flow is 4× closer" in drift_text(rule, problem, _result(0.25, 1.0, 1.0))
    same = drift_text(rule, problem, _result(0.98, 1.0, 0.02)).splitlines()[-1]
    assert same == ("at j=2: the order-2 modified flow is not closer to the iterates than the gradient flow "
                    "(distances 0.98 and 1; predicted/observed drift 0.02): h = 0.01 is past the range the "
                    "expansion in h describes; try a smaller --lr (e.g. 0.0025)")
    vanishing = drift_text(rule, problem, _result(1e-7, 1e-7, 0.0)).splitlines()[-1]
    assert vanishing == ("at j=2: the modified flows up to order 2 are the gradient flow (their terms "
                         "vanish); the iterates are 1e-07 from it")


def test_progress_covers_the_flows():
    d = derive(build("gd", 2), 2)
    problem = make_problem("quadratic", d.rule.atoms)
    heard = []
    drift(d, problem, 0.01, 5, progress=lambda n, stage=None: heard.append((n, stage)))
    assert sum(n for n, _ in heard) == drift_work(5, 2) == 15
    assert heard[-4:] == [(0, "gradient flow"), (5, "gradient flow"), (0, "order-2 flow"), (5, "order-2 flow")]
    assert {stage for _, stage in heard[:5]} == {"iterating"}


@pytest.mark.parametrize("args, message", [
    (["--scheme", "momentum", "--set", "beta=2"], "--set beta=2 is outside the range 0 ≤ β < 1 of --beta"),
    (["--scheme", "momentum", "--beta", "b", "--set", "b=-1/2"],
     "--set b=-1/2 is outside the range 0 ≤ β < 1 of --beta"),
    (["--scheme", "game", "--rates", "1,lam", "--set", "lam=0"], "--set lam=0 is outside the range λ > 0 of --rates"),
    (["--scheme", "adam", "--set", "eps=-1"], "--set eps=-1 is outside the range eps > 0 of --eps"),
])
@pytest.mark.parametrize("command", ["check", "drift"])
def test_set_values_are_range_checked(command, args, message):
    result = CliRunner().invoke(main, [command, *args])
    assert result.exit_code == 2
    assert result.stderr == f"bea: error: {message}\n" and result.stdout == ""


def test_momentum_drift_with_defaults_converges():
    """``bea drift --scheme momentum --set beta=0.9``, every other option its default."""
    result = CliRunner().invoke(main, ["drift", "--scheme", "momentum", "--set", "beta=0.9"])
    assert result.exit_code == 0, result.output
    assert result.stderr == "bea: --problem not given: using mlp\n"
    assert re.search(r"at j=100: the order-2 modified flow is [0-9.]+× closer", result.stdout)
    loss = [float(line.split()[-2]) for line in result.stdout.splitlines()[3:-1]]
    assert len(loss) == 11 and loss[-1] < loss[0] and loss == sorted(loss, reverse=True)


def test_adam_default_rate_at_optax_values_keeps_the_series_and_the_order_2_flow_closer():
    """Adam at optax's b2 = 0.999, eps = 1e-8: the default h reads the growth of f_2 over
    f_1 in the largest coordinate. The leading rate alone gave h ≈ 8·10⁵ on this problem
    (no flow integrable, NaN columns) and 1.7·10⁻⁷ on the MLP (the order-2 flow 2.4×
    farther than the gradient flow; the default run did not end)."""
    d = derive(build("adam", 2, b1=NINE_TENTHS, b2=sympy.Rational(999, 1000), eps=sympy.Rational(1, 10 ** 8)), 2)
    problem = make_problem("logistic", d.rule.atoms)
    h = default_learning_rate(d, problem)
    assert 1e-5 < h < 1e-3
    r = drift(d, problem, h, 30, notes=(notes := []))
    assert notes == [] and r.diverged_at is None
    assert np.isfinite(r.distance[2][-1]) and r.distance[2][-1] < 0.5 * r.distance[1][-1]
