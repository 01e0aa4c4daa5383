"""Scheduled games (issue 22): alternating gradient descent–ascent with step h·η(t), one
round per update, against its scheduled flow — slopes N + 1 at points of a warmup–cosine
schedule, and 2 when the η' terms are dropped (the negative control)."""

import numpy as np
import pytest

from bea.check.problems import make_problem
from bea.check.schedule import local_errors
from bea.schedule.named import SCHEDULES
from bea.schemes import build

WARMUP_COSINE = dict(init_value=0.2, peak_value=1, warmup_steps=1, decay_steps=4, end_value=0.1)
TIMES = (0.5, 2.5)  # in the warmup and in the decay
HS = np.geomspace(0.02, 0.08, 4)


@pytest.mark.parametrize("drop, expected", [(False, 3), (True, 2)])
def test_alternating_game_order_2(drop, expected):
    rule = build("game", 2, mode="alternating", rates="1,1/2", steps="1,1")
    problem = make_problem("dirac-gan", rule.atoms, rule.blocks)
    eta = SCHEDULES["warmup-cosine"].jax(WARMUP_COSINE)
    for result in local_errors(rule, 2, eta, TIMES, problem, HS, drop_derivatives=drop, orders=(2,)):
        assert abs(result.slopes[0] - expected) <= 0.3, (drop, result.t0, result.slopes, result.errors)
