"""Importing a name from a user's Python file, given as ``path/to/file.py:name``.

The file is the user's own code and runs as a module; the ``FILE.py:NAME`` string itself
is only split, never evaluated. A file that raises, or exits (``sys.exit``, ``SystemExit``)
while importing gives the caller's error class, naming the file; a ``KeyboardInterrupt``
(Ctrl-C during a slow import) is let through, so the command line ends with 130. Only a
regular file is imported: a FIFO or a device is refused from its ``os.stat``, unopened.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from ._files import not_a_regular_file

__all__ = ["load_attribute"]


def load_attribute(spec: str, what: str, error: type[Exception]):
    """The object ``NAME`` defined in ``FILE.py``; failures raise ``error`` naming ``what``."""
    path_text, sep, attr = spec.rpartition(":")
    if not sep or not path_text or not attr.isidentifier():
        raise error(f"{what} must look like path/to/file.py:NAME, got {spec!r}")
    path = Path(path_text)
    special = not_a_regular_file(path, f"{what}:")
    if special is not None:
        raise error(special)
    if not path.is_file():
        raise error(f"{what}: file {path_text!r} does not exist")
    module_spec = importlib.util.spec_from_file_location(f"bea_user_{path.stem}", path)
    module = importlib.util.module_from_spec(module_spec)
    try:
        module_spec.loader.exec_module(module)
    except (Exception, SystemExit) as exc:  # the user's file raised or exited
        detail = f": {exc}" if str(exc) else ""
        raise error(f"{what}: importing {path_text} failed: {type(exc).__name__}{detail}") from None
    if not hasattr(module, attr):
        raise error(f"{what}: {path_text} defines no {attr!r}")
    return getattr(module, attr)
