"""Generated JAX code (bea.codegen) against a slow, obviously-correct dense reference.

The reference flattens the parameters to a vector ``x`` and builds every derivative as a
dense tensor with nested ``jax.jacfwd`` (``D^k f(x)`` has shape ``(n,)*(k+1)``), then
contracts it with the children's vectors: ``F(c[t1..tk]) = D^k f_c(x)·F(t1)…F(tk)`` and,
for a scalar tree, ``D^k L(x)·v1…vk`` at its root with ``v = P_b D^j ∇L(x)·…`` below.
It shares nothing with bea.bseries.evaluate or the generated code except the derivation's exact
coefficients.
"""

from __future__ import annotations

import importlib.util
import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import sympy
from click.testing import CliRunner
from jax.flatten_util import ravel_pytree

from bea.codegen import emit_module, functions
from bea.derive import derive
from bea.schemes import build
from bea.bseries.trees import sort_key


# -- the dense reference ------------------------------------------------------------------


def _contract(tensor, vectors):
    for v in vectors:
        tensor = tensor @ v
    return tensor


def _dense(fn, x, k):
    for _ in range(k):
        fn = jax.jacfwd(fn)
    return fn(x)


def _flat_loss(name: str, n: int):
    """A smooth non-polynomial loss of a flat vector, different for every name."""
    seed = sum(ord(ch) * 31**i for i, ch in enumerate(name)) % 2**31
    rng = np.random.default_rng(seed)
    a = jnp.asarray(rng.normal(size=(3, n)) / np.sqrt(n))
    b = jnp.asarray(rng.normal(size=3))
    w = jnp.asarray(rng.uniform(0.5, 1.5, size=n))

    def loss(x):
        z = a.astype(x.dtype) @ x + b.astype(x.dtype)
        return jnp.sum(jnp.logaddexp(0.0, z)) + 0.1 * jnp.sum(w.astype(x.dtype) * x**2 * jnp.sin(x))

    return loss


class Reference:
    """Dense evaluation of a derivation on flat parameters (masks for player blocks)."""

    def __init__(self, d, template, values=None):
        self.d = d
        x, self.unravel = ravel_pytree(template)
        self.n = x.size
        self.values = {k: sympy.nsimplify(v) for k, v in (values or {}).items()}
        self.losses = {a.loss: _flat_loss(a.loss, self.n) for a in d.atoms} if d.splits else {}
        self.masks = {None: jnp.ones(self.n)}
        if d.rule.blocks != (None,):
            for i, b in enumerate(d.rule.blocks):
                parts = tuple(jax.tree_util.tree_map(lambda p, i=i, j=j: jnp.full_like(p, float(i == j)), part)
                              for j, part in enumerate(template))
                self.masks[b] = ravel_pytree(parts)[0]

    def number(self, c) -> float:
        e = sympy.sympify(self.d.field.to_sympy(c))
        return float(e.subs({s: self.values[s.name] for s in e.free_symbols}))

    def pytree_losses(self):
        """The losses as functions of the pytree parameters, in LOSSES order."""
        names = list(dict.fromkeys(a.loss for a in self.d.atoms))
        return tuple((lambda p, f=self.losses[nm]: f(ravel_pytree(p)[0])) for nm in names)

    def atom(self, label):
        a = next(a for a in self.d.atoms if a.label == label)
        grad = jax.grad(self.losses[a.loss])
        return lambda x: -a.sign * self.masks[a.block] * grad(x)

    def cached(self, key, x, compute):
        """Memo per evaluation point (the same traced x within one jit trace)."""
        memo = self.__dict__.setdefault("_memo", {})
        if (key, id(x)) not in memo:
            memo[key, id(x)] = (x, compute())  # x kept alive so its id is not reused
        return memo[key, id(x)][1]

    def D(self, kind, name, x, k):
        fn = self.atom(name) if kind == "atom" else self.losses[name] if kind == "loss" else jax.grad(self.losses[name])
        return self.cached((kind, name, k), x, lambda: _dense(fn, x, k))

    def F(self, t, x):
        return self.cached(("F", t), x, lambda: _contract(self.D("atom", t.label, x, len(t.children)),
                                                          [self.F(c, x) for c in t.children]))

    def field(self, x, h, start=1, which=None):
        total = jnp.zeros(self.n)
        for k in range(start, self.d.order + 1):
            if which is None:
                terms = self.d.flow[k]
            else:
                terms = {t: c for s in self.d.splits[k].values() for t, c in getattr(s, which).items()}
            for t, c in terms.items():
                total = total + self.number(c) * h ** (k - 1) * self.F(t, x)
        return total

    def vector(self, s, x):
        loss, block = s.label.split("|")
        g = _contract(self.D("grad", loss, x, len(s.children)), [self.vector(c, x) for c in s.children])
        return g * self.masks[block or None]

    def scalar(self, s, x):
        return _contract(self.D("loss", s.label, x, len(s.children)), [self.vector(c, x) for c in s.children])

    def loss(self, x, h, start=1):
        out = []
        for block in self.d.rule.blocks:
            total = 0.0
            for k in range(start, self.d.order + 1):
                split = self.d.splits[k].get(block)
                for s, w in (split.weights.items() if split else ()):
                    total = total + self.number(w) * h ** (k - 1) * self.scalar(s, x)
            out.append(total)
        return out[0] if len(out) == 1 else tuple(out)


