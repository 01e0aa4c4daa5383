"""Many SGD runs against many SME paths: mean and spread over time (for ``bea drift --noise``).

Conventions of Li, Tai & E (ICML 2017; JMLR 2019): SGD step ``k`` sits at time ``k h``; the
SME ``dθ = b dt + √(h Σ) dW`` has ``Σ`` the covariance of the minibatch gradient (batch
size ``B`` included). SGD draws its batches i.i.d. (with or without replacement); the SME
paths come from :func:`bea.stochastic.jaxsde.simulate` (diffrax). Both report the loss
``L(θ)`` and each coordinate, as mean and standard deviation across runs at each time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np

from .jaxsde import mean_loss, per_example_gradients, simulate

__all__ = ["NoisePaths", "noise_paths", "plot_noise_paths"]


@dataclass
class NoisePaths:
    """``times``; per process (``"sgd"``, ``"sme"``) ``mean`` and ``std`` of the loss
    (``loss_*``) and of the flat parameters (``theta_*``, shape ``(times, d)``)."""

    times: np.ndarray
    stats: dict


def _sgd_paths(loss_per_example, data, theta0, h, steps, batch, replace, keys):
    grads = per_example_gradients(loss_per_example)
    n = jax.tree_util.tree_leaves(data)[0].shape[0]

    def draw(key):
        if replace:
            return jax.random.randint(key, (batch,), 0, n)
        return jax.random.permutation(key, n)[:batch]

    def run(key):
        def step(theta, k):
            theta = theta - h * jnp.mean(grads(theta, data)[draw(k)], axis=0)
            return theta, theta
        _, path = jax.lax.scan(step, theta0, jax.random.split(key, steps))
        return jnp.concatenate([theta0[None], path])
    return jax.jit(jax.vmap(run))(keys)


def noise_paths(loss_per_example: Callable, data, theta0, h: float, steps: int, batch: int,
                runs: int = 256, replace: bool = True, order: int = 2, seed: int = 0) -> NoisePaths:
    """``runs`` SGD runs and ``runs`` SME paths from ``theta0`` (a flat array) for
    ``steps`` steps of time ``h``; mean and spread of loss and parameters over time."""
    key_sgd, key_sme = jax.random.split(jax.random.PRNGKey(seed))
    theta0 = jnp.asarray(theta0)
    sgd = _sgd_paths(loss_per_example, data, theta0, h, steps, batch, replace,
                     jax.random.split(key_sgd, runs))
    times, sme = simulate(loss_per_example, data, theta0, h, steps, batch,
                          jax.random.split(key_sme, runs), order=order, replace=replace)
    loss = jax.vmap(jax.vmap(lambda th: mean_loss(loss_per_example)(th, data)))
    stats = {}
    for name, paths in (("sgd", sgd), ("sme", sme)):
        values = loss(paths)
        stats[name] = {"loss_mean": np.asarray(values.mean(0)), "loss_std": np.asarray(values.std(0)),
                       "theta_mean": np.asarray(paths.mean(0)), "theta_std": np.asarray(paths.std(0))}
    return NoisePaths(np.asarray(times), stats)


def plot_noise_paths(result: NoisePaths, path: str) -> None:
    """Loss and first coordinate over time, mean ± one standard deviation, SGD vs SME
    (matplotlib, Agg backend), written as a PNG to ``path``."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for name, colour in (("sgd", "tab:blue"), ("sme", "tab:orange")):
        s = result.stats[name]
        for ax, mean, std in ((axes[0], s["loss_mean"], s["loss_std"]),
                              (axes[1], s["theta_mean"][:, 0], s["theta_std"][:, 0])):
            ax.plot(result.times, mean, color=colour, label=f"{name.upper()} mean")
            ax.fill_between(result.times, mean - std, mean + std, color=colour, alpha=0.25,
                            label=f"{name.upper()} ± 1 std")
    axes[0].set_ylabel("L(θ)")
    axes[1].set_ylabel("θ₀")
    for ax in axes:
        ax.set_xlabel("time (h per step)")
        ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
