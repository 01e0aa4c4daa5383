"""Numerical verification of derived modified flows (the README's *Conventions*).

``check`` measures the one-cycle error of every truncated modified flow against the
discrete rule over a sweep of h and fits log–log slopes (:mod:`.orders`); ``drift``
follows the iterates for many steps beside the gradient flow and the modified flows
(:mod:`.drifting`). The parts, one idea each:

======================  ==========================================================
:mod:`.values`          numbers for symbols (one substitution helper, defaults)
:mod:`.problems`        problems for a rule: built-in or ``FILE.py:NAME``, size limits
:mod:`.families`        the built-in problem families (data and losses)
:mod:`.defaults`        choices made for the user, reported as notes
:mod:`.setup`           a derivation on a problem in flat float64 coordinates
:mod:`.discrete`        the rule on numbers: one cycle, slaved velocity
:mod:`.flows`           diffrax solves of the truncated modified flows
:mod:`.scales`          the problem's rate, the h sweep, the default learning rate
:mod:`.orders`          local errors and fitted slopes
:mod:`.modifying`       observed orders of a modifying field against its target flow
:mod:`.drifting`        many-step comparison (``drift``)
:mod:`.run`             each rule to its algebra's ``check`` part
:mod:`.bseries`         the B-series algebra's part
:mod:`.coordinatewise`  the coordinate-wise algebra's part
:mod:`.report`          text, JSON and plots
:mod:`.common`          the error, the float64 context, the limits
======================  ==========================================================

Computations run in float64 inside :func:`.common.float64`; importing this package
leaves ``jax_enable_x64`` as it was. Submodules load on first use, so code generation
can use :mod:`.values` without importing diffrax. Errors are
:class:`.common.CheckError` (a ``ValueError``) with one line naming what to try.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "CheckError": "common", "MEMORY_LIMIT": "common", "ITERATION_LIMIT": "common",
    "DEFAULT_VALUES": "values", "resolve_values": "values", "free_symbols": "values",
    "numeric_coefficients": "values",
    "Problem": "problems", "ProblemError": "problems", "PROBLEMS": "problems",
    "make_problem": "problems", "load_problem": "problems",
    "scheme_defaults": "defaults", "problem_for": "defaults",
    "LocalErrors": "orders", "local_errors": "orders", "SLOPE_TOLERANCE": "orders",
    "check": "run", "check_modifying": "run", "drift": "run", "default_learning_rate": "run",
    "DriftResult": "drifting",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'bea.check' has no attribute {name!r}")
    return getattr(importlib.import_module(f".{module}", __name__), name)
