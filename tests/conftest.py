"""Shared test setup: float64 for the tests that ask for it.

``x64`` turns float64 on for one test only (``jax.enable_x64`` context), so a test can
still see that importing bea never changes the flag.
"""

import jax
import pytest


@pytest.fixture
def x64():
    with jax.enable_x64(True):
        yield
