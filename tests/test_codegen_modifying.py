"""Generated modifying fields (``bea codegen --modifying``) and the drift-cancelling optax
transform, measured against an accurately integrated flow (issue 11).

The modifying field ``f̃`` of a scheme to order ``N`` makes the scheme, run on ``f̃``,
follow its first-order flow with local error ``O(h^{N+1})`` (Chartier, Hairer & Vilmart,
Found. Comput. Math. 2010). Each test takes one step (or one SGD epoch) over a geometric
sweep of ``h``, measures its distance to the flow integrated by diffrax's Dopri8 in
float64 at tolerance 1e-14, and fits the log–log slope. The losses are used by no other
test: a three-parameter polynomial with cubic and quartic couplings, and a small tanh MLP
whose parameters are a dict pytree.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from click.testing import CliRunner
from jax.flatten_util import ravel_pytree

from bea.codegen import emit_module, functions
from bea.derive import derive
from bea.modifying import modifying_field
from bea.schemes import build

diffrax = pytest.importorskip("diffrax")
optax = pytest.importorskip("optax")

HS = 0.16 * 0.5 ** np.arange(5)
TOLERANCE = 0.3


def cubic_quartic(p):
    """A non-convex, non-quadratic loss of three parameters (cubic and quartic terms)."""
    x, y, z = p[0], p[1], p[2]
    return (0.6 * x**2 + 0.35 * y**2 + 0.8 * z**2 + 0.45 * x * y * z + 0.3 * x**3 - 0.25 * y**3
            + 0.15 * z**2 * x + 0.12 * (x**4 + y**4) + 0.08 * z**4 - 0.1 * x**2 * y**2)


CUBIC_THETA = jnp.array([0.7, -0.45, 0.55])

_rng = np.random.default_rng(11)
_X = jnp.asarray(_rng.normal(size=(12, 3)))
_Y = jnp.asarray(np.sin(_rng.normal(size=(12, 2))))


def mlp_loss(params):
    """Mean squared error of a 3-4-2 tanh MLP on fixed data; params is a dict pytree."""
    hidden = jnp.tanh(_X @ params["w1"] + params["b1"])
    out = jnp.tanh(hidden @ params["w2"] + params["b2"])
    return 0.5 * jnp.mean(jnp.sum((out - _Y) ** 2, axis=1))


MLP_THETA = {"w1": jnp.asarray(_rng.normal(size=(3, 4)) * 0.8), "b1": jnp.asarray(_rng.normal(size=4) * 0.3),
             "w2": jnp.asarray(_rng.normal(size=(4, 2)) * 0.8), "b2": jnp.asarray(_rng.normal(size=2) * 0.3)}

PROBLEMS = {"cubic-quartic": (cubic_quartic, CUBIC_THETA), "tanh-mlp": (mlp_loss, MLP_THETA)}


def flow(field, theta, t):
    """φ_t(θ) of ``θ' = field(θ)`` (pytrees), Dopri8 at tolerance 1e-14 in float64."""
    term = diffrax.ODETerm(lambda s, y, args: field(y))
    sol = diffrax.diffeqsolve(term, diffrax.Dopri8(), 0.0, t, t / 8, theta,
                              stepsize_controller=diffrax.PIDController(rtol=1e-14, atol=1e-14),
                              max_steps=100_000)
    return jax.tree_util.tree_map(lambda y: y[-1], sol.ys)


def gradient_flow(loss, theta, t):
    return flow(lambda p: jax.tree_util.tree_map(jnp.negative, jax.grad(loss)(p)), theta, t)


def distance(a, b) -> float:
    return float(jnp.linalg.norm(ravel_pytree(a)[0] - ravel_pytree(b)[0]))


def slope(step, reference) -> float:
    """Fitted log–log slope of ``|step(h) - reference(h)|`` over :data:`HS`."""
    errors = [distance(step(h), reference(h)) for h in HS]
    assert min(errors) > 1e-13, errors  # above the integrator's and float64's floor
    return float(np.polyfit(np.log(HS), np.log(errors), 1)[0])


def axpy(theta, h, v):
    return jax.tree_util.tree_map(lambda x, y: x + h * y, theta, v)


_MODULES: dict = {}


