"""The defining property for coordinate-wise rules, numerically: one step of the rule,
started on the slaved manifold (m, v = M(θ0), V(θ0) from the derivation), matches the
exact solution of the order-N modified flow over time h to O(h^{N+1}) — the fitted slope
of log error against log h is N + 1 (±0.3).

The loss on R^3 is not polynomial (log-cosh plus a cubic coupling: nonzero third
derivatives everywhere); the flow is integrated with classical RK4 on 64 substeps (its
own error, ~h^5/64^4, is far below the measured ones).
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from bea import Atom, Rule, derive
from bea.domain import exact_number
from bea.coordinatewise import sqrt, tanh
from bea.coordinatewise.evaluate import flow_function, state_function
from bea.schemes import build

THETA0 = jnp.array([0.3, -0.5, 0.8])
HS = np.geomspace(0.001, 0.004, 5)


def loss(theta):
    return jnp.sum(jnp.log(jnp.cosh(1.5 * theta))) + 0.3 * theta[0] * theta[1] ** 2 + 0.2 * theta[2]


FIELDS = {"f": lambda theta: -jax.grad(loss)(theta)}


def _rk4(field, theta, t, steps=64):
    dt = t / steps

    def body(_, x):
        k1 = field(x)
        k2 = field(x + dt / 2 * k1)
        k3 = field(x + dt / 2 * k2)
        k4 = field(x + dt * k3)
        return x + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)

    return jax.lax.fori_loop(0, steps, body, theta)


def observed_slope(rule, order):
    d = derive(rule, order)
    params = {k: float(exact_number(v)) for k, v in rule.params.items()}

    @jax.jit
    def error(h):
        state = state_function(d, FIELDS, h)(THETA0)
        out = rule.step(THETA0, *state, h, FIELDS["f"], **params)
        discrete = out[0] if rule.n_aux else out
        flowed = _rk4(flow_function(d, FIELDS, h), THETA0, h)
        return jnp.linalg.norm(discrete - flowed)

    errors = np.array([float(error(h)) for h in HS])
    return np.polyfit(np.log(HS), np.log(errors), 1)[0]


def rmsprop_heavy_ball(theta, u, v, h, f, beta, rho, eps):
    g = -f(theta)
    v = rho * v + (1 - rho) * g * g
    u = beta * u + g / sqrt(v + eps)
    return theta - h * u, u, v


def adam_eps_outside(theta, m, v, h, f, b1, b2, eps):
    g = -f(theta)
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * g * g
    return theta - h * m / (sqrt(v) + eps), m, v


def tanh_clipped(theta, h, f):
    return theta + h * tanh(f(theta))


GRADIENT = (Atom("f", "L"),)
RULES = {
    "adam": build("adam", 2, b1="1/2", b2="7/10", eps="1/10"),
    "adamw": build("adamw", 2, b1="1/2", b2="7/10", eps="1/10", weight_decay="1/5"),
    "rmsprop": build("rmsprop", 2, b2="7/10", eps="1/10"),
    "normalized": build("normalized", 2),
    "rmsprop-heavy-ball": Rule(rmsprop_heavy_ball, GRADIENT, n_aux=2, algebra="coordinatewise",
                               params={"beta": "1/2", "rho": "7/10", "eps": "1/10"}),
    "adam-eps-outside": Rule(adam_eps_outside, GRADIENT, n_aux=2, algebra="coordinatewise",
                             params={"b1": "1/2", "b2": "7/10", "eps": "1/10"}),
    "tanh-clipped": Rule(tanh_clipped, GRADIENT, algebra="coordinatewise"),
}


@pytest.mark.parametrize("order", [1, 2, 3])
@pytest.mark.parametrize("name", list(RULES))
def test_one_step_error_has_slope_order_plus_one(name, order):
    slope = observed_slope(RULES[name], order)
    assert abs(slope - (order + 1)) < 0.3, f"{name} order {order}: slope {slope:.2f}"
