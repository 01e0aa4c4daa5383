"""Tableau files (``bea derive --scheme rk --tableau FILE.json``): a ``c`` that is not the
row sums of ``A`` is refused, a rounded simple fraction is warned about (and used as
written), and entries may be expressions in parameters, read without evaluating text."""

import json
import warnings

import pytest
import sympy
from click.testing import CliRunner
from sympy import Rational as R

from bea import derive
from bea.schemes import SchemeError, build, load_tableau
from bea.schemes.surds import SurdError, parse_surd
from bea.schemes.tableaux import TableauWarning
from cli.main import main

ALPHA = sympy.Symbol("alpha", real=True)
TWO_STAGE = {"A": [[0, 0], ["alpha", 0]], "b": ["1 - 1/(2*alpha)", "1/(2*alpha)"]}
"""The explicit two-stage methods of order 2: midpoint (α = 1/2), Heun (1), Ralston (2/3)."""


def write(tmp_path, data, name="tableau.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return str(path)


def run(*args):
    return CliRunner().invoke(main, list(args))


def one_line_exit_2(result) -> str:
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 2 and len(lines) == 1 and "Traceback" not in result.stderr, result.output
    assert result.stdout == ""
    return lines[0]


def flow(rule, order):
    d = derive(rule, order)
    return [{str(t): d.field.to_sympy(c) for t, c in d.flow[k].items()} for k in range(order + 1)]


# -- c: the row sums of A, or left out ------------------------------------------------------

def test_a_c_that_is_not_the_row_sums_is_refused(tmp_path):
    path = write(tmp_path, {"A": [[0, 0], [1, 0]], "b": ["1/2", "1/2"], "c": [0, 7]})
    with pytest.raises(SchemeError, match=r"c\[1\] = 7 but row 1 of A sums to 1"):
        load_tableau(path)
    line = one_line_exit_2(run("derive", "--scheme", "rk", "--tableau", path, "--order", "2"))
    assert "c[1] = 7" in line and "sums to 1" in line and "c must be the row sums of A" in line


@pytest.mark.parametrize("c", [[0], [0, 1, 1], "0,1", [0, "x y"]])
def test_a_malformed_c_is_refused(tmp_path, c):
    with pytest.raises(SchemeError, match=r"\bc\b"):
        load_tableau(write(tmp_path, {"A": [[0, 0], [1, 0]], "b": ["1/2", "1/2"], "c": c}))


@pytest.mark.parametrize("c", [[0, 1], ["0", "2/2"], [0.0, 1.0]])
def test_a_c_equal_to_the_row_sums_gives_the_method_without_c(tmp_path, c):
    heun = {"A": [[0, 0], [1, 0]], "b": ["1/2", "1/2"]}
    with_c = load_tableau(write(tmp_path, {**heun, "c": c}, "with_c.json"))
    assert with_c.a == load_tableau(write(tmp_path, heun, "without.json")).a
    assert flow(build("rk", 3, tableau=with_c), 3) == flow(build("rk", 3, method="heun"), 3)


def test_a_symbolic_c_is_checked_symbolically(tmp_path):
    load_tableau(write(tmp_path, {**TWO_STAGE, "c": [0, "alpha"]}))
    with pytest.raises(SchemeError, match=r"c\[1\] = 2\*alpha but row 1 of A sums to alpha"):
        load_tableau(write(tmp_path, {**TWO_STAGE, "c": [0, "2*alpha"]}))


# -- rounded decimals: a warning naming the fraction; the value is used as written --------

def test_a_rounded_fraction_is_warned_about_and_used_as_written(tmp_path):
    path = write(tmp_path, {"A": [[0, 0], [0.6666666666666666, 0]], "b": [0.25, 0.75]})
    with pytest.warns(TableauWarning, match=r'A\[1\]\[0\] = 0\.6666666666666666 .* 2/3 .*write "2/3"'):
        tableau = load_tableau(path)
    assert tableau.a[1][0] == R(3333333333333333, 5000000000000000)
    result = run("derive", "--scheme", "rk", "--tableau", path, "--order", "2")
    assert result.exit_code == 0, result.output
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("bea: warning: ") and 'write "2/3"' in line and "A[1][0]" in line
    assert "f₂ = -1/20000000000000000 f'f" in result.stdout  # the literal, not Ralston's 0


def test_a_rounded_fraction_inside_an_expression_is_warned_about(tmp_path):
    data = {**TWO_STAGE, "A": [[0, 0], ["0.3333333333333333*alpha", 0]]}
    with pytest.warns(TableauWarning, match=r"holds 0\.3333333333333333.*1/3"):
        load_tableau(write(tmp_path, data))


@pytest.mark.parametrize("entry", [0.25, "0.75", 0.3333333, "1/3", 0.1])
def test_exact_or_far_decimals_give_no_warning(tmp_path, entry):
    with warnings.catch_warnings():
        warnings.simplefilter("error", TableauWarning)
        load_tableau(write(tmp_path, {"A": [[0, 0], [entry, 0]], "b": [1, 0]}))


def test_the_warnings_explain_a_sum_that_misses_one(tmp_path):
    path = write(tmp_path, {"A": [[0, 0], [1, 0]], "b": [0.3333333333333333, 0.6666666666666666]})
    result = run("derive", "--scheme", "rk", "--tableau", path)
    assert result.exit_code == 2, result.output
    warning_b0, warning_b1, error = result.stderr.strip().splitlines()
    assert 'b[0]' in warning_b0 and '"1/3"' in warning_b0 and 'b[1]' in warning_b1 and '"2/3"' in warning_b1
    assert error.startswith("bea: error:") and "must sum to 1" in error


# -- parameters in entries ------------------------------------------------------------------

def test_entries_in_a_parameter_give_coefficients_in_it(tmp_path):
    family = flow(build("rk", 3, tableau=write(tmp_path, TWO_STAGE)), 3)
    assert family[2] == {}
    assert family[3]["f[f,f]"].free_symbols == {ALPHA}
    for alpha, method in [(R(1, 2), "midpoint"), (R(1), "heun"), (R(2, 3), "ralston")]:
        named = flow(build("rk", 3, method=method), 3)
        at = [{t: sympy.simplify(c.subs(ALPHA, alpha)) for t, c in k.items()} for k in family]
        assert [{t: c for t, c in k.items() if c != 0} for k in at] == named


def test_cli_prints_the_coefficients_in_alpha(tmp_path):
    result = run("derive", "--scheme", "rk", "--tableau", write(tmp_path, TWO_STAGE, "two_stage_alpha.json"),
                 "--order", "3")
    assert result.exit_code == 0, result.output
    assert "f₂ = 0" in result.stdout and "f''(f, f)" in result.stdout and "α/4" in result.stdout


@pytest.mark.parametrize("text, value", [
    ("alpha", ALPHA),
    ("1 - alpha", 1 - ALPHA),
    ("alpha/2", ALPHA / 2),
    ("(1 + c2) * sqrt(3)/6", (1 + sympy.Symbol("c2", real=True)) * sympy.sqrt(3) / 6),
    ("-alpha*alpha + 1/(2*alpha)", -ALPHA**2 + 1 / (2 * ALPHA)),
])
def test_parameter_expressions_are_parsed_exactly(tmp_path, text, value):
    tableau = load_tableau(write(tmp_path, {"A": [[0, 0], [text, 0]], "b": [1, 0]}))
    assert sympy.simplify(tableau.a[1][0] - value) == 0


@pytest.mark.parametrize("text, words", [
    ("h", ["'h' is reserved", "the step size"]),
    ("1 - s", ["'s' is reserved"]),
    ("theta/2", ["'theta' is reserved"]),
    ("_x", ["is not a name"]),
    ("__import__('os')", ["is not a number", "unexpected"]),
    ("__import__", ["is not a name"]),
    ("alpha**2", ["is not a number"]),
    ("sqrt(alpha)", ["sqrt takes a non-negative rational"]),
    ("2alpha", ["unexpected 'alpha'"]),
    ("alpha(1)", ["unexpected '('"]),
])
def test_bad_parameter_entries_are_refused_with_one_line(tmp_path, text, words):
    path = write(tmp_path, {"A": [[0, 0], [text, 0]], "b": [1, 0]})
    line = one_line_exit_2(run("derive", "--scheme", "rk", "--tableau", path))
    assert "A[1][0]" in line and all(w in line for w in words), line


def test_without_a_symbol_callback_names_stay_refused():
    with pytest.raises(SurdError, match="only sqrt"):
        parse_surd("alpha")
    assert parse_surd("alpha", symbol=lambda name: sympy.Symbol(name)) == sympy.Symbol("alpha")


def test_check_asks_for_a_value_of_a_parameter_it_has_no_default_for(tmp_path):
    path = write(tmp_path, {"A": [[0, 0], ["c2", 0]], "b": ["1 - 1/(2*c2)", "1/(2*c2)"]})
    line = one_line_exit_2(run("check", "--scheme", "rk", "--tableau", path, "--order", "1"))
    assert "c2" in line and "--set NAME=VALUE" in line
    result = run("check", "--scheme", "rk", "--tableau", path, "--order", "1", "--set", "c2=1/2")
    assert result.exit_code == 0, result.output
    assert "all orders agree" in result.stdout
