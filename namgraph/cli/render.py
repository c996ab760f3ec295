"""``namgraph render RIG IN OUT``: a wav file, or a folder of them, through a model or rig, as Core would render it.

A folder is rendered in batches: files of equal length and channel count go through one
batched ``namgraph.render`` call (one compile, one vectorised pass). ``--block`` renders in
streaming blocks with carried state instead (the same audio), and so does a file over the
``render_samples`` limit (``namgraph.limits``): such a file is read, rendered and written
block by block, never whole in memory, into one atomic output. Outputs above full scale
get a warning on stderr that says by how much.

The output never replaces an existing file without ``--force``, its own input without
``--overwrite-input``, or the rig file at all.
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import numpy as np

from ..drawing import architecture_text as describe  # noqa: F401  (the name other commands import)
from ..errors import AudioError, NamGraphError, OutputError, SampleRateMismatchError
from ..models.base import Architecture, RenderOptions

BATCH_SAMPLES = 1 << 23  # samples (items x channels x frames) per batched render call: ~32 MB in, as much out
OVERWRITE_INPUT = "--overwrite-input"


@dataclass(frozen=True)
class Job:
    """One input file and where its render goes."""

    source: Path
    target: Path
    channels: int
    frames: int
    rate: int


@click.command("render")
@click.argument("model_path", metavar="RIG", type=click.Path(path_type=Path, dir_okay=True))
@click.argument("input_path", metavar="IN", type=click.Path(path_type=Path))
@click.argument("output_path", metavar="OUT", type=click.Path(path_type=Path))
@click.option("--size", type=float, default=None, help="Slimmable size in [0, 1] (Core's SetSlimmableSize); default: the full model.")
@click.option("--fast-tanh", is_flag=True, help="Use Core's fast tanh approximation (what the NAM plugin does).")
@click.option(
    "--block", type=click.IntRange(min=1), default=None, metavar="N",
    help="Render in streaming blocks of N samples, as a real-time host would (same audio as the default whole-file render).",
)
@click.option("--gain", "gain_db", type=float, default=0.0, metavar="DB", help="Output level change in dB, applied after the rig (e.g. -6 to avoid clipping).")
@click.option("--force", is_flag=True, help="Replace output files that exist.")
@click.option(OVERWRITE_INPUT, "overwrite_input", is_flag=True, help="Allow an output to be its own input wav (rendered in place, atomically).")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar and no summary (warnings and errors still go to stderr).")
def render_command(
    model_path: Path,
    input_path: Path,
    output_path: Path,
    size: float | None,
    fast_tanh: bool,
    block: int | None,
    gain_db: float,
    force: bool,
    overwrite_input: bool,
    quiet: bool,
) -> None:
    """Render IN through RIG into OUT (32-bit float wav, same length and channels).

    IN and OUT are wav files, or folders: every .wav in the IN folder is rendered into the
    OUT folder (created if needed) under the same name. RIG is a .nam model, a Sequential
    or rig file, or a .wav impulse response.

    The render starts as Core's does after Reset (the rig prewarmed on silence). A mono
    model on a multi-channel file processes each channel on its own (dual mono). A file
    longer than the render_samples limit (see namgraph --limit) is read, rendered and
    written block by block. OUT never replaces IN unless --overwrite-input, nor RIG.
    """
    from ..rendering import render_options

    options = render_options(size, fast_tanh)
    if not math.isfinite(gain_db):
        raise click.BadParameter(f"must be a finite number of dB, got {gain_db}", param_hint="--gain")
    folder = input_path.is_dir()
    if folder:
        jobs = _folder_jobs(input_path, output_path, model_path, force=force, overwrite_input=overwrite_input)
    else:
        _check_target(output_path, input_path, model_path, force=force, overwrite_input=overwrite_input)
    rig, runnable = _load(model_path)
    if not folder:
        jobs = [_probe(input_path, output_path)]
    for job in jobs:
        _check_rate(job, runnable.sample_rate, model_path)
    if folder:
        output_path.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    with _progress(jobs, quiet) as bar:
        done = _render_jobs(runnable, jobs, options, block, gain_db, bar, checks=(force, overwrite_input))
    peaks = done.peaks
    wall = time.perf_counter() - start
    for job, peak in zip(jobs, peaks):
        warning = clip_warning(job.target, peak, gain_db)
        if warning:
            click.echo(warning, err=True)
    if quiet:
        return
    arch = runnable.architecture.configure(options)
    if folder:
        summary = _folder_summary(input_path, output_path, jobs, done.calls, model_path, rig, arch, runnable.sample_rate, peaks, wall)
    else:
        summary = _summary(jobs[0], model_path, rig, arch, runnable.sample_rate, peaks[0], wall)
    if block is not None:
        summary += f" in streaming blocks of {block} samples"
    elif done.streamed:
        summary += f"; {done.streamed} file(s) over the render_samples limit rendered block by block"
    click.echo(summary)


# ----------------------------------------------------------------------------- planning


def _load(model_path: Path) -> tuple[Any, Any]:
    """The loaded rig and what renders it (a graph compiles once, here)."""
    from ..graph.ir import Graph
    from ..loading import load

    rig = load(model_path)
    return rig, rig.compile() if isinstance(rig, Graph) else rig


def _check_target(target: Path, source: Path, model_path: Path, *, force: bool, overwrite_input: bool) -> None:
    """An output may replace an existing file only with --force, its own input only with
    --overwrite-input, and the rig (a .nam, or a .wav IR) never."""
    from ..audio import check_output_path

    check_output_path(target, inputs=[model_path])
    check_output_path(target, exist_ok=force, inputs=[source], overwrite_input=overwrite_input, input_flag=OVERWRITE_INPUT)


def _folder_jobs(input_dir: Path, output_dir: Path, model_path: Path, *, force: bool, overwrite_input: bool) -> list[Job]:
    """Every .wav of the input folder (sorted by name) and its output, all checked before anything renders."""
    sources = sorted((p for p in input_dir.iterdir() if p.is_file() and p.suffix.lower() == ".wav"), key=lambda p: p.name)
    if not sources:
        raise AudioError("the input folder has no .wav files", file=input_dir)
    if output_dir.exists() and not output_dir.is_dir():
        raise OutputError("the input is a folder, so the output must be a folder too, but this is a file", file=output_dir)
    if not output_dir.exists() and not output_dir.parent.is_dir():
        raise OutputError(f"cannot create the output folder: {str(output_dir.parent)!r} does not exist", file=output_dir)
    jobs = []
    for source in sources:
        target = output_dir / source.name
        if output_dir.is_dir():
            _check_target(target, source, model_path, force=force, overwrite_input=overwrite_input)
        jobs.append(_probe(source, target))
    return jobs


def _probe(source: Path, target: Path) -> Job:
    """Length, channels and rate from the file's header (the audio is read when it is rendered),
    after the same checks as reading it (:func:`namgraph.audio.open_audio`)."""
    from ..audio import open_audio

    with open_audio(source) as opened:
        return Job(source, target, int(opened.channels), int(opened.frames), int(opened.samplerate))


def _check_rate(job: Job, model_rate: float | None, model_path: Path) -> None:
    if model_rate is not None and float(model_rate) != float(job.rate):
        raise SampleRateMismatchError(
            f"{job.source} is {job.rate} Hz but the model {model_path} expects {_hz(model_rate)} Hz; "
            f"resample the input to {_hz(model_rate)} Hz"
        )


def batches(jobs: list[Job], limit: int = BATCH_SAMPLES, out_channels: int | None = None) -> list[list[int]]:
    """Indices of ``jobs`` grouped into render calls: equal (channels, frames), at most ``limit``
    samples a call, counting the larger of a file's channels and the rig's ``out_channels``
    (what ``render`` holds; a mono model on a file runs dual mono, as many out as in)."""
    groups: dict[tuple[int, int], list[int]] = {}
    for i, job in enumerate(jobs):
        groups.setdefault((job.channels, job.frames), []).append(i)
    out = []
    for (channels, frames), members in groups.items():
        width = max(channels, out_channels or 0)
        per_call = max(1, limit // max(1, width * frames))
        out += [members[k : k + per_call] for k in range(0, len(members), per_call)]
    return out


# ----------------------------------------------------------------------------- rendering


@dataclass(frozen=True)
class Rendered:
    """What :func:`_render_jobs` did: each output's peak, the batched render calls, and how
    many files went block by block for being over the ``render_samples`` limit."""

    peaks: list[float]
    calls: int
    streamed: int


def _render_jobs(
    runnable: Any, jobs: list[Job], options: RenderOptions, block: int | None, gain_db: float, bar: Any, *, checks: tuple[bool, bool]
) -> Rendered:
    """Render and write every job. The outputs were checked before; they are checked again as
    they are written (``checks``: ``--force``, ``--overwrite-input``).

    With ``--block``, and for a file over the ``render_samples`` limit, the file streams from
    disk to disk in blocks; the other files go in batched whole-file renders.
    """
    from ..limits import current
    from ..rendering import block_frames

    arch = runnable.architecture.configure(options)
    chunk = arch.preferred_chunk()
    frames = {i: block or block_frames(max(job.channels, _out_channels(arch, job)), job.frames, chunk) for i, job in enumerate(jobs)}
    whole = [i for i in frames if frames[i] is None]
    peaks = [0.0] * len(jobs)
    limit = min(BATCH_SAMPLES, current().render_samples)
    groups = [[whole[k] for k in group] for group in batches([jobs[i] for i in whole], limit, arch.out_channels)]
    for group in groups:
        for i, peak in zip(group, _render_whole(runnable, [jobs[i] for i in group], options, gain_db, checks)):
            peaks[i] = peak
        bar.update(sum(jobs[i].frames for i in group))
    streamed = [i for i in frames if frames[i] is not None]
    for i in streamed:
        peaks[i] = _render_streamed(runnable, jobs[i], arch, options, frames[i], gain_db, bar, checks)
    return Rendered(peaks, len(groups), 0 if block else len(streamed))


def _render_whole(runnable: Any, jobs: list[Job], options: RenderOptions, gain_db: float, checks: tuple[bool, bool]) -> list[float]:
    """Files of equal shape in one batched ``namgraph.render`` call; returns their peaks."""
    from .. import rendering
    from ..audio import read_wav, write_wav

    audio = np.stack([read_wav(job.source)[0] for job in jobs])
    try:
        out = rendering.render(runnable, audio, size=options.size, fast_tanh=options.fast_tanh)
    except NamGraphError as exc:
        raise exc.located(file=jobs[0].source) from None
    finished = [_finish(y, gain_db, job) for y, job in zip(out, jobs)]  # every item checked before any is written
    for job, (y, _) in zip(jobs, finished):
        write_wav(job.target, y, job.rate, **_write_checks(job, checks))
    return [peak for _, peak in finished]


def _render_streamed(
    runnable: Any, job: Job, arch: Architecture, options: RenderOptions, frames: int, gain_db: float, bar: Any, checks: tuple[bool, bool]
) -> float:
    """One file read, rendered and written ``frames`` at a time into one atomic output; returns its peak."""
    from ..audio import read_wav_blocks, wav_writer
    from ..streaming import render_blocks

    peak = 0.0
    with wav_writer(job.target, job.rate, _out_channels(arch, job), job.frames, **_write_checks(job, checks)) as write:
        try:
            for y in render_blocks(runnable, read_wav_blocks(job.source, frames), size=options.size, fast_tanh=options.fast_tanh):
                y, block_peak = _finish(y, gain_db, job)
                write(y)
                peak = max(peak, block_peak)
                bar.update(y.shape[-1])
        except NamGraphError as exc:
            raise exc.located(file=job.source) from None
    return peak


def _finish(y: np.ndarray, gain_db: float, job: Job) -> tuple[np.ndarray, float]:
    """Rendered audio with ``--gain`` applied, and its peak; non-finite output is an error (nothing is written for the file)."""
    if gain_db:
        y = (y.astype(np.float64) * 10.0 ** (gain_db / 20.0)).astype(np.float32)
    bad = int(np.count_nonzero(~np.isfinite(y)))
    if bad:
        raise AudioError(f"the rig produced {bad} non-finite output sample(s) for {job.source}; nothing was written for it", file=job.target)
    return y, float(np.max(np.abs(y))) if y.size else 0.0


def _write_checks(job: Job, checks: tuple[bool, bool]) -> dict[str, Any]:
    force, overwrite_input = checks
    return {"exist_ok": force, "inputs": [job.source], "overwrite_input": overwrite_input, "input_flag": OVERWRITE_INPUT}


def _out_channels(arch: Architecture, job: Job) -> int:
    """Channels of the output: the model's, or the file's when a mono model runs dual mono."""
    return arch.out_channels if arch.in_channels == job.channels else job.channels


class _NoBar:
    def update(self, n: float) -> None:
        pass

    def __enter__(self) -> "_NoBar":
        return self

    def __exit__(self, *exc: Any) -> None:
        pass


def progress_enabled(quiet: bool, stream: Any = None) -> bool:
    """A progress bar only for a person watching: not with --quiet, not when stderr is a pipe or file."""
    stream = sys.stderr if stream is None else stream
    isatty = getattr(stream, "isatty", None)
    return not quiet and bool(isatty and isatty())


def _progress(jobs: list[Job], quiet: bool) -> Any:
    """Over samples (frames): per batched call, or per block for a file rendered in blocks."""
    if not progress_enabled(quiet):
        return _NoBar()
    from tqdm import tqdm

    return tqdm(total=sum(j.frames for j in jobs), unit="sample", unit_scale=True, desc="render", file=sys.stderr, leave=False)


# ----------------------------------------------------------------------------- reporting


def clip_warning(target: Path, peak: float, gain_db: float = 0.0) -> str | None:
    """A warning when ``peak`` is over full scale (1.0, 0 dBFS): by how many dB, and the gain that fits it."""
    if not peak > 1.0:
        return None
    over = 20.0 * math.log10(peak)
    fix = math.ceil(over * 10.0) / 10.0
    suggestion = f"--gain {gain_db - fix:.1f}" if gain_db else f"--gain -{fix:.1f}"
    return (
        f"warning: output peak {over:+.1f} dBFS in {target}: {over:.1f} dB above full scale. The 32-bit float wav keeps it, "
        f"but it clips when played or converted to 16/24-bit; render with {suggestion} (or lower the rig's level by {fix:.1f} dB)"
    )


def _summary(job: Job, model_path: Path, rig: Any, arch: Architecture, model_rate: float | None, peak: float, wall: float) -> str:
    seconds = job.frames / job.rate
    lines = [
        f"in:    {job.source}: {job.channels} ch, {job.frames} samples ({seconds:.3f} s) at {job.rate} Hz",
        _model_line(model_path, rig, arch, model_rate, job.channels, job.rate),
        f"out:   {job.target}: {_out_channels(arch, job)} ch, 32-bit float, peak {_db(peak)}",
        f"time:  {wall:.2f} s ({_rtf(wall, seconds)}, including compilation)",
    ]
    return "\n".join(lines)


def _folder_summary(
    input_dir: Path, output_dir: Path, jobs: list[Job], calls: int, model_path: Path, rig: Any, arch: Architecture,
    model_rate: float | None, peaks: list[float], wall: float,
) -> str:
    seconds = sum(j.frames / j.rate for j in jobs)
    loudest = max(range(len(jobs)), key=lambda i: peaks[i])
    channels = sorted({j.channels for j in jobs})
    lines = [
        f"in:    {input_dir}: {len(jobs)} wav file(s), {seconds:.3f} s of audio, {'/'.join(map(str, channels))} ch",
        _model_line(model_path, rig, arch, model_rate, max(channels), jobs[0].rate),
        f"out:   {output_dir}: {len(jobs)} file(s), 32-bit float, loudest peak {_db(peaks[loudest])} ({jobs[loudest].target.name})",
        f"time:  {wall:.2f} s{f' in {calls} batched render call(s)' if calls else ''} ({_rtf(wall, seconds)}, including compilation)",
    ]
    return "\n".join(lines)


def _model_line(model_path: Path, rig: Any, arch: Architecture, model_rate: float | None, channels: int, rate: int) -> str:
    from ..graph.ir import Graph

    what = f"rig of {len(rig)} nodes" if isinstance(rig, Graph) else describe(arch)
    dual = " (run on each channel)" if arch.in_channels == 1 and channels > 1 else ""
    rate_note = "" if model_rate is not None else f"; no sample_rate in the model, using {rate} Hz"
    return (
        f"model: {model_path}: {what}, receptive field {arch.receptive_field()} samples, "
        f"{arch.in_channels} in / {arch.out_channels} out ch{dual}{rate_note}"
    )


def _rtf(wall: float, seconds: float) -> str:
    """Seconds of audio per second of wall time, as the benchmarks count it (higher is faster)."""
    return f"{seconds / wall:.1f}x real time" if seconds > 0 and wall > 0 else "real time n/a"


def _db(peak: float) -> str:
    return "-inf dBFS (silence)" if peak <= 0 else f"{20 * math.log10(peak):+.1f} dBFS"


def _hz(rate: float) -> str:
    return f"{rate:g}" if rate != int(rate) else str(int(rate))

