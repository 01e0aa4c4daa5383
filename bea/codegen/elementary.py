"""The generator of JAX source for a tree (B-series) derivation, behind
:func:`bea.codegen.emit_module`: the B-series algebra's ``codegen`` part
(:func:`emit_module`).

What the generated code computes (conventions: the README's *Conventions*):

* the modified field ``f_1 + h f_2 + … + h^{N-1} f_N`` with ``f_k = Σ_{|t|=k} c(t) F(t)``.
  ``F(t) = f_c^{(k)}(F(t_1), …, F(t_k))`` is ``k`` nested ``jax.jvp`` of the atom field
  ``f_c = -sign·P_block ∇L`` (forward-over-reverse): no Hessian is materialized. The
  directions carry the powers of h, ``D(t) = h^{|t|} F(t)`` (``D1 = _combine(theta, (h, F1))``),
  so ``h^{|t|-1} F(t) = f_c^{(k)}(D(t_1), …, D(t_k))`` and the printed coefficients are free
  of h. The sum is evaluated as :func:`bea.bseries.plan.plan` factors it: terms that differ in one
  child share one derivative along the combination of those children
  (``V1 = _combine(theta, (c6, D3), (c7, D4))``, ``M1 = _d(f, theta, V1)``: Horner's rule
  for the tall trees); a host and its rider are one jvp (``P1 = _slot(f, theta, (), D1, (),
  D1, V2)`` is ``f''(f, f) + f'(V2)``); the other trees are one line per distinct subtree
  (``F5 = _d(f, theta, D1, D2)``), each computed once per call and shared;
* the modified loss of block ``β``, ``L̃_β = Σ_k h^{k-1} Σ_s w_s S(s)``, where a scalar
  ``s`` is an unrooted tree whose node of degree ``d`` is ``∇^d L`` and whose edges are
  contractions over a block. ``S(s)`` is evaluated from its canonical root ``r`` with
  children ``c_1 … c_k`` (sorted) as ``D^k L_r[v_1, …, v_k] = ⟨D^{k-1}∇L_r[v_1, …,
  v_{k-1}], v_k⟩``: the gradient differentials ``G = D^j ∇L[…]`` are nested jvps of
  ``jax.grad(L)`` and the child vectors ``v_i = P_b G(…)`` are shared like ``F(t)``; the
  last contraction is a dot product with a vector that is computed anyway, so the order-2
  GD regularizer ``(h/4)‖∇L‖²`` costs exactly one gradient, like hand-written code;
* where a block's field is not a gradient at some order, bea's canonical (least-squares)
  split gives ``gradient_part`` (a field), its potential ``gradient_potential`` and the
  ``remainder_field``.

* for a derivation of kind ``"modifying"`` (:func:`bea.modifying.modifying_field`), the
  modifying field ``f̃_c`` of every atom (``modifying_field``), its correction ``f̃ − f``
  (``correction_field``) and the correction's loss or its split, per atom (a tuple in
  ATOMS order when there are several); a module of an ordinary derivation also carries
  ``drift_correction``, the modifying field's correction computed at emission time (what
  the optax transform uses to cancel the drift, :mod:`bea.codegen.optax`).

Every factory takes ``hvp="exact" | "finite-difference"`` (first-order differentials
that no higher one computes anyway, by a forward difference of gradients; a rider stays exact) and its
function accepts any pytree as ``theta``:
leaves that are not inexact arrays (an equinox module's activation, flax NNX integer
state) are held fixed and come back as ``None``, as ``eqx.filter_grad`` has them. With
one loss the function also takes ``gradient=∇L`` and does not recompute it.

The runtime helpers (``_d``, ``_atom``, ``_dot``, …) are the source of
:mod:`bea.bseries.evaluate`, copied verbatim: generated code and ``bea check`` share one evaluator.

Coefficients are exact sympy expressions printed as Python arithmetic on literals,
factored so that they are free of cancellation in float32 (``-1/2``,
``(1/2)*(beta + 1)/(1 - beta)**3``, :func:`_factored`); numeric scheme parameters are baked in, the
remaining symbols become keyword arguments of the factories. Trees are emitted in
:func:`bea.bseries.trees.sort_key` order, so one derivation always gives the same source.
"""

