"""Principal-flow sections in bea's notation (issue 24, "Output"): unicode text like the rest
of ``bea derive`` (superscripts, √, Greek names, no ``**``), lines of at most 100 characters,
LaTeX from sympy's printer with bea's names, JSON unchanged (sympy syntax)."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
import sympy
from click.testing import CliRunner

from bea.principal import stability_function
from bea.principal.notation import WIDTH, fit, latex, text
from bea.render.text import WIDTH as TEXT_WIDTH
from bea.schemes import build
from cli.main import main

CASES = [["--scheme", "gd"], ["--scheme", "momentum"], ["--scheme", "momentum", "--beta", "1/2"],
         ["--scheme", "sgd", "--batches", "4"], ["--scheme", "rk", "--method", "rk4"],
         ["--scheme", "momentum", "--nesterov"]]


def _principal(args, fmt="text"):
    result = CliRunner().invoke(main, ["derive", *args, "--order", "3", "--principal", "--format", fmt])
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.mark.parametrize("args", CASES, ids=lambda a: " ".join(a[1:]))
def test_text_is_unicode_and_fits(args):
    out = _principal(args)
    section = out[out.index("principal flow of"):]
    assert "**" not in section and "sqrt" not in section and "beta" not in section
    assert max(len(line) for line in section.splitlines()) <= 100


def test_rk4_and_momentum_read_in_bea_notation():
    assert "  R(z) = z⁴/24 - z³/6 + z²/2 - z + 1" in _principal(CASES[4])
    momentum = _principal(CASES[1])
    assert "  R(z) = (β - z - √Δ + 1)/2   where z > β + 1 and Δ ≥ 0" in momentum
    assert "       = (β - z + √Δ + 1)/2   elsewhere (continuing R(0) = 1)" in momentum
    assert "  Δ = b² - 4ac = β² - 2β·z - 2β + z² - 2z + 1" in momentum
    assert "|R| = 1 at z = 2(β + 1) (R = -1)" in momentum


def test_a_long_condition_takes_its_own_line():
    nesterov = _principal(CASES[5]).splitlines()
    i = next(i for i, line in enumerate(nesterov) if line.startswith("  R(z) = "))
    assert nesterov[i + 1] == "         where (β + 1)·(z - 1) > 0 and Δ ≥ 0 (the root of larger modulus)"


def test_the_branches_printed_are_the_roots_of_R():
    """The text's ``(-b ∓ √Δ)/(2a)`` with ``Δ`` substituted is the ``Piecewise`` itself."""
    pf = stability_function(build("momentum", 2))
    far, near, _, delta = pf._branches()
    (R_far, _), (R_near, _) = pf.R.args
    for (numerator, denominator), R in ((far, R_far), (near, R_near)):
        assert sympy.simplify(numerator.subs(sympy.Symbol("Δ"), delta) / denominator - R) == 0


def test_a_long_sum_breaks_between_terms():
    out = _principal(CASES[3])
    lines = out.splitlines()
    i = next(i for i, line in enumerate(lines) if line.startswith("  R(z₁, z₂, z₃, z₄) = "))
    assert lines[i + 1].startswith(" " * len("  R(z₁, z₂, z₃, z₄) = ") + "- ")
    assert "z₁·z₂·z₃·z₄" in lines[i] and "ψ(z₁, z₂, z₃, z₄) = log(R(z₁, z₂, z₃, z₄))/(z₁ + z₂ + z₃ + z₄)" in out


def test_latex_uses_bea_names_and_delta():
    momentum = _principal(CASES[1], "latex")
    assert r"R(z) &= \frac{- \sqrt{\Delta} + \beta - z + 1}{2}" in momentum
    assert r"\intertext{where $z > \beta + 1$ and $\Delta \ge 0$ (the root of larger modulus); otherwise}" in momentum
    assert r"\Delta &= \beta^{2} - 2 \beta z" in momentum and "beta**" not in momentum
    assert latex(sympy.Symbol("lam") * sympy.Symbol("z")) == r"\lambda z"


def test_json_keeps_sympy_syntax():
    data = json.loads(_principal(CASES[4], "json"))["principal"]
    assert data["R"] == "z**4/24 - z**3/6 + z**2/2 - z + 1"
    beta, z = sympy.symbols("beta z")
    R = sympy.parse_expr(json.loads(_principal(CASES[1], "json"))["principal"]["R"],
                         local_dict={"beta": beta, "z": z})
    assert isinstance(R, sympy.Piecewise)


def test_text_printer_primitives():
    b, z, z1 = sympy.symbols("beta z z1")
    assert text(sympy.sqrt(b**2 - 2 * b * z + 1)) == "√(β² - 2β·z + 1)"
    assert text(sympy.factor(2 * b + 2)) == "2(β + 1)" and text(z1 / z**2) == "z₁/z²"
    assert text(sympy.Ge(z, sympy.sqrt(2))) == "z ≥ √2"
    assert WIDTH == TEXT_WIDTH
    long = "  R(z) = " + " + ".join(["z"] * 60)
    assert all(len(line) <= 100 for line in fit(long)) and len(fit(long)) > 1


ENGINE = shutil.which("pdflatex") or shutil.which("lualatex")


@pytest.mark.skipif(ENGINE is None, reason="no LaTeX engine (pdflatex or lualatex) on PATH")
def test_latex_sections_compile_without_overfull_boxes(tmp_path):
    """Every case's LaTeX at order 1 (its principal rows among few others) compiles, no box
    overfull: the two branches of R are rows, not a cases block the row breaker would cut."""
    body = "".join(_principal_order_1(args) + "\n\\clearpage\n" for args in CASES)
    doc = f"\\documentclass{{article}}\n\\usepackage{{amsmath}}\n\\begin{{document}}\n{body}\\end{{document}}\n"
    (tmp_path / "doc.tex").write_text(doc, encoding="utf-8")
    run = subprocess.run([ENGINE, "-interaction=nonstopmode", "-halt-on-error", "doc.tex"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=300)
    log = (tmp_path / "doc.log").read_text(encoding="utf-8", errors="replace")
    assert run.returncode == 0 and not [line for line in log.splitlines() if line.startswith("! ")], log[-2000:]
    assert "Overfull" not in log


def _principal_order_1(args) -> str:
    result = CliRunner().invoke(main, ["derive", *args, "--order", "1", "--principal", "--format", "latex"])
    assert result.exit_code == 0, result.output
    return result.stdout
