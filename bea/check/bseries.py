"""The numeric checks of B-series derivations: the B-series algebra's ``check`` part.

Local error orders (:mod:`.orders`), many-step drift and the default learning rate
(:mod:`.drifting`), and the observed orders of modifying fields (:mod:`.modifying`), as
:data:`bea.algebra.PARTS` names them; :mod:`.run` hands each rule to its algebra's part.
"""

from __future__ import annotations

from .drifting import default_learning_rate, drift
from .modifying import check_modifying
from .orders import check

__all__ = ["check", "check_modifying", "default_learning_rate", "drift"]
