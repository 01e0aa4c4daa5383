"""`bea schemes`, `bea derive` and `bea catalogue`: outputs and bad input (printing: test_render.py)."""

import pytest
from click.testing import CliRunner

from cli.main import main


def run(*args):
    return CliRunner().invoke(main, list(args))


def test_schemes_lists_every_scheme():
    from bea.schemes import SCHEMES

    out = run("schemes").output
    for name in SCHEMES:
        assert name in out


def test_derive_gd_order_2_is_implicit_gradient_regularization():
    result = run("derive", "--scheme", "gd", "--order", "2")
    assert result.exit_code == 0, result.output
    assert "L̃ = L + h/4 ‖∇L‖²" in result.output


@pytest.mark.parametrize("args", [
    ["--scheme", "nope"],
    ["--scheme", "gd", "--order", "0"],
    ["--scheme", "gd", "--order", "abc"],
    ["--scheme", "gd", "--order", "2.5"],
    ["--scheme", "gd", "--batches", "3"],
    ["--scheme", "sgd", "--batches", "0"],
    ["--scheme", "sgd", "--batches", "x"],
    ["--scheme", "sgd", "--shuffle", "sideways"],
    ["--scheme", "sgd", "--order", "6"],
    ["--scheme", "game", "--rates", "1"],
    ["--scheme", "game", "--rates", "1,2!"],
    ["--scheme", "game", "--mode", "alternating", "--steps", "0,1"],
    ["--scheme", "game", "--steps", "1,1"],
    ["--scheme", "continual", "--steps", "A:x"],
    ["--scheme", "continual", "--steps", "A2"],
    ["--scheme", "rk", "--method", "nope"],
    ["--scheme", "rk"],
    ["--scheme", "rk", "--tableau", "/no/such/file.json"],
    ["--scheme", "momentum", "--beta", "1+"],
    ["--scheme", "momentum", "--beta", "1"],
    ["--scheme", "gd", "--rule", "x.py:f"],
    ["--rule", "nofile.py:f"],
    ["--rule", "justtext"],
    [],
])
def test_bad_input_gets_one_line_and_exit_2(args):
    result = run("derive", *args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output


def test_tableau_with_code_is_not_evaluated(tmp_path):
    path = tmp_path / "evil.json"
    path.write_text('{"A": [["__import__(\\"os\\").system(\\"touch pwned\\")"]], "b": [1]}')
    result = run("derive", "--scheme", "rk", "--tableau", str(path))
    assert result.exit_code == 2 and "not a number" in result.output


def test_user_rule_on_the_command_line(tmp_path):
    path = tmp_path / "rule.py"
    path.write_text("def step(theta, h, f):\n    return theta + h * f(theta + h * f(theta))\n")
    result = run("derive", "--rule", f"{path}:step", "--order", "2")
    assert result.exit_code == 0
    assert "f₂ = 1/2 f'f" in result.output


def test_user_rule_error_names_the_line(tmp_path):
    path = tmp_path / "rule.py"
    path.write_text("def step(theta, h, f):\n    return theta + f(theta)\n")
    result = run("derive", "--rule", f"{path}:step")
    assert result.exit_code == 2
    assert "line 2" in result.output and "step" in result.output
