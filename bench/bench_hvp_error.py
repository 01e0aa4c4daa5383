"""How accurate is the generated code's finite-difference Hessian-vector product in float32?

``hvp="finite-difference"`` replaces a Hessian-vector product ``H v = D∇L(θ)[v]`` by the
forward difference ``(∇L(θ + εv) − ∇L(θ))/ε`` with ``ε = sqrt(eps)·(1 + ‖θ‖)/‖v‖``
(the generated runtime's ``_fd``). Here it is measured where the generated code uses it:
gd's order-2 drift ``implicit_drift = -(h/2) H∇L`` (one HVP along the gradient, what the
explicit-regularizer optax transform adds), on a tanh MLP with a mean-squared-error loss
(16 inputs, two hidden layers of width w, 256 examples; ``batchnorm``: the same with its
hidden pre-activations batch-normalized), in float32, against the same
drift computed exactly (nested ``jax.jvp`` of ``jax.grad``) in float64. The parameters
are the usual ``1/sqrt(fan_in)`` initialization rescaled to ``‖θ‖ = 1, 10, 100``.

Columns: ``exact32`` the exact (jvp) HVP in float32 (the floor float32 allows),
``fd`` the generated finite difference; then the same forward difference with other
steps ``s = ε‖v‖`` (``ε`` the step along ``v``), and a central difference
``(∇L(θ + εv) − ∇L(θ − εv))/(2ε)`` (one gradient more than the forward one):

* ``s=√eps``: ``s = sqrt(eps)``, no ``‖θ‖`` factor;
* ``s=√(eps·(1+‖θ‖))``: the step that balances truncation (∝ s) against the rounding of
  ``θ + εv`` (∝ eps·‖θ‖/s);
* ``central``: the central difference with ``s = eps^(1/3)`` (its truncation is O(s²)).

Every entry is the relative error ``‖Hv_approx − Hv_64‖/‖Hv_64‖``. A second table sweeps
the step ``s`` at one size and norm (``--sweep-width``, ``--sweep-norm``; default about
133k parameters at ‖θ‖ = 17) to show the truncation/rounding valley and where each rule
lands in it.

Run: ``python bench/bench_hvp_error.py`` (two to five minutes on two CPU cores;
``--widths 5 23 91 307 --models mlp`` for less).
"""

from __future__ import annotations

import argparse

import jax

jax.config.update("jax_enable_x64", True)  # the float64 reference; the measured code runs in float32

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from jax.flatten_util import ravel_pytree  # noqa: E402

from bea import derive  # noqa: E402
from bea.codegen import functions  # noqa: E402
from bea.schemes import build  # noqa: E402

INPUTS, EXAMPLES, H = 16, 256, 0.1


def problem(width: int, norm: float, batchnorm: bool = False, seed: int = 0):
    """(loss, θ in float64, x, y): the MLP 16 → w → w → 1 with ‖θ‖ = norm; with batchnorm,
    each hidden pre-activation ``x W`` is normalized over the batch before the bias and tanh
    (training-mode BatchNorm without scale, the bias as its shift: the loss is invariant to
    the scale of each hidden weight matrix)."""
    rng = np.random.default_rng(seed)
    sizes = [(INPUTS, width), (width, width), (width, 1)]
    params = [{"w": rng.normal(size=s) / np.sqrt(s[0]), "b": rng.normal(size=s[1]) * 0.1} for s in sizes]
    flat, unravel = ravel_pytree(jax.tree_util.tree_map(jnp.asarray, params))
    theta = unravel(flat * (norm / jnp.linalg.norm(flat)))
    x = jnp.asarray(rng.normal(size=(EXAMPLES, INPUTS)))
    y = jnp.sin(x @ jnp.asarray(rng.normal(size=(INPUTS, 1))) / 2)

    def loss(p, x, y):
        z = x
        for layer in p[:-1]:
            z = z @ layer["w"]
            if batchnorm:
                z = (z - z.mean(0)) / jnp.sqrt(z.var(0) + 1e-5)
            z = jnp.tanh(z + layer["b"])
        return jnp.mean((z @ p[-1]["w"] + p[-1]["b"] - y) ** 2)

    return loss, theta, x, y


