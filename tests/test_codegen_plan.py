"""The evaluation plan of generated fields and of the check (bea.bseries.plan): merged derivatives expand
back to exactly the derivation's terms, and the plan computes fewer distinct jvp channels
than one nested jvp per tree. Numerical agreement of the planned code with dense
references is in tests/test_codegen.py (gd5 and sgd2-forward3 merge derivatives)."""

from __future__ import annotations

from collections import Counter

import pytest
import sympy

from bea.derive import derive
from bea.bseries.plan import Merged, Paired, Single, channel_count, merge, plan, rest_and_last, root_label
from bea.schemes import build
from bea.bseries.trees import sort_key, tree

CASES = [
    ("gd", 4, {}), ("gd", 5, {}), ("gd", 6, {}),
    ("sgd", 3, {"batches": 2}), ("sgd", 3, {"batches": 3, "shuffle": "random"}),
    ("rk", 5, {"method": "rk4"}), ("momentum", 4, {"beta": "1/2"}),
    ("game", 3, {"mode": "alternating"}), ("multitask", 3, {"tasks": 2}),
]


def trees_of(name, order, options):
    d = derive(build(name, order, **options), order)
    return tuple(t for k in range(1, order + 1) for t in sorted(d.flow[k], key=sort_key) if d.flow[k][t] != 0)


def expand(items) -> Counter:
    """Σ coef·F(tree) of a plan, by multilinearity of f^{(k)} in each argument: a paired
    rider's trees are rebuilt from the host's directions with the slot replaced by W."""
    out: Counter = Counter()
    for item in items:
        if isinstance(item, Single):
            out[item.tree] += sympy.Symbol(f"c{item.index}")
        elif isinstance(item, Merged):
            for u, coef in expand(item.terms).items():
                out[tree(item.label, item.prefix + (u,))] += coef
        else:
            out.update(expand((item.host,)))
            rest, _ = rest_and_last(item.host)
            others = rest[:item.slot] + rest[item.slot + 1:]
            label = root_label(item.host)
            rider = item.rider
            if isinstance(rider, Single):
                w = sorted(rider.tree.children, key=sort_key)[item.free]
                out[tree(label, others + (w,))] += sympy.Symbol(f"c{rider.index}")
            else:
                for u, coef in expand(rider.terms).items():
                    out[tree(label, others + (u,))] += coef
    return out


def hostable(trees):
    return frozenset(range(len(trees)))


@pytest.mark.parametrize("name, order, options", CASES)
def test_plan_is_the_same_sum(name, order, options):
    trees = trees_of(name, order, options)
    for hosts in (frozenset(), hostable(trees)):
        assert expand(plan(trees, hosts)) == Counter({t: sympy.Symbol(f"c{i}") for i, t in enumerate(trees)})


@pytest.mark.parametrize("name, order, options", CASES)
def test_plan_never_costs_more_channels(name, order, options):
    trees = trees_of(name, order, options)
    alone = tuple(Single(i, t) for i, t in enumerate(trees))
    assert channel_count(plan(trees)) <= channel_count(alone)
    assert channel_count(plan(trees, hostable(trees))) <= channel_count(merge(trees))


def test_gd_channels():
    """gd order 4: ∇L and f'f, f''(f,f), f'(f'f), f''(f,f'f) each once, then ONE jvp for
    c f'f''(f,f) + c' f'f'f'f (Horner); 7 channels one tree at a time. Order 5: 13, not 17."""
    p4 = merge(trees_of("gd", 4, {}))
    assert channel_count(p4) == 6
    merged = [i for i in p4 if isinstance(i, Merged)]
    assert len(merged) == 1 and merged[0].prefix == ()
    assert {str(i.tree) for i in merged[0].terms} == {"f[f,f]", "f[f[f]]"}
    assert channel_count(plan(trees_of("gd", 5, {}))) == 13


def test_gd_riders():
    """gd order 4: f''(f, f'f) carries the Horner jvp f'(c f''(f,f) + c' f'f'f) as its rider.
    Order 5: three pairs, each rider a merged combination (a new direction anyway); with no
    coefficient known to be a nonzero number, only merged groups (coefficient 1) host."""
    trees = trees_of("gd", 4, {})
    (paired,) = [i for i in plan(trees, hostable(trees)) if isinstance(i, Paired)]
    assert str(paired.host.tree) == "f[f,f[f]]" and isinstance(paired.rider, Merged)
    trees = trees_of("gd", 5, {})

    def pairs(items):
        for i in items:
            if isinstance(i, Paired):
                yield i
                yield from pairs((i.host, i.rider))
            elif isinstance(i, Merged):
                yield from pairs(i.terms)
    found = list(pairs(plan(trees, hostable(trees))))
    assert len(found) == 3 and all(isinstance(p.rider, Merged) for p in found)
    assert all(isinstance(p.host, Merged) for p in pairs(plan(trees)))  # no coefficient known


def test_deterministic():
    trees = trees_of("sgd", 3, {"batches": 2})
    assert plan(trees) == plan.__wrapped__(trees)
