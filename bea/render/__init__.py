"""Printers for derivations: text (unicode), LaTeX, Markdown and JSON.

A derivation is walked once into sections (:mod:`bea.render.sections`); each format is a
printer class (:mod:`bea.render.printer`) that prints sections by ``_print_<Section>``
methods, over the notation primitives of :mod:`bea.render.notation`. :data:`FORMATS` is
the registry: a new format is one printer module and one line here.
"""

from __future__ import annotations

from .json import JsonPrinter
from .latex import LatexPrinter
from .markdown import MarkdownPrinter
from .printer import MathPrinter, Printer
from .sections import walk
from .text import TextPrinter

__all__ = ["render", "FORMATS", "Printer", "MathPrinter", "walk"]

FORMATS: dict[str, type[Printer]] = {
    "text": TextPrinter,
    "latex": LatexPrinter,
    "markdown": MarkdownPrinter,
    "json": JsonPrinter,
}


def render(d, fmt: str = "text") -> str:
    """The derivation ``d`` in format ``fmt`` (a key of :data:`FORMATS`)."""
    printer = FORMATS.get(fmt)
    if printer is None:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    return printer().doprint(d)
