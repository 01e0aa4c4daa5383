"""Numerical verification: discrete iterates against the derived modified flows.

**Local error (the defining property).** Let ``Φ_h`` be one call of the rule (one cycle
of ``cycle`` updates; for a random reshuffling the mean of ``Φ_h`` over all orderings of
the atoms) and ``φ^n_T`` the exact flow over time ``T = cycle·h`` of the order-``n``
truncation ``θ' = f_1 + h f_2 + … + h^{n-1} f_n``. Since the full modified flow
reproduces ``Φ_h`` exactly as a formal series,

    e_n(h) = ‖Φ_h(θ_0) - φ^n_{cycle·h}(θ_0)‖ = cycle·h^{k+1}‖f_{k+1}(θ_0)‖ + O(h^{k+2}),

with ``k ≥ n`` the first omitted order with ``f_{k+1}(θ_0) ≠ 0``: the slope of
``log e_n`` against ``log h`` is ``k + 1`` — ``n + 1`` unless the next terms vanish (an
order-p Runge–Kutta method has ``f_2 = … = f_p = 0``; a symmetric one has no even
orders). The expected slope is read off the derivation's exact coefficients (so measure
on non-polynomial problems, where no elementary differential vanishes identically), and
a least-squares fit over a geometric sweep of h is compared with it.

Rules with auxiliary state (momentum) start on the slaved manifold,
``v_0 = V(θ_0) = Σ_t c(t) h^{|t|} F(t)(θ_0)`` (``derivation.velocity``); the parameter
part of the map is then compared.

The flows are integrated in float64 with diffrax's Dopri8 (adaptive, ``rtol = atol =
1e-14``). The integration error is estimated for every point as the difference to a
solve at ``1e-12`` (an upper bound for the ``1e-14`` solve). Coordinates are shifted so
that ``θ_0 = 0``: round-off is then relative to the displacement. A point enters the fit
only when its error is 100 times the integration error and 1000 ulps of the
displacement; of the automatic grid ``h λ ∈ [0.004, 0.4]`` (``λ`` from the atoms'
Jacobians and the growth of the elementary differentials at ``θ_0``) the five smallest
such h are fitted — the asymptotic regime, before the next orders bend the curve.

One compiled solver serves every truncation order and every h of a tree set and problem:
the flow's coefficients ``c(t) h^{|t|-1}`` (zero for ``|t| > n``) are an argument, not
constants; single-atom rules (gd, every Runge–Kutta method, momentum) share one.

**Drift.** Over ``K`` calls of the rule, the iterates ``θ_j`` are compared with the
gradient flow (``n = 1``) and the truncated modified flows at times ``j·cycle·h``: the
observed drift ``θ_j - φ^1`` against the predicted drift ``φ^n - φ^1`` (norm ratio and
cosine), the distances ``‖θ_j - φ^n‖``, and along the iterates the loss
``R_1(θ)`` and the implicit regularizer ``Σ_{k≥2} h^{k-1} R_k(θ)``, where
``f_k = -∇R_k + remainder`` is the derivation's gradient split (rules on one parameter
block with gradient atoms).

Importing this module (or :mod:`bea.problems`) turns on ``jax_enable_x64``: the checks
need float64, and problems are built in it.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import diffrax
import jax
import jax.numpy as jnp
import numpy as np
import sympy
from jax.flatten_util import ravel_pytree

from .derive import Derivation, derive
from .domain import exact_number
from .numeric import directional_derivative, elementary_differentials, fields_from_losses, numeric_coefficients
from .problems import Problem
from .trees import Tree, trees_of_order

jax.config.update("jax_enable_x64", True)

__all__ = [
    "LocalErrors", "DriftResult", "local_errors", "check", "drift", "numeric_parameters",
    "free_symbols", "resolve_values", "default_learning_rate", "sweep", "DEFAULT_VALUES",
    "SLOPE_TOLERANCE",
]

SLOPE_TOLERANCE = 0.3
"""A fitted slope agrees when ``|slope - expected| ≤ SLOPE_TOLERANCE``."""

DEFAULT_VALUES = {"beta": 0.5, "alpha": 1.0, "lam": 0.5, "lambda": 0.5}
"""Numbers used for symbolic parameters that the caller does not set (``--set``)."""

_RTOL, _RTOL_COARSE = 1e-14, 1e-12


# ---------------------------------------------------------------------------------------
# numbers for symbols
def free_symbols(derivation: Derivation) -> set[str]:
    """Names of the free symbols of the flow, velocity and rule parameters."""
    names: set[str] = set()
    exprs = [derivation.field.to_sympy(c) for terms in derivation.flow for c in terms.values()]
    exprs += [derivation.field.to_sympy(c) for v in derivation.velocity or [] for c in v.values()]
    exprs += list(_leaves(derivation.rule.params)) + [derivation.rule.cycle]
    for e in exprs:
        if isinstance(e, sympy.Basic):
            names |= {str(s) for s in e.free_symbols}
    return names


def _leaves(value):
    if isinstance(value, Mapping):
        for v in value.values():
            yield from _leaves(v)
    elif isinstance(value, (tuple, list)):
        for v in value:
            yield from _leaves(v)
    else:
        yield value


def _float(value, values: Mapping[str, float]) -> float:
    expr = exact_number(value)
    expr = expr.subs({s: values[str(s)] for s in expr.free_symbols if str(s) in values})
    if expr.free_symbols:
        raise ValueError(f"give numeric values for {', '.join(sorted(map(str, expr.free_symbols)))}")
    return float(sympy.N(expr, 30))


def numeric_parameters(params, values: Mapping[str, float]):
    """``rule.params`` with every number and symbol replaced by a float (tuples kept)."""
    if isinstance(params, Mapping):
        return {k: numeric_parameters(v, values) for k, v in params.items()}
    if isinstance(params, (tuple, list)):
        return tuple(numeric_parameters(v, values) for v in params)
    if isinstance(params, bool):
        return params
    return _float(params, values)


def resolve_values(derivation: Derivation, values: Mapping | None) -> dict:
    """Numbers for every free symbol: ``values``, else :data:`DEFAULT_VALUES`; a symbol
    with neither raises ValueError."""
    given = {str(k): float(v) for k, v in (values or {}).items()}
    for name in sorted(free_symbols(derivation)):
        if name not in given:
            if name not in DEFAULT_VALUES:
                raise ValueError(f"give a numeric value for the symbol {name}")
            given[name] = DEFAULT_VALUES[name]
    return given


# ---------------------------------------------------------------------------------------
# the problem on flat parameter vectors
@dataclass
class _Setup:
    """A derivation on a problem: flat coordinates, atom fields, numbers for symbols."""

    derivation: Derivation
    values: dict
    theta0: object  # flat vector, or tuple of flat blocks
    fields: dict  # label -> field on the flat parameters (jitted)
    losses: dict  # loss name -> loss on the flat parameters
    params: dict  # rule.params as floats
    cycle: float


_PREPARED: dict = {}


def _prepare(problem: Problem, atoms, blocks):
    """Flat coordinates ``u = θ - θ_0`` (so ``u_0 = 0``: round-off is relative to the
    displacement, not to ``θ_0``), the losses in them and the jitted atom fields; cached,
    so compiled fields and solvers are shared by every rule over the same atoms."""
    key = (id(problem), tuple(atoms), blocks)
    found = _PREPARED.get(key)
    if found is not None and found[0] is problem:
        return found[1]
    if blocks == (None,):
        base, unravel = ravel_pytree(problem.params)
        losses = {n: (lambda u, L=L: L(unravel(base + u))) for n, L in problem.losses.items()}
        theta0 = jnp.zeros_like(base, dtype=jnp.float64)
    else:
        parts = [ravel_pytree(p) for p in problem.params]
        losses = {
            n: (lambda us, L=L: L(tuple(unravel(b + u) for (b, unravel), u in zip(parts, us))))
            for n, L in problem.losses.items()
        }
        theta0 = tuple(jnp.zeros_like(b, dtype=jnp.float64) for b, _ in parts)
    fields = {k: jax.jit(f) for k, f in fields_from_losses(atoms, losses, blocks).items()}
    _PREPARED[key] = (problem, (theta0, fields, losses))
    return theta0, fields, losses


def _setup(derivation: Derivation, problem: Problem, values: Mapping | None) -> _Setup:
    rule = derivation.rule
    values = resolve_values(derivation, values)
    theta0, fields, losses = _prepare(problem, rule.atoms, tuple(rule.blocks))
    return _Setup(derivation, values, theta0, fields, losses,
                  numeric_parameters(dict(rule.params), values), _float(rule.cycle, values))


def _norm(tree) -> float:
    return float(jnp.sqrt(sum(jnp.vdot(x, x) for x in jax.tree_util.tree_leaves(tree))))


def _norm_jnp(tree):
    return jnp.sqrt(sum(jnp.vdot(x, x) for x in jax.tree_util.tree_leaves(tree)))


def _sub(a, b):
    return jax.tree_util.tree_map(jnp.subtract, a, b)


# ---------------------------------------------------------------------------------------
# the discrete map
def _atom_callables(setup: _Setup) -> list[Callable]:
    """The atoms as the rule calls them: ``f(θ)``, or ``f(x, y)`` → own block for games."""
    rule = setup.derivation.rule
    out = []
    for a in rule.atoms:
        f = setup.fields[a.label]
        if a.block is None:
            out.append(f)
        else:
            index = rule.blocks.index(a.block)
            out.append(lambda *parts, f=f, i=index: f(tuple(parts))[i])
    return out


def _velocity(setup: _Setup, theta, h: float) -> list:
    """The slaved auxiliary state ``V(θ) = Σ_t c(t) h^{|t|} F(t)(θ)``."""
    d = setup.derivation
    out = []
    for terms in d.velocity:
        diffs = elementary_differentials(list(terms), setup.fields, theta)
        total = jax.tree_util.tree_map(jnp.zeros_like, theta)
        for t, c in terms.items():
            w = _float(d.field.to_sympy(c), setup.values) * h ** t.order
            total = jax.tree_util.tree_map(lambda a, b, w=w: a + w * b, total, diffs[t])
        out.append(total)
    return out


def _step(setup: _Setup, theta, aux, h: float):
    """One call of the rule from ``(θ, aux)``; the mean over orderings when shuffled."""
    rule = setup.derivation.rule
    atoms = _atom_callables(setup)
    orderings = itertools.permutations(atoms) if rule.shuffle else [atoms]
    results = [rule.step(theta, *aux, h, *perm, **setup.params) for perm in orderings]
    if rule.n_aux:
        states = [(r[0], tuple(r[1:])) for r in results]
    else:
        states = [(r, ()) for r in results]
    count = len(states)
    return jax.tree_util.tree_map(lambda *xs: sum(xs) / count, *states)


def _one_cycle(setup: _Setup, h: float):
    theta = setup.theta0
    aux = tuple(_velocity(setup, theta, h)) if setup.derivation.rule.n_aux else ()
    return _step(setup, theta, aux, h)[0]


# ---------------------------------------------------------------------------------------
# the modified flows
class _Solver:
    """``δ' = Σ_i w_i F(t_i)(θ_0 + δ)``, ``δ(0) = 0``, integrated with Dopri8: the flow's
    displacement ``φ_t(θ_0) - θ_0``, so the tolerances apply to the small displacement and
    not to ``θ_0``. Weights, times and tolerance are arguments, so one compilation serves
    every truncation order and every h."""

    def __init__(self, trees: tuple[Tree, ...], fields: Mapping[str, Callable]):
        self.trees = trees

        def vector_field(t, delta, args):
            w, theta0 = args
            theta = jax.tree_util.tree_map(jnp.add, theta0, delta)
            diffs = elementary_differentials(trees, fields, theta)
            total = jax.tree_util.tree_map(jnp.zeros_like, delta)
            for i, tr in enumerate(trees):
                total = jax.tree_util.tree_map(lambda a, b, i=i: a + w[i] * b, total, diffs[tr])
            return total

        term = diffrax.ODETerm(vector_field)

        def solve(theta0, w, t1, rtol, saveat, max_steps):
            zero = jax.tree_util.tree_map(jnp.zeros_like, theta0)
            return diffrax.diffeqsolve(
                term, diffrax.Dopri8(), 0.0, t1, t1 / 16, zero, args=(w, theta0), saveat=saveat,
                stepsize_controller=diffrax.PIDController(rtol=rtol, atol=rtol * 1e-2),
                max_steps=max_steps,
            ).ys

        self.final = jax.jit(
            lambda theta0, w, t1, rtol: jax.tree_util.tree_map(
                lambda x: x[-1], solve(theta0, w, t1, rtol, diffrax.SaveAt(t1=True), 4096)))
        self.sizes = jax.jit(lambda theta: jnp.stack([
            _norm_jnp(v) for v in elementary_differentials(trees, fields, theta).values()]))
        self.trajectory = jax.jit(
            lambda theta0, w, ts, rtol: solve(theta0, w, ts[-1], rtol, diffrax.SaveAt(ts=ts), 1 << 16))

    def weights(self, coeffs: list, n: int, h: float) -> jnp.ndarray:
        """``w(t) = c(t) h^{|t|-1}`` for ``|t| ≤ n``, else 0."""
        return jnp.asarray([
            coeffs[t.order].get(t, 0.0) * h ** (t.order - 1) if t.order <= n else 0.0
            for t in self.trees
        ])


_SOLVERS: dict = {}


def _solver(setup: _Setup, coeffs: list, upto: int) -> _Solver:
    """The cached solver for the trees of orders ≤ ``upto`` (all trees when one atom)."""
    labels = tuple(a.label for a in setup.derivation.atoms)
    if len(labels) == 1:
        trees = tuple(t for k in range(1, upto + 1) for t in trees_of_order(k, labels))
    else:
        trees = tuple(sorted({t for k in range(1, upto + 1) for t, c in coeffs[k].items() if c}))
    key = (trees, id(setup.fields))
    found = _SOLVERS.get(key)
    if found is None or found[0] is not setup.fields:
        found = (setup.fields, _Solver(trees, setup.fields))
        _SOLVERS[key] = found
    return found[1]


def _present(derivation: Derivation) -> list[bool]:
    """Whether ``f_k`` has a non-zero coefficient, ``k = 0 … order`` (exact)."""
    return [False] + [any(c for c in derivation.flow[k].values()) for k in range(1, derivation.order + 1)]


def _stiffness(setup: _Setup) -> float:
    """The largest Jacobian norm ``‖Df_c(θ_0)‖`` over the atoms, by power iteration with
    central-difference Jacobian-vector products (the size of ``h`` only needs its scale)."""
    x0, unravel = ravel_pytree(setup.theta0)
    best = 0.0
    for f in setup.fields.values():
        flat = lambda x, f=f: ravel_pytree(f(unravel(x)))[0]  # noqa: E731
        v = np.ones(x0.size) / np.sqrt(x0.size)
        eps = 1e-5 * (1.0 + float(jnp.linalg.norm(x0)))
        for _ in range(20):
            jv = np.asarray(flat(x0 + eps * v) - flat(x0 - eps * v)) / (2 * eps)
            size = np.linalg.norm(jv)
            best = max(best, size)
            if size == 0.0:
                break
            v = jv / size
    return best or 1.0


def _scale(setup: _Setup, solver: _Solver, coeffs: list) -> float:
    """The problem's rate ``λ`` for the h grid: the largest of the Jacobian norm of the
    atoms times the size of ``f_1``'s coefficients, and ``(‖F(t)‖ / ‖f‖)^{1/(|t|-1)}``
    over the solver's trees (how fast the B-series terms grow at ``θ_0``)."""
    lam = _stiffness(setup) * max(1.0, sum(abs(c) for c in coeffs[1].values()))
    trees = solver.trees
    sizes = dict(zip(trees, np.asarray(solver.sizes(setup.theta0))))
    leaf = max(sizes[t] for t in trees if t.order == 1)
    for t in trees:
        if t.order > 1 and leaf > 0:
            lam = max(lam, (sizes[t] / leaf) ** (1.0 / (t.order - 1)))
    return lam


