"""Never delete what a user owns; never leave a half-written result.

Every output folder welfare-sim writes carries a marker file, :data:`MARKER`
(``.welfare-sim.json``: the kind of output and whether it is finished). ``--overwrite`` only
ever removes a folder that is empty or carries the marker of the same kind (or, for folders
written before the marker existed, holds nothing but that command's own files); never ``/``,
the home folder, the working folder or one of its parents, and never through a symbolic link.
:func:`atomic_write` writes a file through a temporary file, fsync and rename, so a crash
leaves the old file or the new one, never a truncated one.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sim.errors import InputError

MARKER = ".welfare-sim.json"
KINDS = ("run", "sweep", "compare", "summary")

# files of folders written before the marker existed (kind -> names a legacy folder may hold)
_LEGACY = {
    "run": ({"manifest.json"}, {"ticks.parquet", "ticks.csv", "summary.json", "manifest.json"}),
    "sweep": ({"manifest.json", "runs"}, {"design.parquet", "sample.parquet", "runs",
                                          "results.parquet", "manifest.json", "analysis"}),
    "compare": ({"manifest.json", "runs"}, {"runs", "runs.parquet", "summary.csv",
                                            "differences.csv", "figures", "report.md",
                                            "manifest.json", "results.parquet",
                                            "draws.parquet", "draws.csv", "robustness.csv",
                                            "draw_differences.csv", "importance.csv",
                                            "prim.json", "verdict.txt", "results.xlsx"}),
    "summary": ({"SUMMARY.md"}, {"SUMMARY.md", "summary.csv", "manifest.json", "sobol.csv",
                                 "morris.csv", "robustness.csv", "timeseries.png",
                                 "indices.png", "tradeoff.png"}),
}

_UMASK = os.umask(0o022)
os.umask(_UMASK)


# ------------------------------------------------------------------ markers
def read_marker(folder: Path) -> dict[str, Any] | None:
    """The marker of ``folder`` (None if it has none or it is unreadable)."""
    p = Path(folder) / MARKER
    try:
        if p.is_symlink() or not p.is_file() or p.stat().st_size > 65536:
            return None
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("tool") != "welfare-sim":
        return None
    return data


def write_marker(folder: Path, kind: str, state: str = "partial", **extra: Any) -> None:
    """Mark ``folder`` as welfare-sim output of ``kind`` (``partial`` until finished)."""
    info = {"tool": "welfare-sim", "kind": kind, "state": state,
            "written": datetime.now(UTC).isoformat(timespec="seconds"), **extra}
    atomic_write_text(Path(folder) / MARKER, json.dumps(info, indent=1, default=str) + "\n")


def _legacy_kind_ok(folder: Path, kind: str, names: set[str]) -> bool:
    need, allowed = _LEGACY[kind]
    if not need <= names or not names <= allowed | {MARKER}:
        return False
    if "manifest.json" in names and kind in ("sweep", "compare"):
        try:
            m = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        return isinstance(m, dict) and m.get("kind") == kind
    return True


def _listdir(folder: Path) -> set[str]:
    try:
        return set(os.listdir(folder))
    except OSError as exc:
        raise InputError(f"{folder}: cannot be read ({exc.strerror}). Expected a readable "
                         "folder.") from None


def owned_kind(folder: Path) -> str | None:
    """The kind of welfare-sim output ``folder`` holds (None: not ours / not recognised)."""
    m = read_marker(folder)
    if m is not None:
        return str(m.get("kind"))
    names = _listdir(folder)
    for kind in KINDS:
        if _legacy_kind_ok(folder, kind, names):
            return kind
    return None


# ------------------------------------------------------------------ protected folders
def _protected(real: Path) -> str | None:
    """Why ``real`` (a resolved path) must never be replaced, or None."""
    if real == Path(real.anchor):
        return "the root folder"
    with contextlib.suppress(RuntimeError, KeyError, OSError):
        if real == Path.home().resolve():
            return "your home folder"
    with contextlib.suppress(OSError):
        cwd = Path.cwd().resolve()
        if real == cwd:
            return "the working folder"
        if cwd.is_relative_to(real):
            return "a parent of the working folder"
    return None


def _resolve(path: Path, flag: str) -> Path:
    try:
        return path.resolve()
    except (RuntimeError, OSError) as exc:  # a symlink loop, a too-long name
        raise InputError(f"{flag} {path}: cannot be resolved ({exc}). Expected a folder "
                         "path without a symbolic-link loop.") from None


def check_output_path(path: Path, flag: str = "--out") -> None:
    """Refuse an output path that must never be written into or replaced: a NUL or an
    over-long name, a symbolic link, ``/``, the home folder, the working folder or one of its
    parents (used by every command that writes a folder)."""
    path = Path(path)
    if "\0" in str(path):
        raise InputError(f"{flag} {str(path)!r}: a path with a NUL character. Expected a "
                         "folder path.")
    if len(str(path)) > 4000 or any(len(part.encode()) > 255 for part in path.parts):
        raise InputError(f"{flag} {str(path)[:80]}…: the path is too long. Expected a "
                         "folder path of at most 4,000 characters (255 per name).")
    if path.is_symlink():
        target = os.readlink(path)
        raise InputError(f"{flag} {path}: is a symbolic link (to {target}). welfare-sim "
                         "writes only into real folders, so it never replaces or fills "
                         "something a link points to. Expected a folder path; give the "
                         "link's target itself if you mean it.")
    real = _resolve(path, flag)
    why = _protected(real)
    if why is not None:
        raise InputError(f"{flag} {path}: is {why} ({real}). welfare-sim never writes its "
                         "output into it or replaces it. Expected a new folder for the "
                         f"results, e.g. {flag} results/NAME.")


def check_output_dir(path: Path, kind: str, *, overwrite: bool = False, resume: bool = False,
                     flag: str = "--out") -> bool:
    """Check that ``path`` may receive ``kind`` output *before* any work starts.

    Returns True if the folder exists with content that will be replaced (``overwrite``)
    or continued (``resume``). Raises :class:`InputError` (one paragraph saying how to
    proceed) for a file, a symbolic link, a protected folder, a folder of another kind or
    a user folder."""
    path = Path(path)
    check_output_path(path, flag)
    if not path.exists():
        parent = path.parent
        while not parent.exists() and parent != parent.parent:
            parent = parent.parent
        if parent.exists() and not parent.is_dir():
            raise InputError(f"{flag} {path}: {parent} is a file, not a folder. Expected a "
                             "folder path.")
        return False
    if not path.is_dir():
        raise InputError(f"{flag} {path}: is a file, not a folder. Expected a folder path "
                         "(the file is left alone).")
    names = _listdir(path)
    if not names:
        return False
    found = owned_kind(path)
    if found is None:
        raise InputError(f"{flag} {path}: the folder is not empty and was not written by "
                         f"welfare-sim {kind} (no {MARKER} marker), so it is left alone"
                         f"{' even with --overwrite' if overwrite else ''}. Expected a new "
                         "or empty folder; move your files or choose another folder.")
    if found != kind:
        raise InputError(f"{flag} {path}: holds the output of welfare-sim {found}, not "
                         f"{kind}; it is left alone. Expected a new folder or an earlier "
                         f"{kind} folder.")
    if overwrite or resume:
        return True
    extra = " --resume to continue it or" if kind in ("sweep", "compare") else ""
    raise InputError(f"{flag} {path}: already holds welfare-sim {kind} output. Expected a "
                     f"new folder; pass{extra} --overwrite to replace it.")


def remove_output_dir(path: Path, kind: str) -> None:
    """Delete ``path`` after :func:`check_output_dir` approved it (checked again here)."""
    check_output_dir(path, kind, overwrite=True)
    if path.exists():
        shutil.rmtree(path)


def replace_dir(staging: Path, dest: Path, kind: str) -> None:
    """Move a finished ``staging`` folder to ``dest``, replacing an approved earlier output.
    The old folder is first renamed aside, so ``dest`` is at every moment either the old
    output or the new one."""
    aside = None
    if dest.exists():
        check_output_dir(dest, kind, overwrite=True)
        aside = Path(tempfile.mkdtemp(prefix=f".{dest.name}.old.", dir=dest.parent))
        os.replace(dest, aside / "old")
    try:
        os.replace(staging, dest)
    except BaseException:
        if aside is not None:
            os.replace(aside / "old", dest)
            shutil.rmtree(aside, ignore_errors=True)
        raise
    fsync_dir(dest.parent)
    if aside is not None:
        shutil.rmtree(aside, ignore_errors=True)


@contextlib.contextmanager
def staging_dir(dest: Path, kind: str) -> Iterator[Path]:
    """A hidden folder next to ``dest`` (same file system) with a partial marker, removed on
    any error or interruption (SIGTERM, Ctrl-C)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".partial", dir=dest.parent))
    try:
        os.chmod(tmp, 0o777 & ~_UMASK)  # mkdtemp makes 0700; results are meant to be shared
        write_marker(tmp, kind, "partial")
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


