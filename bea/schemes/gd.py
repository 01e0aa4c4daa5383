"""Gradient descent ``θ ← θ - h∇L`` (Barrett & Dherin, ICLR 2021: ``L + h/4‖∇L‖²``)."""

from ..rule import Rule
from ..atoms import Atom


def gradient_descent(theta, h, f):
    return theta + h * f(theta)


def build(order: int) -> Rule:
    return Rule(gradient_descent, (Atom("f", "L"),), name="gd",
                description="gradient descent θ ← θ - h∇L")
