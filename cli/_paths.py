"""Output paths checked before any work starts (one line and exit 2 when unusable).

Nothing at the path is opened (a FIFO would block): FIFOs, devices and sockets are
refused from their ``os.stat``; writability is probed with a temporary file in the
folder, where the output is written before it is renamed into place
(:mod:`bea._files`).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from bea._files import kind_of, output_file_problem

from ._common import fail

__all__ = ["writable_file", "writable_directory"]


def writable_file(option: str, path: str) -> None:
    """``path`` can be written as a file: its folder exists and takes a new file, and
    nothing but a regular file is there."""
    problem = output_file_problem(path)
    if problem is not None:
        fail(f"{option} {path!r}: {problem}")


def writable_directory(option: str, path: str) -> None:
    """``path`` is (or can become) a folder we can write into: nothing but a folder is
    there, the nearest existing ancestor is a folder, and a temporary file can be made
    there."""
    target = Path(path)
    kind = kind_of(target)
    if target.exists() and kind is None:
        fail(f"{option}: {path!r} is a file, not a directory")
    if kind not in (None, "a directory"):
        fail(f"{option}: {path!r} is {kind}, not a directory")
    existing = target
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        fail(f"{option}: {str(existing)!r} is not a directory")
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as exc:
        fail(f"{option}: cannot write into {str(existing)!r}: {exc.strerror or exc}")
