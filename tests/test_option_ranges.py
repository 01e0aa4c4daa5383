"""Option ranges: a value outside an option's declared range is refused on the command
line (one line naming the option, the value and the range; exit 2), a symbol always
passes, ``bea schemes`` shows the ranges, and the library API stays permissive (the
mathematics holds outside the practical range: momentum's principal flow at β = -1/4)."""

import pytest
import sympy
from click.testing import CliRunner

from bea import derive
from bea.schemes import SCHEMES, build, parse_options
from bea.schemes._options import Range, SchemeError, check_ranges
from cli.main import main


def run(*args):
    return CliRunner().invoke(main, list(args))


@pytest.mark.parametrize("args, message", [
    (["--scheme", "momentum", "--beta", "2"], "--beta 2 is outside the range 0 ≤ β < 1"),
    (["--scheme", "momentum", "--beta", "1"], "--beta 1 is outside the range 0 ≤ β < 1"),
    (["--scheme", "momentum", "--beta", "-1/4", "--nesterov"], "--beta -1/4 is outside the range 0 ≤ β < 1"),
    (["--scheme", "adam", "--b1", "1"], "--b1 1 is outside the range 0 ≤ b1 < 1"),
    (["--scheme", "adam", "--b2", "-0.5"], "--b2 -1/2 is outside the range 0 ≤ b2 < 1"),
    (["--scheme", "adam", "--eps", "0"], "--eps 0 is outside the range eps > 0"),
    (["--scheme", "adamw", "--weight-decay", "-1/5"], "--weight-decay -1/5 is outside the range weight-decay ≥ 0"),
    (["--scheme", "rmsprop", "--b2", "1.5"], "--b2 3/2 is outside the range 0 ≤ b2 < 1"),
    (["--scheme", "game", "--rates", "0,1"], "--rates 0,1: α = 0 is outside the range α > 0"),
    (["--scheme", "game", "--rates", "alpha,-1"], "--rates alpha,-1: λ = -1 is outside the range λ > 0"),
    (["--scheme", "sgd", "--batches", "0"], "--batches must be at least 1, got 0"),
])
@pytest.mark.parametrize("command", ["derive", "codegen"])
def test_out_of_range_values_are_refused_with_one_line(tmp_path, command, args, message):
    extra = ["-o", str(tmp_path / "module.py")] if command == "codegen" else []
    result = run(command, *args, *extra)
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 2 and lines == [f"bea: error: {message}"], result.output
    assert result.stdout == "" and not (tmp_path / "module.py").exists()


def test_check_refuses_before_any_numerics():
    result = run("check", "--scheme", "momentum", "--beta", "1.5")
    assert result.exit_code == 2, result.output
    assert result.stderr.strip().splitlines()[-1] == "bea: error: --beta 3/2 is outside the range 0 ≤ β < 1"


@pytest.mark.parametrize("args", [
    ["--scheme", "momentum", "--beta", "0"],
    ["--scheme", "momentum", "--beta", "0.99", "--nesterov"],
    ["--scheme", "momentum", "--beta", "b"],
    ["--scheme", "rmsprop", "--b2", "0", "--eps", "1e-8"],
    ["--scheme", "adamw", "--weight-decay", "0"],
    ["--scheme", "game", "--rates", "1/100,a"],
])
def test_values_inside_and_symbols_pass(args):
    result = run("derive", *args, "--order", "1")
    assert result.exit_code == 0, result.output


def test_schemes_lists_the_ranges():
    listing = run("schemes").stdout
    assert "--beta" in listing and "[0 ≤ β < 1]" in listing
    assert "[0 ≤ b1 < 1]" in listing and "[0 ≤ b2 < 1]" in listing and "[eps > 0]" in listing
    assert "[weight-decay ≥ 0]" in listing and "[α > 0, λ > 0]" in listing
    batches = next(line for line in listing.splitlines() if "--batches" in line)
    assert batches.endswith("[≥ 1]")


def test_the_library_api_stays_permissive():
    """Negative β is mathematics (principal-flow tests use β = -1/4 through ``build``)."""
    d = derive(build("momentum", 1, beta="-1/4"), 1)
    assert d.field.to_sympy(next(iter(d.flow[1].values()))) == sympy.Rational(4, 5)  # f₁ = f/(1-β)
    typed = parse_options("momentum", beta="-1/4")
    with pytest.raises(SchemeError, match="outside the range"):
        check_ranges(SCHEMES["momentum"].options, typed)


@pytest.mark.parametrize("bounds, text, inside, outside", [
    (Range("β", 0, 1), "0 ≤ β < 1", [0, sympy.Rational(99, 100)], [1, -sympy.Rational(1, 10)]),
    (Range("ε", 0, low_open=True), "ε > 0", [sympy.Rational(1, 10**9)], [0, -1]),
    (Range("λ", 0), "λ ≥ 0", [0, 10**9], [-sympy.Rational(1, 10**9)]),
    (Range("x", 0, 1, low_open=True, high_open=False), "0 < x ≤ 1", [1], [0, 2]),
])
def test_range_text_and_membership(bounds, text, inside, outside):
    assert str(bounds) == text
    assert all(bounds.contains(sympy.sympify(v)) for v in inside)
    assert not any(bounds.contains(sympy.sympify(v)) for v in outside)
    assert bounds.contains(sympy.Symbol("beta")) and bounds.contains(1 - sympy.Symbol("beta"))
