"""``namgraph ir CAB.wav -o cab.nam``: an impulse-response wav as a model file."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import OutputError


@click.command("ir")
@click.argument("wav_path", metavar="CAB.wav", type=click.Path(path_type=Path))
@click.option(
    "-o", "--output", "output_path", type=click.Path(path_type=Path), default=None, metavar="OUT.nam",
    help="File to write (default: CAB.nam beside the wav).",
)
@click.option("--sample-rate", type=float, default=None, metavar="HZ", help="Rate the IR is needed at; differing from the wav's is an error unless --resample.")
@click.option("--resample", is_flag=True, help="Resample to --sample-rate (soxr, very high quality), keeping the frequency response and the time alignment.")
@click.option("--trim-db", type=float, default=None, metavar="DB", help="Drop the trailing tail that stays below DB relative to the peak (e.g. -60).")
@click.option(
    "--normalize", type=click.Choice(["peak", "energy"]), default=None,
    help="peak: largest |tap| = 1 (usual for IR loaders); energy: sum of squared taps = 1 (0 dB gain for white noise). Default: keep the file's level.",
)
@click.option("--max-taps", type=click.IntRange(min=1), default=None, metavar="N", help="Keep only the first N taps (longer IRs are truncated).")
@click.option("--force", is_flag=True, help="Replace OUT.nam if it exists.")
def ir_command(
    wav_path: Path,
    output_path: Path | None,
    sample_rate: float | None,
    resample: bool,
    trim_db: float | None,
    normalize: str | None,
    max_taps: int | None,
    force: bool,
) -> None:
    """Convert the impulse response CAB.wav into a model file.

    A mono IR (or a stereo one whose channels are identical) becomes a Linear .nam that
    Core loads. A stereo IR with different channels becomes a DAG rig file: the mono input
    feeds a left and a right Linear, merged into two output channels.
    """
    from ..audio import check_output_path
    from ..converters.wav_ir import read_ir
    from ..loading import save_model

    output_path = wav_path.with_suffix(".nam") if output_path is None else output_path
    check_output_path(output_path, exist_ok=force, inputs=[wav_path])
    result = read_ir(wav_path, sample_rate=sample_rate, resample=resample, trim_db=trim_db, normalize=normalize, max_taps=max_taps)
    if hasattr(result, "architecture"):
        save_model(result, output_path)
        click.echo(f"{wav_path} -> {output_path}: mono IR, {result.receptive_field} taps at {_hz(result.sample_rate)} Hz (Linear)")
        return
    try:
        from ..converters.dag_format import write_dag
    except ImportError:
        raise OutputError("a stereo IR is written as a DAG rig file, which this installation cannot write yet", file=output_path) from None
    write_dag(result, output_path)
    models = [node.model for node in result.nodes if node.kind == "model"]
    click.echo(
        f"{wav_path} -> {output_path}: stereo IR, {' / '.join(str(m.receptive_field) for m in models)} taps (left / right) "
        f"at {_hz(models[0].sample_rate)} Hz (DAG: mono in -> {' + '.join(n.id for n in result.nodes if n.kind == 'model')} -> stereo out)"
    )


def _hz(rate: float) -> str:
    return str(int(rate)) if float(rate).is_integer() else f"{rate:g}"
