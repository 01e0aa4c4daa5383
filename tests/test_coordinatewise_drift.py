"""``bea drift`` for coordinate-wise rules: Adam on the built-in MLP through click, and
the ordering the modified flows must show (each order closer to the iterates than the
one before) from the slaved start."""

import matplotlib.image as mpimg
import numpy as np
from click.testing import CliRunner

from bea.check.defaults import problem_for
from bea.check import drift
from bea.derive import derive
from bea.schemes import build
from cli.main import main


def test_drift_adam_on_mlp_with_plot(tmp_path):
    out = tmp_path / "drift.png"
    result = CliRunner().invoke(main, ["drift", "--scheme", "adam", "--iterations", "8", "--plot", str(out)])
    assert result.exit_code == 0, result.output
    assert "(11041 parameters)" in result.stdout
    assert "order-2 modified flow is" in result.stdout and "closer to the iterates" in result.stdout
    assert out.exists() and np.std(mpimg.imread(out)[..., :3]) > 0.05


def test_each_order_is_closer_to_adam_iterates():
    rule = build("adam", 3, b1="1/2", b2="7/10", eps="1/10")
    derivation = derive(rule, 3)
    result = drift(derivation, problem_for(rule), 0.01, 10)
    assert result.distance[1][0] == 0.0 and result.distance[3][0] == 0.0
    end = [result.distance[n][-1] for n in (1, 2, 3)]
    assert end[2] < end[1] / 3 and end[1] < end[0] / 3, end


def test_check_at_optax_defaults_is_one_line_not_a_traceback():
    """1/ε = 10⁸ makes integers beyond 64 bits in the flow; the truncated state may not be
    finite there: one line, exit 2."""
    from click.testing import CliRunner

    from cli.main import main

    out = CliRunner().invoke(main, ["check", "--scheme", "adam", "--b1", "0.9", "--b2", "0.999",
                                    "--eps", "1e-8", "--order", "1"])
    assert out.exit_code in (0, 2), out.output
    assert "Traceback" not in out.output
    if out.exit_code == 2:
        assert len(out.stderr.strip().splitlines()) == 1
