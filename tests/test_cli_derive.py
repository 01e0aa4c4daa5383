"""`bea schemes`, `bea derive` and `bea catalogue`: outputs and bad input (printing: test_render.py)."""

import pytest
import sympy
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


HEAVY = ("jax", "diffrax", "equinox", "matplotlib")


@pytest.mark.parametrize("args", [["derive", "--scheme", "gd", "--order", "3"], ["schemes"], ["--help"]])
def test_derive_schemes_and_help_import_no_numerical_stack(args):
    import subprocess
    import sys

    code = ("import sys, cli.main\n"
            "try:\n"
            f"    cli.main.main({args!r}, standalone_mode=False)\n"
            "except SystemExit:\n"
            "    pass\n"
            f"print('HEAVY', sorted(m for m in {HEAVY!r} if m in sys.modules))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "HEAVY []" in done.stdout, done.stdout[-500:]


def test_command_table_matches_the_commands():
    from cli.main import COMMANDS

    for name, (_, short) in COMMANDS.items():
        command = main.get_command(None, name)
        assert command.name == name
        assert command.help.startswith(short.rstrip(".")), name


def test_every_scheme_example_derives():
    from bea.schemes import SCHEMES

    for name, scheme in SCHEMES.items():
        result = run("derive", "--scheme", name, *scheme.example_args())
        assert result.exit_code == 0, (name, result.output)


def test_options_are_typed_and_declared_once():
    from bea.schemes import SCHEMES, build, parse_options
    from bea.schemes._options import Choice

    for scheme in SCHEMES.values():
        for opt in scheme.options.values():
            assert opt.flag == "--" + opt.name.replace("_", "-")
            if isinstance(opt.example, str):  # text becomes a typed value; only words stay text
                assert isinstance(opt.parse(opt.example), str) == isinstance(opt.kind, Choice)
    typed = parse_options("game", mode="alternating", rates="1,1/2", steps="2,1")
    assert typed["steps"] == (2, 1) and typed["rates"][1] == sympy.Rational(1, 2) and typed["zero_sum"] is False
    assert parse_options("continual", steps="A:2,B:1")["steps"] == (("A", 2), ("B", 1))
    assert build("sgd", 2, batches=3).atoms == build("sgd", 2, batches="3").atoms


def test_generated_click_options_cover_every_declared_option():
    from bea.schemes import SCHEMES

    params = {p.name for p in main.get_command(None, "derive").params}
    for scheme in SCHEMES.values():
        assert set(scheme.options) <= params


def test_long_work_on_a_terminal_shows_the_estimate_and_a_progress_bar(monkeypatch):
    import io
    import sys

    from bea.schemes import build
    from bea.schemes.size import estimate
    from cli._common import SHOW_PROGRESS_TERMS, derive_with_progress

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    screen = Terminal()
    monkeypatch.setattr(sys, "stderr", screen)
    rule = build("sgd", 3, batches=3, shuffle="forward")
    derivation = derive_with_progress(rule, 3, estimate(3, 3, 3))  # small: nothing shown
    assert screen.getvalue() == "" and derivation.order == 3
    big = estimate(3, 3, SHOW_PROGRESS_TERMS)  # as if the work were large
    derivation = derive_with_progress(rule, 3, big)
    assert screen.getvalue().startswith(f"bea: {big.describe()}; this may take a while")
    assert "deriving" in screen.getvalue() and derivation.order == 3
