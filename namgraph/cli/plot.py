"""``namgraph plot IN.wav OUT.wav -o render.png``: waveform and spectrum of a render, before and after."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import SampleRateMismatchError


@click.command("plot")
@click.argument("input_path", metavar="IN.wav", type=click.Path(path_type=Path))
@click.argument("output_path", metavar="OUT.wav", type=click.Path(path_type=Path))
@click.option("-o", "--output", "picture_path", type=click.Path(path_type=Path), required=True,
              help="The picture to write: .png or .svg.")
@click.option("--force", is_flag=True, help="Replace the picture if it exists.")
def plot_command(input_path: Path, output_path: Path, picture_path: Path, force: bool) -> None:
    """Plot IN.wav (what went into a render) against OUT.wav (what came out).

    One row per channel: the two waveforms overlaid, and their spectra (Welch average, dB,
    log frequency). Dashed red lines mark full scale when a waveform goes over it.
    """
    from ..audio import check_output_path, read_wav
    from ..drawing import picture_format
    from ..plotting import plot_render

    picture_format(picture_path)
    check_output_path(picture_path, exist_ok=force, inputs=[input_path, output_path])
    before, rate_in = read_wav(input_path)
    after, rate_out = read_wav(output_path)
    if rate_in != rate_out:
        raise SampleRateMismatchError(
            f"{input_path} is {rate_in} Hz but {output_path} is {rate_out} Hz; a render keeps the sample rate, so these are not one render"
        )
    plot_render(before, after, rate_in, picture_path)
    click.echo(f"wrote {picture_path}")