# ------------------------------------------------------------------ atomic files
def fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def atomic_write(path: Path, write: Callable[[Path], Any]) -> None:
    """Call ``write(tmp_path)``, fsync the file, then rename it to ``path`` (same folder)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; results are meant to be shared
        write(Path(tmp))
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"))


# ------------------------------------------------------------------ input files
MAX_INPUT_BYTES = 1_000_000
MAX_DEPTH = 24
MAX_NAME = 200
MAX_TEXT = 20_000


def read_input_file(path: Path, what: str) -> bytes:
    """The bytes of a regular input file of at most :data:`MAX_INPUT_BYTES` (a FIFO, a device
    or a folder is refused without opening it for long)."""
    try:
        st = path.stat()
    except FileNotFoundError:
        raise InputError(f"{path}: file not found. Expected {what}.") from None
    except RuntimeError as exc:  # a symlink loop (pathlib raises RuntimeError on some paths)
        raise InputError(f"{path}: cannot be read ({exc}). Expected {what}.") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror}). Expected {what}.") from None
    if stat.S_ISDIR(st.st_mode):
        raise InputError(f"{path}: is a folder. Expected {what}.")
    if not stat.S_ISREG(st.st_mode):
        raise InputError(f"{path}: is not a regular file (a pipe, socket or device). "
                         f"Expected {what}.")
    if st.st_size > MAX_INPUT_BYTES:
        raise InputError(f"{path}: is {st.st_size:,} bytes. Expected {what} of at most "
                         f"{MAX_INPUT_BYTES:,} bytes.")
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_INPUT_BYTES + 1)
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror}). Expected {what}.") from None
    if len(data) > MAX_INPUT_BYTES:
        raise InputError(f"{path}: is over {MAX_INPUT_BYTES:,} bytes. Expected {what} of at "
                         "most that size.")
    return data


def check_structure(data: Any, path: Path | str) -> None:
    """Refuse nesting deeper than :data:`MAX_DEPTH` and over-long keys or texts (iterative:
    no recursion on hostile input)."""
    stack: list[tuple[Any, int, str]] = [(data, 0, "")]
    while stack:
        node, depth, key = stack.pop()
        if depth > MAX_DEPTH:
            raise InputError(f"{path}, key '{key[:80]}': nested more than {MAX_DEPTH} "
                             f"levels deep. Expected tables and arrays at most {MAX_DEPTH} "
                             "levels deep.")
        if isinstance(node, dict):
            for k, v in node.items():
                if len(k) > MAX_NAME:
                    raise InputError(f"{path}: a key of {len(k):,} characters "
                                     f"('{k[:40]}…'). Expected keys of at most {MAX_NAME} "
                                     "characters.")
                stack.append((v, depth + 1, f"{key}.{k}" if key else k))
        elif isinstance(node, list):
            for i, v in enumerate(node):
                stack.append((v, depth + 1, f"{key}[{i}]"))
        elif isinstance(node, str) and len(node) > MAX_TEXT:
            raise InputError(f"{path}, key '{key[:80]}': a text of {len(node):,} characters. "
                             f"Expected at most {MAX_TEXT:,}.")


def check_name(value: str, path: Path | str, key: str) -> None:
    if len(value) > MAX_NAME:
        raise InputError(f"{path}, key '{key}': a name of {len(value):,} characters. Expected "
                         f"a name of at most {MAX_NAME} characters.")
    if any(ord(c) < 32 for c in value):
        raise InputError(f"{path}, key '{key}': the name contains control characters. "
                         "Expected a name on one line.")
