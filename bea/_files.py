"""The files bea reads and writes: regular files only, and every output written whole.

A FIFO, a device or a folder where a file is expected is refused from its ``os.stat``,
without opening it (opening a FIFO blocks until someone writes to it). Outputs are
written to a new file beside the target and renamed over it only once complete
(:func:`replacing`), so a failed or interrupted write leaves the previous file as it was;
a folder of outputs (the catalogue) is built beside its target and swapped in as a whole
(:func:`replacing_folder`).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import stat
import tempfile
import threading
from pathlib import Path

__all__ = ["kind_of", "not_a_regular_file", "output_file_problem", "replacing", "write_text", "replacing_folder"]

_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISSOCK, "a socket"))


def kind_of(path) -> str | None:
    """``"a directory"``, ``"a FIFO (named pipe)"``, … for a special file at ``path``
    (symbolic links followed); ``None`` for a regular file or nothing there."""
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return None
    if stat.S_ISREG(mode):
        return None
    return next((name for test, name in _KINDS if test(mode)), "a special file")


def not_a_regular_file(path, what: str) -> str | None:
    """The complaint when ``path`` is something other than a regular file (or nothing),
    e.g. ``"--plot 'p': is a FIFO (named pipe), not a regular file"``; else ``None``."""
    kind = kind_of(path)
    return None if kind is None else f"{what} {str(path)!r} is {kind}, not a regular file"


def output_file_problem(path) -> str | None:
    """Why ``path`` cannot receive an output file (``"is a FIFO (named pipe); give a
    regular file name"``, ``"directory 'x' does not exist"``, …), or ``None``. Nothing at
    ``path`` is opened: a probe file is made and removed in its folder, where
    :func:`replacing` will write (permission bits say little to root, so writing is tried)."""
    target = Path(path)
    kind = kind_of(target)
    if kind is not None:
        return f"is {kind}; give a regular file name"
    if not target.parent.exists():
        return f"directory {str(target.parent)!r} does not exist"
    if not target.parent.is_dir():
        return f"{str(target.parent)!r} is not a directory"
    if target.exists() and not os.access(target, os.W_OK):
        return "cannot write there (the file is read-only)"
    try:
        with tempfile.TemporaryFile(dir=Path(os.path.realpath(target)).parent):
            pass
    except OSError as exc:
        return f"cannot write there ({exc.strerror or exc})"
    return None


def _fresh(folder: Path, name: str, suffix: str, make) -> Path:
    """A new entry ``folder/.name.<random><suffix>`` created by ``make(path)``."""
    while True:
        path = folder / f".{name}.{secrets.token_hex(4)}{suffix}"
        try:
            make(path)
            return path
        except FileExistsError:
            continue


@contextlib.contextmanager
def replacing(path):
    """Yield a new empty file beside ``path`` (same suffix, so writers that infer the
    format from it still can); when the block ends without an exception, the file
    replaces ``path`` in one rename, with the permission bits ``path`` had. On any
    exception, ``KeyboardInterrupt`` included, it is removed and ``path`` is untouched.
    A symbolic link is followed: the file it points to is replaced."""
    target = Path(os.path.realpath(path))
    tmp = _fresh(target.parent, target.name, target.suffix,
                 lambda p: os.close(os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)))
    try:
        yield tmp
        with contextlib.suppress(FileNotFoundError):
            os.chmod(tmp, stat.S_IMODE(os.stat(target).st_mode))
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_text(path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` whole, or leave ``path`` as it was."""
    with replacing(path) as tmp:
        tmp.write_bytes(text.encode("utf-8"))


@contextlib.contextmanager
def _interrupts_held():
    """Hold Ctrl-C (SIGINT) back for a few renames: it is delivered when the block ends."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "pthread_sigmask"):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


@contextlib.contextmanager
def replacing_folder(path):
    """Yield a new empty folder; when the block ends without an exception it takes the
    place of ``path`` (missing parents are made then), the previous folder there is
    removed. On any exception it is removed and ``path`` is untouched. The new folder
    is built in the nearest existing ancestor of ``path`` (the same file system), and
    swapped in with Ctrl-C held back, so ``path`` is always either whole old or whole new."""
    target = Path(os.path.realpath(path))
    base = target.parent
    while not base.exists():
        base = base.parent
    new = _fresh(base, target.name, ".new", lambda p: os.mkdir(p, 0o777))
    try:
        yield new
        if target.exists():
            os.chmod(new, stat.S_IMODE(os.stat(target).st_mode))
        target.parent.mkdir(parents=True, exist_ok=True)
        with _interrupts_held():
            if target.exists():
                old = target.parent / f".{target.name}.{secrets.token_hex(4)}.old"
                os.rename(target, old)
                try:
                    os.rename(new, target)
                except BaseException:
                    os.rename(old, target)
                    raise
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.rename(new, target)
    except BaseException:
        shutil.rmtree(new, ignore_errors=True)
        raise
