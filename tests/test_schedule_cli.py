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
