"""Choices made for the user when the command line leaves them open; each is reported
in ``notes`` when used.

* An SGD epoch with a symbolic number of batches ``m`` cannot be run: it is checked with
  :data:`DEFAULT_SGD_BATCHES` batches.
* The problem: :data:`DEFAULT_PROBLEM` per experiment (logistic regression for orders,
  where no elementary differential vanishes; the MLP for drift), :data:`GAME_PROBLEM` for
  two-player rules.
* Symbolic parameters: :data:`bea.check.values.DEFAULT_VALUES`.
"""

from __future__ import annotations

from .problems import Problem, load_problem, make_problem

__all__ = ["DEFAULT_SGD_BATCHES", "DEFAULT_PROBLEM", "GAME_PROBLEM", "scheme_defaults", "problem_for"]

DEFAULT_SGD_BATCHES = 3
DEFAULT_PROBLEM = {"check": "logistic", "drift": "mlp"}
GAME_PROBLEM = "dirac-gan"


def scheme_defaults(scheme: str | None, options: dict, notes: list | None = None) -> dict:
    """``options`` of ``scheme`` completed with the defaults a numerical run needs."""
    if scheme == "sgd" and not options.get("batches"):
        if notes is not None:
            notes.append(f"sgd --batches not given: using {DEFAULT_SGD_BATCHES} batches "
                         "(a symbolic m cannot be run)")
        return {**options, "batches": DEFAULT_SGD_BATCHES}
    return options


def problem_for(rule, spec: str | None = None, size: int | None = None, seed: int = 0,
                experiment: str = "check", notes: list | None = None) -> Problem:
    """The problem ``spec`` (a built-in name or ``FILE.py:NAME``) for ``rule``, or the
    default for the experiment (``"check"`` or ``"drift"``)."""
    if spec is None:
        spec = GAME_PROBLEM if tuple(rule.blocks) != (None,) else DEFAULT_PROBLEM[experiment]
        if notes is not None:
            notes.append(f"--problem not given: using {spec}")
    if spec.endswith(".py") or ".py:" in spec:
        return load_problem(spec, rule.atoms)
    return make_problem(spec, rule.atoms, tuple(rule.blocks), size, seed)
