"""``namgraph render MODEL IN.wav OUT.wav``: one file through one model, as Core would render it."""

from __future__ import annotations

import math
import time
from pathlib import Path

import click
import numpy as np

from ..errors import AudioError, SampleRateMismatchError
from ..models.base import Architecture


@click.command("render")
@click.argument("model_path", metavar="MODEL", type=click.Path(path_type=Path, dir_okay=True))
@click.argument("input_path", metavar="IN.wav", type=click.Path(path_type=Path))
@click.argument("output_path", metavar="OUT.wav", type=click.Path(path_type=Path))
@click.option("--size", type=float, default=None, help="Slimmable size in [0, 1] (Core's SetSlimmableSize); default: the full model.")
@click.option("--fast-tanh", is_flag=True, help="Use Core's fast tanh approximation (what the NAM plugin does).")
@click.option(
    "--block", type=click.IntRange(min=1), default=None, metavar="N",
    help="Render in streaming blocks of N samples, as a real-time host would (same audio as the default whole-file render).",
)
@click.option("--force", is_flag=True, help="Replace OUT.wav if it exists.")
@click.option("--overwrite-input", is_flag=True, help="Allow OUT.wav to be the input file itself.")
def render_command(
    model_path: Path,
    input_path: Path,
    output_path: Path,
    size: float | None,
    fast_tanh: bool,
    block: int | None,
    force: bool,
    overwrite_input: bool,
) -> None:
    """Render IN.wav through MODEL into OUT.wav (32-bit float, same length and channels).

    The render starts as Core's does after Reset (the model prewarmed on silence). A mono
    model on a multi-channel file processes each channel on its own (dual mono).
    """
    from ..audio import check_output_path, read_wav, write_wav
    from ..loading import load
    from ..rendering import render, render_options

    options = render_options(size, fast_tanh)
    check_output_path(output_path, exist_ok=force, input_path=input_path, overwrite_input=overwrite_input)
    model = load(model_path)
    audio, rate = read_wav(input_path)
    if model.sample_rate is not None and float(model.sample_rate) != float(rate):
        raise SampleRateMismatchError(
            f"{input_path} is {rate} Hz but the model {model_path} expects {_hz(model.sample_rate)} Hz; "
            f"resample the input to {_hz(model.sample_rate)} Hz"
        )
    start = time.perf_counter()
    if block is None:
        out = render(model, audio, size=options.size, fast_tanh=options.fast_tanh)
    else:
        from ..streaming import render_streaming

        out = render_streaming(model, audio, block, size=options.size, fast_tanh=options.fast_tanh)
    wall = time.perf_counter() - start
    bad = int(np.count_nonzero(~np.isfinite(out)))
    if bad:
        raise AudioError(f"the model produced {bad} non-finite output sample(s); nothing was written", file=output_path)
    write_wav(output_path, out, rate, exist_ok=force, input_path=input_path, overwrite_input=overwrite_input)
    arch = model.architecture.configure(options)
    summary = _summary(input_path, audio, rate, model_path, arch, model.sample_rate, output_path, out, wall)
    if block is not None:
        summary += f" in streaming blocks of {block} samples"
    click.echo(summary)


def _summary(
    input_path: Path,
    audio: np.ndarray,
    rate: int,
    model_path: Path,
    arch: Architecture,
    model_rate: float | None,
    output_path: Path,
    out: np.ndarray,
    wall: float,
) -> str:
    channels, frames = audio.shape
    seconds = frames / rate
    dual = " (run on each channel)" if arch.in_channels == 1 and channels > 1 else ""
    rate_note = "" if model_rate is not None else f"; no sample_rate in the model, using {rate} Hz"
    peak = float(np.max(np.abs(out))) if out.size else 0.0
    peak_db = 20 * math.log10(peak) if peak > 0 else -math.inf
    lines = [
        f"in:    {input_path}: {channels} ch, {frames} samples ({seconds:.3f} s) at {rate} Hz",
        f"model: {model_path}: {describe(arch)}, receptive field {arch.receptive_field()} samples, "
        f"{arch.in_channels} in / {arch.out_channels} out ch{dual}{rate_note}",
        f"out:   {output_path}: {out.shape[0]} ch, 32-bit float, peak {_db(peak_db)}",
    ]
    if peak_db > 0:
        lines.append(f"warning: output peak {_db(peak_db)} is above full scale; it will clip if converted to fixed point")
    rtf = f"real-time factor {wall / seconds:.3f}" if seconds > 0 else "real-time factor n/a"
    lines.append(f"time:  {wall:.2f} s ({rtf}, including compilation)")
    return "\n".join(lines)


def describe(arch: Architecture) -> str:
    """``WaveNet``, ``Sequential[WaveNet -> Linear]``, ``SlimmableContainer[2 of 3: WaveNet]``."""
    from ..models.containers import Sequential, SlimmableContainer

    if isinstance(arch, Sequential):
        return f"Sequential[{' -> '.join(describe(m) for m in arch.models)}]"
    if isinstance(arch, SlimmableContainer):
        return f"SlimmableContainer[{arch.active + 1} of {len(arch.submodels)}: {describe(arch.active_model)}]"
    return arch.name


def _db(value: float) -> str:
    return "-inf dBFS (silence)" if value == -math.inf else f"{value:+.1f} dBFS"


def _hz(rate: float) -> str:
    return f"{rate:g}" if rate != int(rate) else str(int(rate))