# -- cases ----------------------------------------------------------------------------------

CASES = {
    "gd1": ("gd", 1, {}, {}),
    "gd2": ("gd", 2, {}, {}),
    "gd3": ("gd", 3, {}, {}),
    "gd5": ("gd", 5, {}, {}),
    "rk-midpoint3": ("rk", 3, {"method": "midpoint"}, {}),
    "rk-rk4-3": ("rk", 3, {"method": "rk4"}, {}),
    "sgd2-random": ("sgd", 2, {"batches": "2", "shuffle": "random"}, {}),
    "sgd3-random": ("sgd", 2, {"batches": "3", "shuffle": "random"}, {}),
    "sgd3-forward": ("sgd", 2, {"batches": "3", "shuffle": "forward"}, {}),
    "sgd2-forward3": ("sgd", 3, {"batches": "2", "shuffle": "forward"}, {}),
    "multitask2": ("multitask", 2, {"tasks": "2"}, {}),
    "multitask3": ("multitask", 3, {"tasks": "2"}, {}),
    "continual": ("continual", 2, {"steps": "A:1,B:2"}, {}),
    "game-simultaneous": ("game", 2, {}, {}),
    "game-alternating": ("game", 2, {"mode": "alternating", "rates": "1,1/2", "steps": "1,1"}, {}),
    "game-zero-sum": ("game", 2, {"zero_sum": True}, {}),
    "game-zero-sum3": ("game", 3, {"zero_sum": True}, {}),
    "momentum-numeric": ("momentum", 3, {"beta": "1/2"}, {}),
    "momentum-symbolic": ("momentum", 2, {"beta": "beta"}, {"beta": 0.3}),
}

_DERIVATIONS: dict = {}


def derivation(case):
    if case not in _DERIVATIONS:
        name, order, options, _ = CASES[case]
        _DERIVATIONS[case] = derive(build(name, order, **options), order)
    return _DERIVATIONS[case]


def template(d, dtype=jnp.float64, shape="dict"):
    """Parameters of a tiny problem: a pytree of the requested shape (a pair for games)."""
    rng = np.random.default_rng(0)

    def arr(*s):
        return jnp.asarray(rng.normal(size=s) * 0.7, dtype=dtype)

    def one():
        if shape == "array":
            return arr(4)
        if shape == "list":
            return [arr(2), [arr(1, 2), {"b": arr(1)}]]
        return {"w": arr(2, 2), "b": arr(1)}

    return (one(), {"z": arr(3)}) if d.rule.blocks != (None,) else one()


