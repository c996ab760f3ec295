"""Reading and writing audio files (WAV, and whatever else libsndfile reads) as ``(C, T)`` float32.

Writes are atomic: the audio goes to a temporary file beside the target, which replaces the
target only once it is complete, so an interrupted or failed write never leaves a partial
file and never damages the file that was there.
"""

from __future__ import annotations

import os
import struct
from os import PathLike
from pathlib import Path

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
        data, rate = sf.read(path, dtype="float32", always_2d=True)
    except (sf.SoundFileError, RuntimeError, ValueError) as exc:
        raise AudioError(f"not a readable audio file ({_soundfile_reason(exc)})", file=path) from None
    if data.ndim != 2 or data.shape[1] < 1:
        raise AudioError("audio file has no channels", file=path)
    return np.ascontiguousarray(data.T), int(rate)


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
    input_path: str | PathLike[str] | None = None,
    overwrite_input: bool = False,
) -> Path:
    """Refuse a destination that cannot or should not be written, before any work is done."""
    path = Path(path)
    if path.is_dir():
        raise OutputError("output path is a directory", file=path)
    parent = path.parent
    if not parent.is_dir():
        raise OutputError(f"output folder {str(parent)!r} does not exist", file=path)
    if input_path is not None and _same_file(path, Path(input_path)):
        if not overwrite_input:
            raise OutputError("output would overwrite the input file; refusing (use --overwrite-input)", file=path)
    elif path.exists() and not exist_ok:
        raise OutputError("output file already exists; refusing to replace it (use --force)", file=path)
    return path


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return a.resolve() == b.resolve()


def write_wav(
    path: str | PathLike[str],
    audio: np.ndarray,
    sample_rate: int | float,
    *,
    exist_ok: bool = True,
    input_path: str | PathLike[str] | None = None,
    overwrite_input: bool = False,
) -> Path:
    """Write ``audio`` (``(C, T)``, or ``(T,)`` for mono) as a 32-bit float WAV, atomically."""
    path = check_output_path(path, exist_ok=exist_ok, input_path=input_path, overwrite_input=overwrite_input)
    audio = np.asarray(audio, dtype=np.float32)
    if audio.ndim == 1:
        audio = audio[None, :]
    if audio.ndim != 2 or audio.shape[0] < 1:
        raise AudioError(f"audio to write must have shape (channels, frames), got {audio.shape}", file=path)
    rate = float(sample_rate)
    if not (np.isfinite(rate) and rate > 0 and rate == int(rate)):
        raise OutputError(f"a WAV file needs a positive whole sample rate, got {sample_rate!r}", file=path)
    container = "RF64" if audio.nbytes > _WAV_LIMIT else "WAV"
    try:
        with atomic_output(path) as handle:
            sf.write(handle, audio.T, int(rate), subtype="FLOAT", format=container)
    except sf.SoundFileError as exc:
        raise OutputError(f"cannot write audio file: {exc}", file=path) from None
    return path
