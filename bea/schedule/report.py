"""A named schedule as printed under a scheduled derivation: ``η(t)``, the derivatives the
flow uses, and its kinks, in text, LaTeX, Markdown or as JSON data."""

from __future__ import annotations

import re

import textwrap

import sympy

from ..render.text import WIDTH
from .named import T, Schedule

__all__ = ["schedule_lines", "schedule_data"]

_PRIMES = ["η", "η'", "η''", "η'''"]


def _name(j: int) -> str:
    return _PRIMES[j] if j < len(_PRIMES) else f"η⁽{j}⁾"


def _tex_name(j: int) -> str:
    return r"\eta" + "'" * j if j < 4 else rf"\eta^{{({j})}}"


def _text(expr) -> str:
    text = sympy.sstr(expr)
    text = re.sub(r"\*\*(\w+|\([^()]*\))", r"^\1", text).replace("*", "·")
    return text.replace("pi", "π")


def _pieces(schedule: Schedule, values: dict, j: int) -> list:
    pieces = schedule.pieces(values)
    ends = [start for start, _ in pieces[1:]] + [None]
    return [(start, end, sympy.diff(expr, T, j)) for (start, expr), end in zip(pieces, ends)]


def _where(start, end, latex: bool) -> str:
    fmt = sympy.latex if latex else _text
    le, ge = (r" \le ", r" \ge ") if latex else (" ≤ ", " ≥ ")
    if end is None:
        return f"t{ge}{fmt(start)}" if start != 0 else ""
    return f"{fmt(start)}{le}t < {fmt(end)}"


def schedule_lines(schedule: Schedule, values: dict, order: int, fmt: str) -> list[str]:
    """Lines for the text, LaTeX or Markdown output (``fmt``)."""
    latex = fmt != "text"
    where_optax = f" (optax.{schedule.optax})" if schedule.optax else ""
    kinks = schedule.kinks(values)
    if fmt == "text":
        lines = ["", *textwrap.wrap(f"schedule {schedule.name}{where_optax}: {schedule.summary}; t = n·h",
                                    WIDTH, subsequent_indent="  ", break_on_hyphens=False)]
    elif fmt == "markdown":
        lines = ["", f"## Schedule `{schedule.name}`{where_optax}", "", f"{schedule.summary}; $t = nh$.", ""]
    else:
        lines = ["", f"% schedule {schedule.name}{where_optax}: t = n h", r"\begin{align*}"]
    rows = []
    for j in range(order):
        for i, (start, end, expr) in enumerate(_pieces(schedule, values, j)):
            where = _where(start, end, latex)
            if fmt == "text":
                head = f"  {_name(j)}(t) = " if i == 0 else " " * (len(_name(j)) + 6) + "= "
                text = _text(expr)
                row = f"{head}{text}" + (f"   for {where}" if where else "")
                if len(row) > WIDTH:  # the condition on its own line, and a wide expression on its own
                    indent = " " * len(head) if len(head) + len(text) <= WIDTH else "    "
                    parts = [head.rstrip()] if indent == "    " else []
                    row = "\n".join(parts + [(indent if parts else head) + text]
                                     + ([f"{' ' * len(head)}for {where}"] if where else []))
                rows.extend(row.split("\n"))
            else:
                head = f"{_tex_name(j)}(t) &= " if i == 0 else "&= "
                cond = rf" && {where}" if where else ""
                rows.append(f"{head}{sympy.latex(expr)}{cond}")
    if fmt == "text":
        lines += rows
    elif fmt == "markdown":
        lines += [f"- ${r.replace('&', '')}$" for r in rows]
    else:
        lines += [r + r" \\" for r in rows[:-1]] + rows[-1:] + [r"\end{align*}"]
    if kinks:
        at = ", ".join(_text(k) for k in kinks)
        note = f"kinks at t = {at}: the flow holds on each smooth piece"
        if fmt == "text":
            lines += textwrap.wrap(note, WIDTH, initial_indent="  ", subsequent_indent="    ")
        else:
            lines.append(f"- {note}" if fmt == "markdown" else f"% {note}")
    return lines


def schedule_data(schedule: Schedule, values: dict, order: int) -> dict:
    """The same as JSON data: name, optax name, parameters, pieces of each derivative, kinks."""
    return {
        "name": schedule.name,
        "optax": schedule.optax,
        "parameters": {k: str(v) for k, v in values.items()},
        "derivatives": [
            [{"from": str(start), "to": None if end is None else str(end), "expr": str(expr)}
             for start, end, expr in _pieces(schedule, values, j)]
            for j in range(order)
        ],
        "kinks": [str(k) for k in schedule.kinks(values)],
    }
