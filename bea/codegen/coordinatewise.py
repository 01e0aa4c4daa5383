"""Standalone JAX source for the modified flow of a coordinate-wise rule (Adam, RMSProp, …).

:func:`bea.codegen.emit_module` hands a derivation of the coordinate-wise algebra to
:func:`emit_module` here (that algebra's ``codegen`` part). Its flow ``f_k`` is a canonical
expression (:mod:`bea.coordinatewise.expressions`): an elementwise sympy expression in
vector atoms ``θ``, ``D^k f[u_1, …, u_k]`` (whose arguments ``u_i`` are expressions
again), scalar totals ``Σ[u]`` and parameters. The emitted code evaluates it on pytrees
(as :func:`bea.coordinatewise.evaluate.evaluate` does):

* each distinct vector atom is one line, ``k`` nested ``jax.jvp`` of the atom field
  ``f = -∇L`` along its evaluated arguments (forward-over-reverse Hessian-vector
  products, never a Hessian), shared by every term and order that contains it;
* each distinct argument expression ``u`` and each order's result is one
  ``jax.tree_util.tree_map`` of a lambda over the leaves of the atoms it uses; the
  lambda's body is the sympy expression printed with jnp calls (:class:`_Printer`), its
  scalar coefficients factored free of cancellation (:func:`bea.codegen._factored`);
* ``Σ[u]`` is a sum over every coordinate of every leaf; scalars broadcast;
* an opaque map's ``D^kP(X)[u…]`` (Muon's ``O``) is ``k`` nested ``jax.jvp`` of the map,
  given as a keyword argument on one leaf and applied leaf by leaf, at the pytree ``X``.

The module has ``modified_field`` (``f_1 + h f_2 + … + h^{N-1} f_N``), ``implicit_drift``
(``h f_2 + …``, order ≥ 2) and, where :mod:`bea.coordinatewise.readable` writes a term as
a preconditioned gradient ``P ⊙ ∇R`` with ``R = Σ_j Φ(g_j)``, ``preconditioned_potential``
(``R``: Adam's order 2 has ``R = ‖∇L‖_{1,ε} = Σ_j √(g_j² + ε)``, Cattaneo, Klusowski &
Shigida, ICML 2024). Where every order is ``-∇`` of a potential (:mod:`bea.coordinatewise.losses`:
SAM's ``L + h(ρ‖∇L‖ + ¼‖∇L‖²) + …``), ``modified_loss`` and ``implicit_regularizer``
(orders ≥ 2) give it as a scalar function of θ: the losses themselves, totals
``Σ[u]`` of Hessian-vector products, roots and logarithms of them. Numbers in ``values`` are baked in; the remaining parameters are
keyword arguments named as the rule's symbols. Everything works under jit, vmap and grad.
"""

from __future__ import annotations

import inspect
import keyword

import jax
import jax.numpy as jnp
import sympy
from sympy.printing.numpy import JaxPrinter

from ..check.values import exact_values
from ..coordinatewise.expressions import (
    THETA, FrozenSymbol, MapLabel, TotalSymbol, VectorSymbol, _Symbol, info, monomials,
)
from ..coordinatewise.potentials import LossSymbol
from ..coordinatewise.readable import G, S, readable
from ..joint import beyond_plain
from ..render import render
from .source import _HVP_DOC, _RESERVED, _Statements, _docstring, _factored

__all__ = ["emit_module"]


class _Printer(JaxPrinter):
    """jnp source for elementwise expressions; rational exponents as ``x**(3/2)``."""

    def _print_Pow(self, expr, rational=False):
        return self._hprint_Pow(expr, rational=True, sqrt="jax.numpy.sqrt")


_PRINTER = _Printer()


class _Local(sympy.Symbol):
    """A name of the emitted code (a lambda's leaf ``x1``, a line ``T1``): not a parameter."""


def _leaves(fn, *trees):
    """fn applied leafwise to pytrees of one structure (jax.tree_util.tree_map)."""
    return jax.tree_util.tree_map(fn, *trees)


def _broadcast(value, theta):
    """A scalar as a pytree like theta."""
    return jax.tree_util.tree_map(lambda x: jnp.broadcast_to(jnp.asarray(value, x.dtype), x.shape), theta)