from __future__ import annotations

import functools

from ..atoms import RuleError
from ..bseries.losses import split_gradient, split_scalar_label
from ..bseries.plan import Merged, Paired, Single, exact_anyway, plan, rest_and_last, root_label
from ..bseries.trees import Tree, sort_key, tree
from ..joint import beyond_plain, small_parameter
from ..modifying import modifying_field
from ..render import render
from .source import _GRADIENT_DOC, _HVP_DOC, _Coefficients, _docstring, _identifier, _Statements


class _Body(_Statements):
    """The tree generator's statements: elementary differentials and loss scalars."""

    def __init__(self, gen):
        super().__init__(gen)
        self.exact_anyway: set = set()  # first-order derivatives a higher one computes (bea.bseries.plan.exact_anyway)

    # -- atom trees: F(t) ------------------------------------------------------------
    def atom_fn(self, label: str) -> str:
        gen = self.gen
        i, atom = gen.atom_index[label], gen.atom_of[label]
        name = gen.atom_names[i]
        if atom.loss is None:
            return self.helper(("atom", label), f"{name} = fields[{i}]", name)
        block = "None" if atom.block is None else str(gen.blocks.index(atom.block))
        negate = "True" if atom.sign == 1 else "False"
        loss = gen.loss_names[atom.loss]
        return self.helper(("atom", label),
                           f"{name} = _atom({loss}, batch, negate={negate}, block={block}, merge=merge)", name)

    def elementary(self, t: Tree) -> str:
        """``h^{|t|-1} F(t)``: the derivative of the atom along its children's directions."""
        kids = [self.direction(c) for c in sorted(t.children, key=sort_key)]
        fn = self.atom_fn(t.label)
        exact = f"_d({', '.join([fn, 'theta', *kids])})"
        comment = _power(t.order - 1) + str(t)
        if not kids and self.gen.reuse_gradient:
            negate = self.gen.atom_of[t.label].sign == 1
            given = "_negative(gradient)" if negate else "gradient"
            return self.var(("F", t), "F", f"{exact} if gradient is None else {given}", comment)
        if len(kids) == 1 and (t.label, t.children[0]) not in self.exact_anyway:
            base = self.names.get(("F", tree(t.label)), f"_d({fn}, theta)")
            return self.var(("F", t), "F", f"{exact} if exact else _fd({fn}, theta, {kids[0]}, {base})", comment)
        return self.var(("F", t), "F", exact, comment)

    def direction(self, t: Tree) -> str:
        """``D(t) = h^{|t|} F(t)``: a direction of the derivatives above ``t``."""
        return self.var(("D", t), "D", f"_combine(theta, (h, {self.elementary(t)}))", _power(t.order) + str(t))

    def combination(self, items: tuple, names: list[str], inner: bool = False) -> list[str]:
        """``(coefficient, variable)`` parts whose sum is a :func:`plan` with coefficient
        ``names[i]`` for term ``i``: at the top level of values ``h^{|t|-1} F(t)``, ``inner``
        (a combination ``V`` of directions) of values ``h^{|t|} F(t)``. Merged groups become
        one derivative along their combination, paired ones one jvp
        (:func:`bea.bseries.evaluate._slot`); the operations of :func:`bea.bseries.evaluate.planned_sum`."""
        parts = []
        for item in items:
            if isinstance(item, Single):
                value = self.direction(item.tree) if inner else self.elementary(item.tree)
                parts.append(f"({names[item.index]}, {value})")
            elif isinstance(item, Merged):
                v = self.combined(item.terms, names)
                fn = self.atom_fn(item.label)
                kids = [self.direction(p) for p in item.prefix]
                exact = f"_d({', '.join([fn, 'theta', *kids, v])})"
                if not kids:
                    base = self.names.get(("F", tree(item.label)), f"_d({fn}, theta)")
                    exact = f"{exact} if exact else _fd({fn}, theta, {v}, {base})"
                merged = f"{item.label}[{', '.join([*map(str, item.prefix), v])}]"
                m = self.var(("M", item.label, tuple(kids), v), "M", exact, merged)
                parts.append(f"({'h' if inner else '1'}, {m})")
            else:
                parts.append(self.paired(item, names, inner))
        return parts

    def combined(self, items: tuple, names: list[str], scale: str | None = None) -> str:
        """The combination ``V`` of ``items`` (directions), each coefficient divided by ``scale``."""
        inner = self.combination(items, names, inner=True)
        if scale is not None:
            inner = [f"({c} / {scale}, {x})" for c, x in (part[1:-1].split(", ") for part in inner)]
        return self.var(("V", tuple(inner)), "V", f"_combine(theta, {', '.join(inner)})",
                        " + ".join(_term(part) for part in inner))

    def paired(self, item: Paired, names: list[str], inner: bool) -> str:
        """A host and its rider in one jvp (:class:`bea.bseries.plan.Paired`)."""
        host, rider = item.host, item.rider
        rest, last = rest_and_last(host)
        rest = [self.direction(r) for r in rest]
        scale = names[host.index] if isinstance(host, Single) else None
        label = root_label(host)
        v = self.direction(last) if isinstance(host, Single) else self.combined(host.terms, names)
        if isinstance(rider, Single):
            kid = self.direction(sorted(rider.tree.children, key=sort_key)[item.free])
            ratio = names[rider.index] if scale is None else f"{names[rider.index]} / {scale}"
            w = self.var(("V", ((ratio, kid),)), "V", f"_combine(theta, ({ratio}, {kid}))", f"{ratio} {kid}")
        else:
            w = self.combined(rider.terms, names, scale)
        fn = self.atom_fn(label)
        before, after = ", ".join(rest[:item.slot]), ", ".join(rest[item.slot + 1:])
        text = (f"_slot({fn}, theta, ({before}{',' if before else ''}), {rest[item.slot]}, "
                f"({after}{',' if after else ''}), {v}, {w})")
        comment = f"{host.tree if isinstance(host, Single) else 'M'} along {v}, rider along {w}"
        y = self.var(("P", label, tuple(rest), item.slot, v, w), "P", text, comment)
        coef = "1" if scale is None else scale
        if inner:
            coef = "h" if scale is None else f"{scale} * h"
        return f"({coef}, {y})"

    # -- scalars: S(s) -----------------------------------------------------------------
    def grad_fn(self, loss: str) -> str:
        name = f"grad_{self.gen.loss_names[loss]}"
        return self.helper(("grad", loss), f"{name} = _grad({self.gen.loss_names[loss]}, batch, merge)", name)

    def gradient(self, loss: str, kids: tuple) -> str:
        vs = [self.vector(k) for k in kids]
        text = f"D^{len(kids)} ∇{loss}[{', '.join(str(k) for k in kids)}]" if kids else f"∇{loss}"
        fn = self.grad_fn(loss)
        exact = f"_d({', '.join([fn, 'theta', *vs])})"
        if not kids and self.gen.reuse_gradient:
            exact = f"{exact} if gradient is None else gradient"
        elif len(kids) == 1:
            base = self.names.get(("G", loss, ()), f"_d({fn}, theta)")
            exact = f"{exact} if exact else _fd({fn}, theta, {vs[0]}, {base})"
        return self.var(("G", loss, kids), "G", exact, text)

    def vector(self, s: Tree) -> str:
        loss, block = split_scalar_label(s.label)
        g = self.gradient(loss, tuple(sorted(s.children, key=sort_key)))
        if block is None:
            return g
        index = self.gen.blocks.index(block)
        return self.var(("P", s), "V", f"_project({g}, {index})", f"P_{block} of {g}")

    def scalar(self, s: Tree) -> str:
        kids = tuple(sorted(s.children, key=sort_key))
        if not kids:
            loss = self.gen.loss_names[s.label]
            return self.var(("S", s), "S", f"{loss}(theta if merge is None else merge(theta), *batch)", f"S({s})")
        last = self.vector(kids[-1])
        return self.var(("S", s), "S", f"_dot({self.gradient(s.label, kids[:-1])}, {last})", f"S({s})")


