"""JSON: the derivation as data (grammar in ``docs/json.md``).

Top level: ``bea_version`` and ``schema_version`` (:func:`bea._version.versioned`),
``scheme``, ``kind`` (``"flow"``: the modified flow; ``"modifying"``: the modifying field
``f̃`` of :mod:`bea.modifying`, whose ``flow`` orders are the corrections
``f̃_k``, each tree belonging to the atom at its root, and whose ``loss`` is the loss to
train on), ``description``, ``options``, ``order``, ``atoms`` (labels in update
order; ``["f_k"]`` for a family of symbolic size), ``atom_fields`` (``label``, ``loss``,
``block``, ``sign``: the atom is ``-sign ∇_block loss``), ``cycle``, ``flow``, ``loss``
and ``symbols``; with ``--principal`` also ``principal`` (``R`` and ``psi`` written in ``z``,
or ``z1, z2, …`` per atom, ``variables``, ``thresholds``, ``cycle``, ``assumption``).

* ``flow``: per order ``k``, ``terms`` ``[{"tree", "coeff"}]`` with ``f_k = Σ coeff·F(tree)``
  (zero coefficients omitted).
* A **tree string** is a label followed, when the node has children, by the children's
  tree strings in brackets, comma-separated: ``f[f,f[f]]`` is ``f''(f, f'f)``. Labels are
  atom labels; children are in canonical order.
* ``loss``: ``null`` unless every atom is a gradient; otherwise ``exists`` and ``blocks``,
  each with ``block``, ``exists`` and per order ``terms`` ``[{"tree", "coeff", "text"}]`` of
  the modified loss ``L̃ = Σ_k h^{k-1} Σ coeff·S(tree)`` and ``remainder`` (tree strings as in
  ``flow``: the non-gradient part of ``f_k``).
* A **loss-tree string** names a scalar built from loss derivatives: the same bracket
  grammar over labels ``loss`` (the root) and ``loss|block`` (other nodes; ``block`` is the
  parameter block of the edge to the parent, empty for one block). A node of degree ``d``
  is ``∇^d loss``, an edge a contraction: ``L[L|]`` is ``‖∇L‖²``, ``L[L|,L|]`` is
  ``⟨∇L, ∇²L ∇L⟩``, ``Lx[Ly|x]`` is ``⟨∇_xL_x, ∇_xL_y⟩``. ``text`` is its unicode rendering.
* A **coefficient string** is an exact expression in sympy's syntax (``"-1/12"``,
  ``"(2*beta - 1)/2"``) over the names in ``symbols``.
* ``symbols``: every free name in the coefficients, sorted. Parse a coefficient with
  ``sympy.parse_expr(coeff, local_dict={n: sympy.Symbol(n) for n in symbols})`` (plain
  ``sympify`` would read ``beta`` as the Beta function).
* For a family of symbolic size ``m`` (SGD without ``--batches``), trees are index
  patterns over ``f_i, f_j, f_k, …`` and each term has ``"sum": {"indices", "constraint"}``
  (``"j<k"``, ``"j≠k"``, ``"i,j,k distinct"`` or ``""``): the term stands for the sum of
  ``coeff·F(tree)`` over the indices in ``1…m`` under the constraint.
* A **coordinate-wise** rule (Adam, RMSProp, normalized GD: :mod:`bea.render.coordinatewise`)
  has ``notation`` (``g``, ``H``, ``s = sqrt(g**2 + eps)``, ``q = g/s``) and per order
  ``parts`` ``[{"coeff": [{"scalar", "vector"}], "body", "potential"?}]``:
  ``f_k = Σ (Σ scalar·vector) ⊙ body`` elementwise, bodies in sympy syntax over ``g, s, q,
  theta`` and ``H(u)``, ``D(u, v, …)`` (``∇^{k+1}L``), ``Df(label, u, …)``, ``Sum(u)``;
  ``potential`` is ``R`` where ``body = ∇R``.
"""

from __future__ import annotations

import json

import sympy

from .._version import versioned
from ..coefficients import factored
from .outer import outer_json
from . import coordinatewise as cw
from . import notation as nt
from .printer import Printer
from .sections import walk

__all__ = ["JsonPrinter"]


