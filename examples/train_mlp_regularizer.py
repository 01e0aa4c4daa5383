"""Plain GD vs GD with gd's implicit regularizer made explicit, from generated code.

Gradient descent with step h follows, to second order, the gradient flow of the modified
loss ``L + (h/4)‖∇L‖²`` (implicit gradient regularization). ``bea`` derives that
regularizer and :func:`bea.codegen.functions` turns it into a JAX function; here it is
added explicitly (``L + λ·R`` with ``R = (h/4)‖∇L‖²``, ``λ = 4``, i.e. ``h‖∇L‖²``) to train
a small MLP on synthetic regression data, and the training losses of both runs are plotted.

Run: ``python examples/train_mlp_regularizer.py [OUT.png]`` (default mlp_regularizer.png).
"""

import sys

import jax
import jax.numpy as jnp
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from bea.codegen import functions  # noqa: E402
from bea.derive import derive  # noqa: E402
from bea.schemes import build  # noqa: E402

H, STEPS, STRENGTH = 0.05, 400, 4.0


def main(out: str) -> None:
    kx, ky, *kw = jax.random.split(jax.random.PRNGKey(0), 5)
    x = jax.random.normal(kx, (256, 8))
    y = jnp.sin(x @ jax.random.normal(ky, (8, 1))) + 0.1 * jax.random.normal(ky, (256, 1))
    sizes = [(8, 32), (32, 32), (32, 1)]
    params = [{"w": jax.random.normal(k, s) / jnp.sqrt(s[0]), "b": jnp.zeros(s[1])} for k, s in zip(kw, sizes)]

    def loss(p):
        z = x
        for layer in p[:-1]:
            z = jnp.tanh(z @ layer["w"] + layer["b"])
        return jnp.mean((z @ p[-1]["w"] + p[-1]["b"] - y) ** 2)

    regularizer = functions(derive(build("gd", 2), 2)).implicit_regularizer((loss,), H)  # (h/4)‖∇L‖²

    def trainer(objective):
        @jax.jit
        def step(p):
            return jax.tree_util.tree_map(lambda a, g: a - H * g, p, jax.grad(objective)(p)), loss(p)

        return step

    runs = {"plain GD": trainer(loss),
            f"GD + {STRENGTH:g}·(h/4)‖∇L‖² (generated)": trainer(lambda p: loss(p) + STRENGTH * regularizer(p))}
    curves = {}
    for name, step in runs.items():
        p, history = params, []
        for _ in range(STEPS):
            p, value = step(p)
            history.append(float(value))
        curves[name] = history
        print(f"{name}: final loss {history[-1]:.4f}, ‖∇L‖² = "
              f"{float(4 / H * regularizer(p)):.2e}")

    for name, history in curves.items():
        plt.semilogy(history, label=name)
    plt.xlabel("step")
    plt.ylabel("training loss L")
    plt.title(f"MLP, h = {H}")
    plt.legend()
    plt.tight_layout()
    plt.savefig(out, dpi=120)
    print(f"wrote {out}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "mlp_regularizer.png")