def _sum(v):
    """Σ[v]: the sum of every coordinate of every leaf of v."""
    return sum(jnp.sum(x) for x in jax.tree_util.tree_leaves(v))


def _leafwise(fn):
    """An opaque map given on one leaf (a matrix), applied to every leaf of a pytree."""
    return lambda tree: jax.tree_util.tree_map(fn, tree)


_OWN_RUNTIME = (_leaves, _broadcast, _sum)


class _Body(_Statements):
    """The coordinate-wise generator's statements: one line per distinct vector atom,
    argument expression and total, shared between orders."""

    def atom_fn(self, label: str) -> str:
        gen = self.gen
        key = ("atom", label)
        if key not in self.names:
            i, atom = gen.atom_index[label], gen.atom_of[label]
            name = self.names[key] = gen.atom_names[i]
            if atom.loss is None:
                self.setup.append(f"{name} = fields[{i}]")
            else:
                negate = "True" if atom.sign == 1 else "False"
                self.setup.append(f"{name} = _atom({gen.loss_names[atom.loss]}, batch, negate={negate}, "
                                  f"block=None, merge=merge)")
        return self.names[key]

    def vector_atom(self, sym) -> str:
        """The pytree of a vector atom: ``theta`` or ``D^k f[u_1, …]``."""
        if sym == THETA:
            return "theta"
        key = ("F", sym)
        if key in self.names:
            return self.names[key]
        label, args = info(sym)
        if isinstance(label, MapLabel):  # D^kP(X)[u…]: nested jvp of the leafwise map at X
            point, us = self.vector(label.point), [self.vector(u) for u in args]
            return self.var(key, "F", f"_d({', '.join([f'_leafwise({label.name})', point, *us])})", str(sym))
        fn = self.atom_fn(label)
        us = [self.vector(u) for u in args]
        exact = f"_d({', '.join([fn, 'theta', *us])})"
        if len(us) == 1:
            base = self.vector_atom(VectorSymbol(label))
            exact = f"{exact} if exact else _fd({fn}, theta, {us[0]}, {base})"
        return self.var(key, "F", exact, str(sym))

    def total(self, sym) -> str:
        key = ("T", sym)
        if key not in self.names:
            self.var(key, "T", f"_sum({self.vector(info(sym))})", str(sym))
        return self.names[key]

    def loss_value(self, name: str) -> str:
        """The value ``L(θ)`` of the loss ``name`` (the model merged back, as the atoms see it)."""
        fn = self.gen.loss_names[name]
        return self.var(("L", name), "T", f"{fn}(theta if merge is None else merge(theta), *batch)", f"{name}(θ)")

    def scalar(self, expr) -> str:
        """Source of a scalar expression in losses, totals and parameters."""
        subs = {s: _Local(self.total(s) if isinstance(s, TotalSymbol) else self.loss_value(s.name))
                for s in expr.free_symbols if isinstance(s, (TotalSymbol, LossSymbol))}
        return self.gen.code(self.gen.substitute(expr), subs)

    def elementwise(self, expr) -> str:
        """Source of a pytree expression: a lambda over the leaves of its vector atoms,
        with totals and parameters as closed-over scalars."""
        expr = self.gen.substitute(expr)
        vectors, subs = [], {}
        for s in sorted(expr.free_symbols, key=sympy.default_sort_key):
            if isinstance(s, FrozenSymbol):
                raise ValueError(f"cannot generate code for the frozen direction {s}")
            if isinstance(s, VectorSymbol):
                vectors.append(self.vector_atom(s))
                subs[s] = _Local(f"x{len(vectors)}")
            elif isinstance(s, TotalSymbol):
                subs[s] = _Local(self.total(s))
        text = self.gen.code(expr, subs)
        if not vectors:
            return f"_broadcast({text}, theta)"
        args = ", ".join(f"x{i}" for i in range(1, len(vectors) + 1))
        return f"_leaves(lambda {args}: {text}, {', '.join(vectors)})"

    def vector(self, expr) -> str:
        """The pytree of an argument expression (one line, shared)."""
        if isinstance(expr, VectorSymbol):
            return self.vector_atom(expr)
        key = ("U", expr)
        if key not in self.names:
            self.var(key, "U", self.elementwise(expr), str(expr))
        return self.names[key]


