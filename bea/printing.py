"""Printers for derivations: text (unicode), LaTeX, Markdown and JSON.

Indexed families (minibatches ``f_1 … f_m``) are printed with sums over index patterns:
a coefficient that depends only on which indices coincide (random reshuffling) or on
their relative order (forward/backward epochs) is shown once, as
``Σ_{j<k} c f_k'f_j`` or ``Σ_{j≠k} …``; a pattern with ``s`` index permutations fixing
the tree is shown with coefficient ``c/s`` so that the sum over distinct indices counts
each term once.
"""

from __future__ import annotations

import itertools
import json
import re

import sympy

from . import notation as nt
from .domain import exact_number
from .notation import LATEX, TEXT, Style
from .tracing import Atom
from .trees import Tree, labels_of, parse, sort_key, tree

__all__ = ["render", "to_json", "FORMATS"]

FORMATS = ("text", "latex", "markdown", "json")


# -- indexed families -------------------------------------------------------------------

_LETTERS = {1: ("k",), 2: ("j", "k"), 3: ("i", "j", "k")}


def _letters(d: int) -> tuple[str, ...]:
    return _LETTERS.get(d) or tuple("ijklnpqrs"[:d])


def _map_labels(t: Tree, fn) -> Tree:
    return tree(fn(t.label), [_map_labels(c, fn) for c in t.children])


def _split_label(label: str):
    head, bar, rest = label.partition("|")
    return head, bar + rest


class _Indexer:
    """Groups trees over a family's labels into index patterns."""

    def __init__(self, family, scalar: bool):
        members = family.losses if scalar else family.labels
        self.index = {lab: i for i, lab in enumerate(members)}
        self.base = {lab: _stem(lab) for lab in members}
        self.ordered = family.ordered

    def used(self, t: Tree) -> list[str]:
        found = {_split_label(lab)[0] for lab in labels_of(t)} & set(self.index)
        return sorted(found, key=self.index.get)

    def rename(self, t: Tree, mapping: dict) -> Tree:
        def fn(label):
            head, rest = _split_label(label)
            if head in mapping:
                return f"{self.base[head]}_{mapping[head]}{rest}"
            return label

        return _map_labels(t, fn)

    def pattern(self, t: Tree) -> tuple[Tree, tuple[str, ...], int]:
        used = self.used(t)
        letters = _letters(len(used))
        if self.ordered:
            return self.rename(t, dict(zip(used, letters))), letters, 1
        images = [self.rename(t, dict(zip(used, perm))) for perm in itertools.permutations(letters)]
        rep = min(images, key=str)
        return rep, letters, sum(1 for im in images if im == rep)

    def constraint(self, letters) -> str:
        if len(letters) < 2:
            return ""
        return "<".join(letters) if self.ordered else (
            "≠".join(letters) if len(letters) == 2 else ",".join(letters) + " distinct")


def _group(terms: dict, indexer: _Indexer | None, field) -> list[tuple[Tree, object, str, tuple]]:
    """``[(tree or pattern, sympy coeff, constraint, letters)]`` in display order."""
    if indexer is None:
        return [(t, field.to_sympy(c), "", ()) for t, c in sorted(terms.items(), key=lambda kv: sort_key(kv[0]))]
    groups: dict = {}
    for t, c in terms.items():
        rep, letters, stab = indexer.pattern(t)
        if str(rep) not in groups:
            groups[str(rep)] = (rep, field.to_sympy(c) / stab, indexer.constraint(letters), letters)
    return [groups[k] for k in sorted(groups, key=lambda k: sort_key(groups[k][0]))]


def _sum_prefix(letters, constraint, style: Style) -> str:
    if not letters:
        return ""
    index = constraint or letters[0]
    if style.latex:
        return "\\sum_{" + index.replace("≠", r" \neq ").replace(" distinct", r"\text{ distinct}") + "} "
    return f"Σ_{index} " if len(index) == 1 else f"Σ_{{{index}}} "


# -- structured content ---------------------------------------------------------------

def _flow_terms(d, k, style, gradient: bool):
    indexer = _Indexer(d.rule.family, False) if d.rule.family else None
    atom_of = _atom_table(d, indexer)
    out = []
    for rep, coeff, constraint, letters in _group(d.flow[k], indexer, d.field):
        if gradient:
            sign, body = nt.gradient_form(rep, atom_of, style)
            coeff = coeff * sign
        else:
            body = nt.elementary(rep, style)
        out.append((coeff, _sum_prefix(letters, constraint, style) + body))
    return out


