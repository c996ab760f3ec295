"""No command writes over a file it reads (issue 8), even with ``--force`` and through a
symlink or a hard link: ``render`` allows it for its audio input only with
``--overwrite-input``; every other command (and ``render``'s rig) refuses it outright.
The refused file is left byte-identical."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

import numpy as np
import pytest

import nam_docs
from cli_runner import invoke
from namgraph.audio import check_output_path, read_wav, write_wav
from namgraph.errors import OutputError



@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    audio = (0.25 * np.sin(np.arange(400) / 7.0)).astype(np.float32)
    return {
        "dir": tmp_path,
        "model": nam_docs.write(tmp_path, nam_docs.linear(), "model.nam"),
        "di": write_wav(tmp_path / "di.wav", audio, 48000),
        "out": write_wav(tmp_path / "out.wav", 0.5 * audio, 48000),
        "ir": write_wav(tmp_path / "ir.wav", np.array([0.5, 0.25, 0.125], np.float32), 48000),
        # plot writes only .png/.svg, so its inputs bear such a name here (they are read by content)
        "take": write_wav(tmp_path / "take.png", audio, 48000),
    }


# (command line with {name} placeholders, the file that must not be written over)
COMMANDS: dict[str, tuple[list[str], str]] = {
    "render over its rig": (["render", "{model}", "{di}", "{model}", "--force", "--overwrite-input"], "model"),
    "render over a wav rig": (["render", "{ir}", "{di}", "{ir}", "--force", "--overwrite-input"], "ir"),
    "render over its input": (["render", "{model}", "{di}", "{di}", "--force"], "di"),
    "convert": (["convert", "{model}", "{model}", "--force"], "model"),
    "chain": (["chain", "{model}", "{ir}", "-o", "{model}", "--force"], "model"),
    "ir": (["ir", "{ir}", "-o", "{ir}", "--force"], "ir"),
    "draw": (["draw", "{model}", "-o", "{model}", "--format", "dot", "--force"], "model"),
    "plot over what went in": (["plot", "{take}", "{out}", "-o", "{take}", "--force"], "take"),
    "plot over what came out": (["plot", "{di}", "{take}", "-o", "{take}", "--force"], "take"),
}

LINKS: dict[str, Callable[[Path, Path], None]] = {
    "same path": lambda target, link: None,
    "symlink": lambda target, link: link.symlink_to(target),
    "hard link": lambda target, link: os.link(target, link),
}


@pytest.mark.parametrize("link", LINKS)
@pytest.mark.parametrize("name", COMMANDS)
def test_a_command_never_writes_over_its_input(files: dict[str, Path], name: str, link: str) -> None:
    args, protected = COMMANDS[name]
    target = files[protected]
    alias = target if link == "same path" else files["dir"] / f"alias{target.suffix}"
    LINKS[link](target, alias)
    paths = {k: str(v) for k, v in files.items()}
    # the output position is the last occurrence of the protected file's placeholder
    at = max(i for i, a in enumerate(args) if a == "{" + protected + "}")
    line = [str(alias) if i == at else a.format(**paths) for i, a in enumerate(args)]
    before = {p.name: p.read_bytes() for p in files["dir"].iterdir() if p.is_file()}
    result = invoke(*line)
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("error: ") and "would overwrite the input file" in result.stderr, result.stderr
    assert str(target) in result.stderr
    assert {p.name: p.read_bytes() for p in files["dir"].iterdir() if p.is_file()} == before


def test_the_refusal_names_the_way_out(files: dict[str, Path]) -> None:
    render = invoke("render", files["model"], files["di"], files["di"], "--force")
    assert "use --overwrite-input to replace it" in render.stderr
    convert = invoke("convert", files["model"], files["model"], "--force")
    assert "choose another output file" in convert.stderr and "--overwrite-input" not in convert.stderr


def test_render_over_its_input_with_the_flag(files: dict[str, Path]) -> None:
    x, _ = read_wav(files["di"])
    link = files["dir"] / "link.wav"
    link.symlink_to(files["di"])
    result = invoke("render", files["model"], files["di"], link, "--overwrite-input")
    assert result.exit_code == 0, result.output
    # the symlink is replaced by the render; the file it pointed to is the input, unchanged
    assert not link.is_symlink()
    np.testing.assert_array_equal(read_wav(files["di"])[0], x)
    expected = np.convolve(x[0].astype(np.float64), [1.0, 0.5, 1 / 3])[: x.shape[1]] + 0.125
    np.testing.assert_allclose(read_wav(link)[0][0], expected, atol=1e-6, rtol=0)


def test_render_in_place_in_blocks(files: dict[str, Path]) -> None:
    """Over the render_samples limit the input is read block by block while the output is
    written: rendering in place still reads only the original audio."""
    x, _ = read_wav(files["di"])
    result = invoke("--limit", "render_samples=100", "render", files["model"], files["di"], files["di"], "--overwrite-input")
    assert result.exit_code == 0, result.output
    expected = np.convolve(x[0].astype(np.float64), [1.0, 0.5, 1 / 3])[: x.shape[1]] + 0.125
    np.testing.assert_allclose(read_wav(files["di"])[0][0], expected, atol=1e-6, rtol=0)


def test_check_output_path_compares_files_not_names(tmp_path: Path) -> None:
    a = tmp_path / "a.wav"
    a.write_bytes(b"a")
    (tmp_path / "sub").mkdir()
    with pytest.raises(OutputError, match="would overwrite the input file") as info:
        check_output_path(tmp_path / "sub" / ".." / "a.wav", inputs=[tmp_path / "b.wav", a])
    assert info.value.file == str(tmp_path / "sub" / ".." / "a.wav")
    assert check_output_path(tmp_path / "new.wav", inputs=[a, tmp_path / "missing.wav"]) == tmp_path / "new.wav"
    assert check_output_path(a, inputs=[a], overwrite_input=True, exist_ok=False) == a
