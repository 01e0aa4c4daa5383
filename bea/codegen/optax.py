"""An optax gradient transformation that makes the implicit regularizer explicit, or
cancels the drift it causes.

Gradient descent with step ``h`` on ``L`` follows the modified field ``f_1 + D`` with
``f_1 = -∇L`` and the drift ``D = h f_2 + … + h^{N-1} f_N`` (generated
``implicit_drift``); where the modified loss exists, ``D = -∇R`` with ``R`` the implicit
regularizer. The transform sits before the step in ``optax.chain`` and changes the
gradient ``g = -f_1`` the step receives:

* ``scale = s > 0``: ``g ↦ g - s·D``. With ``s = 1`` the step runs on ``f_1 + D``, i.e.
  trains on ``L + R`` where ``R`` exists: an explicit copy of the implicit regularizer.
  Its flow is then ``f_1 + 2 h f_2 + O(h²)``: the order-2 regularizer is doubled exactly
  (``(h/2)‖∇L‖²`` for gd), but the higher orders are not doubled — the step on
  ``f_1 + D`` has drift terms of its own at order ``h²`` and beyond (products of ``D``
  with ``f_1``), so at orders ≥ 3 the result is neither ``L + 2R`` nor a scaled copy.
* ``scale = s < 0``: ``g ↦ g - |s|·C`` with ``C = f̃ - f`` the generated
  ``drift_correction``: the **modifying field** ``f̃`` (Chartier, Hairer & Vilmart, Found.
  Comput. Math. 2010) of the same rule at the derivation's order ``N``, computed when the
  module was generated. With ``s = -1`` the step runs on ``f̃`` and follows the scheme's
  first-order flow (the plain gradient flow of ``L`` for gd) with local error
  ``O(h^{N+1})``: the drift is cancelled through order ``N``. Subtracting the drift
  (``g + D``) would cancel order 2 only: Euler on ``f - D`` leaves ``-(h²/4)(2 f'f'f +
  f''(f,f))``. Other negative ``s`` scale the correction (cancelling a fraction ``|s|`` of
  the order-2 drift; not a cancellation at higher orders).

A module generated with ``--modifying`` (``kind == "modifying"``) carries
``correction_field`` instead: it serves ``scale < 0``; it has no ``implicit_drift``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import optax

__all__ = ["regularizer_transform"]


def regularizer_transform(module, losses, h, scale: float = 1.0, *, hvp: str = "exact",
                          reuse_gradient: bool = True, **params) -> optax.GradientTransformationExtraArgs:
    """Make gradient descent's implicit regularizer explicit, or cancel its drift.

    Placed before the step in ``optax.chain``, it maps the incoming gradient ``g`` to
    ``g - scale·D(params)`` for ``scale >= 0`` (``D`` the generated ``implicit_drift``;
    ``scale=1`` trains on ``L + R``, doubling the order-2 implicit regularizer) and to
    ``g - |scale|·C(params)`` for ``scale < 0`` (``C = f̃ - f`` the generated
    ``drift_correction``; ``scale=-1`` runs the step on the modifying field of order ``N``
    and cancels the drift through order ``N``). The module docstring states what each
    choice does at each order.

    Examples:
      >>> m = bea.codegen.functions(bea.derive(build("gd", 3), 3))
      >>> tx = optax.chain(regularizer_transform(m, (loss,), 0.1, scale=-1), optax.sgd(0.1))
      >>> updates, state = tx.update(grads, state, params, batch=(x, y))

    References:
      Barrett & Dherin, Implicit Gradient Regularization, ICLR 2021 (``scale=+1``, order 2).
      Chartier, Hairer & Vilmart, Found. Comput. Math. 10 (2010) (modifying integrators,
      ``scale=-1``).

    Args:
      module: a module from :func:`bea.codegen.functions` or an imported generated module,
        of a scheme with one atom (gd) for ``scale < 0``.
      losses: the module's losses, ``(loss,)``, each called as ``loss(params, *batch)``.
      h: the learning rate of the step that follows (the derivation's ``h``).
      scale: see above; ``+1`` (explicit regularizer) and ``-1`` (cancellation) are the
        documented choices.
      hvp: ``"exact"`` or ``"finite-difference"`` (Hessian-vector products by a forward
        difference of gradients; error stated in the generated factories' docstrings).
      reuse_gradient: take the incoming ``updates`` as ``∇L(params, *batch)`` instead of
        recomputing it (true when this transform comes first in the chain and the updates
        are the gradient of the same loss on the same batch); ``False`` recomputes it.
      **params: the module's ``PARAMETERS`` (symbolic scheme parameters), as keywords.

    Returns:
      An ``optax.GradientTransformationExtraArgs``. ``update(updates, state, params,
      batch=(x, y))`` needs ``params`` (the model as the losses take it: an equinox module,
      flax state or param dict, as they are) and ``batch``, the losses' extra arguments
      (omit it only when the losses take none).

    State:
      ``optax.EmptyState()``: the transform keeps nothing between steps.
    """
    if scale >= 0:
        if not hasattr(module, "implicit_drift"):
            raise ValueError("scale >= 0 needs implicit_drift: generate the module from a modified flow "
                             "(bea codegen without --modifying)")
        field, factor = module.implicit_drift(losses, h, hvp=hvp, **params), scale
    else:
        correction = getattr(module, "drift_correction", None) or getattr(module, "correction_field", None)
        if correction is None:
            raise ValueError("scale < 0 needs the modifying field (drift_correction); this module's scheme "
                             "has none")
        if len(module.ATOMS) != 1:
            raise ValueError(f"scale < 0 needs a scheme with one atom; this module has {len(module.ATOMS)} "
                             f"({', '.join(module.ATOMS)}): apply correction k to update k yourself")
        field, factor = correction(losses, h, hvp=hvp, **params), -scale  # g - |s|·C
    reuse = reuse_gradient and len(module.LOSSES) == 1 and module.BLOCKS is None

    def init_fn(params_):
        return optax.EmptyState()

    def update_fn(updates, state, params_=None, **extra_args):
        if params_ is None:
            raise ValueError("the bea regularizer transform needs params: tx.update(grads, state, params)")
        batch = extra_args.get("batch", ())
        try:
            v = field(params_, *batch, gradient=updates) if reuse else field(params_, *batch)
        except TypeError as exc:
            if "batch" in extra_args:
                raise
            raise TypeError(f"the losses could not be called as loss(params): missing batch? Pass the losses' "
                            f"extra arguments as tx.update(grads, state, params, batch=(x, y)) ({exc})") from exc
        new = jax.tree_util.tree_map(lambda u, x: u - jnp.asarray(factor, u.dtype) * x, updates, v)
        return new, state

    return optax.GradientTransformationExtraArgs(init_fn, update_fn)
