"""Generated code on models as the libraries give them (issue 15): an equinox module, flax
NNX state and a flax linen param dict are passed as ``params`` as they are, without hand
partitioning, to the generated functions and to the optax transform; and sharded
parameters keep their sharding.

Reference: gd's order-2 modified field ``-g - (h/2) H g`` (``g`` the gradient, ``H g`` a
Hessian-vector product) computed on the model's floating-point arrays, partitioned by the
library's own tools (``eqx.partition``, ``nnx.split(model, nnx.Param, ...)``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from bea.codegen import functions
from bea.derive import derive
from bea.schemes import build

optax = pytest.importorskip("optax")
H = 0.05
_X = jax.random.normal(jax.random.PRNGKey(1), (10, 3))
_Y = jnp.sin(_X[:, :1] + 2 * _X[:, 1:2])


def gd2():
    return functions(derive(build("gd", 2), 2))


def reference_field(loss, arrays, *batch):
    """-g - (h/2) H g on a pytree of arrays."""
    grad = jax.grad(lambda p: loss(p, *batch))
    g = grad(arrays)
    hg = jax.jvp(grad, (arrays,), (g,))[1]
    return jax.tree_util.tree_map(lambda a, b: -a - H / 2 * b, g, hg)


def assert_tree_close(a, b):
    assert jax.tree_util.tree_structure(a) == jax.tree_util.tree_structure(b)
    for x, y in zip(jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b)):
        np.testing.assert_allclose(x, y, rtol=1e-10, atol=1e-12)


def test_equinox_module():
    eqx = pytest.importorskip("equinox")
    model = eqx.nn.MLP(3, 1, 6, 2, activation=jnp.tanh, key=jax.random.PRNGKey(0))

    def loss(m, x, y):
        return jnp.mean((jax.vmap(m)(x) - y) ** 2)

    m = gd2()
    field = m.modified_field((loss,), H)(model, _X, _Y)
    arrays, static = eqx.partition(model, eqx.is_inexact_array)
    expected = reference_field(lambda p, x, y: loss(eqx.combine(p, static), x, y), arrays, _X, _Y)
    assert_tree_close(field, expected)  # None at the static leaves, as eqx.filter_grad has it
    assert jax.tree_util.tree_structure(field) == jax.tree_util.tree_structure(eqx.filter_grad(loss)(model, _X, _Y))
    reg = m.implicit_regularizer((loss,), H)(model, _X, _Y)
    g = eqx.filter_grad(loss)(model, _X, _Y)
    np.testing.assert_allclose(reg, H / 4 * sum(jnp.sum(x**2) for x in jax.tree_util.tree_leaves(g)), rtol=1e-12)

    from bea.codegen.optax import regularizer_transform

    tx = optax.chain(regularizer_transform(m, (loss,), H, scale=1.0), optax.sgd(H))
    updates, _ = tx.update(g, tx.init(arrays), model, batch=(_X, _Y))
    new = eqx.apply_updates(model, updates)
    assert_tree_close(eqx.filter(new, eqx.is_inexact_array),
                      jax.tree_util.tree_map(lambda p, f: p + H * f, arrays, expected))


def _nnx_model():
    nnx = pytest.importorskip("flax.nnx")

    class Net(nnx.Module):
        def __init__(self, rngs):
            self.a = nnx.Linear(3, 5, rngs=rngs, dtype=jnp.float64, param_dtype=jnp.float64)
            self.b = nnx.Linear(5, 1, rngs=rngs, dtype=jnp.float64, param_dtype=jnp.float64)
            self.calls = nnx.Variable(jnp.array(0))  # an integer leaf: not a parameter

        def __call__(self, x):
            return self.b(jnp.tanh(self.a(x)))

    return nnx, Net(nnx.Rngs(0))


def test_flax_nnx_state():
    nnx, model = _nnx_model()
    graphdef, state = nnx.split(model)

    def loss(s, x, y):
        return jnp.mean((nnx.merge(graphdef, s)(x) - y) ** 2)

    m = gd2()
    field = m.modified_field((loss,), H)(state, _X, _Y)
    _, params, rest = nnx.split(model, nnx.Param, ...)
    expected = reference_field(lambda p, x, y: loss(nnx.merge_state(p, rest), x, y), params, _X, _Y)
    got = [x for x in jax.tree_util.tree_leaves(field)]
    want = jax.tree_util.tree_leaves(expected)
    assert len(got) == len(want) == 4
    for x, y in zip(got, want):
        np.testing.assert_allclose(x, y, rtol=1e-10, atol=1e-12)


def test_flax_linen_params():
    nn = pytest.importorskip("flax.linen")

    class Net(nn.Module):
        @nn.compact
        def __call__(self, x):
            dense = dict(dtype=jnp.float64, param_dtype=jnp.float64)  # float64, as the tolerance is
            return nn.Dense(1, **dense)(jnp.tanh(nn.Dense(5, **dense)(x)))

    net = Net()
    variables = net.init(jax.random.PRNGKey(0), _X)

    def loss(v, x, y):
        return jnp.mean((net.apply(v, x) - y) ** 2)

    m = gd2()
    assert_tree_close(m.modified_field((loss,), H)(variables, _X, _Y), reference_field(loss, variables, _X, _Y))
    from bea.codegen.optax import regularizer_transform

    tx = optax.chain(regularizer_transform(m, (loss,), H, scale=-1.0), optax.adam(1e-3))
    state = tx.init(variables)
    g = jax.grad(loss)(variables, _X, _Y)
    updates, state = jax.jit(tx.update)(g, state, variables, batch=(_X, _Y))
    assert jax.tree_util.tree_structure(updates) == jax.tree_util.tree_structure(variables)


SHARDED = textwrap.dedent("""
    import json
    import jax, jax.numpy as jnp, numpy as np
    from jax.sharding import Mesh, NamedSharding, PartitionSpec as P
    from bea.codegen import functions
    from bea.derive import derive
    from bea.schemes import build
    assert jax.device_count() == 4
    mesh = Mesh(np.array(jax.devices()).reshape(2, 2), ("data", "model"))
    m = functions(derive(build("gd", 3), 3))
    loss = lambda p, x: jnp.mean(jnp.tanh(x @ p["w"] + p["b"]) ** 2)
    rng = np.random.default_rng(0)
    p = {"w": jnp.asarray(rng.normal(size=(8, 4)), jnp.float32), "b": jnp.asarray(rng.normal(size=4), jnp.float32)}
    x = jnp.asarray(rng.normal(size=(16, 8)), jnp.float32)
    sh = {"w": NamedSharding(mesh, P(None, "model")), "b": NamedSharding(mesh, P("model"))}
    ps = jax.device_put(p, sh)
    xs = jax.device_put(x, NamedSharding(mesh, P("data", None)))
    field = jax.jit(m.modified_field((loss,), 0.1))
    out, plain = field(ps, xs), field(p, x)
    print(json.dumps({
        "same_sharding": all(out[k].sharding.is_equivalent_to(sh[k], out[k].ndim) for k in p),
        "devices": len(out["w"].sharding.device_set),
        "error": max(float(jnp.max(jnp.abs(out[k] - plain[k]))) for k in p),
    }))
""")


def test_sharding_is_kept():
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=4", JAX_PLATFORMS="cpu")
    result = subprocess.run([sys.executable, "-c", SHARDED], capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["same_sharding"] and report["devices"] == 4
    assert report["error"] < 1e-5