class JsonPrinter(Printer):
    format = "json"

    def doprint(self, d) -> str:
        return json.dumps(self.data(d), indent=2, ensure_ascii=False)

    def data(self, d) -> dict:
        """The JSON document as a dict."""
        self._symbols: set[str] = set()
        self._loss: dict | None = None
        data: dict = {}
        for part in (self._print(s) for s in walk(d)):
            data.update(part)
        data.setdefault("loss", None)
        data["symbols"] = sorted(self._symbols)
        return versioned(data)

    def _print_Header(self, h) -> dict:
        return {
            "scheme": h.scheme,
            "kind": h.kind,
            "description": h.description,
            "options": {k: (v if isinstance(v, (int, bool)) else str(v)) for k, v in h.options.items()},
            "order": h.order,
            "atoms": [f"{h.atoms.symbolic[0]}_k"] if h.atoms.symbolic else [a.label for a in h.atoms.atoms],
            "atom_fields": [{"label": a.label, "loss": a.loss, "block": a.block, "sign": a.sign}
                            for a in h.atoms.atoms],
            "cycle": h.cycle if isinstance(h.cycle, int) else str(h.cycle),
        }

    def _print_ModifiedFlow(self, f) -> dict:
        return {"flow": [{"order": r.order, "terms": self._terms(r.exact)} for r in f.rows]}

    def _print_FlowInGradients(self, f) -> dict:
        return {}

    def _print_Principal(self, p) -> dict:
        return {"principal": p.flow.to_json()}

    def _print_ModifiedLoss(self, sec) -> dict:
        orders = [{"order": o.order,
                   "terms": [dict(t, text=nt.scalar(term.body.tree, nt.TEXT))
                             for t, term in zip(self._terms(o.weights), o.weights)],
                   "remainder": self._terms(o.remainder)} for o in sec.orders]
        loss = self._loss or {"exists": True, "blocks": []}
        loss["exists"] = loss["exists"] and sec.exists
        loss["blocks"].append({"block": sec.block, "exists": sec.exists, "orders": orders})
        self._loss = loss
        return {"loss": loss}

    # -- coordinate-wise (bea.render.coordinatewise)
    def _print_Legend(self, leg) -> dict:
        defs = {"g": f"grad {leg.loss}", "H": f"hessian {leg.loss}"} if leg.loss else {}
        if leg.eps is not None:
            defs["s"] = f"sqrt(g**2 + {leg.eps})"
            self._symbols |= {x.name for x in leg.eps.free_symbols}
        if leg.uses_q:
            defs["q"] = "g/s"
        return {"notation": defs}

    def _print_CoordinateFlow(self, f) -> dict:
        return {"flow": self._coordinate_rows(f.rows)}

    def _print_CoordinateLoss(self, sec) -> dict:
        orders = self._coordinate_rows(sec.rows)
        return {"loss": {"exists": True, "blocks": [{"block": None, "exists": True, "orders": orders}]}}

    def _coordinate_rows(self, rows) -> list[dict]:
        for r in rows:
            for p in r.parts:
                self._symbols |= {x.name for c, _ in p.monomials for x in sympy.sympify(c).free_symbols}
        return [{"order": r.order, "parts": [cw.part_json(p) for p in r.parts]} for r in rows]

    # -- noise (bea.stochastic.sections)
    def _print_SMEHeader(self, h) -> dict:
        return {"scheme": "sgd", "sampling": "iid", "kind": "sme", "description": h.description,
                "options": h.options, "order": h.order, "atoms": ["f"],
                "atom_fields": [{"label": "f", "loss": "L", "block": None, "sign": 1}],
                "examples": {"label": "f_i", "loss": "ℓ_i", "mean": "f = 1/n Σ_i f_i"},
                "sde": "dθ = b dt + sqrt(h Σ) dW", "reference": h.reference}

    def _print_Drift(self, f) -> dict:
        return {"drift": [{"order": r.order, "terms": self._terms(r.exact)} for r in f.rows]}

    def _print_DriftLoss(self, sec) -> dict:
        return {"drift_loss": [{"order": o.order,
                                "terms": [dict(t, text=nt.scalar(term.body.tree, nt.TEXT))
                                          for t, term in zip(self._terms(o.weights), o.weights)]}
                               for o in sec.orders]}

    def _print_Diffusion(self, d) -> dict:
        return {"diffusion": {"matrix": "Σ", "terms": self._outer(d.terms)}}

    def _print_EpochCovariance(self, c) -> dict:
        return {"epoch_covariance": {"power": 4, "terms": self._outer(c.terms)}}

    def _outer(self, terms) -> list[dict]:
        for t in terms:
            self._symbols |= {s.name for s in sympy.sympify(t.coeff).free_symbols}
        return outer_json(terms)

    def _terms(self, terms) -> list[dict]:
        out = []
        for t in terms:
            coeff = factored(t.coeff)  # sympy.factor's form, from FLINT (bea.coefficients)
            self._symbols |= {s.name for s in coeff.free_symbols}
            entry = {"tree": str(t.body.tree), "coeff": str(coeff)}
            if t.over is not None:
                entry["sum"] = {"indices": list(t.over.letters), "constraint": t.over.constraint}
            out.append(entry)
        return out