def sweep(stiffness: float, points: int = 14) -> np.ndarray:
    """The automatic h grid: ``h λ`` geometric in ``[0.004, 0.4]``."""
    return np.geomspace(0.004, 0.4, points) / stiffness


# ---------------------------------------------------------------------------------------
@dataclass
class LocalErrors:
    """One-cycle errors ``e_n(h)`` per truncation order and the fitted slopes.

    ``errors[i][j]`` is the error of order ``orders[i]`` at ``hs[i][j]``; ``integration``
    the estimated integration error there; ``used[i][j]`` whether the point entered the
    fit; ``expected[i]`` the slope the theory gives
    (``None`` when every omitted order the derivation knows vanishes: then the slope
    must be at least ``minimum[i]``).
    """

    orders: tuple
    hs: list
    errors: list
    integration: list
    used: list
    slopes: list
    expected: list
    minimum: list
    tolerance: float = SLOPE_TOLERANCE

    def agrees(self, i: int) -> bool:
        """Whether order ``orders[i]`` shows the expected slope (and was measurable)."""
        if not np.isfinite(self.slopes[i]):
            return False
        if self.expected[i] is None:
            return self.slopes[i] >= self.minimum[i] - self.tolerance
        return abs(self.slopes[i] - self.expected[i]) <= self.tolerance

    @property
    def ok(self) -> bool:
        return all(self.agrees(i) for i in range(len(self.orders)))


