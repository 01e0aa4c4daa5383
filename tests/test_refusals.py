"""Rules bea cannot expand are refused in one line that says why and what works instead
(issue 24, "rules people write"): non-smooth operations (abs, sign, min/max, clipping,
branches, rounding), elementwise operations in a bea.Rule declared with the default
algebra, a perturbation of fixed size (SAM with a fixed radius), state that is not O(h)."""

from __future__ import annotations

import math
import textwrap

import numpy as np
import pytest
from click.testing import CliRunner

import bea
from bea import Atom, Rule, RuleError, derive, rule_from_function
from cli.main import main

SMOOTH = "backward error analysis needs a smooth rule"
VARIANTS = ("bea.sqrt(g*g + eps) for |g|", "g/bea.sqrt(g*g + eps) for sign(g)",
            "g/bea.sqrt(1 + (bea.norm(g)/c)**2) for clipping")


def absolute(theta, h, f):
    return theta - h * abs(f(theta))


def sign_descent(theta, h, f):
    return theta + h * np.sign(f(theta))


def rectified(theta, h, f):
    return theta + h * np.maximum(f(theta), 0)


def clipped(theta, h, f):
    g = f(theta)
    return theta + h * min(1, 2 / bea.norm(g)) * g


def clipped_by_numpy(theta, h, f):
    return theta + h * np.clip(f(theta), -1, 1)


def branches(theta, h, f):
    g = f(theta)
    if g:
        return theta + h * g
    return theta


def rounds(theta, h, f):
    return theta + round(h) * f(theta)


def floors(theta, h, f):
    return theta + h * math.floor(f(theta))


NON_SMOOTH = [(absolute, "abs(…)"), (sign_descent, "comparing"), (rectified, "comparing"),
              (clipped, "comparing"), (clipped_by_numpy, "np.clip"), (branches, "branching"), (rounds, "rounding"),
              (floors, "floor")]


@pytest.mark.parametrize("step, what", NON_SMOOTH, ids=[s.__name__ for s, _ in NON_SMOOTH])
def test_non_smooth_operations_are_refused_with_the_smooth_variant(step, what):
    with pytest.raises(RuleError) as info:
        derive(rule_from_function(step), 2)
    message = str(info.value)
    assert what in message and SMOOTH in message and all(v in message for v in VARIANTS)
    assert step.__name__ in message and "line" in message and "\n" not in message


@pytest.mark.parametrize("algebra", ["trees", "coordinatewise"])
def test_both_tracers_refuse_abs_and_comparisons(algebra):
    """A bea.Rule names its algebra: each tracer refuses on its own."""
    for step, what in ((absolute, "abs(…)"), (sign_descent, "comparing"), (branches, "branching")):
        with pytest.raises(RuleError, match=SMOOTH) as info:
            derive(Rule(step, (Atom("f", "L"),), algebra=algebra), 2)
        assert what in str(info.value)


def test_the_suggested_smooth_variants_derive():
    def smooth_clip(theta, h, f):
        g = f(theta)
        return theta + h * g / bea.sqrt(1 + (bea.norm(g) / 2) ** 2)

    def smooth_sign(theta, h, f):
        g = f(theta)
        return theta + h * g / bea.sqrt(g * g + 1)

    for step in (smooth_clip, smooth_sign):
        assert derive(rule_from_function(step), 2).order == 2


def _cli(tmp_path, source: str, name: str):
    path = tmp_path / "rules.py"
    path.write_text(textwrap.dedent(source))
    return CliRunner().invoke(main, ["derive", "--rule", f"{path}:{name}", "--order", "2"])


def test_the_cli_refuses_clipping_in_one_line(tmp_path):
    result = _cli(tmp_path, """
        import bea

        def clip(theta, h, f):
            g = f(theta)
            return theta + h * min(1, 2 / bea.norm(g)) * g
    """, "clip")
    assert result.exit_code == 2 and result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert "Traceback" not in result.stderr and "'<' not supported" not in line
    assert "comparing a traced value" in line and "g/bea.sqrt(1 + (bea.norm(g)/c)**2)" in line


