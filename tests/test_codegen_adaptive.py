"""Generated JAX code of coordinate-wise rules (bea.codegen.coordinatewise) against dense references.

The reference flattens the pytree and builds the field from ``jax.grad``, ``jax.hessian``
and ``jax.jacfwd``: for Adam the order-2 formula of REFERENCES.md (issue 12),

    θ̇ = −g/s − h [(β/(1−β) + ½)/s − (ρ/(1−ρ) + ½) g²/s³] ⊙ H(g/s),   s = √(g² + ε),

and for normalized GD the modified field of a map ``θ + h u(θ)`` to order 2,
``u − (h/2) u′u`` (Hairer, Lubich & Wanner, Geometric Numerical Integration, IX.1),
with ``u = −g/‖g‖`` and ``u′`` from ``jax.jacfwd``.
"""

from __future__ import annotations

import ast
import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from click.testing import CliRunner
from jax.flatten_util import ravel_pytree

from bea.codegen import emit_module, functions
from bea.derive import derive
from bea.schemes import build

B1, B2, EPS, H = 0.9, 0.99, 1e-3, 0.05
VALUES = {"b1": B1, "b2": B2, "eps": EPS}
THETA = {"a": jnp.array([0.3, -0.7, 1.1]), "b": jnp.array([[0.2, -0.4], [0.5, 0.1]])}
DATA = jnp.array([[1.0, 2.0, 0.5], [-0.3, 0.8, 1.5], [0.6, -1.2, 0.9]])


def loss(p, x):
    return jnp.sum(jnp.sin(p["a"] * x)) + jnp.sum(p["b"] ** 3) * jnp.sum(p["a"] ** 2) + jnp.sum(x) * p["b"][0, 1]


@functools.lru_cache(maxsize=None)
def derivation(name, order):
    return derive(build(name, order), order)


def dense(theta, x):
    """g, H of the flattened loss, and the unravel map."""
    flat, unravel = ravel_pytree(theta)
    f = lambda v: loss(unravel(v), x)  # noqa: E731
    return flat, jax.grad(f)(flat), jax.hessian(f)(flat), unravel


def adam_reference(theta, x, h=H, b1=B1, b2=B2, eps=EPS):
    _, g, hess, _ = dense(theta, x)
    s = jnp.sqrt(g**2 + eps)
    return -g / s - h * ((b1 / (1 - b1) + 0.5) / s - (b2 / (1 - b2) + 0.5) * g**2 / s**3) * (hess @ (g / s))


def flat(tree):
    return ravel_pytree(tree)[0]


def test_standalone_module_imports_jax_only():
    source = emit_module(derivation("adam", 2))
    imports = {a.name for node in ast.walk(ast.parse(source)) if isinstance(node, (ast.Import, ast.ImportFrom))
               for a in node.names}
    assert imports == {"jax", "jax.numpy"}
    assert "PARAMETERS = ('b1', 'b2', 'eps')" in source
    assert "def modified_field(losses, h, *, b1, b2, eps, hvp=\"exact\"):" in source
    assert "hessian" not in source and "jacfwd" not in source
    assert "no bias correction" in source and "ε inside the square root" in source
    # one line per distinct differential: f and D f[g/s] once each
    # modified_field, implicit_drift, slaved_state, preconditioned_potential
    assert source.count("= _d(atom_f, theta)  # f\n") == 4


def test_adam_matches_dense_reference_symbolic_and_numeric():
    sym = functions(derivation("adam", 2))
    num = functions(derivation("adam", 2), values=VALUES)
    assert num.PARAMETERS == ()
    x = DATA[0]
    ref = adam_reference(THETA, x)
    np.testing.assert_allclose(flat(sym.modified_field((loss,), H, **VALUES)(THETA, x)), ref, rtol=0, atol=1e-10)
    np.testing.assert_allclose(flat(num.modified_field((loss,), H)(THETA, x)), ref, rtol=0, atol=1e-10)
    # the drift is the order-2 part alone
    drift = flat(num.implicit_drift((loss,), H)(THETA, x))
    np.testing.assert_allclose(drift, ref - adam_reference(THETA, x, h=0.0), rtol=0, atol=1e-10)
    # finite-difference HVPs: the same to ~sqrt(eps64)
    fd = flat(num.modified_field((loss,), H, hvp="finite-difference")(THETA, x))
    np.testing.assert_allclose(fd, ref, rtol=1e-6, atol=1e-6)


def test_adam_potential_is_the_perturbed_one_norm():
    mod = functions(derivation("adam", 2), values=VALUES)
    assert mod.POTENTIALS == ("Σ_j s_j",)
    x = DATA[1]
    _, g, hess, _ = dense(THETA, x)
    s = jnp.sqrt(g**2 + EPS)
    potential = mod.preconditioned_potential((loss,))
    np.testing.assert_allclose(potential(THETA, x), jnp.sum(s), rtol=1e-13)
    np.testing.assert_allclose(flat(jax.grad(potential)(THETA, x)), hess @ (g / s), rtol=0, atol=1e-10)


def test_under_jit_vmap_and_grad():
    mod = functions(derivation("adam", 2))
    field = mod.modified_field((loss,), H, **VALUES)
    batched = jax.jit(jax.vmap(field, in_axes=(None, 0)))(THETA, DATA)
    for i, x in enumerate(DATA):
        np.testing.assert_allclose(flat(jax.tree_util.tree_map(lambda leaf: leaf[i], batched)),
                                   adam_reference(THETA, x), rtol=0, atol=1e-10)
    # grad of a scalar of the field, against jacfwd of the dense reference
    x = DATA[2]
    w = jnp.linspace(-1.0, 1.0, 7)
    scalar = lambda th: jnp.dot(flat(field(th, x)), w)  # noqa: E731
    got = flat(jax.jit(jax.grad(scalar))(THETA))
    flat0, unravel = ravel_pytree(THETA)
    expected = jax.jacfwd(lambda v: adam_reference(unravel(v), x))(flat0).T @ w
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-9)


def test_normalized_gd_matches_dense_reference():
    mod = functions(derivation("normalized", 2))
    assert mod.PARAMETERS == () and mod.POTENTIALS == ()
    x = DATA[0]
    flat0, unravel = ravel_pytree(THETA)

    def u(v):
        g = jax.grad(lambda w: loss(unravel(w), x))(v)
        return -g / jnp.linalg.norm(g)

    ref = u(flat0) - H / 2 * jax.jacfwd(u)(flat0) @ u(flat0)
    got = jax.jit(mod.modified_field((loss,), H))(THETA, x)
    np.testing.assert_allclose(flat(got), ref, rtol=0, atol=1e-10)


def test_cli_codegen_adam(tmp_path):
    from cli.codegen_cmd import codegen

    out = tmp_path / "adam2.py"
    runner = CliRunner()
    result = runner.invoke(codegen, ["--scheme", "adam", "--order", "2", "--set", "eps=1/1000", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "PARAMETERS = ('b1', 'b2')" in out.read_text()
    result = runner.invoke(codegen, ["--scheme", "adam", "--order", "2", "--set", "beta=1"])
    assert result.exit_code == 2 and "no symbol 'beta'" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("name", ["rmsprop"])
def test_other_schemes_emit(name):
    mod = functions(derivation(name, 2))
    assert "eps" in mod.PARAMETERS and callable(mod.preconditioned_potential)
