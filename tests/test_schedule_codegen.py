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


def _warmup_cosine_slope(n, init, peak, warmup, decay, end):
    """s'(n) of optax.warmup_cosine_decay_schedule, by hand (the cosine piece from n = warmup on)."""
    if n < warmup:
        return (peak - init) / warmup
    if n < decay:
        return -(peak - end) * np.pi / (2 * (decay - warmup)) * np.sin(np.pi * (n - warmup) / (decay - warmup))
    return 0.0


SHAPE = dict(init=0.0, peak=0.3, warmup=3, decay=10, end=0.03)  # optax's warmup_cosine_decay_schedule, h = 0.3


def _trains_as_the_dense_reference(params, loss, jit, h=0.3, steps=8):
    """gd order 2 under optax.warmup_cosine_decay_schedule: the generated transform, run by
    lax.scan inside ``jit``, equals the update -s(n)∇L + h·D with D = h((η'/2)∇L - (η²/2)
    H∇L), H the explicit Hessian of the flattened loss (η = s/h, η' = s'/h², s' by hand),
    over 8 steps through warmup (from s = 0: the right derivative), kink and decay."""
    optax = pytest.importorskip("optax")
    schedule = optax.warmup_cosine_decay_schedule(*SHAPE.values())
    # float64 throughout: from an int32 count optax computes the rate in float32, and the
    # fused kernel under jit may round it one ulp away from the eager reference's
    tx = module(gd.build(2), 2)["optax_transform"]({"L": loss}, lambda n: schedule(jnp.asarray(n, jnp.float64)), h,
                                                   scale=1.0)

    @jit
    def train(p):
        def body(carry, _):
            p, state = carry
            updates, state = tx.update(jax.grad(loss)(p), state, p)
            return (optax.apply_updates(p, updates), state), None

        return jax.lax.scan(body, (p, tx.init(p)), None, length=steps)[0]

    trained, state = train(params)
    flat, unravel = jax.flatten_util.ravel_pytree(params)
    flat_loss = lambda w: loss(unravel(w))  # noqa: E731
    w = plain = flat
    for n in range(steps):
        g, hessian = jax.grad(flat_loss)(w), jax.hessian(flat_loss)(w)
        eta, eta1 = schedule(n) / h, _warmup_cosine_slope(n, *SHAPE.values()) / h**2
        w = w - schedule(n) * g + h * h * (eta1 / 2 * g - eta**2 / 2 * hessian @ g)
        plain = plain - schedule(n) * jax.grad(flat_loss)(plain)
    assert int(state.count) == steps
    np.testing.assert_allclose(jax.flatten_util.ravel_pytree(trained)[0], w, rtol=1e-12, atol=1e-14)
    assert np.max(np.abs(w - plain)) > 1e-4  # the drift term is not negligible here


def test_optax_transform_in_a_jitted_equinox_loop_equals_a_dense_reference():
    eqx = pytest.importorskip("equinox")
    with jax.enable_x64(True):
        model = eqx.nn.Linear(3, 2, key=jax.random.PRNGKey(0), dtype=jnp.float64)
        params, static = eqx.partition(model, eqx.is_inexact_array)
        x = jax.random.normal(jax.random.PRNGKey(1), (6, 3), jnp.float64)
        y = jnp.tanh(x[:, :2] - x[:, 1:])

        def loss(p):
            return jnp.mean((jax.vmap(eqx.combine(p, static))(x) - y) ** 2) + 0.1 * jnp.sum(p.weight ** 4)

        _trains_as_the_dense_reference(params, loss, eqx.filter_jit)


def test_optax_transform_in_a_jitted_flax_loop_equals_a_dense_reference():
    nn = pytest.importorskip("flax.linen")
    with jax.enable_x64(True):
        model = nn.Dense(2, param_dtype=jnp.float64)
        x = jax.random.normal(jax.random.PRNGKey(1), (6, 3), jnp.float64)
        y = jnp.tanh(x[:, :2] - x[:, 1:])
        params = model.init(jax.random.PRNGKey(0), x)

        def loss(p):
            return jnp.mean((model.apply(p, x) - y) ** 2) + 0.1 * jnp.sum(p["params"]["kernel"] ** 4)

        _trains_as_the_dense_reference(params, loss, jax.jit)
