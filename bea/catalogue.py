"""The catalogue of derived results kept in ``derivations/``.

Each entry is a named scheme with options at its catalogue order; ``write_catalogue``
renders every entry as Markdown (with inline LaTeX), LaTeX (an ``align*`` block) and
JSON. ``bea catalogue --out derivations`` regenerates the folder, and a test holds the
committed files equal to a fresh derivation, so the catalogue is documentation and regression net at once.

The folder is written as a whole: built beside its place and swapped in only when every
file is written (:func:`bea._files.replacing_folder`), so a failed or interrupted run
leaves the previous catalogue as it was, never a mix of new and stale files. Since the
swap replaces the whole folder, it is refused where the folder holds anything but a
catalogue (:func:`catalogue_folder_problem`).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path

from ._files import replacing_folder
from .derive import derive
from .equivalent import equivalent_step
from .modifying import modifying_field
from .render import render
from .schedule import derive_scheduled
from .schemes import build
from .schemes.tableaux import TABLEAUX

__all__ = ["ENTRIES", "Entry", "derivation_of", "write_catalogue", "render_entry", "catalogue_folder_problem"]

TITLE = "# Catalogue of derived modified flows"
"""The first line of a catalogue's index ``README.md``: how a catalogue folder is known."""
SUFFIXES = (".md", ".tex", ".json")


@dataclass(frozen=True)
class Entry:
    slug: str
    scheme: str
    order: int
    options: dict = field(default_factory=dict)
    modifying: bool = False  # the modifying field (bea derive --modifying) instead of the flow
    equivalent: str | None = None  # the one-step map and its loss (bea derive --equivalent gd)
    schedule: str | None = None  # the step h·η(t) (bea derive --schedule generic)


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
    Entry("momentum-heavy-ball-8", "momentum", 8, {"beta": "beta"}),
    Entry("momentum-heavy-ball-equivalent-gd", "momentum", 6, {"beta": "beta"}, equivalent="gd"),
] + [Entry(f"rk-{name}", "rk", _rk_order(name), {"method": name}) for name in TABLEAUX] + [
    Entry("adam", "adam", 2),
    Entry("rmsprop", "rmsprop", 2),
    Entry("normalized", "normalized", 3),
    Entry("muon", "muon", 3),
    Entry("sam", "sam", 2, {"rho_order": "1"}),
    Entry("usam", "usam", 2, {"rho_order": "1"}),
    Entry("gd-schedule", "gd", 3, schedule="generic"),
    Entry("adam-schedule", "adam", 2, schedule="generic"),
    Entry("modifying-gd", "gd", 4, modifying=True),
    Entry("modifying-rk4", "rk", 6, {"method": "rk4"}, modifying=True),
    Entry("modifying-sgd-random-3", "sgd", 3, {"batches": "3", "shuffle": "random"}, modifying=True),
    Entry("modifying-game-alternating", "game", 2, {"mode": "alternating", "rates": "alpha,lam", "steps": "1,1"},
          modifying=True),
]


def derivation_of(entry: Entry):
    """The entry's derivation: its modified flow, its modifying field, or its one-step map."""
    rule = build(entry.scheme, entry.order, **entry.options)
    if entry.equivalent:
        return equivalent_step(rule, entry.order)
    if entry.schedule:
        return derive_scheduled(rule, entry.order, schedule=entry.schedule)
    return (modifying_field if entry.modifying else derive)(rule, entry.order)


def render_entry(entry: Entry) -> dict[str, str]:
    """``{"md": …, "tex": …, "json": …}`` for one entry."""
    d = derivation_of(entry)
    command = f"bea derive --scheme {entry.scheme} --order {entry.order}" + "".join(
        f" --{k.replace('_', '-')}" + ("" if v is True else f" {v}") for k, v in entry.options.items()
    ) + (" --modifying" if entry.modifying else "") + (f" --equivalent {entry.equivalent}" if entry.equivalent else "") + (
        f" --schedule {entry.schedule}" if entry.schedule else "")
    markdown = render(d, "markdown") + f"\nRegenerate: `{command} --format markdown`\n"
    latex = render(d, "latex") + f"% Regenerate: {command} --format latex\n"
    return {"md": markdown, "tex": latex, "json": render(d, "json") + "\n"}


def catalogue_folder_problem(out: Path) -> str | None:
    """Why ``out`` may not be replaced by a catalogue, or ``None``: it may be missing,
    empty, or a catalogue (an index ``README.md`` starting with :data:`TITLE`, and
    nothing but ``.md``, ``.tex`` and ``.json`` files); anything else there would be
    lost with the old folder."""
    if not out.is_dir():
        return None
    entries = sorted(out.iterdir())
    if not entries:
        return None
    index = out / "README.md"
    is_catalogue = False
    if index.is_file():  # a regular file: never a FIFO opened
        with contextlib.suppress(OSError), open(index, "rb") as fh:
            is_catalogue = fh.read(len(TITLE.encode())) == TITLE.encode()
    stray = [p.name for p in entries
             if p.is_symlink() or not p.is_file() or p.suffix not in SUFFIXES or p.name.startswith(".")]
    if is_catalogue and not stray:
        return None
    example = f" (e.g. {stray[0]!r})" if stray else ""
    return (f"holds files that are not a bea catalogue{example}; the catalogue replaces the whole "
            "folder, so give a new or empty folder, or a catalogue folder")


def write_catalogue(out: Path, progress=None) -> list[Path]:
    """Write every entry and an index into ``out`` as a whole (built beside it, then
    swapped in); returns the paths written. Raises ``ValueError`` where ``out`` holds
    anything but a catalogue (:func:`catalogue_folder_problem`)."""
    problem = catalogue_folder_problem(out)
    if problem is not None:
        raise ValueError(f"{str(out)!r} {problem}")
    names = []
    index = [TITLE, "",
             "Regenerate with `bea catalogue --out derivations`; `tests/test_catalogue.py` holds "
             "these files equal to a fresh derivation.", "",
             "| entry | scheme | order | options |", "|---|---|---|---|"]
    with replacing_folder(out) as new:
        for entry in ENTRIES:
            for ext, text in render_entry(entry).items():
                names.append(f"{entry.slug}.{ext}")
                (new / names[-1]).write_bytes(text.encode("utf-8"))
            opts = ", ".join([f"{k}={v}" for k, v in entry.options.items()] + ["modifying"] * entry.modifying
                             + [f"equivalent={entry.equivalent}"] * bool(entry.equivalent)
                             + [f"schedule={entry.schedule}"] * bool(entry.schedule))
            index.append(f"| [{entry.slug}]({entry.slug}.md) | {entry.scheme} | {entry.order} | {opts} |")
            if progress:
                progress(entry)
        (new / "README.md").write_bytes(("\n".join(index) + "\n").encode("utf-8"))
        names.append("README.md")
    return [out / name for name in names]
