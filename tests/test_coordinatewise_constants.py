"""Irrational constants in coordinate-wise rules: a root of a rational number is a root
generator of the ring (it recursed without end before), and a perfect power is a number."""

from __future__ import annotations

import sympy

import bea
from bea.coordinatewise import canonical, sqrt


def _flow(scale, order=2):
    def step(theta, h, f):
        g = f(theta)
        return theta + h * scale * g / sqrt(g * g + 1)
    return bea.derive(bea.Rule(step, (bea.Atom("f", "L"),), algebra="coordinatewise"), order).flow


def test_an_irrational_constant_scales_the_flow_by_its_powers():
    c = sympy.sqrt(sympy.Rational(5, 3))
    plain, scaled = _flow(1), _flow(c)
    assert canonical(scaled[1] - c * plain[1]) == 0
    assert canonical(scaled[2] - c**2 * plain[2]) == 0


def test_a_perfect_power_is_a_number():
    assert canonical(_flow(sympy.sqrt(4))[1] - 2 * _flow(1)[1]) == 0
