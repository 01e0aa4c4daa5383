"""Two-player games (Rosca, Wu, Dherin & Barrett, ICML 2021).

Players ``x`` and ``y`` with fields ``f_x = -∇_x L_x``, ``f_y = -∇_y L_y`` (zero-sum:
``L_x = E``, ``L_y = -E``), rates ``αh`` and ``λh``. ``simultaneous``: both players step
from the same point. ``alternating``: ``m`` steps of ``x`` of size ``αh/m``, then ``k`` steps
of ``y`` of size ``λh/k``, so one round advances time ``h`` (as in the paper).
The published drift is exact to second order only at ``α = λ``; bea derives the joint
map, which is correct for any rates: at ``α ≠ λ`` the alternating ``y`` cross term is
``αλ/2 f_y'f_x`` rather than the published ``λ²/2 (2α/λ - 1)`` (README, "Games at unequal
rates"; checked in ``tests/test_multi_atom.py`` and numerically).
"""

from ..rule import Rule
from ..atoms import Atom
from ._options import SchemeError

MODES = ("simultaneous", "alternating")


def size(order: int, mode: str, rates: tuple, steps: tuple | None, zero_sum: bool) -> tuple[int, int]:
    """Atoms and updates traced: two players, ``m + k`` updates a round when alternating."""
    return 2, 1 if steps is None else sum(steps)


def build(order: int, mode: str, rates: tuple, steps: tuple | None, zero_sum: bool) -> Rule:
    """``mode`` in :data:`MODES`; ``rates`` ``(α, λ)``; ``steps`` ``(m, k)`` (alternating only)."""
    alpha, lam = rates
    if steps is not None and mode == "simultaneous":
        raise SchemeError("--steps m,k belongs to --mode alternating")
    m, k = (1, 1) if steps is None else steps
    if zero_sum:
        atoms = (Atom("fx", "E", "x", 1), Atom("fy", "E", "y", -1))
    else:
        atoms = (Atom("fx", "Lx", "x"), Atom("fy", "Ly", "y"))

    def simultaneous(params, h, fx, fy, alpha, lam):
        x, y = params
        return (x + alpha * h * fx(x, y), y + lam * h * fy(x, y))

    def alternating(params, h, fx, fy, alpha, lam):
        x, y = params
        for _ in range(m):
            x = x + alpha * h / m * fx(x, y)
        for _ in range(k):
            y = y + lam * h / k * fy(x, y)
        return (x, y)

    return Rule(
        simultaneous if mode == "simultaneous" else alternating, atoms, name="game",
        blocks=("x", "y"), params={"alpha": alpha, "lam": lam},
        options={"mode": mode, "rates": f"{alpha},{lam}", "steps": f"{m},{k}", "zero_sum": bool(zero_sum)},
        description=f"two-player game, {mode} updates",
    )

