"""Atomic file output: a path holds either its old content or all of the new, never a part.

Every file namgraph writes (``.nam`` JSON, wav) goes through :func:`atomic_output`: the
bytes go to a temporary file beside the target (same file system, so the rename is
atomic), are fsynced, then renamed over the target. On any failure, Ctrl-C included, the
temporary file is removed and an existing target is untouched.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from os import PathLike
from pathlib import Path
from typing import BinaryIO

from .errors import OutputError


@contextmanager
def atomic_output(path: str | PathLike[str]) -> Iterator[BinaryIO]:
    """Yield a binary read/write handle whose content replaces ``path`` when the block ends cleanly."""
    target = Path(path)
    parent = target.parent
    if not parent.is_dir():
        raise OutputError(f"directory {str(parent)!r} does not exist", file=target)
    if target.is_dir():
        raise OutputError("is a directory", file=target)
    temp = parent / f".{target.name}.{secrets.token_hex(6)}.part"
    try:
        # 0o666 through the process umask: the same permissions a plain open() would give.
        fd = os.open(temp, os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    except OSError as exc:
        raise OutputError(f"cannot create a file in {str(parent)!r} ({exc.strerror or exc})", file=target) from None
    try:
        with os.fdopen(fd, "w+b") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, target)
    except BaseException as exc:
        temp.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise OutputError(f"could not write the file ({exc.strerror or exc})", file=target) from None
        raise
    _sync_directory(parent)


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