def module(order: int, modifying: bool, scheme="gd", **options):
    key = (scheme, order, modifying, tuple(sorted(options.items())))
    if key not in _MODULES:
        rule = build(scheme, order, **options)
        _MODULES[key] = functions(modifying_field(rule, order) if modifying else derive(rule, order))
    return _MODULES[key]


ORDER_PROBLEMS = [(2, "cubic-quartic"), (3, "cubic-quartic"), (4, "cubic-quartic"), (4, "tanh-mlp")]
"""N = 2, 3, 4 on the cubic–quartic loss; the pytree MLP at the highest order."""


@pytest.mark.parametrize("order, problem", ORDER_PROBLEMS)
def test_gd_on_the_modifying_field_follows_the_gradient_flow(order, problem):
    loss, theta = PROBLEMS[problem]
    m = module(order, modifying=True)
    step = jax.jit(lambda h: axpy(theta, h, m.modifying_field((loss,), h)(theta)))
    target = jax.jit(lambda h: gradient_flow(loss, theta, h))
    assert abs(slope(step, target) - (order + 1)) < TOLERANCE


def _optax_step(m, loss, theta, scale):
    def step(h):
        tx = optax.chain(m_transform(m, loss, h, scale), optax.sgd(h))
        updates, _ = tx.update(jax.grad(loss)(theta), tx.init(theta), theta)
        return optax.apply_updates(theta, updates)

    return jax.jit(step)


def m_transform(m, loss, h, scale):
    from bea.codegen.optax import regularizer_transform

    return regularizer_transform(m, (loss,), h, scale=scale)


@pytest.mark.parametrize("order, problem", ORDER_PROBLEMS)
def test_optax_cancellation_follows_the_gradient_flow(order, problem):
    loss, theta = PROBLEMS[problem]
    target = jax.jit(lambda h: gradient_flow(loss, theta, h))
    assert abs(slope(_optax_step(module(order, modifying=False), loss, theta, -1.0), target)
               - (order + 1)) < TOLERANCE


def test_optax_cancellation_from_a_modifying_module():
    loss, theta = PROBLEMS["cubic-quartic"]
    target = jax.jit(lambda h: gradient_flow(loss, theta, h))
    assert abs(slope(_optax_step(module(3, modifying=True), loss, theta, -1.0), target) - 4) < TOLERANCE


def test_subtracting_the_drift_fails_at_order_three():
    """The old cancellation (step on ``f - D``, ``D`` the implicit drift) is right to order
    2 only: its slope is 3 where the modifying field reaches 4, so this test can tell."""
    loss, theta = PROBLEMS["cubic-quartic"]
    m = module(3, modifying=False)
    target = jax.jit(lambda h: gradient_flow(loss, theta, h))
    old = jax.jit(lambda h: axpy(theta, -h, jax.tree_util.tree_map(
        jnp.add, jax.grad(loss)(theta), m.implicit_drift((loss,), h)(theta))))
    old_slope = slope(old, target)
    new_slope = slope(_optax_step(m, loss, theta, -1.0), target)
    assert abs(old_slope - 3) < TOLERANCE
    assert abs(new_slope - 4) < TOLERANCE


def test_sgd_epoch_uses_entry_k_for_update_k():
    """Several atoms: the fields are a tuple in ATOMS order; an epoch of forward SGD over two
    minibatches, update k run on entry k, follows the flow of the mean loss for time 2h."""
    order = 3
    m = module(order, modifying=True, scheme="sgd", batches="2", shuffle="forward")
    assert m.ATOMS == ("f1", "f2") and m.LOSSES == ("L1", "L2")
    loss1 = cubic_quartic
    loss2 = lambda p: cubic_quartic(jnp.roll(p, 1)) + 0.2 * jnp.sum(jnp.sin(p))  # noqa: E731
    theta = CUBIC_THETA

    def epoch(h):
        fields = m.modifying_field((loss1, loss2), h)
        first = axpy(theta, h, fields(theta)[0])
        return axpy(first, h, fields(first)[1])

    mean = lambda p: 0.5 * (loss1(p) + loss2(p))  # noqa: E731
    target = jax.jit(lambda h: gradient_flow(mean, theta, 2 * h))
    assert abs(slope(jax.jit(epoch), target) - (order + 1)) < TOLERANCE


