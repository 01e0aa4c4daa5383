"""Shared test setup: float64 everywhere (numerical checks need it)."""

import jax

jax.config.update("jax_enable_x64", True)
