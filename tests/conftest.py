"""Shared test setup: float64 for every test (as diffrax's tests do).

The library itself never changes ``jax_enable_x64``: ``bea.check`` scopes float64 to its
own computations. ``tests/test_check.py`` proves that in a fresh process, where this
file does not run.
"""

import jax

jax.config.update("jax_enable_x64", True)