def test_the_cli_refuses_abs_in_one_line(tmp_path):
    result = _cli(tmp_path, """
        def step(theta, h, f):
            return theta - h * abs(f(theta))
    """, "step")
    assert result.exit_code == 2
    (line,) = result.stderr.splitlines()
    assert "bad operand type" not in line and "bea.sqrt(g*g + eps) for |g|" in line


def test_a_rule_declared_with_the_default_algebra_is_told_to_name_coordinatewise():
    """A bea.Rule gets no automatic detection: the B-series tracer's refusal says what to
    write; with algebra="coordinatewise" the same rule derives."""
    def sam(theta, h, f, r):
        g = f(theta)
        return theta + h * f(theta + r * h * g / bea.norm(g))

    def rms(theta, v, h, f, beta):
        g = f(theta)
        v = beta * v + (1 - beta) * g * g
        return theta + h * g / bea.sqrt(v + 1), v

    for step, extra in ((sam, {"params": {"r": 1}}), (rms, {"n_aux": 1, "params": {"beta": 0.5}})):
        with pytest.raises(RuleError, match='algebra="coordinatewise"'):
            derive(Rule(step, (Atom("f", "L"),), **extra), 1)
        assert derive(Rule(step, (Atom("f", "L"),), algebra="coordinatewise", **extra), 1).order == 1


def test_sam_with_a_fixed_radius_is_refused_with_the_reason(tmp_path):
    result = _cli(tmp_path, """
        import bea

        def sam(theta, h, f):
            g = f(theta)
            return theta + h * f(theta + 0.05 * g / bea.norm(g))
    """, "sam")
    assert result.exit_code == 2
    (line,) = result.stderr.splitlines()
    assert "dtype" not in line
    assert "not θ + O(h)" in line and "fixed radius" in line and "small={'rho': M}" in line

    def sam_h(theta, h, f):  # what the message suggests
        g = f(theta)
        return theta + h * f(theta + h / 20 * g / bea.norm(g))

    assert derive(rule_from_function(sam_h), 2).order == 2


def _ema(theta, ema, h, f, beta):
    return theta + h * f(theta), beta * ema + (1 - beta) * theta


def test_an_average_of_the_iterates_as_state_says_what_is_o_h():
    with pytest.raises(RuleError) as info:
        derive(Rule(_ema, (Atom("f", "L"),), n_aux=1, params={"beta": 0.5}), 2)
    message = str(info.value)
    assert "not O(h)" in message and "holds the parameters θ" in message
    assert "d = ema - θ" in message and 'algebra="coordinatewise"' in message


def test_the_suggested_rewrites_of_state_derive():
    """``d = ema - θ`` is slaved by the tree engine; the coordinate-wise one slaves ``ema``."""
    def tracked(theta, d, h, f, beta):
        new = theta + h * f(theta)
        return new, beta * d - (new - theta)

    atoms = (Atom("f", "L"),)
    a = derive(Rule(tracked, atoms, n_aux=1, params={"beta": 0.5}), 2)
    b = derive(Rule(_ema, atoms, n_aux=1, params={"beta": 0.5}, algebra="coordinatewise"), 2)
    assert a.coefficient("f") == 1 and b.order == 2


def test_a_velocity_not_scaled_by_h_says_to_track_h_times_it():
    def unscaled(theta, v, h, f, beta):
        return theta + h * f(theta), f(theta)

    with pytest.raises(RuleError) as info:
        derive(Rule(unscaled, (Atom("f", "L"),), n_aux=1, params={"beta": 0.5}), 2)
    assert "not O(h)" in str(info.value) and "u = h·v" in str(info.value)


def test_an_array_function_of_h_is_refused_in_one_line(tmp_path):
    """``bea.sqrt(h)`` hands the B-series tracer's ``h`` to jax: the coordinate-wise algebra's
    refusal is reported, in one line (jax's own message has two)."""
    result = _cli(tmp_path, """
        import bea

        def step(theta, h, f):
            return theta + bea.sqrt(h) * bea.sqrt(h) * f(theta)
    """, "step")
    assert result.exit_code == 2
    (line,) = result.stderr.splitlines()
    assert "sqrt is not analytic at the value 0" in line and "abstract array" not in line
