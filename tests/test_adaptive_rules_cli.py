"""User-written coordinate-wise rules through the CLI (``--rule FILE.py:NAME``), issue 12.

A plain function using ``bea.tanh`` is detected as coordinate-wise (bea.custom); RMSProp
with heavy-ball momentum needs auxiliary state, so its file defines a ``bea.Rule`` with
``algebra="coordinatewise"``. ``bea derive`` prints the modified flow and ``bea check``
finds local-error slopes N+1 (it exits non-zero otherwise).
"""

from __future__ import annotations

import textwrap

import pytest
from click.testing import CliRunner

from bea.custom import load_rule

RULES = textwrap.dedent('''
    import bea

    def clipped(theta, h, f):
        return theta - h * bea.tanh(-f(theta))

    def gd(theta, h, f):
        return theta + h * f(theta)

    def hb_rmsprop(theta, m, v, h, f, beta, rho, eps):
        g = -f(theta)
        v = rho * v + (1 - rho) * g * g
        m = beta * m + g / bea.sqrt(v + eps)
        return theta - h * m, m, v

    rmsprop_momentum = bea.Rule(hb_rmsprop, (bea.Atom("f", "L"),), name="rmsprop_momentum", n_aux=2,
                                params={"beta": 0.5, "rho": 0.5, "eps": 1}, algebra="coordinatewise")
''')


@pytest.fixture(scope="module")
def rules(tmp_path_factory):
    path = tmp_path_factory.mktemp("rules") / "rules.py"
    path.write_text(RULES)
    return str(path)


def test_plain_function_algebra_is_detected(rules):
    assert load_rule(f"{rules}:clipped").algebra == "coordinatewise"
    assert load_rule(f"{rules}:gd").algebra == "trees"


@pytest.mark.parametrize("name, expected", [
    ("clipped", "f₁ = -tanh(g)"),
    ("rmsprop_momentum", "s = √(g⊙g + ε), ε = 1"),
])
def test_derive_and_check(rules, name, expected):
    from cli.check_cmd import check
    from cli.derive_cmd import derive_command as derive

    runner = CliRunner()
    result = runner.invoke(derive, ["--rule", f"{rules}:{name}", "--order", "2"])
    assert result.exit_code == 0, result.output
    assert expected in result.output and "f₂ =" in result.output
    result = runner.invoke(check, ["--rule", f"{rules}:{name}", "--order", "2"])
    assert result.exit_code == 0, result.output
    assert "all orders agree" in result.output
