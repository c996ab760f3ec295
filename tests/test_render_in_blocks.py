"""Audio over the ``render_samples`` limit (issue 8): ``namgraph.render`` renders it in blocks
through the streaming path, and ``namgraph render`` reads, renders and writes such a file
block by block into one atomic output. The result equals the whole render (float32
rounding); a render killed midway leaves the old output and no other file.

The reference is the whole render under the default limits (itself checked against NumPy
and Core elsewhere); tiny limits force the block path on short audio.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from cli_runner import invoke
import namgraph
import namgraph.audio
import namgraph.rendering
from namgraph.audio import read_wav, write_wav
from namgraph.errors import AudioError
from namgraph.limits import override
from namgraph.rendering import MIN_BLOCK_FRAMES, block_frames

import nam_docs

REPO = Path(__file__).resolve().parents[1]
TOL = 1e-5  # float32 rounding: block lengths change XLA's fusion, not the arithmetic


def noise(*shape: int, seed: int = 0) -> np.ndarray:
    return (0.3 * np.random.default_rng(seed).standard_normal(shape)).astype(np.float32)


@pytest.fixture(scope="module")
def wavenet() -> namgraph.Model:
    return namgraph.load(nam_docs.tiny_wavenet())


def refuse_whole_render(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the whole-signal path fail, so a passing test proves the block path ran."""

    def whole(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("rendered whole")

    monkeypatch.setattr(namgraph.rendering, "render_batch", whole)


# ----------------------------------------------------------------------------- the API


def test_block_frames_keeps_each_block_within_the_limit() -> None:
    with override(render_samples=1000):
        assert block_frames(2, 500, 64) is None  # exactly the limit: held whole
        assert block_frames(2, 501, 64) == 500
        assert block_frames(3, 1000, 64) == 333
        assert block_frames(5000, 1, 64) == 1  # one frame is over: still one frame a block
    assert block_frames(1, 1 << 27, 1024) is None
    over = (1 << 27) + 1
    assert block_frames(1, over, 1024) == MIN_BLOCK_FRAMES == 1 << 16  # whole chunks, at least 2^16
    assert block_frames(1, over, 3000) == 3000 * 22
    assert block_frames(1, over, 100_000) == 100_000
    assert block_frames(4096, over, 100_000) == (1 << 27) // 4096  # the limit comes first


@pytest.mark.parametrize(
    "shape", [(2000,), (2, 1500), (3, 1, 900)], ids=["mono", "dual mono", "batch"]
)
def test_over_the_limit_renders_in_blocks_as_the_whole(wavenet: namgraph.Model, shape: tuple[int, ...], monkeypatch: pytest.MonkeyPatch) -> None:
    x = noise(*shape, seed=len(shape))
    whole = namgraph.render(wavenet, x)
    refuse_whole_render(monkeypatch)
    with override(render_samples=700):
        blocked = namgraph.render(wavenet, x)
    assert blocked.shape == whole.shape == x.shape and blocked.dtype == np.float32
    np.testing.assert_allclose(blocked, whole, atol=TOL, rtol=0)
    assert np.abs(whole).max() > 1e-3  # the model does something


def test_a_rig_over_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    from namgraph.graph import chain, delay, gain

    rig = chain(namgraph.load(nam_docs.tiny_wavenet()), delay(37), gain(-3.0), namgraph.load(nam_docs.linear(5)))
    x = noise(1200, seed=5)
    whole = namgraph.render(rig, x)
    refuse_whole_render(monkeypatch)
    with override(render_samples=256):
        np.testing.assert_allclose(namgraph.render(rig, x), whole, atol=TOL, rtol=0)


def test_nan_found_in_a_later_block_is_located_in_the_whole_signal(wavenet: namgraph.Model) -> None:
    x = noise(2, 1000)
    x[1, 777] = np.nan
    with override(render_samples=200), pytest.raises(AudioError, match="the first is at sample 777, channel 1"):
        namgraph.render(wavenet, x)


def test_render_blocks_yields_each_block_as_it_comes(wavenet: namgraph.Model) -> None:
    from namgraph.streaming import render_blocks

    x = noise(2, 700, seed=4)
    sizes = [0, 100, 1, 350, 249]
    cuts = np.cumsum([0] + sizes)
    outs = list(render_blocks(wavenet, (x[:, a:b] for a, b in zip(cuts, cuts[1:]))))
    assert [y.shape for y in outs] == [(2, n) for n in sizes]
    np.testing.assert_allclose(np.concatenate(outs, axis=1), namgraph.render(wavenet, x), atol=TOL, rtol=0)
    with pytest.raises(AudioError, match=r"leading shape \(2,\) of the first"):
        list(render_blocks(wavenet, [x[:, :10], x[:1, 10:20]]))


def test_a_shorter_last_block_reuses_the_compiled_step(tmp_path: Path) -> None:
    """1000 samples in blocks of 300: the last 100 run zero-padded through the 300-sample
    step, so the stream compiles once; the audio is still the whole render's."""
    from namgraph.streaming import compiled_step_in_place, render_streaming

    taps = np.linspace(1.0, -0.5, 37).astype(np.float32)  # a shape no other test streams
    model = namgraph.load(nam_docs.write_linear(tmp_path / "ir37.nam", taps))
    x = noise(1000, seed=6)
    got = render_streaming(model, x, 300)
    assert len(compiled_step_in_place(model.architecture, None, None, False).compiled()) == 1
    np.testing.assert_allclose(got, namgraph.render(model, x), atol=TOL, rtol=0)


def test_many_channels_with_a_short_last_block(wavenet: namgraph.Model) -> None:
    """70 channels (dual mono) in blocks of 996: the 4-frame last block is (70, 4), which alone
    would look like (frames, channels); the first block settled the layout."""
    from namgraph.streaming import render_streaming

    x = noise(70, 1000, seed=5)
    np.testing.assert_allclose(render_streaming(wavenet, x, 996), namgraph.render(wavenet, x), atol=TOL, rtol=0)


def test_within_the_limit_is_one_whole_render(wavenet: namgraph.Model, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real = namgraph.rendering.render_batch
    monkeypatch.setattr(namgraph.rendering, "render_batch", lambda arch, params, x: calls.append(x.shape[-1]) or real(arch, params, x))
    with override(render_samples=2000):
        namgraph.render(wavenet, noise(2000))
    assert calls == [2000]


# ----------------------------------------------------------------------------- the command line



@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    model = nam_docs.write(tmp_path, nam_docs.tiny_wavenet(), "wavenet.nam")
    loud = nam_docs.write_linear(tmp_path / "loud.nam", np.array([8.0], np.float32))
    stereo = write_wav(tmp_path / "stereo.wav", noise(2, 3000, seed=1), 48000)
    short = write_wav(tmp_path / "short.wav", noise(1, 100, seed=2), 48000)
    return {"dir": tmp_path, "model": model, "loud": loud, "stereo": stereo, "short": short}


def spy_blocks(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, ...]]:
    """Record every block read from disk, and fail any whole-file read or whole render."""
    seen: list[tuple[int, ...]] = []
    real = namgraph.audio.read_wav_blocks

    def blocks(path: Any, frames: int) -> Any:
        for block in real(path, frames):
            seen.append(block.shape)
            yield block

    def whole(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("read or rendered whole")

    monkeypatch.setattr(namgraph.audio, "read_wav_blocks", blocks)
    monkeypatch.setattr(namgraph.audio, "read_wav", whole)
    monkeypatch.setattr(namgraph.rendering, "render", whole)
    return seen


def test_cli_file_over_the_limit_streams_from_disk_to_disk(files: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    expected = namgraph.render(namgraph.load(files["model"]), read_wav(files["stereo"])[0])
    seen = spy_blocks(monkeypatch)
    out = files["dir"] / "out.wav"
    result = invoke("--limit", "render_samples=1000", "render", files["model"], files["stereo"], out)
    assert result.exit_code == 0, result.output
    assert seen == [(2, 500)] * 6  # 2 channels x 500 frames = the limit; never more in memory
    monkeypatch.undo()
    y, rate = read_wav(out)
    assert rate == 48000
    np.testing.assert_allclose(y, expected, atol=TOL, rtol=0)
    assert "1 file(s) over the render_samples limit rendered block by block" in result.stdout


def test_cli_gain_and_clipping_warning_over_the_limit(files: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    x = read_wav(files["stereo"])[0]
    peak = 8 * np.abs(x).max()
    spy_blocks(monkeypatch)
    out = files["dir"] / "out.wav"
    result = invoke("--limit", "render_samples=1000", "render", files["loud"], files["stereo"], out, "--gain", "-6")
    assert result.exit_code == 0, result.output
    monkeypatch.undo()
    np.testing.assert_allclose(read_wav(out)[0], 8 * x * 10 ** (-6 / 20), rtol=1e-5, atol=1e-7)
    over = 20 * np.log10(peak) - 6  # the warning is about the whole file's peak, after the gain
    assert f"{over:.1f} dB above full scale" in result.stderr


def test_cli_folder_mixes_batched_and_streamed_files(files: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    src = files["dir"] / "src"
    src.mkdir()
    for name in ("stereo.wav", "short.wav"):
        (src / name).write_bytes(files[name.removesuffix(".wav")].read_bytes())
    write_wav(src / "short2.wav", noise(1, 100, seed=3), 48000)
    model = namgraph.load(files["model"])
    whole_calls: list[tuple[int, ...]] = []
    real = namgraph.rendering.render
    monkeypatch.setattr(namgraph.rendering, "render", lambda m, a, **kw: whole_calls.append(np.shape(a)) or real(m, a, **kw))
    result = invoke("--limit", "render_samples=1000", "render", files["model"], src, files["dir"] / "out")
    assert result.exit_code == 0, result.output
    assert whole_calls == [(2, 1, 100)]  # the two short files in one batched call; stereo.wav streamed
    for name in ("stereo.wav", "short.wav", "short2.wav"):
        x = read_wav(src / name)[0]
        np.testing.assert_allclose(read_wav(files["dir"] / "out" / name)[0], real(model, x), atol=TOL, rtol=0)
    assert "in 1 batched render call(s)" in result.stdout
    assert "1 file(s) over the render_samples limit rendered block by block" in result.stdout


def test_cli_failure_midway_keeps_the_old_output(files: dict[str, Path]) -> None:
    """A NaN in the fourth block is found after three blocks were written: the old file stays."""
    x = noise(1, 2000)
    x[0, 1600] = np.nan
    source = write_wav(files["dir"] / "nan.wav", x, 48000)
    out = files["dir"] / "out.wav"
    out.write_bytes(b"the old render")
    before = sorted(os.listdir(files["dir"]))
    result = invoke("--limit", "render_samples=500", "render", files["model"], source, out, "--force")
    assert result.exit_code == 1 and "sample 1600" in result.stderr, result.output
    assert out.read_bytes() == b"the old render"
    assert sorted(os.listdir(files["dir"])) == before


_RENDER = "import sys; from namgraph.cli import main; sys.exit(main(sys.argv[1:]))"


def _writing(pid: int, directory: Path) -> int:
    """Bytes the process has written to a file in ``directory`` it holds open for writing, or 0."""
    fds = Path(f"/proc/{pid}/fd")
    for fd in list(fds.iterdir()) if fds.is_dir() else []:
        try:
            if os.readlink(fd).startswith(str(directory) + "/") and (os.stat(fd).st_mode & 0o170000) == 0o100000:
                flags = int((Path(f"/proc/{pid}/fdinfo") / fd.name).read_text().split("flags:")[1].split()[0], 8)
                if flags & (os.O_WRONLY | os.O_RDWR):
                    return os.stat(fd).st_size
        except (OSError, IndexError):  # the fd closed meanwhile
            continue
    return 0


@pytest.mark.skipif(not Path("/proc/self/fdinfo").is_dir(), reason="watches the render through Linux's /proc")
def test_render_killed_midway_leaves_the_old_output_and_no_partial_file(tmp_path: Path) -> None:
    model = nam_docs.write(tmp_path, nam_docs.tiny_wavenet(), "wavenet.nam")
    source = write_wav(tmp_path / "long.wav", noise(1, 48000 * 60, seed=9), 48000)
    out_dir = tmp_path / "renders"
    out_dir.mkdir()
    out = out_dir / "out.wav"
    out.write_bytes(b"the old render")
    args = ["render", str(model), str(source), str(out), "--force", "--block", "32", "--quiet"]
    proc = subprocess.Popen([sys.executable, "-c", _RENDER, *args], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        written, deadline = 0, time.monotonic() + 120
        while written < 64 * 1024 and proc.poll() is None and time.monotonic() < deadline:  # some blocks are out
            written = _writing(proc.pid, out_dir)
            time.sleep(0.002)
        assert proc.poll() is None, f"the render ended before it could be killed: {proc.communicate()[1][-2000:]!r}"
        assert written >= 64 * 1024, "the render never started writing"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert out.read_bytes() == b"the old render"
    assert os.listdir(out_dir) == ["out.wav"]
