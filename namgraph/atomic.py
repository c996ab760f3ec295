"""Atomic file output: a path holds either its old content or all of the new, never a part.

Every file namgraph writes (``.nam`` JSON, wav) goes through :func:`atomic_output`. The
bytes go to a file in the target's directory (same file system, so the final rename is
atomic), are fsynced, then renamed over the target, and the directory is fsynced.

Where the file lives while it is written:

* Linux: an anonymous file (``O_TMPFILE``): it has no name, so if the process dies, even
  by SIGKILL or a crash, the kernel frees it and nothing is left in the directory. Only
  once complete is it linked in under a temporary name (through ``/proc/self/fd``) and at
  once renamed over the target: a kill in the microseconds between those two calls is the
  only way a temporary file can be left.
* Elsewhere (or a file system without ``O_TMPFILE``): a hidden temporary file beside the
  target, ``.<name>.<random>.part``, removed on any failure or Ctrl-C, but left
  behind by SIGKILL or a power loss.

Leftover temporary files are not cleaned up automatically: one with our pattern might be
another process's (or another machine's, on a shared folder) write in progress, and
deleting it would break that write. They are hidden and named for what they are.
"""

from __future__ import annotations

import errno
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from os import PathLike
from pathlib import Path
from typing import BinaryIO

from .errors import OutputError

TEMP_SUFFIX = ".part"
_PROC_FD = Path("/proc/self/fd")
# errno values meaning "this kernel or file system has no O_TMPFILE": fall back to a named file.
_NO_TMPFILE = {errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL, errno.ENOENT}


@contextmanager
def atomic_output(path: str | PathLike[str]) -> Iterator[BinaryIO]:
    """Yield a binary read/write handle whose content replaces ``path`` when the block ends cleanly.

    On any exception (Ctrl-C included) ``path`` keeps its old content (or stays absent) and
    no temporary file is left; see the module docstring for what SIGKILL leaves.
    """
    target = Path(path)
    parent = target.parent
    if not parent.is_dir():
        raise OutputError(f"directory {str(parent)!r} does not exist", file=target)
    if target.is_dir():
        raise OutputError("is a directory", file=target)
    fd, named = _open_temp(target)
    try:
        with os.fdopen(fd, "w+b") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
            if named is None:
                named = _link_anonymous(handle.fileno(), target)
        os.replace(named, target)
    except BaseException as exc:
        if named is not None:
            named.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise OutputError(f"could not write the file ({exc.strerror or exc})", file=target) from None
        raise
    _sync_directory(parent)


def _temp_name(target: Path) -> Path:
    return target.parent / f".{target.name}.{secrets.token_hex(6)}{TEMP_SUFFIX}"


def _open_temp(target: Path) -> tuple[int, Path | None]:
    """An open file descriptor for the new content, and its name (None: anonymous, no name yet)."""
    flags = os.O_RDWR | getattr(os, "O_BINARY", 0)
    # 0o666 through the process umask: the same permissions a plain open() would give.
    if hasattr(os, "O_TMPFILE") and _PROC_FD.is_dir():
        try:
            return os.open(target.parent, flags | os.O_TMPFILE, 0o666), None
        except OSError as exc:
            if exc.errno not in _NO_TMPFILE:
                raise _cannot_create(target, exc) from None
    temp = _temp_name(target)
    try:
        return os.open(temp, flags | os.O_CREAT | os.O_EXCL, 0o666), temp
    except OSError as exc:
        raise _cannot_create(target, exc) from None


def _link_anonymous(fd: int, target: Path) -> Path:
    """Give the complete anonymous file a (temporary) name beside ``target``.

    ``linkat(..., AT_SYMLINK_FOLLOW)`` on ``/proc/self/fd/N`` (open(2)'s recipe; no privilege
    needed). Passing a ``dst_dir_fd`` makes CPython call ``linkat`` with that flag; without
    one it calls ``link()``, which does not follow the magic link (EXDEV).
    """
    directory = os.open(target.parent, os.O_RDONLY)
    try:
        while True:
            temp = _temp_name(target)
            try:
                os.link(f"{_PROC_FD}/{fd}", temp.name, dst_dir_fd=directory, follow_symlinks=True)
                return temp
            except FileExistsError:  # 48 random bits collided: pick another name
                continue
    finally:
        os.close(directory)


def _cannot_create(target: Path, exc: OSError) -> OutputError:
    return OutputError(f"cannot create a file in {str(target.parent)!r} ({exc.strerror or exc})", file=target)


def _sync_directory(directory: Path) -> None:
    """Make the rename itself durable where the platform allows it (best effort)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
