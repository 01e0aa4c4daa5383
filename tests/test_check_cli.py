"""``bea check`` / ``bea drift`` through click: exit statuses, output, plots."""

import matplotlib.image as mpimg
import numpy as np
import pytest
from click.testing import CliRunner

from bea import verify
from bea.schemes import SCHEMES
from bea.trees import parse
from cli.main import main

OPTIONS = {
    "gd": [],
    "sgd": ["--batches", "3", "--shuffle", "random"],
    "multitask": ["--tasks", "2"],
    "continual": ["--steps", "A:2,B:1"],
    "game": ["--mode", "alternating", "--rates", "1,1/2", "--steps", "2,1"],
    "rk": ["--method", "rk4"],
    "momentum": ["--beta", "1/2"],
}
PROBLEMS = {"game": ["dirac-gan", "bilinear"]}


def _cases():
    for name in SCHEMES:
        for problem in PROBLEMS.get(name, ["logistic", "quartic"]):
            yield name, problem


def test_every_scheme_has_options_here():
    assert set(SCHEMES) <= set(OPTIONS)


@pytest.mark.parametrize("name,problem", list(_cases()))
def test_check_passes_at_default_order(name, problem):
    order = SCHEMES[name].default_order
    result = CliRunner().invoke(
        main, ["check", "--scheme", name, "--order", str(order), "--problem", problem, *OPTIONS[name]])
    assert result.exit_code == 0, result.output
    assert "all orders agree" in result.stdout
    assert result.stdout.count(" yes") == order


def test_check_json_and_symbolic_beta_set():
    result = CliRunner().invoke(main, ["check", "-s", "momentum", "--set", "beta=0.3", "--format", "json"])
    assert result.exit_code == 0, result.output
    import json

    data = json.loads(result.stdout)
    assert data["ok"] and [o["expected"] for o in data["orders"]] == [2, 3]


def test_wrong_flow_exits_1(monkeypatch):
    original = verify.numeric_coefficients

    def wrong(derivation, values=None, upto=None):
        coeffs = original(derivation, values, upto)
        coeffs[2][parse("f[f]")] = -0.6  # the true coefficient is -1/2
        return coeffs

    monkeypatch.setattr(verify, "numeric_coefficients", wrong)
    result = CliRunner().invoke(main, ["check", "--scheme", "gd", "--order", "2"])
    assert result.exit_code == 1, result.output
    assert "MISMATCH" in result.stdout


@pytest.mark.parametrize("args,message", [
    (["check", "--scheme", "gd", "--problem", "nope"], "unknown problem"),
    (["check", "--scheme", "nope"], "unknown scheme"),
    (["check", "--scheme", "gd", "--set", "beta"], "NAME=VALUE"),
    (["check", "--scheme", "gd", "--set", "beta=x"], "not a number"),
    (["check", "--scheme", "game", "--rates", "a,b"], "symbol a"),
    (["check", "--scheme", "gd", "--problem", "bilinear"], "game"),
    (["check", "--scheme", "gd", "--order", "0"], "order"),
    (["drift", "--scheme", "gd", "--iterations", "0"], "at least 1"),
    (["drift", "--scheme", "gd", "--iterations", "x"], "whole number"),
    (["drift", "--scheme", "gd", "--lr", "-1"], "positive"),
])
def test_bad_input_exits_2(args, message):
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert "Traceback" not in result.output


def test_problem_file_without_names_exits_2(tmp_path):
    path = tmp_path / "p.py"
    path.write_text("only_one = {'losses': {'L1': lambda p: p @ p}, 'params': [1.0, 2.0]}\n")
    result = CliRunner().invoke(main, ["check", "-s", "sgd", "--batches", "2", "--problem", f"{path}:only_one"])
    assert result.exit_code == 2
    assert "L2" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    result = CliRunner().invoke(main, ["check", "-s", "gd", "--problem", f"{path}:absent"])
    assert result.exit_code == 2 and "absent" in result.stderr


def _non_trivial_png(path):
    assert path.exists() and path.stat().st_size > 10_000
    image = mpimg.imread(path)
    assert image.ndim == 3 and np.std(image[..., :3]) > 0.05


def test_check_plot(tmp_path):
    out = tmp_path / "check.png"
    result = CliRunner().invoke(main, ["check", "-s", "gd", "--plot", str(out)])
    assert result.exit_code == 0, result.output
    _non_trivial_png(out)


def test_drift_on_mlp(tmp_path):
    out = tmp_path / "drift.png"
    result = CliRunner().invoke(main, ["drift", "-s", "gd", "--order", "2", "--problem", "mlp",
                                       "--iterations", "40", "--plot", str(out), "--format", "json"])
    assert result.exit_code == 0, result.output
    import json

    data = json.loads(result.stdout)
    assert data["parameters"] >= 10_000
    assert data["distance"]["2"][-1] < 0.5 * data["distance"]["1"][-1]
    _non_trivial_png(out)


def test_drift_text_table():
    result = CliRunner().invoke(main, ["drift", "-s", "sgd", "--batches", "2", "--size", "4",
                                       "--iterations", "10"])
    assert result.exit_code == 0, result.output
    assert "closer to the iterates than the gradient flow" in result.stdout


def test_user_rule_through_check_codegen_and_drift(tmp_path):
    """`--rule FILE.py:NAME` works for check, codegen and drift like a built-in scheme."""
    rule = tmp_path / "rule.py"
    rule.write_text("def extragradient(theta, h, f):\n    return theta + h * f(theta + h * f(theta))\n")
    spec = f"{rule}:extragradient"
    result = CliRunner().invoke(main, ["check", "--rule", spec, "--order", "2"])
    assert result.exit_code == 0 and "all orders agree" in result.stdout, result.output
    out = tmp_path / "generated.py"
    result = CliRunner().invoke(main, ["codegen", "--rule", spec, "--order", "2", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "def modified_field(" in out.read_text()
    result = CliRunner().invoke(main, ["drift", "--rule", spec, "--order", "2", "--problem", "logistic",
                                       "--iterations", "10"])
    assert result.exit_code == 0, result.output


def test_drift_accepts_steps_as_iterations_where_the_scheme_has_no_steps():
    result = CliRunner().invoke(main, ["drift", "-s", "gd", "--problem", "logistic", "--steps", "5"])
    assert result.exit_code == 0, result.output
    both = CliRunner().invoke(main, ["drift", "-s", "gd", "--steps", "5", "--iterations", "5"])
    assert both.exit_code == 2
    game = CliRunner().invoke(main, ["drift", "-s", "game", "--mode", "alternating", "--steps", "1,1",
                                     "--problem", "bilinear", "--iterations", "5", "--lr", "0.05"])
    assert game.exit_code == 0, game.output
