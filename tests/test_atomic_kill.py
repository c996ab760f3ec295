"""Nothing lost (issue 8): a write that fails, is interrupted, or is killed outright leaves
the existing output byte-identical and no other file behind.

``atomic_output`` is exercised in both of its modes: the anonymous ``O_TMPFILE`` file
(Linux; nothing has a name until the content is complete) and the named temporary file
(other systems), whose one documented gap is that SIGKILL leaves the hidden ``.part``
file. The command-line kill test is in ``test_render_kill``, below.
"""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest

import namgraph.atomic as atomic
from namgraph.atomic import atomic_output
from namgraph.errors import OutputError

REPO = Path(__file__).resolve().parents[1]
OLD = b"the file that was there\n"
LINUX_TMPFILE = hasattr(os, "O_TMPFILE") and Path("/proc/self/fd").is_dir()

_WRITER = r"""
import sys, time
from pathlib import Path
import namgraph.atomic as atomic
if sys.argv[2] == "named":
    atomic._PROC_FD = Path("/nonexistent")
with atomic.atomic_output(sys.argv[1]) as handle:
    handle.write(b"new content " * 100_000)
    handle.flush()
    print("written", flush=True)
    time.sleep(120)
"""


@pytest.fixture(params=["anonymous", "named"])
def mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "anonymous" and not LINUX_TMPFILE:
        pytest.skip("O_TMPFILE is Linux-only")
    if request.param == "named":
        monkeypatch.setattr(atomic, "_PROC_FD", Path("/nonexistent"))
    return request.param


def _existing(tmp_path: Path) -> Path:
    target = tmp_path / "out.wav"
    target.write_bytes(OLD)
    return target


def test_success_replaces_with_plain_permissions(tmp_path: Path, mode: str) -> None:
    target = _existing(tmp_path)
    with atomic_output(target) as handle:
        handle.write(b"new")
        if mode == "anonymous":  # nothing in the directory has a name but the old file
            assert os.listdir(tmp_path) == ["out.wav"]
        else:
            assert len(os.listdir(tmp_path)) == 2
    assert target.read_bytes() == b"new"
    assert os.listdir(tmp_path) == ["out.wav"]
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask


@pytest.mark.parametrize("interrupt", [RuntimeError, KeyboardInterrupt])
def test_an_exception_leaves_the_old_file(tmp_path: Path, mode: str, interrupt: type[BaseException]) -> None:
    target = _existing(tmp_path)
    with pytest.raises(interrupt):
        with atomic_output(target) as handle:
            handle.write(b"half of the new")
            raise interrupt("stop")
    assert target.read_bytes() == OLD
    assert os.listdir(tmp_path) == ["out.wav"]


def test_a_failed_sync_is_an_output_error(tmp_path: Path, mode: str, monkeypatch: pytest.MonkeyPatch) -> None:
    target = _existing(tmp_path)

    def full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic.os, "fsync", full)
    with pytest.raises(OutputError, match="No space left on device") as info:
        with atomic_output(target) as handle:
            handle.write(b"new")
    assert info.value.file == str(target)
    assert target.read_bytes() == OLD
    assert os.listdir(tmp_path) == ["out.wav"]


def test_a_missing_directory_is_an_output_error(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="does not exist"):
        with atomic_output(tmp_path / "nope" / "out.wav"):
            pass


def _kill_mid_write(target: Path, mode: str) -> None:
    proc = subprocess.Popen([sys.executable, "-c", _WRITER, str(target), mode], cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline() == "written\n"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL


@pytest.mark.skipif(not LINUX_TMPFILE, reason="O_TMPFILE is Linux-only")
def test_sigkill_mid_write_leaves_nothing(tmp_path: Path) -> None:
    target = _existing(tmp_path)
    _kill_mid_write(target, "anonymous")
    assert target.read_bytes() == OLD
    assert os.listdir(tmp_path) == ["out.wav"]


def test_sigkill_with_the_named_fallback_leaves_only_its_hidden_part_file(tmp_path: Path) -> None:
    """The documented limit of the fallback (design/threat-model.md): the old file is intact,
    and the temporary file stays, hidden and named for what it is."""
    target = _existing(tmp_path)
    _kill_mid_write(target, "named")
    assert target.read_bytes() == OLD
    others = sorted(set(os.listdir(tmp_path)) - {"out.wav"})
    assert len(others) == 1 and others[0].startswith(".out.wav.") and others[0].endswith(atomic.TEMP_SUFFIX)
