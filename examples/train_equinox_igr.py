"""Adam with and without gd's implicit regularizer made explicit, on an equinox MLP.

bea derives that gradient descent with step ``h`` follows, to order 2, the gradient flow of
``L + (h/4)‖∇L‖²`` (implicit gradient regularization; Barrett & Dherin, ICLR 2021). The
generated optax transform ``regularizer_transform(m, (loss,), h, scale=+1)`` adds the
gradient of that regularizer, ``(h/2) ∇²L ∇L``, to what the next optimizer sees; here the
next optimizer is Adam, and ``h`` sets the regularizer's strength. The model is passed to
the transform as it is (an ``eqx.Module``: no hand partitioning) and the Hessian-vector
product is the cheap finite difference (``hvp="finite-difference"``) that reuses the
gradient the step already has.

What changes: the sharpness (the top eigenvalue of ∇²L, by power iteration on
Hessian-vector products) stays about a third lower with the regularizer (≈60 vs ≈89
after 1500 steps), at a somewhat higher training loss (0.013 vs 0.0095).
Both runs are plotted to ``docs/example.png``.

Run: ``python examples/train_equinox_igr.py [OUT.png]`` (about 20 s on two CPU cores).
"""

import sys

import equinox as eqx
import jax
import jax.numpy as jnp
import matplotlib
import optax

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from bea.codegen import functions  # noqa: E402
from bea.codegen.optax import regularizer_transform  # noqa: E402
from bea.derive import derive# noqa: E402
from bea.schemes import build  # noqa: E402

LR, H, STEPS, EVERY = 3e-3, 0.5, 1500, 50


def data(key):
    kx, kn = jax.random.split(key)
    x = jax.random.uniform(kx, (256, 1), minval=-3, maxval=3)
    y = jnp.sin(2 * x) + 0.3 * x + 0.1 * jax.random.normal(kn, x.shape)
    return x, y


def loss(model, x, y):
    return jnp.mean((jax.vmap(model)(x) - y) ** 2)


def sharpness(model, x, y, iterations=30):
    """Top eigenvalue of ∇²L at the model's arrays, by power iteration on HVPs."""
    arrays, static = eqx.partition(model, eqx.is_inexact_array)
    grad = jax.grad(lambda p: loss(eqx.combine(p, static), x, y))

    def hvp(v):
        return jax.jvp(grad, (arrays,), (v,))[1]

    def norm(v):
        return jnp.sqrt(sum(jnp.sum(a**2) for a in jax.tree_util.tree_leaves(v)))

    v = jax.tree_util.tree_map(lambda a: jnp.ones_like(a), arrays)
    for _ in range(iterations):
        w = hvp(v)
        v = jax.tree_util.tree_map(lambda a: a / norm(w), w)
    return sum(jnp.sum(a * b) for a, b in zip(jax.tree_util.tree_leaves(v), jax.tree_util.tree_leaves(hvp(v))))


def train(regularized: bool, x, y):
    model = eqx.nn.MLP(1, 1, 64, 2, activation=jnp.tanh, key=jax.random.PRNGKey(1))
    gd2 = functions(derive(build("gd", 2), 2))
    parts = [regularizer_transform(gd2, (loss,), H, scale=1.0, hvp="finite-difference")] if regularized else []
    tx = optax.chain(*parts, optax.adam(LR))
    state = tx.init(eqx.filter(model, eqx.is_inexact_array))

    @eqx.filter_jit
    def step(model, state):
        value, grads = eqx.filter_value_and_grad(loss)(model, x, y)
        updates, state = tx.update(grads, state, model, batch=(x, y))
        return eqx.apply_updates(model, updates), state, value

    sharp_fn = eqx.filter_jit(sharpness)
    history = {"step": [], "loss": [], "sharpness": []}
    for i in range(STEPS + 1):
        if i % EVERY == 0:
            history["step"].append(i)
            history["loss"].append(float(loss(model, x, y)))
            history["sharpness"].append(float(sharp_fn(model, x, y)))
        if i < STEPS:
            model, state, _ = step(model, state)
    return history


def main(out: str) -> None:
    x, y = data(jax.random.PRNGKey(0))
    runs = {"Adam": train(False, x, y), f"Adam + explicit IGR (h = {H})": train(True, x, y)}
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.4))
    for name, hist in runs.items():
        ax1.semilogy(hist["step"], hist["loss"], label=name)
        ax2.plot(hist["step"], hist["sharpness"], label=name)
        print(f"{name:32s} final loss {hist['loss'][-1]:.4f}  sharpness {hist['sharpness'][-1]:.2f}")
    ax1.set(xlabel="step", ylabel="training loss", title="loss")
    ax2.set(xlabel="step", ylabel="top Hessian eigenvalue", title="sharpness")
    ax2.legend()
    fig.tight_layout()
    fig.savefig(out, dpi=120)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "docs/example.png")
