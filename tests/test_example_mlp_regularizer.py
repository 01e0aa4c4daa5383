"""examples/train_mlp_regularizer.py, run as a script with tiny settings (issue 24).

It must write its figure where ``--out`` says (not into the repository), say so, and show
what its docstring claims: over a fixed time, plain gd drifts O(h) from the gradient flow,
while it stays O(h^N) from the generated modified flow, and gd with the drift cancelled
stays O(h^N) from the gradient flow (N = 2 here: halving h divides those by about 4).
"""

from __future__ import annotations

import pathlib
import subprocess
import sys

import pytest

pytest.importorskip("optax")
pytest.importorskip("matplotlib")

SCRIPT = pathlib.Path(__file__).resolve().parent.parent / "examples" / "train_mlp_regularizer.py"


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=300)


def test_example_orders_and_output(tmp_path):
    out = tmp_path / "figure.png"
    result = run("--out", str(out), "--order", "2", "--time", "2", "--rates", "0.05", "0.1", "--dt", "0.025")
    assert result.returncode == 0, result.stderr
    assert out.stat().st_size > 0 and f"wrote {out}" in result.stdout
    rows = {float(line.split()[0]): [float(v) for v in line.split()[1:]]
            for line in result.stdout.splitlines() if line.strip()[:1].isdigit()}
    (plain_small, modified_small, cancelled_small), (plain, modified, cancelled) = rows[0.05], rows[0.1]
    assert 1.6 < plain / plain_small < 2.5  # O(h)
    assert 3.2 < modified / modified_small < 5.5 and 3.2 < cancelled / cancelled_small < 5.5  # O(h²)
    assert modified_small < plain_small / 10 and cancelled_small < plain_small / 10


def test_example_rejects_a_rate_that_is_not_a_multiple_of_dt(tmp_path):
    result = run("--out", str(tmp_path / "x.png"), "--rates", "0.01", "--dt", "0.003")
    assert result.returncode == 2
    assert "multiple of --dt" in result.stderr.splitlines()[-1]
    assert not (tmp_path / "x.png").exists()
