"""Output paths checked before any work starts (one line and exit 2 when unusable).

Permission bits say little (root may write anywhere they allow, yet not under ``/proc``),
so writability is probed: a file that does not exist yet is created and removed at once;
a directory gets a temporary file.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from ._common import fail

__all__ = ["writable_file", "writable_directory"]


def writable_file(option: str, path: str) -> None:
    """``path`` can be written as a file: its folder exists, it is not a folder, and a
    probe succeeds (leaving nothing behind)."""
    target = Path(path)
    parent = target.parent
    if target.is_dir():
        fail(f"{option}: {path!r} is a directory; give a file name")
    if not parent.exists():
        fail(f"{option}: directory {str(parent)!r} does not exist")
    if not parent.is_dir():
        fail(f"{option}: {str(parent)!r} is not a directory")
    existed = target.exists()
    try:
        with open(target, "a" if existed else "x", encoding="utf-8"):
            pass
    except OSError as exc:
        fail(f"{option}: cannot write {path!r}: {exc.strerror or exc}")
    if not existed:
        os.unlink(target)


def writable_directory(option: str, path: str) -> None:
    """``path`` is (or can become) a folder we can write into: it is not a file, the
    nearest existing ancestor is a folder, and a temporary file can be made there."""
    target = Path(path)
    if target.exists() and not target.is_dir():
        fail(f"{option}: {path!r} is a file, not a directory")
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