def _atom_table(d, indexer):
    """Atoms by label, including the index-pattern labels ``f_k`` of a family."""
    table = {a.label: a for a in d.atoms}
    if indexer is not None:
        fam = d.rule.family
        fbase, lbase = _stem(fam.labels[0]), _stem(fam.losses[0])
        for letter in "ijklnpqrs":
            table[f"{fbase}_{letter}"] = Atom(f"{fbase}_{letter}", f"{lbase}_{letter}")
    return table


def _stem(label: str) -> str:
    """``f12 → f``: the label without its index."""
    return re.match(r"[A-Za-z]+?(?=\d)", label).group(0)


def _loss_terms(d, k, block, style):
    split = d.splits[k].get(block)
    if split is None:
        return []
    indexer = _Indexer(d.rule.family, True) if d.rule.family else None
    return [
        (coeff, _sum_prefix(letters, constraint, style) + nt.scalar(rep, style))
        for rep, coeff, constraint, letters in _group(split.weights, indexer, d.field)
    ]


def _remainder_terms(d, k, block, style):
    """The non-gradient remainder in ∇ notation; antisymmetric pairs ``c(F(Y[X]) - F(X[Y]))``
    are printed as Lie brackets ``c [∇L_X, ∇L_Y]`` (continual learning, SGD epochs)."""
    split = d.splits[k].get(block)
    if split is None or not split.remainder:
        return []
    indexer = _Indexer(d.rule.family, False) if d.rule.family else None
    atom_of = _atom_table(d, indexer)
    grouped = {str(rep): (rep, c, cons, letters) for rep, c, cons, letters in _group(split.remainder, indexer, d.field)}
    out = []
    for key, (rep, coeff, constraint, letters) in list(grouped.items()):
        if key not in grouped:
            continue
        prefix = _sum_prefix(letters, constraint, style)
        if rep.order == 2 and rep.label != rep.children[0].label and atom_of[rep.label].block is None:
            x, y = rep.children[0].label, rep.label
            partner = grouped.get(str(tree(x, [tree(y)])))
            if partner is not None and partner[2] == constraint and sympy.expand(partner[1] + coeff) == 0:
                del grouped[key], grouped[str(partner[0])]
                first, second = sorted((x, y), key=_index_order)
                sign = 1 if (first, second) == (x, y) else -1
                out.append((sign * coeff, prefix + nt.bracket(first, second, atom_of, style)))
                continue
        sign, body = nt.gradient_form(rep, atom_of, style)
        out.append((sign * coeff, prefix + body))
    return out


def _index_order(label: str):
    """Sort key putting ``f_j`` before ``f_k`` and ``f1`` before ``f2``."""
    return (len(label), label)


def _blocks(d):
    return list(dict.fromkeys(a.block for a in d.atoms))


def _atoms_line(d, style: Style) -> str:
    fam = d.rule.family
    if fam is not None and not isinstance(fam.size, int):
        f, loss = nt.name(f"{_stem(fam.labels[0])}_k", style), nt.name(f"{_stem(fam.losses[0])}_k", style)
        return f"{f} = -{style.nabla(1)}{loss}, k = 1…m"
    parts = []
    for a in d.atoms:
        if a.loss is None:
            parts.append(nt.name(a.label, style))
            continue
        grad = style.nabla(1, (a.block,) if a.block else ()) + nt.name(a.loss, style)
        sign = "-" if a.sign > 0 else "+"
        parts.append(f"{nt.name(a.label, style)} = {sign}{grad}")
    return ", ".join(parts)


def _cycle_text(d) -> str:
    c = d.rule.cycle
    return f"{c} update{'s' if c != 1 else ''} of length h" if isinstance(c, int) else f"{c} updates of length h"


# -- text / latex / markdown ------------------------------------------------------------

def _flow_lines(d, style: Style, gradient: bool) -> list[tuple[str, str]]:
    return [
        (style.sub("f", str(k)), nt.signed_sum(_flow_terms(d, k, style, gradient), style))
        for k in range(1, d.order + 1)
    ]


def _loss_sections(d, style: Style) -> list[dict]:
    """Per block: modified loss series, implicit regularizer, remainders."""
    sections = []
    for block in _blocks(d):
        orders = []
        for k in range(1, d.order + 1):
            orders.append((k, _loss_terms(d, k, block, style), _remainder_terms(d, k, block, style)))
        sections.append({"block": block, "orders": orders})
    return sections


_H = sympy.Symbol("h")