def _power(k: int) -> str:
    """``"h^k "`` for a comment (``""`` for k = 0, ``"h "`` for k = 1)."""
    return "" if k == 0 else "h " if k == 1 else f"h^{k} "


def _term(part: str) -> str:
    """``"(c3, F2)"`` → ``"c3 F2"``; ``"(1, M1)"`` → ``"M1"`` (a comment)."""
    coef, name = part[1:-1].split(", ")
    return name if coef == "1" else f"{coef} {name}"


def emit_module(derivation, values=None) -> str:
    """Source of a standalone module (imports jax only) for a B-series ``derivation``
    (:func:`bea.codegen.emit_module` states what it holds). Same derivation → same source."""
    return _Generator(derivation, values).module()


_JOINT_DRIFT = " and the second small parameter's terms of f_1 (ρ F_{0,1} + …, bea.joint)"

class _Generator:
    def __init__(self, derivation, values):
        rule = derivation.rule
        if rule.family is not None and not isinstance(rule.family.size, int):
            raise ValueError(
                f"scheme {rule.name!r} is symbolic in the number of minibatches "
                f"({rule.family.size}); give a number (--batches M) to generate code"
            )
        self.d = derivation
        self.atoms = rule.atoms
        self.atom_of = {a.label: a for a in self.atoms}
        self.atom_index = {a.label: i for i, a in enumerate(self.atoms)}
        self.atom_names = [_identifier(a.label, "atom_", i) for i, a in enumerate(self.atoms)]
        self.blocks = tuple(rule.blocks)
        self.gradient_atoms = derivation.splits is not None
        self.losses = list(dict.fromkeys(a.loss for a in self.atoms)) if self.gradient_atoms else []
        self.loss_names = {n: _identifier(n, "loss_", i) for i, n in enumerate(self.losses)}
        self.coeffs = _Coefficients(derivation, values)
        self.games = self.blocks != (None,)
        # one loss on all parameters: function(theta, *batch, gradient=∇L) reuses a gradient
        self.reuse_gradient = self.gradient_atoms and len(self.losses) == 1 and not self.games

    # -- collected terms ----------------------------------------------------------------
    def flow_terms(self, start: int, which=None, stop=None, d=None, atom=None) -> list:
        """``[(power of h, tree, expr)]`` of orders ``start … stop`` of the flow of ``d``
        (default: the derivation), or of the ``which`` part (``"gradient"`` /
        ``"remainder"``) of its split; ``atom``: only the trees rooted at that atom."""
        d = d or self.d
        out = []
        for k in range(start, (stop or d.order) + 1):
            if which is None:
                terms = d.flow[k]
            else:
                terms = {}
                for split in d.splits[k].values():
                    terms.update(getattr(split, which))
            for t in sorted(terms, key=sort_key):
                e = self.coeffs.expr(terms[t], d.field)
                if e != 0 and (atom is None or t.label == atom):
                    out.append((k - 1, t, e))
        return out

    def loss_terms(self, block, start: int, stop=None, splits=None, field=None) -> list:
        """``[(power of h, scalar, weight)]`` of block ``block``'s loss, orders ``start … stop``
        (``splits``: per-order ``{block: GradientSplit}``, default the derivation's)."""
        splits = splits or self.d.splits
        out = []
        for k in range(start, (stop or len(splits) - 1) + 1):
            split = splits[k].get(block)
            if split is None:
                continue
            for s in sorted(split.weights, key=sort_key):
                e = self.coeffs.expr(split.weights[s], field)
                if e != 0:
                    out.append((k - 1, s, e))
        return out

    # -- emission -----------------------------------------------------------------------
    def field_function(self, name: str, doc: str, terms: list, grouped: bool = False) -> list[str]:
        """``terms``: one term list ``[(power of h, tree, coefficient)]``; with ``grouped`` a
        list of them, one result each (a tuple in ATOMS order, or the single result when
        there is one atom). A term's power of h is ``|t| - 1 + e``: the coefficients are printed
        without h (it scales the directions, :mod:`bea.bseries.evaluate`) and the sum of the
        terms of each ``e`` is multiplied by ``h^e`` (``e < 0`` in a joint expansion in ``h``
        and a second small parameter, :mod:`bea.joint`: ``h^a ρ^b F(t)`` with ``|t| = a + b + 1``)."""
        body = _Body(self)
        coeff_lines, groups = [], []
        n = 0
        for group in (terms if grouped else [terms]):
            parts = []
            for extra in sorted({power - (t.order - 1) for power, t, _ in group}, key=abs):
                names, hostable = [], set()
                members = [(power, t, e) for power, t, e in group if power - (t.order - 1) == extra]
                for i, (power, t, e) in enumerate(members):
                    n += 1
                    coeff_lines.append(f"    c{n} = {self.coeffs.code(e, 0)}  # {t}")
                    names.append(f"c{n}")
                    if not e.free_symbols:
                        hostable.add(i)
                items = plan(tuple(t for _, t, _ in members), frozenset(hostable))
                body.exact_anyway |= exact_anyway(items)
                parts.append((items, names, extra))
            groups.append(parts or [(plan((), frozenset()), [], 0)])
        results = []
        for parts in groups:
            sums = [(e, f"_combine(theta{''.join(', ' + p for p in body.combination(items, names))})")
                    for items, names, e in parts]
            if len(sums) == 1 and not sums[0][0]:
                results.append(sums[0][1])
                continue
            scaled = ", ".join(f"({'1' if not e else 'h' if e == 1 else f'h**{e}'}, {r})" for e, r in sums)
            results.append(f"_combine(theta, {scaled})")
        result = results[0] if len(results) == 1 else "(" + ", ".join(results) + ",)"
        return self.factory(name, doc, coeff_lines, body, [f"return {result}"])

    def loss_function(self, name: str, doc: str, start: int) -> list[str]:
        """``Σ_{k ≥ start} h^{k-1} L̃_k`` per block; from ``start = 2`` (the implicit
        regularizer) with the second parameter's part of ``L̃_1`` (:func:`bea.joint.beyond_plain`)."""
        groups = [self.loss_terms(b, start) for b in self.blocks]
        if start == 2:
            groups = [self.beyond_plain(self.loss_terms(b, 1, 1)) + g for b, g in zip(self.blocks, groups)]
        return self.scalar_function(name, doc, groups)

    def beyond_plain(self, terms: list) -> list:
        """The terms of a joint expansion's first row that vanish at ``ρ = 0``."""
        out = [(power, key, beyond_plain(self.d.rule, e)) for power, key, e in terms]
        return [(power, key, e) for power, key, e in out if e != 0]

    def scalar_function(self, name: str, doc: str, groups: list) -> list[str]:
        """One scalar per term group (a tuple when there are several)."""
        body = _Body(self)
        coeff_lines, results = [], []
        n = 0
        for group in groups:
            parts = []
            for power, s, e in group:
                n += 1
                coeff_lines.append(f"    w{n} = {self.coeffs.code(e, power)}  # S({s})")
                parts.append(f"(w{n}, {body.scalar(s)})")
            results.append(f"_total(theta{''.join(', ' + p for p in parts)})")
        result = results[0] if len(results) == 1 else "(" + ", ".join(results) + ",)"
        return self.factory(name, doc, coeff_lines, body, [f"return {result}"])

    def factory(self, name, doc, coeff_lines, body: _Body, tail) -> list[str]:
        inputs = "losses" if self.gradient_atoms else "fields"
        params = self.parameters
        signature = f"{inputs}, h, *, " + "".join(p + ", " for p in params) + 'hvp="exact"'
        names = ", ".join(self.loss_names[n] for n in self.losses)
        unpack = [f"    ({names},) = losses"] if self.gradient_atoms else []
        inner = "theta, *batch, gradient=None" if self.reuse_gradient else "theta, *batch"
        doc += "\n" + _HVP_DOC + ("\n" + _GRADIENT_DOC if self.reuse_gradient else "")
        lines = [f"def {name}({signature}):", *_docstring(doc, 4),
                 *unpack, "    exact = _exact(hvp)", *coeff_lines, "",
                 f"    def function({inner}):"]
        if self.gradient_atoms:
            lines.append("        theta, merge = _filter(theta)  # differentiable leaves; merge puts the rest back")
        lines += ["        " + line for line in body.setup + body.lines + tail]
        lines += ["", "    return function", "", ""]
        return lines

    def module(self) -> str:
        from ..bseries.evaluate import runtime_source  # imports jax: only when code is emitted

        fns = self.modifying_functions() if self.d.kind == "modifying" else self.flow_functions()
        params = self.parameters
        head = [f'"""{self.module_doc(params)}"""', "", "import jax", "import jax.numpy as jnp", "",
                f"ATOMS = {tuple(a.label for a in self.atoms)!r}",
                f"LOSSES = {tuple(self.losses)!r}",
                f"BLOCKS = {self.blocks if self.games else None!r}",
                f"PARAMETERS = {tuple(params)!r}", "", ""]
        return "\n".join(head + runtime_source().splitlines() + ["", ""] + fns).rstrip() + "\n"

    def flow_functions(self) -> list[str]:
        d = self.d
        ret = "a tuple (one pytree per player, like params)" if self.games else "a pytree like params"
        sret = "a tuple of scalars, one per player (its own modified loss)" if self.games else "a scalar"
        inputs = self._inputs_doc()
        fns: list[str] = []
        fns += self.field_function(
            "modified_field",
            f"Modified field θ' = f_1 + h f_2 + … + h^{d.order - 1} f_{d.order}.\n\n{inputs}\n"
            f"Returns function(theta, *batch) -> {ret}; batch is passed on to every loss.",
            self.flow_terms(1))
        fns += self.field_function(
            "implicit_drift",
            f"Drift of the iterates from the plain flow: h f_2 + … + h^{d.order - 1} f_{d.order}"
            f"{_JOINT_DRIFT if small_parameter(d.rule) else ''}.\n\n"
            f"{inputs}\nReturns function(theta, *batch) -> {ret}. Where the modified loss exists "
            "this is minus the gradient of the implicit regularizer.",
            self.beyond_plain(self.flow_terms(1, stop=1)) + self.flow_terms(2))
        fns += self.drift_correction_function()
        fns += self.slaved_state_function()
        if self.gradient_atoms and d.has_loss:
            fns += self.loss_function(
                "modified_loss",
                f"Modified loss L~ = Σ_k h^(k-1) Σ_s w_s S(s), whose negative gradient is the modified "
                f"field.\n\n{inputs}\nReturns function(theta, *batch) -> {sret}.", 1)
            fns += self.loss_function(
                "implicit_regularizer",
                f"Implicit regularizer: the modified loss minus L (its order-1 part; in a joint "
                f"expansion in h and ρ, that part at ρ = 0).\n\n{inputs}\n"
                f"Returns function(theta, *batch) -> {sret}.", 2)
        elif self.gradient_atoms:
            fns += self.field_function(
                "gradient_part",
                f"Gradient part of the modified field (bea's least-squares split): minus the gradient "
                f"of gradient_potential.\n\n{inputs}\nReturns function(theta, *batch) -> {ret}.",
                self.flow_terms(1, "gradient"))
            fns += self.field_function(
                "remainder_field",
                f"Non-gradient remainder: modified_field = gradient_part + remainder_field.\n\n{inputs}\n"
                f"Returns function(theta, *batch) -> {ret}.",
                self.flow_terms(1, "remainder"))
            fns += self.loss_function(
                "gradient_potential",
                f"Potential of the gradient part, Σ_k h^(k-1) Σ_s w_s S(s) (not a modified loss: the "
                f"field has a remainder).\n\n{inputs}\nReturns function(theta, *batch) -> {sret}.", 1)
        return fns

    def slaved_state_function(self) -> list[str]:
        """``slaved_state``: the auxiliary state on its slaved manifold, ``V(θ) = Σ_t c(t)
        h^{|t|} F(t)(θ)`` per auxiliary variable (``derivation.velocity``); nothing for a
        rule without state."""
        d = self.d
        if not d.velocity:
            return []
        groups = [[(t.order, t, e) for t in sorted(terms, key=sort_key)
                   if (e := self.coeffs.expr(terms[t], d.field)) != 0] for terms in d.velocity]
        several = len(groups) > 1
        return self.field_function(
            "slaved_state",
            f"The rule's auxiliary state on its slaved (invariant) manifold, to O(h^{d.order + 1}): "
            f"V(θ) = Σ_t c(t) h^|t| F(t)(θ) (Kovachki & Stuart 2021). Started at (theta, V(theta)), the "
            f"optimizer's iterates follow the modified flow from the first step, with no transient "
            f"(what `bea check` does).\n\n{self._inputs_doc()}\nReturns function(theta, *batch) -> "
            + (f"a tuple of {len(groups)} pytrees like params, in the rule's order of auxiliary variables."
               if several else "a pytree like params (the rule's auxiliary variable, e.g. the momentum "
                               "velocity v of v ← βv + h f(θ), θ ← θ + v)."),
            groups if several else groups[0], grouped=several)

    def drift_correction_function(self) -> list[str]:
        """``drift_correction`` = f̃ − f from the modifying field of the same rule at the same
        order (computed here, at emission time); nothing where the rule has none."""
        m = self.modifying
        if m is None:
            return []
        d = self.d
        per = "a tuple of pytrees, one per atom in ATOMS order (update k of a cycle uses entry k)" \
            if len(self.atoms) > 1 else "a pytree like params"
        return self.field_function(
            "drift_correction",
            f"Correction f~ - f that cancels the drift to order {d.order}: the modifying field f~ "
            f"(Chartier, Hairer & Vilmart 2010) minus the atom field.\n\nRun on f~ = f + "
            f"drift_correction in place of f, the scheme follows its first-order flow f_1 with local "
            f"error O(h^{d.order + 1}); to first order in h this is -implicit_drift, beyond it is not "
            f"(subtracting the drift cancels order 2 only).\n\n{self._inputs_doc()}\n"
            f"Returns function(theta, *batch) -> {per}.",
            [self.flow_terms(2, d=m, atom=a.label) for a in self.atoms], grouped=True)

    @functools.cached_property
    def modifying(self):
        """The modifying field of the derivation's rule at its order, or ``None`` where the
        scheme has none (an atom without first-order effect)."""
        try:
            return modifying_field(self.d.rule, self.d.order)
        except (RuleError, ValueError):
            return None

    def atom_splits(self, label: str) -> list:
        """Per order, ``{block: GradientSplit}`` of the trees of the modifying field rooted at
        atom ``label`` (its own field ``f̃_c``, split like a flow's order)."""
        d = self.d
        return [dict()] + [split_gradient({t: c for t, c in d.flow[k].items() if t.label == label},
                                          self.atoms, d.field) for k in range(1, d.order + 1)]

    def modifying_functions(self) -> list[str]:
        d = self.d
        several = len(self.atoms) > 1
        ret = ("a tuple of pytrees like params, one per atom in ATOMS order (update k of a cycle "
               "uses entry k)") if several else "a pytree like params"
        sret = "a tuple of scalars, one per atom in ATOMS order" if several else "a scalar"
        inputs = self._inputs_doc()
        labels = [a.label for a in self.atoms]
        fns: list[str] = []
        fns += self.field_function(
            "modifying_field",
            f"Modifying field f~ = f + h f~_2 + … + h^{d.order - 1} f~_{d.order} (per atom).\n\n"
            f"Run on f~ in place of f, the scheme follows its first-order flow with local error "
            f"O(h^{d.order + 1}).\n\n{inputs}\nReturns function(theta, *batch) -> {ret}.",
            [self.flow_terms(1, atom=c) for c in labels], grouped=True)
        fns += self.field_function(
            "correction_field",
            f"Correction f~ - f = h f~_2 + … + h^{d.order - 1} f~_{d.order} (per atom).\n\n{inputs}\n"
            f"Returns function(theta, *batch) -> {ret}.",
            [self.flow_terms(2, atom=c) for c in labels], grouped=True)
        if not self.gradient_atoms:
            return fns
        splits = {a.label: self.atom_splits(a.label) for a in self.atoms}
        blocks = {a.label: a.block for a in self.atoms}
        gradient = all(not s.remainder for c in labels for order in splits[c][2:] for s in order.values())
        groups = [self.loss_terms(blocks[c], 2, splits=splits[c]) for c in labels]
        if gradient:
            fns += self.scalar_function(
                "correction_loss",
                f"Correction loss L~ - L = Σ_k h^(k-1) Σ_s w_s S(s): minus its gradient (over the "
                f"atom's block) is correction_field, so training on L + correction_loss follows the "
                f"target flow to order {d.order}.\n\n{inputs}\nReturns function(theta, *batch) -> {sret}.",
                groups)
            return fns
        terms = {}
        for which in ("gradient", "remainder"):
            terms[which] = [[(k - 1, t, self.coeffs.expr(c, d.field))
                             for k in range(2, d.order + 1)
                             for s in splits[lab][k].values()
                             for t, c in sorted(getattr(s, which).items(), key=lambda tc: sort_key(tc[0]))
                             if c] for lab in labels]
        fns += self.field_function(
            "correction_gradient_part",
            f"Gradient part of correction_field (bea's least-squares split): minus the gradient of "
            f"correction_potential. The correction is not a gradient at this order, so there is no "
            f"correction_loss.\n\n{inputs}\nReturns function(theta, *batch) -> {ret}.",
            terms["gradient"], grouped=True)
        fns += self.field_function(
            "correction_remainder",
            f"Non-gradient remainder: correction_field = correction_gradient_part + "
            f"correction_remainder.\n\n{inputs}\nReturns function(theta, *batch) -> {ret}.",
            terms["remainder"], grouped=True)
        fns += self.scalar_function(
            "correction_potential",
            f"Potential of the correction's gradient part, Σ_k h^(k-1) Σ_s w_s S(s) (not a "
            f"correction loss: the correction has a remainder).\n\n{inputs}\n"
            f"Returns function(theta, *batch) -> {sret}.", groups)
        return fns

    @property
    def parameters(self):
        return self.coeffs.parameters()

    def _inputs_doc(self) -> str:
        if self.gradient_atoms:
            args = ", ".join(self.losses)
            first = (f"losses: ({args},) — scalar functions loss(theta, *batch), one per distinct loss "
                     "in atom order (LOSSES).")
        else:
            first = "fields: one vector field field(theta, *batch) per atom, in ATOMS order."
        lines = [first, "h: the learning rate (step size of one update)."]
        for p in self.parameters:
            lines.append(f"{p}: scheme parameter (keyword only).")
        if self.games:
            lines.append(f"theta is a tuple of the players' pytrees, in BLOCKS order {self.blocks}.")
        return "\n".join(lines)

    def module_doc(self, params) -> str:
        d, rule = self.d, self.d.rule
        options = ", ".join(f"{k}={v}" for k, v in sorted(rule.options.items()) if v not in (None, False))
        if d.kind == "modifying":
            several = len(self.atoms) > 1
            lines = [f"Modifying field of the {rule.name!r} optimizer to order {d.order}, generated by bea.", "",
                     "The field f~_c = f_c + h f~_c,2 + … + h^(N-1) f~_c,N to give each atom c in place of f_c: "
                     "run on f~, the scheme follows its first-order flow (the plain flow of the atoms "
                     f"for gd) with local error O(h^{d.order + 1}) per cycle, i.e. the drift is cancelled "
                     "to this order (Chartier, Hairer & Vilmart, Found. Comput. Math. 2010).",
                     ("Several atoms: every function returns a tuple in ATOMS order, one entry per atom; "
                      "update k of a cycle uses entry k." if several else
                      "One atom: every function returns one field (or one scalar)."), ""]
        else:
            lines = [f"Modified flow of the {rule.name!r} optimizer to order {d.order}, generated by bea.", ""]
        lines.append(f"Scheme: {rule.name}" + (f" ({options})" if options else "") +
                     f"; one flow time unit h per update, a cycle of {rule.cycle} update(s).")
        lines.append("Atoms, in update order:")
        for a in self.atoms:
            if a.loss is None:
                lines.append(f"  {a.label}: a vector field (given in `fields`)")
            else:
                proj = "" if a.block is None else f"P_{a.block} "
                sign = "-" if a.sign == 1 else "+"
                lines.append(f"  {a.label} = {sign}{proj}∇{a.loss}")
        if self.gradient_atoms:
            lines.append(f"Loss functions are passed as losses = ({', '.join(self.losses)},).")
        if params:
            lines.append(f"Symbolic parameters (keyword arguments): {', '.join(params)}.")
        if self.coeffs.values:
            fixed = ", ".join(f"{k} = {v}" for k, v in sorted(self.coeffs.values.items()))
            lines.append(f"Parameters fixed in this module: {fixed}.")
        lines += ["", "The derivation (as `bea derive` prints it):", "", render(d, "text").rstrip()]
        return "\n".join(lines)
