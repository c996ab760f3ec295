"""``namgraph chain A.nam B.nam CAB.wav -o rig.nam``: parts in series, saved as one file.

The parts are composed with :func:`namgraph.chain` and written with :func:`namgraph.save`
(by default as a Sequential, the form Core loads). IR wavs are read at the rate of the
first part that states one.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import click

from ..errors import CalibrationWarning, NotRaisableError, SampleRateMismatchError

FORMS = ("sequential", "auto", "dag")


@click.command("chain")
@click.argument("parts", metavar="PART...", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-o", "--output", "output_path", required=True, type=click.Path(path_type=Path), metavar="RIG.nam", help="File to write.")
@click.option(
    "--calibrate", is_flag=True,
    help="Between captures that carry their measured levels (input_level_dbu / output_level_dbu), add the gain that makes "
    "the chain behave as the real gear did when plugged together.",
)
@click.option("--resample", is_flag=True, help="Resample IR wavs recorded at another rate than the models' (otherwise that is an error).")
@click.option(
    "--form", type=click.Choice(FORMS), default="sequential", show_default=True,
    help="sequential: a Sequential .nam that NeuralAmpModelerCore loads; auto: the simplest exact form "
    "(a single model when the chain folds into one); dag: a namgraph rig file.",
)
@click.option("--force", is_flag=True, help="Replace RIG.nam if it exists.")
def chain_command(parts: tuple[Path, ...], output_path: Path, calibrate: bool, resample: bool, form: str, force: bool) -> None:
    """Put captures and cab IRs in series and save them as one rig file.

    Each PART is a .nam capture (amp, pedal), a Sequential or rig file, or a cab IR .wav,
    in the order the guitar signal goes through them. The rig sounds exactly like running
    the parts one after another (start-up included), and by default it is one Sequential
    .nam file that NeuralAmpModelerCore loads like a single model.

    \b
    Example:
      namgraph chain drive.nam amp.nam cab.wav -o rig.nam
      namgraph chain amp.nam cab_44k.wav -o rig.nam --resample
    """
    from ..audio import check_output_path
    from ..graph import chain
    from ..saving import save
    from .info import summary

    check_output_path(output_path, exist_ok=force, inputs=parts)
    loaded = load_parts(parts, resample=resample)
    if form == "sequential":
        _refuse_stereo_irs(parts, loaded)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", CalibrationWarning)
        rig = chain(*loaded, calibrate=calibrate)
    for warning in caught:
        click.echo(f"warning: {warning.message}", err=True)
    try:
        written = save(rig, output_path, form=form)
    except NotRaisableError as exc:
        raise NotRaisableError(f"{exc.message}; use --form dag to write the rig as a DAG rig file", nodes=exc.nodes) from None
    click.echo(f"wrote {output_path}: {summary(written)}")


def load_parts(paths: tuple[Path, ...], *, resample: bool = False) -> list[Any]:
    """Every part loaded; IR wavs at the rate of the first .nam part that states one."""
    from ..loading import load

    models = {p: load(p) for p in paths if not _is_wav(p)}
    first = next((p for p, m in models.items() if m.sample_rate is not None), None)
    rate = None if first is None else models[first].sample_rate
    return [models[p] if p in models else _read_ir(p, rate, first, resample) for p in paths]


def _read_ir(path: Path, rate: float | None, first: Path | None, resample: bool) -> Any:
    import soundfile as sf

    from ..converters.wav_ir import read_ir

    try:
        return read_ir(path, sample_rate=rate, resample=resample)
    except SampleRateMismatchError:
        wav_rate = sf.info(str(path)).samplerate
        raise SampleRateMismatchError(
            f"the IR is {_hz(wav_rate)} Hz but {first} runs at {_hz(rate)} Hz; add --resample to resample the IR to {_hz(rate)} Hz",
            file=path,
        ) from None


def _refuse_stereo_irs(paths: tuple[Path, ...], loaded: list[Any]) -> None:
    from ..graph.ir import Graph

    for path, part in zip(paths, loaded):
        if _is_wav(path) and isinstance(part, Graph):
            raise NotRaisableError(
                f"{path} is a stereo IR (its left and right channels differ); a Sequential file runs every model on all "
                "channels alike, so it cannot hold one. Use --form dag to write a DAG rig file, or use a mono IR",
                nodes=[n.id for n in part.nodes if n.kind == "model"],
            )


def _is_wav(path: Path) -> bool:
    return path.suffix.lower() == ".wav"


def _hz(rate: float | None) -> str:
    return "?" if rate is None else f"{rate:g}"
