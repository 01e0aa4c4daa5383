"""``--sampling iid`` and ``--covariance`` through click: derive, check, drift --noise, bad input."""

import json

import matplotlib.image as mpimg
import numpy as np
import pytest
import sympy
from click.testing import CliRunner

from cli.main import main


def _run(args):
    return CliRunner().invoke(main, args)


def test_derive_iid_text_and_json():
    text = _run(["derive", "--scheme", "sgd", "--sampling", "iid", "--batch-size", "4", "--examples", "8"])
    assert text.exit_code == 0, text.output
    assert "f₂ = -1/2 f'f" in text.stdout and "b = -∇(L + h/4 ‖∇L‖²)" in text.stdout
    assert "Σ = 1/32 Σ_i (f^[i] - f) ⊗ (f^[i] - f)" in text.stdout
    out = _run(["derive", "--scheme", "sgd", "--sampling", "iid", "--without-replacement", "--format", "json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert data["kind"] == "sme" and data["options"] == {"batch": "B", "examples": "n", "replace": False}
    assert data["drift"][1] == {"order": 2, "terms": [{"tree": "f[f]", "coeff": "-1/2"}]}
    names = {n: sympy.Symbol(n) for n in data["symbols"]}
    (term,) = data["diffusion"]["terms"]
    coeff = sympy.parse_expr(term["coeff"], local_dict=names)
    B, n = names["B"], names["n"]
    assert sympy.simplify(coeff - (n - B) / (B * n * (n - 1))) == 0
    order_1 = json.loads(_run(["derive", "--scheme", "sgd", "--sampling", "iid", "--order", "1", "-f", "json"]).stdout)
    assert order_1["drift"] == [{"order": 1, "terms": [{"tree": "f", "coeff": "1"}]}]


@pytest.mark.parametrize("fmt", ["latex", "markdown"])
def test_derive_iid_other_formats(fmt):
    out = _run(["derive", "--scheme", "sgd", "--sampling", "iid", "--format", fmt])
    assert out.exit_code == 0, out.output
    assert r"-\nabla\left(L + \frac{h}{4} \|\nabla L\|^2\right)" in out.stdout
    assert r"\otimes" in out.stdout


def test_derive_random_reshuffling_covariance():
    out = _run(["derive", "--scheme", "sgd", "--covariance", "--format", "json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert data["flow"] and data["epoch_covariance"]["power"] == 4
    coeffs = {tuple(t["sum"]["indices"]): sympy.Rational(t["coeff"]) for t in data["epoch_covariance"]["terms"]}
    assert coeffs == {("i", "j"): sympy.Rational(1, 8), ("i", "j", "k"): sympy.Rational(1, 12)}
    text = _run(["derive", "--scheme", "sgd", "--batches", "3", "--covariance"]).stdout
    assert "modified loss" in text and "K = 1/8 Σ_{i≠j} [f^[i], f^[j]] ⊗ [f^[i], f^[j]]" in text


def test_check_iid_orders_1_and_2(tmp_path):
    plot = tmp_path / "weak.png"
    out = _run(["check", "--scheme", "sgd", "--sampling", "iid", "--order", "2", "--format", "json",
                "--plot", str(plot)])
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert data["ok"] and [o["n"] for o in data["orders"]] == [1, 2]
    assert [o["expected"] for o in data["orders"]] == [2, 3]
    assert all(abs(o["slope"] - o["expected"]) < 0.15 for o in data["orders"])  # tighter than the CLI's 0.3
    assert plot.stat().st_size > 10_000


def test_drift_noise_writes_a_png(tmp_path):
    """SGD runs and SME paths (bea.stochastic.paths) both start at θ₀ and spread out."""
    plot = tmp_path / "noise.png"
    out = _run(["drift", "--scheme", "sgd", "--sampling", "iid", "--noise", "--runs", "32", "--iterations", "6",
                "--format", "json", "--plot", str(plot)])
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert data["runs"] == 32 and len(data["times"]) == 7
    for name in ("sgd", "sme"):
        std = np.array(data["stats"][name]["theta_std"])
        assert std.shape == (7, 2) and std[0].max() == 0 and std[-1].min() > 0
    image = mpimg.imread(plot)
    assert image.ndim == 3 and np.std(image[..., :3]) > 0.05


@pytest.mark.parametrize("args", [
    ["derive", "--scheme", "sgd", "--sampling", "iid", "--order", "3"],
    ["derive", "--scheme", "sgd", "--sampling", "iid", "--shuffle", "random"],
    ["derive", "--scheme", "sgd", "--batch-size", "4"],
    ["derive", "--scheme", "sgd", "--without-replacement"],
    ["derive", "--scheme", "sgd", "--sampling", "sometimes"],
    ["derive", "--scheme", "sgd", "--sampling", "iid", "--batch-size", "1/2"],
    ["derive", "--scheme", "sgd", "--sampling", "iid", "--examples", "__import__('os')"],
    ["derive", "--scheme", "sgd", "--sampling", "iid", "--batch-size", "9", "--examples", "4",
     "--without-replacement"],
    ["derive", "--scheme", "sgd", "--sampling", "iid", "--principal"],
    ["derive", "--scheme", "gd", "--sampling", "iid"],
    ["derive", "--scheme", "sgd", "--shuffle", "forward", "--covariance"],
    ["check", "--scheme", "sgd", "--sampling", "iid", "--examples", "9"],
    ["check", "--scheme", "sgd", "--sampling", "iid", "--batch-size", "7", "--examples", "8"],
    ["check", "--scheme", "sgd", "--sampling", "iid", "--problem", "logistic"],
    ["drift", "--scheme", "sgd", "--noise"],
    ["drift", "--scheme", "sgd", "--sampling", "iid", "--noise", "--runs", "5000"],
    ["drift", "--scheme", "sgd", "--sampling", "iid", "--noise", "--iterations", "200000"],
    ["drift", "--scheme", "sgd", "--sampling", "iid", "--noise", "--lr", "-1"],
    ["drift", "--scheme", "gd", "--runs", "4"],
])
def test_bad_input_one_line_exit_2(args):
    out = _run(args)
    assert out.exit_code == 2, out.output
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("bea: error:") and "Traceback" not in out.output
