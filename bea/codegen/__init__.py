"""Standalone JAX source for a derived modified flow (and modified loss).

:func:`emit_module` writes a Python module that imports only ``jax``; :func:`functions`
executes that same source into a fresh module object, so the in-memory callables and the
file written by ``bea codegen`` are one code path. What the code computes:
:mod:`.elementary` (B-series derivations), :mod:`.coordinatewise` (adaptive rules), each
its algebra's ``codegen`` part; shared pieces of source: :mod:`.source`; the optax
transform: :mod:`.optax`.
"""

from __future__ import annotations

import types

__all__ = ["emit_module", "functions", "optax_transform"]


def emit_module(derivation, values=None) -> str:
    """Source of a standalone module (imports jax only) for ``derivation``.

    ``values`` maps symbol names to numbers baked into the source; the other symbols
    become keyword arguments of the factories. For a modified flow the module has
    ``modified_field``, ``implicit_drift`` and (where the scheme has a modifying field)
    ``drift_correction``; with gradient atoms also ``modified_loss`` and
    ``implicit_regularizer`` when the modified loss exists, otherwise ``gradient_part``,
    ``remainder_field`` and ``gradient_potential``. For a modifying field (``kind ==
    "modifying"``) it has ``modifying_field`` and ``correction_field``, and with gradient
    atoms ``correction_loss`` where every atom's correction is a gradient, otherwise
    ``correction_gradient_part``, ``correction_remainder`` and ``correction_potential``.
    Same derivation → same source. The generator is the derivation's algebra's ``codegen``
    part (:mod:`bea.algebra`): :mod:`.elementary` for B-series, :mod:`.coordinatewise`.
    """
    return derivation.algebra.part("codegen").emit_module(derivation, values)


def functions(derivation, values=None) -> types.ModuleType:
    """The functions of :func:`emit_module`, in memory (the emitted source, executed)."""
    source = emit_module(derivation, values)
    module = types.ModuleType(f"bea_generated_{derivation.rule.name}_{derivation.order}")
    module.__dict__["__source__"] = source
    exec(compile(source, f"<bea.codegen {derivation.rule.name} order {derivation.order}>", "exec"),
         module.__dict__)
    return module


def optax_transform(*args, **kwargs):
    """See :func:`bea.codegen.optax.regularizer_transform` (optax is imported lazily)."""
    from .optax import regularizer_transform

    return regularizer_transform(*args, **kwargs)