def _series(orders, style: Style, start: int = 1) -> str:
    """``Σ_k h^{k-1} (terms of order k)`` for orders ``≥ start``, as one signed sum."""
    terms = [(c * _H ** (k - 1), body) for k, found, _ in orders if k >= start for c, body in found]
    return nt.signed_sum(terms, style)


def render(d, fmt: str = "text") -> str:
    """The derivation in ``fmt`` (one of :data:`FORMATS`)."""
    if fmt == "json":
        return json.dumps(to_json(d), indent=2, ensure_ascii=False)
    if fmt == "text":
        return _render_text(d)
    if fmt == "latex":
        return _render_latex(d)
    if fmt == "markdown":
        return _render_markdown(d)
    raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")


def _loss_name(block, style):
    tilde = r"\tilde{L}" if style.latex else "L̃"
    return style.sub(tilde, block) if block else tilde


def _render_text(d) -> str:
    s = TEXT
    lines = [f"{d.rule.name}: {d.rule.description}", f"order {d.order} · atoms: {_atoms_line(d, s)} · cycle: {_cycle_text(d)}", ""]
    head = " + ".join(f"{s.times_h(k - 1)} f{str(k).translate(nt._SUB)}".strip() for k in range(1, d.order + 1))
    lines.append(f"modified flow   θ' = {head} + O(h{str(d.order).translate(nt._SUP)})")
    for lhs, rhs in _flow_lines(d, s, gradient=False):
        lines.append(f"  {lhs} = {rhs}")
    if d.splits is not None:
        lines += ["", "in gradients"]
        for lhs, rhs in _flow_lines(d, s, gradient=True):
            lines.append(f"  {lhs} = {rhs}")
        lines.append("")
        lines += _loss_text(d, s)
    return "\n".join(lines) + "\n"


def _loss_text(d, s: Style) -> list[str]:
    lines = []
    for sec in _loss_sections(d, s):
        who = f" of block {sec['block']}" if sec["block"] else ""
        grad = s.nabla(1, (sec["block"],) if sec["block"] else ())
        remainders = [(k, r) for k, _, r in sec["orders"] if r]
        name = _loss_name(sec["block"], s)
        lhs = s.sub("θ", sec["block"]) + "'" if sec["block"] else "θ'"
        if not remainders:
            lines.append(f"modified loss{who}   {lhs} = -{grad}{name} + O(h{str(d.order).translate(nt._SUP)})")
        else:
            lines.append(f"modified loss{who}: gradient part and remainder (least squares in the tree basis)")
            lines.append(f"  {lhs} = -{grad}{name} + " + " + ".join(
                f"{s.times_h(k - 1)} r{str(k).translate(nt._SUB)}".strip() for k, _ in remainders))
        orders, mean = _mean_loss(d, sec["orders"], s)
        lines.append(f"  {name} = {_series(orders, s)}" + (f"   ({mean})" if mean else ""))
        lines.append(f"  implicit regularizer: {_series(sec['orders'], s, start=2)}")
        for k, r in remainders:
            lines.append(f"  r{str(k).translate(nt._SUB)} = {nt.signed_sum(r, s)}   (not a gradient)")
    return lines


def _mean_loss(d, orders, style: Style):
    """For a minibatch family, write the order-1 part ``1/m Σ_k L_k`` as ``C``, the mean
    loss (Smith et al. 2021). Returns the orders and the definition of ``C`` (or ``""``)."""
    fam = d.rule.family
    if fam is None or not orders or len(orders[0][1]) != 1:
        return orders, ""
    k, ((coeff, body),), rem = orders[0]
    if sympy.simplify(coeff * exact_number(fam.size) - 1) != 0 or not body.startswith(_sum_prefix(("k",), "", style)):
        return orders, ""
    size = fam.size
    head = rf"\frac{{1}}{{{size}}}" if style.latex else f"1/{size}"
    return [(k, [(sympy.Integer(1), "C")], rem)] + orders[1:], f"C = {head} {body}"


def _render_latex(d) -> str:
    s = LATEX
    out = [r"\begin{align*}"]
    rows = [f"{lhs} &= {rhs}" for lhs, rhs in _flow_lines(d, s, gradient=False)]
    if d.splits is not None:
        for sec in _loss_sections(d, s):
            orders, mean = _mean_loss(d, sec["orders"], s)
            rows.append(f"{_loss_name(sec['block'], s)} &= {_series(orders, s)}"
                        + (rf", \quad {mean}" if mean else ""))
            for k, _, r in sec["orders"]:
                if r:
                    rows.append(f"r_{{{k}}}{('^{' + sec['block'] + '}') if sec['block'] else ''} &= {nt.signed_sum(r, s)}")
    out.append(" \\\\\n".join(rows))
    out.append(r"\end{align*}")
    return "\n".join(out) + "\n"


