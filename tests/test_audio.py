"""WAV reading and atomic writing: round trips, clear errors, nothing partial left behind."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

import namgraph.audio as audio_mod
from namgraph.audio import check_output_path, read_wav, write_wav
from namgraph.errors import AudioError, NamGraphError, OutputError


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".part"))


def test_round_trip_is_exact_float32(tmp_path: Path) -> None:
    x = (np.random.default_rng(0).standard_normal((2, 1000)) * 0.3).astype(np.float32)
    x[0, 5] = 1.75  # float WAV keeps values above full scale
    out = write_wav(tmp_path / "a.wav", x, 44100)
    info = sf.info(out)
    assert (info.format, info.subtype, info.channels, info.samplerate, info.frames) == ("WAV", "FLOAT", 2, 44100, 1000)
    y, rate = read_wav(out)
    assert rate == 44100 and y.dtype == np.float32 and y.shape == (2, 1000)
    np.testing.assert_array_equal(y, x)
    assert leftovers(tmp_path) == []


def test_mono_1d_is_written_as_one_channel(tmp_path: Path) -> None:
    x = np.linspace(-1, 1, 64, dtype=np.float32)
    y, _ = read_wav(write_wav(tmp_path / "m.wav", x, 48000.0))
    np.testing.assert_array_equal(y, x[None])


def test_int16_wav_is_scaled_to_full_scale(tmp_path: Path) -> None:
    pcm = np.array([[0, 16384, -32768, 32767]], dtype=np.int16)
    sf.write(tmp_path / "i.wav", pcm.T, 48000, subtype="PCM_16")
    y, _ = read_wav(tmp_path / "i.wav")
    np.testing.assert_array_equal(y, pcm.astype(np.float32) / 32768)


@pytest.mark.parametrize(
    ("make", "fragment"),
    [
        (lambda p: None, "not found"),
        (lambda p: p.mkdir(), "directory"),
        (lambda p: p.write_text("hello, not audio at all\n" * 10), "not a readable audio file"),
        (lambda p: p.write_bytes(b""), "not a readable audio file"),
    ],
    ids=["missing", "directory", "text", "empty"],
)
def test_read_errors_name_the_file(tmp_path: Path, make, fragment: str) -> None:
    path = tmp_path / "in.wav"
    make(path)
    with pytest.raises(AudioError, match=fragment) as info:
        read_wav(path)
    assert info.value.file == str(path) and str(path) in str(info.value)


def test_truncated_wav_is_refused(tmp_path: Path) -> None:
    good = write_wav(tmp_path / "good.wav", np.zeros((2, 1000), np.float32), 48000)
    data = good.read_bytes()
    cut = tmp_path / "cut.wav"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(AudioError, match="truncated") as info:
        read_wav(cut)
    assert str(cut) in str(info.value)
    header_only = tmp_path / "header.wav"
    header_only.write_bytes(data[:30])
    with pytest.raises(AudioError, match=str(header_only)):
        read_wav(header_only)


def test_streaming_wav_with_unset_data_size_is_read(tmp_path: Path) -> None:
    # Streaming writers (ffmpeg to a pipe) leave the data size at 0xFFFFFFFF.
    x = np.arange(8, dtype=np.float32)[None] / 8
    data = bytearray(write_wav(tmp_path / "s.wav", x, 48000).read_bytes())
    at = data.index(b"data") + 4
    data[at : at + 4] = b"\xff\xff\xff\xff"
    (tmp_path / "s.wav").write_bytes(bytes(data))
    y, _ = read_wav(tmp_path / "s.wav")
    np.testing.assert_array_equal(y, x)


def test_failed_write_leaves_existing_file_untouched(tmp_path: Path, monkeypatch) -> None:
    target = tmp_path / "out.wav"
    target.write_bytes(b"precious")

    def explode(self, data, *args, **kwargs):  # the header already reached the temp file
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(audio_mod.sf.SoundFile, "write", explode)
    with pytest.raises(OutputError, match="No space left") as info:
        write_wav(target, np.zeros((1, 10), np.float32), 48000)
    assert str(target) in str(info.value)
    assert target.read_bytes() == b"precious"
    assert leftovers(tmp_path) == []


def test_failed_rename_leaves_no_temp_file(tmp_path: Path, monkeypatch) -> None:
    def refuse(src, dst):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(audio_mod.os, "replace", refuse)
    with pytest.raises(OutputError):
        write_wav(tmp_path / "out.wav", np.zeros((1, 10), np.float32), 48000)
    assert list(tmp_path.iterdir()) == []


def test_interrupted_write_leaves_nothing(tmp_path: Path, monkeypatch) -> None:
    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(audio_mod.sf.SoundFile, "write", interrupt)
    with pytest.raises(KeyboardInterrupt):
        write_wav(tmp_path / "out.wav", np.zeros((1, 10), np.float32), 48000)
    assert list(tmp_path.iterdir()) == []


def test_output_checks(tmp_path: Path) -> None:
    existing = tmp_path / "x.wav"
    write_wav(existing, np.zeros((1, 4), np.float32), 48000)
    with pytest.raises(OutputError, match="already exists"):
        write_wav(existing, np.ones((1, 4), np.float32), 48000, exist_ok=False)
    with pytest.raises(OutputError, match="overwrite the input"):
        write_wav(existing, np.ones((1, 4), np.float32), 48000, inputs=[tmp_path / "." / "x.wav"])
    np.testing.assert_array_equal(read_wav(existing)[0], np.zeros((1, 4), np.float32))
    write_wav(existing, np.ones((1, 4), np.float32), 48000, inputs=[existing], overwrite_input=True)
    np.testing.assert_array_equal(read_wav(existing)[0], np.ones((1, 4), np.float32))
    with pytest.raises(OutputError, match="does not exist"):
        check_output_path(tmp_path / "no" / "such" / "out.wav")
    with pytest.raises(OutputError, match="directory"):
        check_output_path(tmp_path)


@pytest.mark.parametrize("rate", [0, -48000, 44100.5, float("nan")])
def test_bad_sample_rate_is_refused(tmp_path: Path, rate: float) -> None:
    with pytest.raises(NamGraphError, match="sample rate"):
        write_wav(tmp_path / "r.wav", np.zeros((1, 4), np.float32), rate)
    assert list(tmp_path.iterdir()) == []


def test_bad_shape_is_refused(tmp_path: Path) -> None:
    with pytest.raises(AudioError, match="channels, frames"):
        write_wav(tmp_path / "s.wav", np.zeros((1, 2, 3), np.float32), 48000)
