"""Gradient descent follows its modified flow, not the gradient flow: an MLP, from generated code.

Backward error analysis says that gradient descent with step ``h`` on ``L`` stays within
``O(h^N)`` of the flow of its modified field of order ``N``, ``-∇(L + (h/4)‖∇L‖² + …)``
(the implicit regularizer at order 2), over a fixed time, while it drifts ``O(h)`` away
from the gradient flow of ``L``. The same analysis gives the modifying field: gd run on it
(``regularizer_transform(..., scale=-1)``, the drift cancelled) follows the gradient flow
of ``L`` to ``O(h^N)``. This script trains a small tanh MLP (8 → 16 → 16 → 1, 64 examples,
full batch, float64 so that small distances are not float32 rounding) for a time ``T``
with gd at several rates ``h`` and measures, at every step ``k``, the distance from the
iterate to the flows at time ``kh`` (integrated by RK4 at a step ``dt`` that divides every
``h``):

* plain gd to the gradient flow of ``L``: the drift the implicit regularizer causes;
* plain gd to the generated modified flow of order ``N`` (``modified_field``);
* gd with the drift cancelled through order ``N`` (the generated ``drift_correction``,
  through the optax transform) to the gradient flow of ``L``.

Left: the three distances along training at the largest ``h`` (``hλ_max`` up to about
0.9 here: the sharpness grows during training). Right: the largest distance over
``[0, T]`` against ``h``: slope 1 for plain gd against the gradient flow, slope ``N`` for
the other two (measured with the defaults: 1.01, 3.04 and 3.08 over h = 0.0125 … 0.1). What it does not show: a visibly different loss curve. Where the series
is accurate (``hλ_max < 1``) the regularizer changes the loss along the path by far less
than the path's own variation (at ``T = 10``: ``L = 0.1699`` after gd at ``h = 0.1``,
``0.1670`` on the gradient flow, from 0.67 at the start); its effect is which flow gd
follows.

The figure goes to ``--out`` (default ``mlp_regularizer.png`` in the system's temporary
directory); the script prints where it wrote it.

Run: ``python examples/train_mlp_regularizer.py [--out PATH] [--order N]`` (about 25 s
on two CPU cores).
"""

from __future__ import annotations

import argparse
import os
import tempfile

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import matplotlib  # noqa: E402
import optax  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from bea import derive  # noqa: E402
from bea.codegen import functions  # noqa: E402
from bea.codegen.optax import regularizer_transform  # noqa: E402
from bea.schemes import build  # noqa: E402


def problem():
    """The loss of a tanh MLP on synthetic regression data, and its initial parameters."""
    kx, ky, kn, *kw = jax.random.split(jax.random.PRNGKey(0), 6)
    x = jax.random.normal(kx, (64, 8))
    y = jnp.sin(x @ jax.random.normal(ky, (8, 1))) + 0.1 * jax.random.normal(kn, (64, 1))
    sizes = [(8, 16), (16, 16), (16, 1)]
    params = [{"w": jax.random.normal(k, s) / jnp.sqrt(s[0]), "b": jnp.zeros(s[1])} for k, s in zip(kw, sizes)]

    def loss(p):
        z = x
        for layer in p[:-1]:
            z = jnp.tanh(z @ layer["w"] + layer["b"])
        return jnp.mean((z @ p[-1]["w"] + p[-1]["b"] - y) ** 2)

    return loss, params


def flow(field, theta, dt: float, steps: int):
    """The states of θ' = field(θ) from theta at times 0, dt, …, steps·dt (RK4, step dt)."""

    def rk4(p, _):
        def at(c, k):
            return jax.tree_util.tree_map(lambda a, b: a + c * b, p, k)

        k1 = field(p)
        k2 = field(at(dt / 2, k1))
        k3 = field(at(dt / 2, k2))
        k4 = field(at(dt, k3))
        p = jax.tree_util.tree_map(lambda a, b, c, d, e: a + dt / 6 * (b + 2 * c + 2 * d + e), p, k1, k2, k3, k4)
        return p, p

    return _with_start(theta, jax.lax.scan(rk4, theta, None, length=steps)[1])


def iterate(tx, loss, theta, steps, length: int):
    """The iterates θ_0 … θ_length of the optax chain ``tx`` on the full-batch loss, frozen
    after ``steps`` steps (one compiled loop serves every step count)."""

    def step(carry, active):
        p, state = carry
        updates, new_state = tx.update(jax.grad(loss)(p), state, p)
        p, state = jax.tree_util.tree_map(lambda a, b: jnp.where(active, a, b), (optax.apply_updates(p, updates),
                                                                                  new_state), (p, state))
        return (p, state), p

    return _with_start(theta, jax.lax.scan(step, (theta, tx.init(theta)), jnp.arange(length) < steps)[1])


def _with_start(theta, path):
    return jax.tree_util.tree_map(lambda a, b: jnp.concatenate([a[None], b]), theta, path)


def distance(a, b):
    """‖a_k - b_k‖ at every k, for two stacked trajectories."""
    return jnp.sqrt(sum(jnp.sum((u - v) ** 2, axis=tuple(range(1, u.ndim)))
                        for u, v in zip(jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b))))


