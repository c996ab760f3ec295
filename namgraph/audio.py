"""Reading and writing audio files (WAV, and whatever else libsndfile reads) as ``(C, T)`` float32.

Writes are atomic: the audio goes to a temporary file beside the target, which replaces the
target only once it is complete, so an interrupted or failed write never leaves a partial
file and never damages the file that was there. Long audio is read and written block by
block (:func:`read_wav_blocks`, :func:`wav_writer`), never whole.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from .atomic import atomic_output
from .errors import AudioError, OutputError

_RIFF_UNKNOWN_SIZES = (0, 0xFFFFFFFF)  # streaming writers leave the data size unset
_WAV_LIMIT = 0xFFFFFFFF - 4096  # above this a RIFF size field overflows: use RF64


def read_wav(path: str | PathLike[str]) -> tuple[np.ndarray, int]:
    """The audio as float32 ``(channels, frames)`` and its sample rate.

    Integer PCM is scaled to [-1, 1) as usual. A WAV whose data chunk is shorter than its
    header says (a truncated copy or download) is refused rather than silently shortened.
    """
    path = Path(path)
    with open_audio(path) as f:
        data, rate = _read(f, path, -1), int(f.samplerate)
    return np.ascontiguousarray(data.T), rate


def read_wav_blocks(path: str | PathLike[str], frames: int) -> Iterator[np.ndarray]:
    """The audio of :func:`read_wav` as consecutive float32 ``(channels, <= frames)`` blocks,
    read from the file one at a time (never the whole signal in memory)."""
    path = Path(path)
    with open_audio(path) as f:
        while True:
            block = _read(f, path, frames)
            if not block.shape[0]:
                return
            yield np.ascontiguousarray(block.T)


def open_audio(path: Path) -> sf.SoundFile:
    """The file opened for reading, after the checks libsndfile does not make."""
    if not path.exists():
        raise AudioError("audio file not found", file=path)
    if path.is_dir():
        raise AudioError("is a directory, not an audio file", file=path)
    try:
        with open(path, "rb") as f:
            head = f.read(12)
    except OSError as exc:
        raise AudioError(f"cannot read audio file: {exc.strerror or exc}", file=path) from None
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        _check_wav_complete(path)
    try:
        opened = sf.SoundFile(path)
    except (sf.SoundFileError, RuntimeError, ValueError) as exc:
        raise AudioError(f"not a readable audio file ({_soundfile_reason(exc)})", file=path) from None
    if opened.channels < 1:
        opened.close()
        raise AudioError("audio file has no channels", file=path)
    return opened


def _read(f: sf.SoundFile, path: Path, frames: int) -> np.ndarray:
    try:
        return f.read(frames, dtype="float32", always_2d=True)
    except (sf.SoundFileError, RuntimeError, ValueError) as exc:
        raise AudioError(f"not a readable audio file ({_soundfile_reason(exc)})", file=path) from None


def _soundfile_reason(exc: Exception) -> str:
    text = str(exc)
    return text.split(": ", 1)[1] if text.startswith("Error opening") and ": " in text else text


def _check_wav_complete(path: Path) -> None:
    """Walk the RIFF chunks; refuse a file whose ``data`` chunk runs past its end."""
    size = path.stat().st_size
    with open(path, "rb") as f:
        f.seek(12)
        while True:
            header = f.read(8)
            if len(header) < 8:
                raise AudioError("WAV file is truncated or corrupt: it has no 'data' chunk", file=path)
            chunk_id, chunk_size = header[:4], struct.unpack("<I", header[4:])[0]
            start = f.tell()
            if chunk_id == b"data":
                if chunk_size not in _RIFF_UNKNOWN_SIZES and start + chunk_size > size:
                    raise AudioError(
                        f"WAV file is truncated: its header announces {chunk_size} bytes of audio "
                        f"but only {size - start} are present",
                        file=path,
                    )
                return
            f.seek(start + chunk_size + (chunk_size & 1))


def check_output_path(
    path: str | PathLike[str],
    *,
    exist_ok: bool = True,
    inputs: Iterable[str | PathLike[str]] = (),
    overwrite_input: bool = False,
    input_flag: str | None = None,
) -> Path:
    """Refuse a destination that cannot or should not be written, before any work is done.

    ``inputs``: the files the command reads. An output that is one of them (the same file,
    through any symlink or hard link) is refused: only ``overwrite_input`` (a command's
    explicit flag, which ``input_flag`` names in the error) allows it, and then the existing
    file needs no ``exist_ok``.
    """
    path = Path(path)
    if path.is_dir():
        raise OutputError("output path is a directory", file=path)
    parent = path.parent
    if not parent.is_dir():
        raise OutputError(f"output folder {str(parent)!r} does not exist", file=path)
    same = next((Path(p) for p in inputs if _same_file(path, Path(p))), None)
    if same is not None:
        if not overwrite_input:
            how = f"use {input_flag} to replace it" if input_flag else "choose another output file"
            raise OutputError(f"output would overwrite the input file {str(same)!r} (the same file); refusing ({how})", file=path)
    elif path.exists() and not exist_ok:
        raise OutputError("output file already exists; refusing to replace it (use --force)", file=path)
    return path


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet)
        return a.resolve() == b.resolve()


def write_wav(
    path: str | PathLike[str],
    audio: np.ndarray,
    sample_rate: int | float,
    *,
    exist_ok: bool = True,
    inputs: Iterable[str | PathLike[str]] = (),
    overwrite_input: bool = False,
    input_flag: str | None = None,
) -> Path:
    """Write ``audio`` (``(C, T)``, or ``(T,)`` for mono) as a 32-bit float WAV, atomically.

    The keywords are :func:`check_output_path`'s.
    """
    path = Path(path)
    audio = np.asarray(audio, dtype=np.float32)
    if audio.ndim == 1:
        audio = audio[None, :]
    if audio.ndim != 2 or audio.shape[0] < 1:
        raise AudioError(f"audio to write must have shape (channels, frames), got {audio.shape}", file=path)
    channels, frames = audio.shape
    checks = dict(exist_ok=exist_ok, inputs=inputs, overwrite_input=overwrite_input, input_flag=input_flag)
    with wav_writer(path, sample_rate, channels, frames, **checks) as write:
        write(audio)
    return path


@contextmanager
def wav_writer(
    path: str | PathLike[str],
    sample_rate: int | float,
    channels: int,
    frames: int,
    **checks: Any,
) -> Iterator[Callable[[np.ndarray], None]]:
    """A 32-bit float WAV written block by block: yields ``write((channels, T) block)``.

    All of it goes into one :func:`~namgraph.atomic.atomic_output`: the file appears, whole,
    only when the ``with`` block ends cleanly; an exception (a refused block, Ctrl-C) leaves
    the old file, or none, and nothing else. ``frames`` (the expected total) chooses RF64
    over WAV for files past 4 GiB. ``checks`` are :func:`check_output_path`'s keywords.
    """
    path = check_output_path(path, **checks)
    rate = float(sample_rate)
    if not (np.isfinite(rate) and rate > 0 and rate == int(rate)):
        raise OutputError(f"a WAV file needs a positive whole sample rate, got {sample_rate!r}", file=path)
    container = "RF64" if channels * frames * 4 > _WAV_LIMIT else "WAV"
    try:
        with atomic_output(path) as handle, sf.SoundFile(
            handle, "w", samplerate=int(rate), channels=channels, subtype="FLOAT", format=container
        ) as f:

            def write(block: np.ndarray) -> None:
                f.write(np.asarray(block, dtype=np.float32).T)

            yield write
    except sf.SoundFileError as exc:
        raise OutputError(f"cannot write audio file: {exc}", file=path) from None
