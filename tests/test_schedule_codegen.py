"""Generated code for scheduled flows (issue 22): the schedule as optax has it, a callable
of the step count; field and loss agree with the derivation and run under jit."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from bea.schedule import derive_scheduled
from bea.schedule.codegen import emit_scheduled_module
from bea.schemes import gd, momentum

A = jnp.array([[2.0, 0.5], [0.5, 1.0]])


def quadratic(theta):
    return 0.5 * theta @ A @ theta + 0.1 * jnp.sum(theta**4)


def module(rule, order):
    namespace: dict = {}
    exec(compile(emit_scheduled_module(derive_scheduled(rule, order)), "<generated>", "exec"), namespace)
    return namespace


def test_gd_order_2_field_is_the_formula_and_minus_the_loss_gradient():
    optax = pytest.importorskip("optax")
    h = 0.05
    schedule = optax.warmup_cosine_decay_schedule(0.0, h, 40, 200, 0.1 * h)  # s(n) = h·η(n h)
    m = module(gd.build(2), 2)
    field = m["modified_field"]({"L": quadratic}, schedule, h)
    loss = m["modified_loss"]({"L": quadratic}, schedule, h)
    theta = jnp.array([0.3, -0.7])
    f = lambda x: -jax.grad(quadratic)(x)  # noqa: E731
    for step in (10, 60, 150):
        eta = schedule(step) / h
        eta1 = jax.grad(lambda n: schedule(n))(float(step)) / h**2
        fprime_f = jax.jvp(f, (theta,), (f(theta),))[1]
        want = eta * f(theta) - h * (eta1 / 2 * f(theta) + eta**2 / 2 * fprime_f)
        np.testing.assert_allclose(field(theta, step), want, rtol=1e-12)
        np.testing.assert_allclose(-jax.grad(loss)(theta, step), want, rtol=1e-12)


def test_jitted_with_a_traced_step_heavy_ball():
    optax = pytest.importorskip("optax")
    h = 0.01
    schedule = optax.linear_schedule(0.0, h, 100)
    m = module(momentum.build(3, 0.5, False), 3)
    field = jax.jit(m["modified_field"]({"L": quadratic}, schedule, h))
    regularizer = jax.jit(m["implicit_regularizer"]({"L": quadratic}, schedule, h))
    loss = m["modified_loss"]({"L": quadratic}, schedule, h)
    theta = jnp.array([0.3, -0.7])
    eager = m["modified_field"]({"L": quadratic}, schedule, h)(theta, 50)
    np.testing.assert_allclose(field(theta, jnp.asarray(50)), eager, rtol=1e-12)
    # heavy ball at β = 1/2: L̃ = 2η L + h(-3η' L + 3η²‖∇L‖²) + …; the regularizer is L̃ - 2ηL
    eta = schedule(50) / h
    np.testing.assert_allclose(regularizer(theta, jnp.asarray(50)), loss(theta, 50) - 2 * eta * quadratic(theta),
                               rtol=1e-12)
    first = 3 * h * (eta**2 * jnp.sum(jax.grad(quadratic)(theta) ** 2) - 1 / (100 * h) * quadratic(theta))  # η' = 1/(100h)
    order_2 = module(momentum.build(2, 0.5, False), 2)["implicit_regularizer"]({"L": quadratic}, schedule, h)
    np.testing.assert_allclose(order_2(theta, 50), first, rtol=1e-12)


def test_only_scheduled_single_block_gradient_rules():
    import bea

    with pytest.raises(ValueError, match="derive_scheduled"):
        emit_scheduled_module(bea.derive(gd.build(2), 2))