def cast(tree, dtype):
    return jax.tree_util.tree_map(lambda a: a.astype(dtype), tree)


def relative(a, b) -> float:
    a, b = ravel_pytree(a)[0].astype(jnp.float64), ravel_pytree(b)[0]
    return float(jnp.linalg.norm(a - b) / jnp.linalg.norm(b))


def hvps(loss, theta, x, y, steps: dict):
    """The float32 approximations of H g (g = ∇L(θ)), by name, and the float64 reference."""
    gd2 = functions(derive(build("gd", 2), 2))
    reference = jax.jit(gd2.implicit_drift((loss,), H))(theta, x, y)
    t32, x32, y32 = cast(theta, jnp.float32), x.astype(jnp.float32), y.astype(jnp.float32)
    out = {"exact32": jax.jit(gd2.implicit_drift((loss,), H))(t32, x32, y32),
           "fd": jax.jit(gd2.implicit_drift((loss,), H, hvp="finite-difference"))(t32, x32, y32)}
    grad = jax.jit(jax.grad(loss))
    g = grad(t32, x32, y32)
    flat, unravel = ravel_pytree(t32)
    v = ravel_pytree(g)[0]
    direction = v / jnp.linalg.norm(v)
    scale = -H / 2 * jnp.linalg.norm(v)  # the drift is -(h/2)·H g = scale·H(g/‖g‖)
    for name, (kind, s) in steps.items():
        s = jnp.float32(s)
        plus = ravel_pytree(grad(unravel(flat + s * direction), x32, y32))[0]
        if kind == "forward":
            diff = (plus - ravel_pytree(g)[0]) / s
        else:
            minus = ravel_pytree(grad(unravel(flat - s * direction), x32, y32))[0]
            diff = (plus - minus) / (2 * s)
        out[name] = unravel(scale * diff)
    return {name: relative(value, reference) for name, value in out.items()}


def rules(norm: float) -> dict:
    """The step s = ε‖v‖ of each rule at ‖θ‖ = norm, in float32."""
    eps = float(jnp.finfo(jnp.float32).eps)
    return {"s=√eps": ("forward", np.sqrt(eps)),
            "s=√(eps·(1+‖θ‖))": ("forward", np.sqrt(eps * (1 + norm))),
            "central": ("central", eps ** (1 / 3))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--widths", type=int, nargs="+", default=[5, 23, 91, 307, 990])
    parser.add_argument("--norms", type=float, nargs="+", default=[1.0, 10.0, 100.0])
    parser.add_argument("--models", nargs="+", choices=["mlp", "batchnorm"], default=["mlp", "batchnorm"])
    parser.add_argument("--sweep-width", type=int, default=355)
    parser.add_argument("--sweep-norm", type=float, default=17.0)
    args = parser.parse_args()
    print(f"float32 HVP along the gradient, relative error vs float64 jvp ({jax.default_backend()})")
    names = ["exact32", "fd", *rules(1.0)]
    print(f"{'model':>9} {'params':>8} {'‖θ‖':>5} " + " ".join(f"{n:>17}" for n in names))
    for model in args.models:
        for width in args.widths:
            for norm in args.norms:
                loss, theta, x, y = problem(width, norm, batchnorm=model == "batchnorm")
                errors = hvps(loss, theta, x, y, rules(norm))
                size = ravel_pytree(theta)[0].size
                print(f"{model:>9} {size:>8} {norm:>5g} " + " ".join(f"{errors[n]:>17.1e}" for n in names),
                      flush=True)
    loss, theta, x, y = problem(args.sweep_width, args.sweep_norm)
    size = ravel_pytree(theta)[0].size
    eps = float(jnp.finfo(jnp.float32).eps)
    current = np.sqrt(eps) * (1 + args.sweep_norm)
    print(f"\nforward-difference error vs its step s = ε‖v‖ ({size} params, ‖θ‖ = {args.sweep_norm:g}; "
          f"the generated rule takes s = {current:.1e})")
    sweep = {f"{s:.0e}": ("forward", s) for s in 10.0 ** np.arange(-5.0, -0.5, 0.5)}
    errors = hvps(loss, theta, x, y, sweep)
    for name in sweep:
        print(f"  s = {name:>6}: {errors[name]:.1e}")


if __name__ == "__main__":
    main()
