"""Backward error analysis with a learning-rate schedule: the step ``h·η(t)``, ``t = n·h``.

:func:`scheduled` turns a rule into the autonomous rule on ``(θ, t)``;
:func:`derive_scheduled` derives its modified flow ``θ' = f_1(θ, t) + h f_2(θ, t) + …``
with coefficients in ``η(t), η'(t), …`` (:func:`eta_symbols`); :data:`SCHEDULES` are the
named schedules (optax's formulas in ``t``); :mod:`bea.schedule.codegen` writes the flow as
JAX code taking an optax schedule; :mod:`bea.check.schedule` checks it numerically.
"""

from .derive import collapse, derive_scheduled, scheduled_state
from .symbols import LEGEND, eta_name, eta_symbols
from .named import SCHEDULES, Schedule
from .transform import CLOCK, CLOCKS, default_clock, scheduled

__all__ = ["scheduled", "derive_scheduled", "scheduled_state", "collapse", "eta_symbols", "eta_name", "LEGEND",
           "CLOCK", "CLOCKS", "default_clock", "SCHEDULES", "Schedule"]
