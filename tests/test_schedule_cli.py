"""``bea check --schedule`` and ``bea drift --schedule`` (issue 22): the slopes at times along
a warmup–cosine schedule, the drift over a whole schedule, and bad input (one line on
stderr, exit status 2, nothing computed)."""

import json

import numpy as np
import pytest
from click.testing import CliRunner

from cli.main import main


def test_check_slopes_at_times_along_warmup_cosine():
    """Slopes n + 1 at a time in the warmup and two in the decay (json), exit status 0."""
    result = CliRunner().invoke(main, ["check", "--scheme", "gd", "--order", "2", "--schedule", "warmup-cosine",
                                       "--schedule-set", "end_value=1/10", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["ok"] and data["expected"] == [2, 3]
    assert [t["t0"] for t in data["times"]] == [0.5, 1.75, 3.25, 5.0]
    for t in data["times"]:
        assert [round(o["slope"], 1) for o in t["orders"]] == pytest.approx([2, 3], abs=0.3), t
    assert "warmup_steps=1, decay_steps=4" in result.stderr  # the spans chosen, announced


@pytest.mark.parametrize("args, message", [
    (["--schedule", "generic"], "--schedule 'generic': choose none or one of constant"),
    (["--schedule", "cosin"], "--schedule 'cosin': choose"),
    (["--schedule-set", "decay_steps=4"], "--schedule-set belongs to --schedule NAME"),
    (["--schedule", "cosine", "--schedule-set", "decay_steps"], "takes KEY=VALUE"),
    (["--schedule", "cosine", "--schedule-set", "alpha=1", "--schedule-set", "alpha=2"], "alpha is given twice"),
    (["--schedule", "cosine", "--schedule-set", "warmup=1"], "schedule cosine has no parameter 'warmup'"),
    (["--schedule", "cosine", "--schedule-set", "decay_steps=1+1"], "schedule parameter decay_steps"),
    (["--schedule", "cosine", "--schedule-set", "decay_steps=d"], "give a number for decay_steps"),
    (["--schedule", "exponential"], "give a number for decay_rate"),
    (["--schedule", "warmup-cosine", "--schedule-set", "warmup_steps=0"], "warmup_steps must be positive"),
    (["--schedule", "warmup-cosine", "--schedule-set", "warmup_steps=5"], "out of order (kinks at 5, 4)"),
    (["--schedule", "cosine", "--schedule-set", "decay_steps=2e308"], "beyond the floating-point range"),
    (["--schedule", "cosine", "--modifying"], "does not combine with --modifying"),
])
def test_bad_schedule_input_is_one_line(args, message):
    result = CliRunner().invoke(main, ["check", "--scheme", "gd", "--order", "1", *args])
    assert result.exit_code == 2, result.output
    assert result.stdout == "" and message in result.stderr, result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("bea: error:")
    assert "Traceback" not in result.stderr


def test_drift_over_warmup_cosine_order_2_is_closer_than_gradient_flow(tmp_path):
    """GD over a whole warmup–cosine schedule (warmup over the first quarter, decay to 0 at
    the last update): the order-2 non-autonomous flow stays closer to the iterates than the
    gradient flow at every update; the regularizer -hη'/2·L + hη²/4‖∇L‖² is negative while
    η rises, and the plot is drawn."""
    plot = tmp_path / "drift.png"
    result = CliRunner().invoke(main, ["drift", "--scheme", "gd", "--order", "2", "--problem", "logistic",
                                       "--iterations", "24", "--lr", "0.5", "--schedule", "warmup-cosine",
                                       "--format", "json", "--plot", str(plot)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["schedule"].startswith("warmup-cosine") and data["eta"][0] == 0 and data["eta"][6] == 1
    gradient_flow, modified = np.array(data["distance"]["1"][1:]), np.array(data["distance"]["2"][1:])
    assert np.all(modified < gradient_flow / 5), (modified, gradient_flow)
    assert data["regularizer"][3] < 0 < data["regularizer"][12]
    assert plot.stat().st_size > 10_000


def test_drift_schedule_refusals():
    for args, message in [(["--principal"], "does not combine with --principal"),
                          (["--scheme", "adam"], "drift --schedule covers rules on one parameter block")]:
        argv = ["drift", "--scheme", "gd", "--schedule", "cosine", *args]
        if "adam" in args:
            argv = ["drift", "--schedule", "cosine", "--problem", "logistic", *args]
        result = CliRunner().invoke(main, argv)
        assert result.exit_code == 2 and message in result.stderr and "Traceback" not in result.stderr, result.output


def test_codegen_with_a_schedule_writes_the_scheduled_module(tmp_path):
    from bea.schedule import derive_scheduled
    from bea.schedule.codegen import emit_scheduled_module
    from bea.schemes import gd

    out = tmp_path / "F.py"
    result = CliRunner().invoke(main, ["codegen", "--scheme", "gd", "--order", "2", "--schedule", "warmup-cosine",
                                       "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text() == emit_scheduled_module(derive_scheduled(gd.build(2), 2))
    assert "def optax_transform(losses, schedule, h, scale=1.0):" in out.read_text()
    beta = CliRunner().invoke(main, ["codegen", "--scheme", "momentum", "--beta", "beta", "--order", "2",
                                     "--schedule", "generic", "--set", "beta=1/2"])
    assert beta.exit_code == 0 and "beta" not in beta.stdout.split("def modified_field")[1], beta.output


@pytest.mark.parametrize("args, message", [
    (["--scheme", "adam", "--schedule", "generic"], "coordinate-wise rules (adam, rmsprop, …) not yet"),
    (["--scheme", "gd", "--schedule", "cosine", "--schedule-set", "alpha=1"], "takes the schedule when it runs"),
    (["--scheme", "gd", "--schedule", "generic", "--modifying"], "does not combine with --modifying"),
    (["--scheme", "momentum", "--beta", "beta", "--schedule", "generic"], "give a number for beta"),
    (["--scheme", "gd", "--schedule", "generic", "--set", "gamma=1"], "has no symbol 'gamma'"),
    (["--scheme", "sgd", "--schedule", "generic"], "a schedule needs a numeric cycle"),
])
def test_codegen_schedule_refusals(args, message, tmp_path):
    out = tmp_path / "F.py"
    result = CliRunner().invoke(main, ["codegen", "--order", "2", *args, "-o", str(out)])
    assert result.exit_code == 2 and message in result.stderr and "Traceback" not in result.stderr, result.output
    assert not out.exists()