def flat(tree):
    return ravel_pytree(tree)[0]


H = 0.3


# -- tests ----------------------------------------------------------------------------------


DENSE_CASES = [c for c in CASES if c not in ("gd1", "gd2", "sgd2-random", "multitask2", "game-zero-sum")]
"""Each scheme once at its highest order here (the others serve the pytree and dtype tests)."""


@pytest.mark.parametrize("case", DENSE_CASES)
def test_matches_dense_reference(case):
    d = derivation(case)
    kwargs = CASES[case][3]
    params = template(d)
    ref = Reference(d, params, kwargs)
    m = functions(d)
    losses = ref.pytree_losses()
    if d.has_loss:
        names = ("modified_field", "implicit_drift", "modified_loss", "implicit_regularizer")
        expected = lambda x: (ref.field(x, H), ref.field(x, H, start=2), ref.loss(x, H),  # noqa: E731
                              ref.loss(x, H, start=2))
    else:
        names = ("modified_field", "implicit_drift", "gradient_part", "remainder_field", "gradient_potential")
        expected = lambda x: (ref.field(x, H), ref.field(x, H, start=2), ref.field(x, H, which="gradient"),  # noqa: E731
                              ref.field(x, H, which="remainder"), ref.loss(x, H))

    @jax.jit
    def both(p):
        got = [getattr(m, n)(losses, H, **kwargs)(p) for n in names]
        got = [g if n.endswith(("loss", "regularizer", "potential")) else flat(g) for n, g in zip(names, got)]
        return got, expected(flat(p))

    got, want = both(params)
    for n, g, w in zip(names, got, want):
        np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=1e-10, atol=1e-12, err_msg=n)


@pytest.mark.parametrize("case", ["gd3", "sgd3-random", "multitask2", "continual", "game-alternating",
                                  "game-zero-sum3", "momentum-numeric", "momentum-symbolic"])