def _loss_like(p):
    return jnp.sum(jnp.cos(p) * p) + 0.3 * jnp.sum(p**4) + p[0] * p[1] ** 2


def _close(a, b):
    np.testing.assert_allclose(ravel_pytree(a)[0], ravel_pytree(b)[0], rtol=1e-10, atol=1e-12)


def test_correction_loss_is_the_correction():
    """gd at order 2: correction_field = -∇ correction_loss, and the loss is -(h/4)‖∇L‖²."""
    m, h, theta = module(2, modifying=True), 0.1, jnp.array([0.3, -0.8, 0.5])
    _close(m.correction_field((_loss_like,), h)(theta),
           -jax.grad(m.correction_loss((_loss_like,), h))(theta))
    g = jax.grad(_loss_like)(theta)
    np.testing.assert_allclose(m.correction_loss((_loss_like,), h)(theta), -h / 4 * g @ g, rtol=1e-12)
    _close(m.modifying_field((_loss_like,), h)(theta),
           axpy(-g, 1.0, m.correction_field((_loss_like,), h)(theta)))


@pytest.mark.parametrize("scheme, order, options", [
    ("gd", 4, {}),
    ("game", 2, {"mode": "alternating", "rates": "1,1/2", "steps": "1,1"}),
])
def test_gradient_part_and_remainder_add_up(scheme, order, options):
    """Where the correction is not a gradient: no correction_loss; gradient part (minus the
    gradient of the potential, over the atom's block) + remainder = correction."""
    m = module(order, modifying=True, scheme=scheme, **options)
    assert not hasattr(m, "correction_loss")
    h = 0.07
    if scheme == "game":
        losses = (lambda p: _loss_like(p[0]) + p[0] @ p[1] ** 2, lambda p: _loss_like(p[1] - p[0]))
        theta = (jnp.array([0.3, -0.2]), jnp.array([0.5, 0.1]))
    else:
        losses, theta = (_loss_like,), jnp.array([0.3, -0.8, 0.5])
    parts = [m.correction_gradient_part(losses, h)(theta), m.correction_remainder(losses, h)(theta)]
    correction = m.correction_field(losses, h)(theta)
    potential = m.correction_potential(losses, h)
    if scheme == "game":
        for k in range(2):  # player k: its own block of minus the gradient of its potential
            _close(correction[k], jax.tree_util.tree_map(jnp.add, parts[0][k], parts[1][k]))
            grad = jax.grad(lambda p: potential(p)[k])(theta)
            own = tuple(g if i == k else jnp.zeros_like(g) for i, g in enumerate(grad))
            _close(parts[0][k], jax.tree_util.tree_map(jnp.negative, own))
    else:
        _close(correction, parts[0] + parts[1])
        _close(parts[0], -jax.grad(potential)(theta))


def test_modules_say_what_they_are():
    source = emit_module(modifying_field(build("gd", 3), 3))
    doc = source.split('"""', 2)[1]
    assert doc.startswith("Modifying field of the 'gd' optimizer to order 3")
    assert "local error O(h^4)" in doc and "One atom" in doc
    several = emit_module(modifying_field(build("sgd", 2, batches="2", shuffle="random"), 2))
    assert "update k of a cycle uses entry k" in several.split('"""', 2)[1]
    flow_source = emit_module(derive(build("gd", 3), 3))
    assert 'def drift_correction(losses, h, *, hvp="exact"):' in flow_source


def test_transform_refuses_what_it_cannot_do():
    from bea.codegen.optax import regularizer_transform

    with pytest.raises(ValueError, match="implicit_drift"):
        regularizer_transform(module(2, modifying=True), (cubic_quartic,), 0.1, scale=1.0)
    sgd = module(2, modifying=False, scheme="sgd", batches="2", shuffle="forward")
    with pytest.raises(ValueError, match="one atom"):
        regularizer_transform(sgd, (cubic_quartic, cubic_quartic), 0.1, scale=-1.0)


def test_cli_modifying(tmp_path):
    from cli.codegen_cmd import codegen

    out = tmp_path / "mod.py"
    result = CliRunner().invoke(codegen, ["--scheme", "gd", "--order", "2", "--modifying", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text() == emit_module(modifying_field(build("gd", 2), 2))
    assert 'def correction_loss(losses, h, *, hvp="exact"):' in out.read_text()
