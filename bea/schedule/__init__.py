"""Backward error analysis with a learning-rate schedule: the step ``h·η(t)``, ``t = n·h``.

:func:`scheduled` turns a rule into the autonomous rule on ``(θ, t)``;
:func:`derive_scheduled` derives its modified flow ``θ' = f_1(θ, t) + h f_2(θ, t) + …``
with coefficients in ``η(t), η'(t), …`` (:func:`eta_symbols`).
"""

from .derive import collapse, derive_scheduled, scheduled_state
from .symbols import LEGEND, eta_name, eta_symbols
from .transform import CLOCK, CLOCKS, default_clock, scheduled

__all__ = ["scheduled", "derive_scheduled", "scheduled_state", "collapse", "eta_symbols", "eta_name", "LEGEND",
           "CLOCK", "CLOCKS", "default_clock"]
