"""``bea check`` / ``bea drift`` through click: one path per command, exit statuses, notes,
plots, and bad input (one line on stderr, exit 2, no traceback, no file left behind).

Every scheme's numerical property is checked once, in ``test_numeric_orders.py``.
"""

import json
import os

import matplotlib.image as mpimg
import numpy as np
import pytest
from click.testing import CliRunner

from bea.check import orders
from bea.bseries.trees import parse
from cli.main import main

PROBLEM_FILE = """\
import jax.numpy as jnp
only_one = {'losses': {'L1': lambda p: p @ p}, 'params': [1.0, 2.0]}
nan_loss = {'losses': {'L': lambda p: jnp.log(p @ p - 10.0)}, 'params': [1.0, 2.0]}
nan_gradient = {'losses': {'L': lambda p: jnp.sqrt(p @ p)}, 'params': [0.0, 0.0]}
"""


def _non_trivial_png(path):
    assert path.exists() and path.stat().st_size > 10_000
    image = mpimg.imread(path)
    assert image.ndim == 3 and np.std(image[..., :3]) > 0.05


def test_check_a_user_rule_with_plot(tmp_path):
    """`--rule FILE.py:NAME` through check (with a plot) and codegen, like a built-in scheme."""
    rule = tmp_path / "rule.py"
    rule.write_text("def extragradient(theta, h, f):\n    return theta + h * f(theta + h * f(theta))\n")
    spec, plot = f"{rule}:extragradient", tmp_path / "check.png"
    result = CliRunner().invoke(main, ["check", "--rule", spec, "--order", "2", "--plot", str(plot)])
    assert result.exit_code == 0, result.output
    assert "all orders agree" in result.stdout and result.stdout.count(" yes") == 2
    assert result.stderr == "bea: --problem not given: using logistic\n"
    _non_trivial_png(plot)
    out = tmp_path / "generated.py"
    result = CliRunner().invoke(main, ["codegen", "--rule", spec, "--order", "2", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "def modified_field(" in out.read_text()


def test_check_json():
    result = CliRunner().invoke(main, ["check", "-s", "gd", "--order", "2", "--format", "json",
                                       "--problem", "logistic"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["ok"] and [o["expected"] for o in data["orders"]] == [2, 3]
    assert result.stderr == ""  # nothing chosen for the user


def test_wrong_flow_exits_1(monkeypatch):
    original = orders.numeric_coefficients

    def wrong(derivation, values=None, upto=None):
        coeffs = original(derivation, values, upto)
        coeffs[2][parse("f[f]")] = -0.6  # the true coefficient is -1/2
        return coeffs

    monkeypatch.setattr(orders, "numeric_coefficients", wrong)
    result = CliRunner().invoke(main, ["check", "--scheme", "gd", "--order", "2"])
    assert result.exit_code == 1, result.output
    assert "MISMATCH" in result.stdout


def test_drift_on_mlp_with_plot(tmp_path):
    out = tmp_path / "drift.png"
    result = CliRunner().invoke(main, ["drift", "-s", "gd", "--order", "2", "--iterations", "40",
                                       "--plot", str(out)])
    assert result.exit_code == 0, result.output
    assert "(11041 parameters)" in result.stdout
    assert "closer to the iterates than the gradient flow" in result.stdout
    assert result.stderr == "bea: --problem not given: using mlp\n"
    _non_trivial_png(out)


def test_drift_takes_steps_as_iterations_where_the_scheme_has_no_steps():
    result = CliRunner().invoke(main, ["drift", "-s", "gd", "--problem", "logistic", "--steps", "3",
                                       "--format", "json"])
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.stdout)["times"]) == 4


def test_drift_divergence_warns_and_still_reports():
    result = CliRunner().invoke(main, ["drift", "-s", "gd", "--order", "2", "--problem", "quadratic",
                                       "--lr", "100", "--iterations", "10"])
    assert result.exit_code == 0, result.output
    lines = result.stderr.strip().splitlines()
    assert 1 <= len(lines) <= 4 and "iterates diverged at step" in lines[0] and "(checked)" in lines[0]
    assert "no comparison is meaningful" in result.stdout


BAD = [
    (["check", "--scheme", "gd", "--problem", "nope"], "unknown problem"),
    (["check", "--scheme", "nope"], "unknown scheme"),
    (["check", "--scheme", "gd", "--set", "beta"], "NAME=VALUE"),
    (["check", "--scheme", "gd", "--set", "beta=x"], "not a number"),
    (["check", "--scheme", "game", "--rates", "a,b"], "symbol a"),
    (["check", "--scheme", "gd", "--problem", "bilinear"], "game"),
    (["check", "--scheme", "gd", "--order", "0"], "order"),
    (["check", "--scheme", "momentum", "--set", "beta=1"], "outside the range 0 ≤ β < 1 of --beta"),
    (["check", "--scheme", "gd", "--problem", "mlp", "--size", "100000000"], "limit 2 GB"),
    (["check", "--scheme", "gd", "--plot", "out.txt"], "png, pdf, svg"),
    (["check", "--scheme", "gd", "--plot", "out.xyz"], "png, pdf, svg"),
    (["check", "--scheme", "gd", "--plot", "missing/out.png"], "does not exist"),
    (["check", "--scheme", "gd", "--plot", "problem.py/out.png"], "is not a directory"),
    (["check", "--scheme", "gd", "--plot", "/proc/bea_check.png"], "cannot write there"),
    (["check", "--scheme", "gd", "--plot", "."], "png, pdf, svg"),
    (["check", "-s", "gd", "--problem", "problem.py:nan_loss"], "problem nan_loss: loss L is nan"),
    (["check", "-s", "gd", "--problem", "problem.py:nan_gradient"], "problem nan_gradient"),
    (["check", "-s", "sgd", "--batches", "2", "--problem", "problem.py:only_one"], "L2"),
    (["check", "-s", "gd", "--problem", "problem.py:absent"], "absent"),
    (["drift", "--scheme", "gd", "--iterations", "0"], "at least 1"),
    (["drift", "--scheme", "gd", "--iterations", "x"], "whole number"),
    (["drift", "--scheme", "gd", "--iterations", "1000000000"], "limit of 1000000 iterations"),
    (["drift", "--scheme", "gd", "--iterations", "1000000"], "limit 2 GB"),
    (["drift", "--scheme", "gd", "--lr", "-1"], "positive"),
    (["drift", "--scheme", "gd", "--plot", "drift.txt"], "png, pdf, svg"),
    (["drift", "-s", "gd", "--steps", "5", "--iterations", "5"], "once"),
    # game's own --steps is a scheme option, not the iteration count: the run gets as far
    # as the plot path (checked before any computation)
    (["drift", "-s", "game", "--steps", "1,1", "--iterations", "2", "--plot", "d.txt"], "png, pdf, svg"),
]


@pytest.mark.parametrize("args,message", BAD, ids=[" ".join(a[1:]) for a, _ in BAD])
def test_bad_input_exits_2(args, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "problem.py").write_text(PROBLEM_FILE)
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert 1 <= len(lines) <= 4 and message in lines[-1], result.stderr
    assert "Traceback" not in result.output
    assert sorted(os.listdir(tmp_path)) == ["problem.py"]
