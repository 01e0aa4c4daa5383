"""``bea drift --principal``: the principal flow beside the iterates (issue 13).

On a quadratic the PF, integrated with a complex state through the drift code path,
reproduces gradient descent at every integer step for ``hλ`` in ``(1, 2)`` and above 2,
where the truncated modified flows lose the iterates (Rosca, Wu, Qin & Dherin, TMLR 2023).
"""

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from click.testing import CliRunner

from bea.check import drift, make_problem
from bea.check.principal import numeric_flow, oscillating_rate, top_eigenvalue
from bea.derive import derive
from bea.schemes import build
from cli.main import main


def _gd_iterates(problem, h, k):
    """Gradient descent written out here, independent of the drift code."""
    grad = jax.jit(jax.grad(problem.losses["L"]))
    theta, out = problem.params, [problem.params]
    for _ in range(k):
        theta = theta - h * grad(theta)
        out.append(theta)
    return out


@pytest.mark.parametrize("z", [1.5, 2.3])
def test_pf_reproduces_gd_at_every_step_where_truncated_flows_fail(z):
    rule = build("gd")
    derivation = derive(rule, 3)
    problem = make_problem("oscillating", rule.atoms)
    lam = top_eigenvalue(derivation, problem)
    assert lam == pytest.approx(1.0)
    h, k = z / lam, 30
    result = drift(derivation, problem, h, k, principal=numeric_flow(rule, {}))
    scale = np.array([float(jnp.linalg.norm(t)) for t in _gd_iterates(problem, h, k)])
    relative = result.principal / scale
    assert np.all(relative < 1e-10), relative.max()
    # the truncated order-3 flow loses the oscillating (or diverging) iterates
    truncated = result.distance[3] / scale
    assert truncated.max() > 0.1
    assert truncated.max() > 1e8 * relative.max()


def test_oscillating_default_rate():
    flow = numeric_flow(build("gd"), {})
    h, z = oscillating_rate(flow, 2.0)
    assert z == pytest.approx(1.8) and h == pytest.approx(0.9)
    assert 1 < z < 2  # GD oscillates (R = 1 - z < 0) and contracts (|R| < 1)


def test_symbolic_beta_takes_the_given_number():
    flow = numeric_flow(build("momentum"), {"beta": 0.5})
    assert [float(t.z) for t in flow.thresholds] == pytest.approx([3.0])  # 2(1 + β)


def test_cli_writes_plot_and_json(tmp_path):
    plot = tmp_path / "pf.png"
    result = CliRunner().invoke(main, ["drift", "-s", "gd", "--principal", "--iterations", "30",
                                       "--format", "json", "--plot", str(plot)])
    assert result.exit_code == 0, result.output
    assert result.stderr == "bea: using problem oscillating at h = 1.8 (hλ_max = 1.8)\n"
    data = json.loads(result.stdout)
    assert data["problem"] == "oscillating" and data["h"] == pytest.approx(1.8)
    assert len(data["principal"]) == 31 and max(data["principal"]) < 1e-9
    assert max(data["distance"]["3"]) > 0.1
    assert plot.stat().st_size > 10_000


def test_cli_text_summary():
    result = CliRunner().invoke(main, ["drift", "-s", "gd", "--principal", "--iterations", "30",
                                       "--lr", "1.5"])
    assert result.exit_code == 0, result.output
    assert result.stderr == ""  # --lr given: nothing chosen for the user
    assert "‖θ-PF‖" in result.stdout and "principal flow (PF)" in result.stdout


@pytest.mark.parametrize("args, message", [
    (["-s", "game"], "--principal works for schemes gd, rk, momentum, not for game"),
    (["-s", "sgd", "--batches", "2"], "not for sgd"),
    (["-s", "momentum"], "--principal needs a number for beta"),
    (["-s", "gd", "--problem", "mlp"], "at most 512 parameters"),
])
def test_cli_bad_input_exits_2_with_one_line(args, message):
    result = CliRunner().invoke(main, ["drift", "--principal", "--iterations", "3", *args])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert "Traceback" not in result.output