def local_errors(derivation: Derivation, problem: Problem, hs: Sequence[float] | None = None,
                 orders: Sequence[int] | None = None, values: Mapping | None = None,
                 coefficients: list | None = None, window: int = 5,
                 progress: Callable[[int], None] | None = None) -> LocalErrors:
    """One-cycle errors of the truncated flows against the discrete map, and slopes.

    ``orders`` default to ``1 … derivation.order``; the expected slope of order ``n`` needs
    the first non-zero ``f_k``, ``k > n``, so derive one order more than you check (as
    :func:`check` does). ``hs`` is the h sweep (every point that passes the accuracy
    filter is fitted), or ``None`` for the automatic grid :func:`sweep`, fitted on its
    ``window`` smallest h whose errors are 1000 ulps above round-off and 100 times above
    the integration error (the asymptotic regime: at larger h the next orders bend the
    curve). ``values`` gives numbers for symbols (else
    :data:`DEFAULT_VALUES`). ``coefficients`` replaces the flow's numeric coefficients
    (``[{tree: float}]`` per order): a deliberately wrong flow must fail the check.
    """
    setup = _setup(derivation, problem, values)
    coeffs = coefficients or numeric_coefficients(derivation, setup.values)
    top = derivation.order
    orders = tuple(orders or range(1, top + 1))
    present = _present(derivation)
    solver = _solver(setup, coeffs, max(orders))
    lam = _scale(setup, solver, coeffs)
    grid = np.asarray(hs, float) if hs is not None else sweep(lam)
    increments = [_sub(_one_cycle(setup, float(h)), setup.theta0) for h in grid]
    floor = [1e3 * np.finfo(float).eps * _norm(d) for d in increments]
    result = LocalErrors(orders, [], [], [], [], [], [], [])
    for n in orders:
        following = [k for k in range(n + 1, top + 1) if present[k]]
        expected = following[0] if following else None
        result.expected.append(expected)
        result.minimum.append(expected if expected else top + 1)
        errs, integ = [], []
        for h, increment in zip(grid, increments):
            w = solver.weights(coeffs, n, float(h))
            t1 = setup.cycle * float(h)
            fine = solver.final(setup.theta0, w, t1, _RTOL)
            coarse = solver.final(setup.theta0, w, t1, _RTOL_COARSE)
            errs.append(_norm(_sub(increment, fine)))
            integ.append(_norm(_sub(fine, coarse)))
        errs, integ = np.asarray(errs), np.asarray(integ)
        valid = np.flatnonzero((errs > 100 * integ) & (errs > np.asarray(floor)))
        if hs is None:
            valid = valid[:window]
        used = np.zeros(len(grid), bool)
        used[valid] = True
        slope = np.polyfit(np.log(grid[used]), np.log(errs[used]), 1)[0] if used.sum() >= 3 else np.nan
        result.hs.append(grid)
        result.errors.append(errs)
        result.integration.append(integ)
        result.used.append(used)
        result.slopes.append(float(slope))
        if progress:
            progress(1)
    return result