def _render_markdown(d) -> str:
    s = LATEX
    lines = [f"# `{d.rule.name}` — {d.rule.description}", ""]
    opts = ", ".join(f"`{k}={v}`" for k, v in d.rule.options.items())
    lines += [f"- order: {d.order}", f"- atoms (update order): ${_atoms_line(d, s)}$",
              f"- cycle: {_cycle_text(d)}"]
    if opts:
        lines.append(f"- options: {opts}")
    head = " + ".join(f"{s.times_h(k - 1)} f_{{{k}}}".strip() for k in range(1, d.order + 1))
    lines += ["", "## Modified flow", "", f"$\\theta' = {head} + O({s.times_h(d.order)})$", ""]
    for lhs, rhs in _flow_lines(d, s, gradient=False):
        lines.append(f"- ${lhs} = {rhs}$")
    if d.splits is not None:
        lines += ["", "In gradients:", ""]
        for lhs, rhs in _flow_lines(d, s, gradient=True):
            lines.append(f"- ${lhs} = {rhs}$")
        lines += ["", "## Modified loss", ""]
        for sec in _loss_sections(d, s):
            who = f" (block ${sec['block']}$)" if sec["block"] else ""
            orders, mean = _mean_loss(d, sec["orders"], s)
            lines.append(f"- ${_loss_name(sec['block'], s)} = {_series(orders, s)}${who}"
                         + (f", ${mean}$" if mean else ""))
            lines.append(f"- implicit regularizer: ${_series(sec['orders'], s, start=2)}$")
            for k, _, r in sec["orders"]:
                if r:
                    lines.append(f"- remainder $r_{{{k}}} = {nt.signed_sum(r, s)}$ (not a gradient; "
                                 "least-squares split in the tree basis)")
    return "\n".join(lines) + "\n"


# -- json -------------------------------------------------------------------------------

def _json_terms(terms: dict, d, scalar: bool) -> list[dict]:
    symbolic_family = d.rule.family is not None and not isinstance(d.rule.family.size, int)
    if not symbolic_family:
        return [
            {"tree": str(t), "coeff": str(sympy.factor(d.field.to_sympy(c)))}
            for t, c in sorted(terms.items(), key=lambda kv: sort_key(kv[0]))
        ]
    indexer = _Indexer(d.rule.family, scalar)
    return [
        {"tree": str(rep), "coeff": str(sympy.factor(coeff)),
         "sum": {"indices": list(letters), "constraint": constraint}}
        for rep, coeff, constraint, letters in _group(terms, indexer, d.field)
    ]


def to_json(d) -> dict:
    """The JSON contract of DESIGN.md §4 (coefficients as exact strings, zeros omitted)."""
    fam = d.rule.family
    data = {
        "scheme": d.rule.name,
        "description": d.rule.description,
        "options": {k: (v if isinstance(v, (int, bool)) else str(v)) for k, v in d.rule.options.items()},
        "order": d.order,
        "atoms": ["f_k"] if fam is not None and not isinstance(fam.size, int) else [a.label for a in d.atoms],
        "atom_fields": [
            {"label": a.label, "loss": a.loss, "block": a.block, "sign": a.sign} for a in d.atoms
        ],
        "cycle": d.rule.cycle if isinstance(d.rule.cycle, int) else str(d.rule.cycle),
        "flow": [
            {"order": k, "terms": _json_terms(d.flow[k], d, scalar=False)} for k in range(1, d.order + 1)
        ],
        "loss": None,
    }
    if d.splits is not None:
        blocks = []
        for block in _blocks(d):
            orders = []
            for k in range(1, d.order + 1):
                split = d.splits[k].get(block)
                if split is None:
                    continue
                orders.append({
                    "order": k,
                    "terms": [dict(t, text=nt.scalar(parse(t["tree"]), TEXT))
                              for t in _json_terms(split.weights, d, scalar=True)],
                    "remainder": _json_terms(split.remainder, d, scalar=False),
                })
            blocks.append({"block": block, "exists": all(not o["remainder"] for o in orders), "orders": orders})
        data["loss"] = {"exists": d.has_loss, "blocks": blocks}
    return data