def trajectories(loss, generated, dt: float, time: float, longest: int):
    """Jitted functions of (θ, h, steps) with h and steps traced (one compilation for every
    rate): the modified flow at every multiple of dt up to time, plain gd and gd with the
    drift cancelled (each ``longest`` steps, frozen after ``steps``)."""
    total = round(time / dt)
    modified = jax.jit(lambda p, h: flow(generated.modified_field((loss,), h), p, dt, total))
    gd = jax.jit(lambda p, h, steps: iterate(optax.sgd(h), loss, p, steps, longest))
    cancel = jax.jit(lambda p, h, steps: iterate(
        optax.chain(regularizer_transform(generated, (loss,), h, scale=-1.0), optax.sgd(h)), loss, p, steps, longest))
    return modified, gd, cancel


def distances(theta, h: float, dt: float, time: float, runs, gradient_flow):
    """The three distances of the module docstring at every step of gd at rate h (runs:
    :func:`trajectories`; gradient_flow: the flow of L at every multiple of dt)."""
    modified, gd, cancel = runs
    every, steps = round(h / dt), round(time / h)

    def first(path):
        return jax.tree_util.tree_map(lambda a: a[:steps + 1], path)

    reference = jax.tree_util.tree_map(lambda a: a[::every], gradient_flow)
    plain = first(gd(theta, h, steps))
    return {"gd ↔ gradient flow": distance(plain, reference),
            "gd ↔ modified flow": distance(plain, jax.tree_util.tree_map(lambda a: a[::every], modified(theta, h))),
            "drift-cancelled gd ↔ gradient flow": distance(first(cancel(theta, h, steps)), reference)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join(tempfile.gettempdir(), "mlp_regularizer.png"),
                        help="where the figure goes (default: %(default)s)")
    parser.add_argument("--order", type=int, default=3, help="order N ≥ 2 of the modified and modifying fields")
    parser.add_argument("--time", type=float, default=10.0, help="training time T = steps·h")
    parser.add_argument("--rates", type=float, nargs="+", default=[0.0125, 0.025, 0.05, 0.1],
                        help="gd's learning rates h, each a multiple of --dt")
    parser.add_argument("--dt", type=float, default=0.00625, help="RK4 step of the flows")
    args = parser.parse_args()
    if args.order < 2:
        parser.error(f"--order must be 2 or more (order 1 has no drift), got {args.order}")
    if any(abs(h / args.dt - round(h / args.dt)) > 1e-9 or h < args.dt for h in args.rates):
        parser.error(f"every rate must be a multiple of --dt {args.dt:g}, got {args.rates}")
    loss, theta = problem()
    generated = functions(derive(build("gd", args.order), args.order))
    total = round(args.time / args.dt)
    descent = jax.grad(lambda p: -loss(p))
    gradient_flow = jax.jit(lambda p: flow(descent, p, args.dt, total))(theta)

    size = sum(a.size for a in jax.tree_util.tree_leaves(theta))
    print(f"tanh MLP, {size} parameters, gd for a time T = {args.time:g}, order N = {args.order}; "
          f"max over k ≤ T/h of ‖θ_k − φ(kh)‖:")
    compiled = trajectories(loss, generated, args.dt, args.time, round(args.time / min(args.rates)))
    results = {h: distances(theta, h, args.dt, args.time, compiled, gradient_flow) for h in sorted(args.rates)}
    h = max(results)
    final = jax.tree_util.tree_map(lambda a: a[-1], compiled[1](theta, h, round(args.time / h)))
    end = jax.tree_util.tree_map(lambda a: a[-1], gradient_flow)
    print(f"{'h':>8}  " + "  ".join(f"{name:>{max(len(name), 9)}}" for name in results[args.rates[0]]))
    for h, found in results.items():
        print(f"{h:>8g}  " + "  ".join(f"{float(d.max()):>{max(len(name), 9)}.2e}" for name, d in found.items()))

    print(f"the loss at time T: gd at h = {h:g} {float(loss(final)):.5f}, gradient flow {float(loss(end)):.5f}")

    figure, (left, right) = plt.subplots(1, 2, figsize=(11.5, 4.2))
    for name, d in results[h].items():
        left.semilogy(h * jnp.arange(1, d.size), d[1:], label=name)
    left.set(xlabel="time t = kh", ylabel="‖θ_k − φ(kh)‖", title=f"gd at h = {h:g}: which flow it follows")
    left.legend(fontsize=8)
    rates = sorted(results)
    for name in results[h]:
        largest = [float(results[r][name].max()) for r in rates]
        slope = (jnp.log(largest[-1]) - jnp.log(largest[0])) / (jnp.log(rates[-1]) - jnp.log(rates[0]))
        label = name if len(rates) < 2 else f"{name} (slope {float(slope):.2f})"
        right.loglog(rates, largest, "o-", label=label)
    right.set(xlabel="learning rate h", ylabel=f"max distance over t ≤ {args.time:g}",
              title=f"slope 1 (gd vs gradient flow) and slope N = {args.order}")
    right.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(args.out, dpi=110)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