def check(rule, order: int, problem: Problem, values: Mapping | None = None, hs=None,
          coefficients: Callable[[list], list] | None = None, progress=None) -> tuple[Derivation, LocalErrors]:
    """Derive ``rule`` far enough to know the expected slopes of orders ``1 … order`` and
    measure them. ``coefficients`` (testing hook) maps the numeric coefficients to the
    ones used, e.g. to change one and see the check fail."""
    derivation = derive(rule, order + 1)
    if not _present(derivation)[order + 1]:
        derivation = derive(rule, order + 2)  # f_{N+1} vanishes (symmetric method, …)
    coeffs = numeric_coefficients(derivation, resolve_values(derivation, values))
    if coefficients is not None:
        coeffs = coefficients(coeffs)
    return derivation, local_errors(derivation, problem, hs, range(1, order + 1), values, coeffs,
                                    progress=progress)


# ---------------------------------------------------------------------------------------
@dataclass
class DriftResult:
    """Drift over ``iterations`` calls of the rule at learning rate ``h``.

    Arrays are indexed by the call ``j = 0 … K`` (time ``times[j] = j·cycle·h``):
    ``observed[j] = ‖θ_j - φ^1(t_j)‖``; per order ``n``: ``distance[n][j] = ‖θ_j - φ^n(t_j)‖``,
    ``ratio[n][j] = ‖φ^n - φ^1‖ / ‖θ_j - φ^1‖`` and ``cosine[n][j]`` between predicted
    and observed drift; ``loss[j] = R_1(θ_j)`` and ``regularizer[j] = Σ_{k≥2} h^{k-1}
    R_k(θ_j)`` (``None`` when the rule has no modified loss representation).
    """

    h: float
    orders: tuple
    times: np.ndarray
    observed: np.ndarray
    distance: dict
    ratio: dict
    cosine: dict
    loss: np.ndarray | None
    regularizer: np.ndarray | None
    n_params: int


