"""The built-in per-example problem of ``bea check`` / ``bea drift --noise`` with i.i.d. sampling.

A small non-quadratic regression in ``d = 2`` parameters: examples ``(x_i, y_i)``,
``i = 1 … n`` (``n ≤ 8``, so that every batch can be enumerated and the SGD side of the weak
error is an exact expectation), with the per-example loss

    ℓ_i(θ) = ½ r_i² + ¼ r_i⁴,   r_i = x_iᵀθ - y_i.

The quartic term makes ``∇²L`` depend on ``θ`` so that the order-2 drift correction
``-(h/4)∇‖∇L‖²`` and the state dependence of ``Σ(θ)`` both matter. ``x_i`` are standard
normal (``jax.random``, key ``seed``), ``y_i = 2(i-1)/n``.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import sympy

from .moments import Sampling, SamplingError

__all__ = ["PerExampleProblem", "built_in", "numeric_sampling", "MAX_EXAMPLES", "MAX_BATCHES",
           "DEFAULT_BATCH", "DEFAULT_EXAMPLES"]

MAX_EXAMPLES = 8
"""Most examples of the built-in problem (the weak check enumerates every batch)."""
MAX_BATCHES = 5000
"""Most batches the weak check enumerates (``n^B`` with replacement, ``C(n, B)`` without)."""
DEFAULT_BATCH, DEFAULT_EXAMPLES = 2, 6
"""Numbers used where ``B`` or ``n`` is left symbolic."""


@dataclass(frozen=True)
class PerExampleProblem:
    """``loss_per_example(θ, (x_i, y_i))``, ``data = (x, y)`` with ``n`` rows, and a start ``θ₀``."""

    name: str
    data: tuple
    theta0: jnp.ndarray

    @staticmethod
    def loss_per_example(theta, example):
        x, y = example
        r = x @ theta - y
        return 0.5 * r**2 + 0.25 * r**4


def built_in(examples: int, seed: int = 0, theta0=(0.3, -0.2)) -> PerExampleProblem:
    """The problem of the module docstring with ``examples`` examples."""
    x = jax.random.normal(jax.random.PRNGKey(seed), (examples, 2))
    y = 2 * jnp.arange(examples, dtype=x.dtype) / examples
    return PerExampleProblem(f"quartic regression (n = {examples}, d = 2, seed {seed})", (x, y),
                             jnp.asarray(theta0, dtype=x.dtype))


def numeric_sampling(batch, examples, replace: bool, notes: list) -> tuple[int, int]:
    """``(B, n)`` as numbers for the built-in problem: a symbolic one takes its default
    (said in ``notes``); ``n > MAX_EXAMPLES`` or too many batches raise :class:`SamplingError`."""
    b = DEFAULT_BATCH if isinstance(batch, sympy.Symbol) else int(batch)
    n = DEFAULT_EXAMPLES if isinstance(examples, sympy.Symbol) else int(examples)
    if isinstance(batch, sympy.Symbol) or isinstance(examples, sympy.Symbol):
        notes.append(f"B = {b}, n = {n} on the built-in problem (give --batch-size, --examples)")
    Sampling(b, n, replace)
    if n > MAX_EXAMPLES:
        raise SamplingError(f"--examples {n}: the built-in problem has at most {MAX_EXAMPLES} examples")
    count = n**b if replace else sympy.binomial(n, b)
    if count > MAX_BATCHES:
        raise SamplingError(f"--batch-size {b} from {n} examples gives {count} batches to enumerate, "
                            f"beyond {MAX_BATCHES}; use a smaller batch")
    return b, n