class _Generator:
    def __init__(self, derivation, values):
        rule = derivation.rule
        if derivation.kind != "flow":
            raise ValueError("code generation for coordinate-wise rules covers the modified flow only "
                             "(no --modifying)")
        self.d = derivation
        self.atoms = rule.atoms
        self.atom_of = {a.label: a for a in self.atoms}
        self.atom_index = {a.label: i for i, a in enumerate(self.atoms)}
        self.atom_names = [_ident(a.label, "atom_", i) for i, a in enumerate(self.atoms)]
        self.gradient_atoms = all(a.loss is not None for a in self.atoms)
        self.losses = list(dict.fromkeys(a.loss for a in self.atoms)) if self.gradient_atoms else []
        self.loss_names = {n: _ident(n, "loss_", i) for i, n in enumerate(self.losses)}
        self.values = exact_values(values)
        self.symbols = {s for k in range(1, derivation.order + 1) for s in _parameters(derivation.flow[k])
                        if s.name not in self.values}
        self.shown = [readable(derivation.flow[k], self.atoms) for k in range(1, derivation.order + 1)]
        self.maps = sorted({n for k in range(1, derivation.order + 1) for n in _maps(derivation.flow[k])})

    # -- expressions --------------------------------------------------------------
    def substitute(self, expr):
        """``expr`` with the parameters in ``values`` replaced by exact numbers."""
        given = {s: self.values[s.name] for s in expr.free_symbols
                 if not isinstance(s, _Symbol) and s.name in self.values}
        return expr.xreplace(given) if given else expr

    def code(self, expr, subs) -> str:
        """jnp source of an elementwise expression: ``Σ_i c_i m_i`` (its monomials), each
        scalar ``c_i`` factored (no cancellation in float32); ``subs`` names the atoms and
        totals in the code."""
        parts = []
        for c, m in monomials(expr) if _has_vectors(expr) else ((expr, sympy.S.One),):
            c = sympy.cancel(self.substitute(c)).xreplace(subs)
            m = self.substitute(m).xreplace(subs)
            c = _factored(c)
            if m == 1:
                parts.append(f"({_PRINTER.doprint(c)})")
            elif c == 1:
                parts.append(f"({_PRINTER.doprint(m)})")
            else:
                parts.append(f"({_PRINTER.doprint(c)})*({_PRINTER.doprint(m)})")
        return " + ".join(parts) if parts else "0"

    @property
    def parameters(self) -> list[str]:
        names = sorted(str(s) for s in self.symbols)
        for n in names:
            if not n.isidentifier() or keyword.iskeyword(n) or n in _RESERVED or _local(n):
                raise ValueError(f"symbol {n!r} cannot be a keyword argument of generated code; "
                                 f"give it a number (values={{{n!r}: …}} or --set {n}=VALUE)")
        return names

    # -- functions ------------------------------------------------------------------
    def series(self, name: str, doc: str, start: int) -> list[str]:
        """``Σ_{k ≥ start} h^{k-1} f_k``, one tree_map per order; from ``start = 2`` (the
        implicit drift) with the second parameter's part of ``f_1`` (:func:`bea.joint.beyond_plain`)."""
        body = _Body(self)
        orders = []
        for k in range(1 if start == 2 else start, self.d.order + 1):
            flow = self.d.flow[k]
            e = self.substitute(beyond_plain(self.d.rule, flow) if k < start else flow)
            if e != 0:
                hpow = "" if k == 1 else ("h * " if k == 2 else f"h**{k - 1} * ")
                orders.append((hpow, body.vector(e) if _has_vectors(e) else body.elementwise(e)))
        if not orders:
            tail = ["return _broadcast(0, theta)"]
        else:
            weights = [f"{w}x{i}" for i, (w, _) in enumerate(orders)]
            args = ", ".join(f"x{i}" for i in range(len(orders)))
            tail = [f"return _leaves(lambda {args}: {' + '.join(weights)}, {', '.join(v for _, v in orders)})"]
        return self.factory(name, doc, body, tail, hvp=True)

    def slaved_state(self) -> list[str]:
        """``slaved_state``: ``Σ_k h^k S_k`` per auxiliary variable (``derivation.velocity``)."""
        d = self.d
        if not d.velocity:
            return []
        body = _Body(self)
        results = []
        for series in d.velocity:
            orders = []
            for k, expr in enumerate(series):
                e = self.substitute(expr)
                if e != 0:
                    hpow = "" if k == 0 else ("h * " if k == 1 else f"h**{k} * ")
                    orders.append((hpow, body.vector(e) if _has_vectors(e) else body.elementwise(e)))
            if not orders:
                results.append("_broadcast(0, theta)")
                continue
            weights = [f"{w}x{i}" for i, (w, _) in enumerate(orders)]
            args = ", ".join(f"x{i}" for i in range(len(orders)))
            results.append(f"_leaves(lambda {args}: {' + '.join(weights)}, {', '.join(v for _, v in orders)})")
        several = len(results) > 1
        doc = (f"The rule's auxiliary state on its slaved (invariant) manifold, S(θ) = Σ_k h^k S_k(θ) to "
               f"O(h^{d.order + 1}) (Adam's m and v). Started at (theta, S(theta)), the optimizer's iterates "
               f"follow the modified flow from the first step, with no transient (what `bea check` does)."
               f"\n\n{self.inputs_doc()}\nReturns function(theta, *batch) -> "
               + (f"a tuple of {len(results)} pytrees like params, in the rule's order of auxiliary variables."
                  if several else "a pytree like params."))
        result = "(" + ", ".join(results) + ",)" if several else results[0]
        return self.factory("slaved_state", doc, body, [f"return {result}"], hvp=True)

    def potentials(self) -> list:
        """The distinct ``R = Total(Φ(g))`` found in the flow, with the ``ε`` of ``s``."""
        found = {}
        for r in self.shown:
            for p in r.parts:
                if p.potential is not None:
                    found.setdefault(p.potential, r.eps)
        return list(found.items())

    def potential_function(self) -> list[str]:
        pots = self.potentials()
        if not pots or not self.gradient_atoms or len(self.atoms) != 1:
            return []
        body = _Body(self)
        f = body.vector_atom(VectorSymbol(self.atoms[0].label))
        g = body.var(("g",), "G", f"_negative({f})", "g = ∇L")
        results = []
        for potential, eps in pots:
            (phi,) = potential.args
            if phi.has(S):
                phi = phi.subs(S, sympy.sqrt(G**2 + eps))
            text = self.code(phi, {G: _Local("x1")})
            results.append(body.var(("R", potential), "R", f"_sum(_leaves(lambda x1: {text}, {g}))",
                                     _potential_text(potential)))
        several = len(results) > 1
        doc = ("Potentials R of the preconditioned-gradient terms P ⊙ ∇R of the modified field, "
               "R = Σ_j Φ(g_j) with g = ∇L:\n" + "\n".join(f"  {_potential_text(p)}" for p, _ in pots) +
               f"\n(so ∇R = H Φ'(g); Adam's order 2: R = ‖∇L‖_1,ε = Σ_j √(g_j² + ε)).\n\n{self.inputs_doc(h=False)}\n"
               f"Returns function(theta, *batch) -> "
               + ("a tuple of scalars, in POTENTIALS order." if several else "a scalar."))
        result = "(" + ", ".join(results) + ",)" if several else results[0]
        return self.factory("preconditioned_potential", doc, body, [f"return {result}"], hvp=False)

    def loss_function(self, name: str, doc: str, start: int) -> list[str]:
        """``Σ_{k ≥ start} h^{k-1} P_k`` with ``f_k = -∇P_k`` (``derivation.splits``); from
        ``start = 2`` with the second parameter's part of ``P_1`` (:func:`bea.joint.beyond_plain`)."""
        body = _Body(self)
        orders = []
        for k in range(1 if start == 2 else start, self.d.order + 1):
            split = self.d.splits[k].get(None)
            if split is not None and split.weights:
                potential = sympy.Add(*[w * P for P, w in split.weights.items()])
                if k < start:  # the implicit regularizer: the second parameter's part of L̃_1
                    potential = beyond_plain(self.d.rule, potential)
                    if potential == 0:
                        continue
                hpow = "" if k == 1 else ("h * " if k == 2 else f"h**{k - 1} * ")
                orders.append(f"{hpow}({body.scalar(potential)})")
        return self.factory(name, doc, body, [f"return {' + '.join(orders) or '0.0'}"], hvp=True)

    def factory(self, name, doc, body: _Body, tail, hvp: bool) -> list[str]:
        inputs = "losses" if self.gradient_atoms else "fields"
        params = self.parameters
        head = f"{inputs}, h, *, " if hvp else f"{inputs}, *, "
        signature = head + "".join(p + ", " for p in self.maps + params) + ('hvp="exact"' if hvp else "")
        signature = signature.rstrip(", ").removesuffix(", *")
        unpack = [f"    ({', '.join(self.loss_names[n] for n in self.losses)},) = losses"] if self.gradient_atoms else []
        if hvp:
            doc += "\n" + _HVP_DOC
        lines = [f"def {name}({signature}):", *_docstring(doc, 4), *unpack]
        if hvp:
            lines.append("    exact = _exact(hvp)")
        lines += ["", "    def function(theta, *batch):"]
        if self.gradient_atoms:
            lines.append("        theta, merge = _filter(theta)  # differentiable leaves; merge puts the rest back")
        lines += ["        " + line for line in body.setup + body.lines + tail]
        return lines + ["", "    return function", "", ""]

    def inputs_doc(self, h=True) -> str:
        if self.gradient_atoms:
            first = (f"losses: ({', '.join(self.losses)},) — scalar functions loss(theta, *batch), one per "
                     "distinct loss in atom order (LOSSES).")
        else:
            first = "fields: one vector field field(theta, *batch) per atom, in ATOMS order."
        lines = [first] + (["h: the learning rate (step size of one update)."] if h else [])
        lines += [f"{m}: the opaque map {m} as a JAX function of one parameter leaf (a matrix; keyword only), "
                  "applied to every leaf; its derivatives are taken by jax.jvp" for m in self.maps]
        return "\n".join(lines + [f"{p}: scheme parameter (keyword only)." for p in self.parameters])

    def module(self) -> str:
        from ..bseries.evaluate import runtime_source  # imports jax: only when code is emitted

        d = self.d
        fns = self.series(
            "modified_field",
            f"Modified field θ' = f_1 + h f_2 + … + h^{d.order - 1} f_{d.order}, elementwise operations "
            f"and Hessian-vector products only.\n\n{self.inputs_doc()}\n"
            "Returns function(theta, *batch) -> a pytree like params; batch is passed on to every loss.", 1)
        if d.order >= 2:
            fns += self.series(
                "implicit_drift",
                f"Drift of the iterates from the plain flow: h f_2 + … + h^{d.order - 1} f_{d.order}.\n\n"
                f"{self.inputs_doc()}\nReturns function(theta, *batch) -> a pytree like params.", 2)
        fns += self.slaved_state()
        if self.gradient_atoms and d.has_loss:
            fns += self.loss_function(
                "modified_loss",
                f"Modified loss L~ = P_1 + h P_2 + … + h^{d.order - 1} P_{d.order}, with f_k = -∇P_k: "
                f"jax.grad of it is the modified field.\n\n{self.inputs_doc()}\n"
                "Returns function(theta, *batch) -> a scalar.", 1)
            if d.order >= 2:
                fns += self.loss_function(
                    "implicit_regularizer",
                    f"Implicit regularizer: the modified loss minus L (its order-1 part; in a joint "
                    f"expansion in h and ρ, that part at ρ = 0).\n\n{self.inputs_doc()}\n"
                    "Returns function(theta, *batch) -> a scalar.", 2)
        fns += self.potential_function()
        params = self.parameters
        runtime = _OWN_RUNTIME + ((_leafwise,) if self.maps else ())  # no unused helper in Adam's module
        own = "\n\n\n".join(inspect.getsource(fn).rstrip() for fn in runtime)
        head = [f'"""{self.module_doc(params)}"""', "", "import jax", "import jax.numpy as jnp", "",
                f"ATOMS = {tuple(a.label for a in self.atoms)!r}",
                f"LOSSES = {tuple(self.losses)!r}",
                f"PARAMETERS = {tuple(params)!r}",
                f"POTENTIALS = {tuple(_potential_text(p) for p, _ in self.potentials())!r}", "", ""]
        return "\n".join(head + runtime_source().splitlines() + ["", ""] + own.splitlines()
                         + ["", ""] + fns).rstrip() + "\n"

    def module_doc(self, params) -> str:
        rule = self.d.rule
        options = ", ".join(f"{k}={v}" for k, v in sorted(rule.options.items()) if v not in (None, False))
        lines = [f"Modified flow of the {rule.name!r} optimizer to order {self.d.order}, generated by bea.", "",
                 f"Scheme: {rule.name}" + (f" ({options})" if options else "") + f" — {rule.description}.",
                 "A coordinate-wise rule: its modified field is an elementwise expression in the gradient",
                 "g = ∇L and Hessian-vector products, evaluated here on pytrees with jnp operations and",
                 "nested jax.jvp (no Hessian is formed). Built-in adaptive schemes follow bea's",
                 "conventions (Cattaneo, Klusowski & Shigida, On the Implicit Bias of Adam, ICML 2024):",
                 "no bias correction (the regime after the transient), ε inside the square root,",
                 "s = √(g⊙g + ε); auxiliary state (m, v) is slaved to θ.",
                 "Atoms:"]
        for a in self.atoms:
            lines.append(f"  {a.label}: a vector field (given in `fields`)" if a.loss is None
                         else f"  {a.label} = {'-' if a.sign == 1 else '+'}∇{a.loss}")
        if params:
            lines.append(f"Symbolic parameters (keyword arguments): {', '.join(params)}.")
        if self.values:
            lines.append("Parameters fixed in this module: "
                         + ", ".join(f"{k} = {v}" for k, v in sorted(self.values.items())) + ".")
        lines += ["", "The derivation (as `bea derive` prints it):", "", render(self.d, "text").rstrip()]
        return "\n".join(lines).replace('"""', "'''").replace("\\", "\\\\")


