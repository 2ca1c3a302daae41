"""Uniform one-paragraph errors for failures of the environment (disk, signals, resources),
so no command ends in "internal error" for something the user can fix.

:func:`classify` turns an exception that escaped a command into a :class:`WelfareSimError`
(exit 2) when it is the environment's fault or hostile input, or returns None for a bug.
:func:`install_sigterm` makes SIGTERM stop a command like Ctrl-C does (every ``finally`` and
staging-folder clean-up runs) and exit with 143.
"""

from __future__ import annotations

import errno
import signal
import sys
from pathlib import Path

from sim.errors import WelfareSimError

DISK_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EIO,
               errno.ENOTDIR, errno.EISDIR, errno.EEXIST, errno.ENAMETOOLONG, errno.ELOOP,
               errno.EMFILE, errno.ENFILE, errno.EXDEV, errno.ENOENT, errno.EBUSY)

EXIT_TERMINATED = 143
_terminated = False


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so every clean-up path runs."""


def _on_sigterm(signum, frame) -> None:
    global _terminated
    _terminated = True
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a second SIGTERM ends at once
    raise Terminated()


def install_sigterm() -> None:
    signal.signal(signal.SIGTERM, _on_sigterm)


def terminated() -> bool:
    return _terminated


def os_error_text(exc: OSError) -> str:
    what = exc.strerror or str(exc)
    if exc.filename:
        what += f": {exc.filename}"
    return what


def output_error(exc: OSError, dest: Path | str, what: str, kept: str = "") -> WelfareSimError:
    """A full disk, read-only or unwritable folder while writing ``what`` to ``dest``."""
    keep = f" {kept}" if kept else ""
    return WelfareSimError(f"{dest}: cannot write the {what} ({os_error_text(exc)}).{keep} "
                           "Expected a writable folder with free space; nothing half-written "
                           "was left in place.")


def classify(exc: BaseException, argv: list[str] | None = None) -> WelfareSimError | None:
    """A user-facing error for an exception that escaped a command, or None (a bug)."""
    argv = sys.argv[1:] if argv is None else argv
    cmd = " ".join(argv[:1]) or "welfare-sim"
    if isinstance(exc, OSError) and exc.errno in DISK_ERRNOS:
        return WelfareSimError(f"{cmd}: a file operation failed ({os_error_text(exc)}). "
                               "Expected readable inputs and a writable output folder with "
                               "free space.")
    if isinstance(exc, MemoryError):
        return WelfareSimError(f"{cmd}: out of memory. Expected a smaller input (a smaller "
                               "design, scenario scale or horizon).")
    if isinstance(exc, RecursionError):
        return WelfareSimError(f"{cmd}: an input is nested too deeply. Expected tables and "
                               "arrays at most 24 levels deep.")
    return None
