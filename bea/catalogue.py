"""The catalogue of derived results kept in ``derivations/``.

Each entry is a named scheme with options at its catalogue order; ``write_catalogue``
renders every entry as Markdown (with inline LaTeX), LaTeX (an ``align*`` block) and
JSON. ``bea catalogue --out derivations`` regenerates the folder, and a test holds the
committed files equal to a fresh derivation, so the catalogue is documentation and regression net at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .derive import derive
from .modifying import modifying_field
from .render import render
from .schemes import build
from .schemes.tableaux import TABLEAUX

__all__ = ["ENTRIES", "Entry", "derivation_of", "write_catalogue", "render_entry"]


@dataclass(frozen=True)
class Entry:
    slug: str
    scheme: str
    order: int
    options: dict = field(default_factory=dict)
    modifying: bool = False  # the modifying field (bea derive --modifying) instead of the flow


def _rk_order(method: str) -> int:
    """One order past the method's classical order: its first non-zero correction."""
    return max(3, TABLEAUX[method].order + 1)


ENTRIES = [
    Entry("gd", "gd", 3),
    Entry("sgd-random-m", "sgd", 2),
    Entry("sgd-forward-m", "sgd", 2, {"shuffle": "forward"}),
    Entry("sgd-random-3", "sgd", 2, {"batches": "3", "shuffle": "random"}),
    Entry("sgd-forward-3", "sgd", 2, {"batches": "3", "shuffle": "forward"}),
    Entry("sgd-backward-3", "sgd", 2, {"batches": "3", "shuffle": "backward"}),
    Entry("multitask-2", "multitask", 2, {"tasks": "2"}),
    Entry("multitask-per-task-2", "multitask", 2, {"tasks": "2", "per_task": True}),
    Entry("continual-A1-B1", "continual", 2, {"steps": "A:1,B:1"}),
    Entry("game-simultaneous", "game", 2, {"mode": "simultaneous", "rates": "alpha,lam"}),
    Entry("game-alternating", "game", 2, {"mode": "alternating", "rates": "alpha,lam", "steps": "1,1"}),
    Entry("game-zero-sum", "game", 2, {"mode": "simultaneous", "rates": "alpha,alpha", "zero_sum": True}),
    Entry("momentum-heavy-ball", "momentum", 2, {"beta": "beta"}),
    Entry("momentum-nesterov", "momentum", 2, {"beta": "beta", "nesterov": True}),
] + [Entry(f"rk-{name}", "rk", _rk_order(name), {"method": name}) for name in TABLEAUX] + [
    Entry("adam", "adam", 2),
    Entry("rmsprop", "rmsprop", 2),
    Entry("normalized", "normalized", 3),
    Entry("modifying-gd", "gd", 4, modifying=True),
    Entry("modifying-rk4", "rk", 6, {"method": "rk4"}, modifying=True),
    Entry("modifying-sgd-random-3", "sgd", 3, {"batches": "3", "shuffle": "random"}, modifying=True),
    Entry("modifying-game-alternating", "game", 2, {"mode": "alternating", "rates": "alpha,lam", "steps": "1,1"},
          modifying=True),
]


def derivation_of(entry: Entry):
    """The entry's derivation: its modified flow, or its modifying field."""
    rule = build(entry.scheme, entry.order, **entry.options)
    return (modifying_field if entry.modifying else derive)(rule, entry.order)


def render_entry(entry: Entry) -> dict[str, str]:
    """``{"md": …, "tex": …, "json": …}`` for one entry."""
    d = derivation_of(entry)
    command = f"bea derive --scheme {entry.scheme} --order {entry.order}" + "".join(
        f" --{k.replace('_', '-')}" + ("" if v is True else f" {v}") for k, v in entry.options.items()
    ) + (" --modifying" if entry.modifying else "")
    markdown = render(d, "markdown") + f"\nRegenerate: `{command} --format markdown`\n"
    latex = render(d, "latex") + f"% Regenerate: {command} --format latex\n"
    return {"md": markdown, "tex": latex, "json": render(d, "json") + "\n"}


def write_catalogue(out: Path, progress=None) -> list[Path]:
    """Write every entry (and an index) into ``out``; returns the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    index = ["# Catalogue of derived modified flows", "",
             "Regenerate with `bea catalogue --out derivations`; `tests/test_catalogue.py` holds "
             "these files equal to a fresh derivation.", "",
             "| entry | scheme | order | options |", "|---|---|---|---|"]
    for entry in ENTRIES:
        for ext, text in render_entry(entry).items():
            path = out / f"{entry.slug}.{ext}"
            path.write_text(text, encoding="utf-8")
            written.append(path)
        opts = ", ".join([f"{k}={v}" for k, v in entry.options.items()] + ["modifying"] * entry.modifying)
        index.append(f"| [{entry.slug}]({entry.slug}.md) | {entry.scheme} | {entry.order} | {opts} |")
        if progress:
            progress(entry)
    (out / "README.md").write_text("\n".join(index) + "\n", encoding="utf-8")
    written.append(out / "README.md")
    return written