def test_loss_gradient_is_the_field(case):
    """-∇_β L̃_β is block β of the modified field (of its gradient part without a loss)."""
    d = derivation(case)
    kwargs = CASES[case][3]
    params = template(d)
    m = functions(d)
    losses = Reference(d, params, kwargs).pytree_losses()
    if d.has_loss:
        potential, target = m.modified_loss(losses, H, **kwargs), m.modified_field(losses, H, **kwargs)
    else:
        potential, target = m.gradient_potential(losses, H, **kwargs), m.gradient_part(losses, H, **kwargs)
    field = jax.jit(target)(params)
    if d.rule.blocks == (None,):
        np.testing.assert_allclose(flat(jax.jit(jax.grad(potential))(params)), -flat(field), rtol=1e-10, atol=1e-12)
    else:
        for i in range(len(d.rule.blocks)):
            g = jax.jit(jax.grad(lambda p, i=i: potential(p)[i]))(params)[i]
            np.testing.assert_allclose(flat(g), -flat(field[i]), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("shape", ["array", "dict", "list"])
@pytest.mark.parametrize("dtype", [jnp.float32, jnp.float64])
@pytest.mark.parametrize("case", ["gd2", "game-zero-sum"])
def test_pytrees_and_dtypes(case, dtype, shape):
    d = derivation(case)
    params = template(d, dtype, shape)
    ref = Reference(d, template(d, jnp.float64, shape))
    m = functions(d)
    out = jax.jit(m.modified_field(ref.pytree_losses(), H))(params)
    assert jax.tree_util.tree_structure(out) == jax.tree_util.tree_structure(params)
    assert all(a.dtype == dtype for a in jax.tree_util.tree_leaves(out))
    tol = 1e-4 if dtype == jnp.float32 else 1e-10
    want = jax.jit(lambda x: ref.field(x, H))(flat(template(d, jnp.float64, shape)))
    np.testing.assert_allclose(flat(out), want, rtol=tol, atol=tol)
    potential = m.modified_loss if d.has_loss else m.gradient_potential
    values = jax.jit(potential(ref.pytree_losses(), H))(params)
    assert all(v.dtype == dtype and v.shape == () for v in jax.tree_util.tree_leaves(values))


def test_jit_vmap_grad():
    d = derivation("gd3")
    params = template(d)
    ref = Reference(d, params)
    losses = ref.pytree_losses()
    m = functions(d)
    field = m.modified_field(losses, H)
    eager = functions(derivation("gd2")).modified_field(losses, H)
    np.testing.assert_allclose(flat(jax.jit(eager)(params)), flat(eager(params)), rtol=1e-12)

    batch = jax.tree_util.tree_map(lambda p: jnp.stack([p, 0.5 * p, -p]), params)
    out = jax.jit(jax.vmap(field))(batch)
    reference = jax.jit(lambda x: ref.field(x, H))
    for i in range(3):
        p_i = jax.tree_util.tree_map(lambda p: p[i], batch)
        np.testing.assert_allclose(flat(jax.tree_util.tree_map(lambda o: o[i], out)), reference(flat(p_i)),
                                   rtol=1e-10, atol=1e-12)

    d2 = derivation("gd2")
    ref2 = Reference(d2, params)
    reg = functions(d2).implicit_regularizer(ref2.pytree_losses(), H)
    np.testing.assert_allclose(flat(jax.jit(jax.grad(reg))(params)),
                               jax.grad(lambda x: ref2.loss(x, H, start=2))(flat(params)), rtol=1e-10)
    np.testing.assert_allclose(reg(params), H / 4 * jnp.sum(jax.grad(ref2.losses["L"])(flat(params)) ** 2), rtol=1e-12)


def test_batch_arguments_reach_the_losses():
    d = derivation("gd2")
    m = functions(d)
    loss = lambda p, a, b: jnp.sum(jnp.sin(a * p["w"])) + b * jnp.sum(p["w"] ** 4)  # noqa: E731
    params = {"w": jnp.arange(3.0)}
    field = jax.jit(m.modified_field((loss,), H))
    bound = m.modified_field((lambda p: loss(p, 1.5, 0.2),), H)
    np.testing.assert_allclose(field(params, 1.5, 0.2)["w"], bound(params)["w"], rtol=1e-12)


def test_symbolic_parameter_is_a_keyword_or_baked_in():
    d = derivation("momentum-symbolic")
    m = functions(d)
    assert m.PARAMETERS == ("beta",)
    params = template(d)
    losses = Reference(d, params).pytree_losses()
    with pytest.raises(TypeError):
        m.modified_loss(losses, H)
    baked = functions(d, values={"beta": "3/10"})
    assert baked.PARAMETERS == ()
    np.testing.assert_allclose(baked.modified_loss(losses, H)(params), m.modified_loss(losses, H, beta=0.3)(params),
                               rtol=1e-12)
    numeric = functions(derive(build("momentum", 2, beta="3/10"), 2))
    np.testing.assert_allclose(numeric.modified_loss(losses, H)(params), m.modified_loss(losses, H, beta=0.3)(params),
                               rtol=1e-12)


def test_deterministic_and_standalone(tmp_path):
    d = derivation("game-alternating")
    source = emit_module(d)
    assert source == emit_module(derive(build("game", 2, mode="alternating", rates="1,1/2", steps="1,1"), 2))
    imports = {line for line in source.splitlines() if re.match(r"\s*(import|from)\s", line)}
    assert imports == {"import jax", "import jax.numpy as jnp"}
    path = tmp_path / "generated.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("generated", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.ATOMS == ("fx", "fy") and module.LOSSES == ("Lx", "Ly") and module.BLOCKS == ("x", "y")
    params = template(d)
    losses = Reference(d, params).pytree_losses()
    np.testing.assert_allclose(flat(module.modified_field(losses, H)(params)),
                               flat(functions(d).modified_field(losses, H)(params)), rtol=1e-14)
    assert "‖∇_xL_x‖²" in module.__doc__ and "f_y'f_x" in module.__doc__


def test_each_differential_once():
    """One line per distinct subtree, in sort_key order of the top-level trees, each computed
    once; the order-3 pair f''(f,f) + c f'(f'f) is one jvp (bea.bseries.plan.Paired)."""
    d = derivation("gd3")
    source = emit_module(d)
    body = source.split("def modified_field")[1].split("return function")[0]
    assert [m.group(1) for m in re.finditer(r"= _d\(atom_f, theta[^)]*\)(?: if [^#]*)?  # (?:h\S* )?(\S+)", body)] == \
        ["f", "f[f]"]
    assert re.findall(r"= _slot\(atom_f, theta, \(\), D1, \(\), D1, V1\)  # (\S+)", body) == ["f[f,f]"]
    statements = [line.split(" = ", 1)[1].split("  #")[0] for line in body.splitlines() if " = _" in line]
    assert len(statements) == len(set(statements))
    trees = sorted(d.flow[3], key=sort_key)
    assert [str(t) for t in trees] == ["f[f,f]", "f[f[f]]"]
    assert "hessian" not in source and "jacfwd" not in source and "jacrev" not in source


def test_optax_transform():
    optax = pytest.importorskip("optax")
    from bea.codegen import optax_transform

    d = derivation("gd2")
    m = functions(d)
    params = template(d)
    ref = Reference(d, params)
    losses = ref.pytree_losses()
    grads = jax.grad(losses[0])(params)
    reg_grad = jax.grad(m.implicit_regularizer(losses, H))(params)
    for scale in (1.0, -1.0):
        tx = optax.chain(optax_transform(m, losses, H, scale=scale), optax.sgd(H))
        updates, _ = jax.jit(tx.update)(grads, tx.init(params), params)
        expected = jax.tree_util.tree_map(lambda g, r: -H * (g + scale * r), grads, reg_grad)
        np.testing.assert_allclose(flat(updates), flat(expected), rtol=1e-10)


def test_cli(tmp_path):
    from cli.codegen_cmd import codegen

    runner = CliRunner()
    out = tmp_path / "mom.py"
    result = runner.invoke(codegen, ["--scheme", "momentum", "--beta", "b", "--order", "2", "--set", "b=1/2",
                                     "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "PARAMETERS = ()" in out.read_text()
    code = out.read_text().split('"""', 2)[2]
    assert code == emit_module(derive(build("momentum", 2, beta="1/2"), 2)).split('"""', 2)[2]
    result = runner.invoke(codegen, ["--scheme", "gd", "--order", "2"])
    assert result.exit_code == 0 and 'def implicit_regularizer(losses, h, *, hvp="exact"):' in result.output
    for bad in (["--scheme", "nope"], ["--scheme", "gd", "--order", "0"], ["--scheme", "gd", "--set", "x"],
                ["--scheme", "gd", "--set", "beta=1"], ["--scheme", "sgd", "--order", "2"],
                ["--scheme", "momentum", "--beta", "b", "--set", "b=oops"]):
        result = runner.invoke(codegen, bad)
        assert result.exit_code == 2, (bad, result.output)
        assert "Traceback" not in result.output


@pytest.mark.parametrize("case", ["gd5", "momentum-numeric"])
def test_small_and_zero_h(case):
    """Riders divide by a host's coefficient, never by h (the directions carry h^|t|): at
    h = 0 the field is the atom field exactly, and at small h it is the dense reference."""
    d = derivation(case)
    kwargs = CASES[case][3]
    params = template(d)
    ref = Reference(d, params, kwargs)
    field = functions(d).modified_field(ref.pytree_losses(), 0.0, **kwargs)
    np.testing.assert_array_equal(flat(field(params)), np.asarray(ref.field(flat(params), 0.0)))
    small = functions(d).modified_field(ref.pytree_losses(), 1e-6, **kwargs)
    np.testing.assert_allclose(flat(small(params)), ref.field(flat(params), 1e-6), rtol=1e-12, atol=1e-14)