def _parameters(expr) -> set:
    """The parameter symbols of ``expr``, inside differential arguments and totals too."""
    out = set()
    for s in expr.free_symbols:
        if isinstance(s, TotalSymbol):
            out |= _parameters(info(s))
        elif isinstance(s, VectorSymbol):
            label, args = info(s)
            for u in args + ((label.point,) if isinstance(label, MapLabel) else ()):
                out |= _parameters(u)
        elif not isinstance(s, _Symbol):
            out.add(s)
    return out


def _maps(expr) -> set:
    """The names of the opaque maps in ``expr``, inside arguments and points too."""
    out = set()
    for s in expr.free_symbols:
        if isinstance(s, TotalSymbol):
            out |= _maps(info(s))
        elif isinstance(s, VectorSymbol) and s != THETA:
            label, args = info(s)
            if isinstance(label, MapLabel):
                out |= {label.name} | _maps(label.point)
            for u in args:
                out |= _maps(u)
    return out


def _has_vectors(expr) -> bool:
    return any(isinstance(s, (VectorSymbol, TotalSymbol)) for s in expr.free_symbols)


def _local(n: str) -> bool:
    """Whether ``n`` has the form of a name of the emitted code (leaves x1, …, lines T1, …)."""
    return len(n) > 1 and n[0] in "xTFUGR" and n[1:].isdigit()


def _ident(name: str, prefix: str, index: int) -> str:
    ident = f"{prefix}{name}"
    return ident if ident.isidentifier() and not keyword.iskeyword(ident) else f"{prefix}{index}"


def _potential_text(potential) -> str:
    (phi,) = potential.args
    return f"Σ_j {sympy.sstr(phi.subs({G: sympy.Symbol('g_j'), S: sympy.Symbol('s_j')}))}"


def emit_module(derivation, values=None) -> str:
    """Source of a standalone module (imports jax only) for a coordinate-wise ``derivation``:
    ``modified_field``, ``implicit_drift`` (order ≥ 2), where the flow is a gradient
    ``modified_loss`` and ``implicit_regularizer``, and, where a term is a
    preconditioned gradient, ``preconditioned_potential``. Same derivation → same source."""
    return _Generator(derivation, values).module()