def _scalar(setup: _Setup, s: Tree, theta):
    """Value of the unrooted scalar ``s`` (root label ``L``, others ``L|``): the loss
    derivative network ``∇^{d}L`` contracted along the edges."""

    def vector(c: Tree):
        grad = jax.grad(setup.losses[c.label.partition("|")[0]])
        return directional_derivative(grad, theta, [vector(k) for k in c.children])

    return directional_derivative(setup.losses[s.label], theta, [vector(k) for k in s.children])


def _modified_loss(setup: _Setup, upto: int, h: float):
    """``θ ↦ (R_1(θ), Σ_{2≤k≤upto} h^{k-1} R_k(θ))`` from the gradient split, or None."""
    d = setup.derivation
    if d.splits is None or tuple(d.rule.blocks) != (None,):
        return None
    terms = [
        (k, s, _float(d.field.to_sympy(w), setup.values))
        for k in range(1, upto + 1) for s, w in d.splits[k][None].weights.items()
    ]

    def value(theta):
        loss = sum(w * _scalar(setup, s, theta) for k, s, w in terms if k == 1)
        reg = sum(w * h ** (k - 1) * _scalar(setup, s, theta) for k, s, w in terms if k > 1)
        return loss, reg

    return jax.jit(value)


def drift(derivation: Derivation, problem: Problem, h: float, iterations: int,
          values: Mapping | None = None, progress: Callable[[int], None] | None = None) -> DriftResult:
    """Iterates vs gradient flow vs the modified flows of orders ``2 … derivation.order``."""
    if iterations < 1:
        raise ValueError(f"iterations must be at least 1, got {iterations}")
    setup = _setup(derivation, problem, values)
    coeffs = numeric_coefficients(derivation, setup.values)
    orders = tuple(range(1, derivation.order + 1))
    solver = _solver(setup, coeffs, derivation.order)
    ts = jnp.arange(iterations + 1) * setup.cycle * h
    modified_loss = _modified_loss(setup, derivation.order, h)

    theta = setup.theta0
    aux = tuple(_velocity(setup, theta, h)) if derivation.rule.n_aux else ()
    iterates, losses, regs = [theta], [], []
    for _ in range(iterations):
        theta, aux = _step(setup, theta, aux, h)
        iterates.append(theta)
        if progress:
            progress(1)
    if modified_loss is not None:
        for th in iterates:
            loss, reg = modified_loss(th)
            losses.append(float(loss))
            regs.append(float(reg))
    flows = {
        n: jax.tree_util.tree_map(
            jnp.add, solver.trajectory(setup.theta0, solver.weights(coeffs, n, h), ts, 1e-11), setup.theta0)
        for n in orders
    }
    at = lambda ys, j: jax.tree_util.tree_map(lambda x: x[j], ys)  # noqa: E731
    observed = np.zeros(iterations + 1)
    distance = {n: np.zeros(iterations + 1) for n in orders}
    ratio = {n: np.full(iterations + 1, np.nan) for n in orders[1:]}
    cosine = {n: np.full(iterations + 1, np.nan) for n in orders[1:]}
    for j, th in enumerate(iterates):
        gradient_flow = at(flows[1], j)
        obs = _sub(th, gradient_flow)
        observed[j] = _norm(obs)
        for n in orders:
            distance[n][j] = _norm(_sub(th, at(flows[n], j)))
            if n > 1 and observed[j] > 0:
                pred = _sub(at(flows[n], j), gradient_flow)
                pn = _norm(pred)
                ratio[n][j] = pn / observed[j]
                dot = sum(float(jnp.vdot(a, b)) for a, b in
                          zip(jax.tree_util.tree_leaves(pred), jax.tree_util.tree_leaves(obs)))
                cosine[n][j] = dot / (pn * observed[j]) if pn > 0 else np.nan
    n_params = sum(x.size for x in jax.tree_util.tree_leaves(setup.theta0))
    return DriftResult(h, orders, np.asarray(ts), observed, distance, ratio, cosine,
                       np.asarray(losses) if losses else None, np.asarray(regs) if regs else None,
                       int(n_params))


def default_learning_rate(derivation: Derivation, problem: Problem, values: Mapping | None = None,
                          fraction: float = 0.2) -> float:
    """``h = fraction / λ`` with ``λ`` the largest atom Jacobian norm at ``θ_0``."""
    return fraction / _stiffness(_setup(derivation, problem, values))
