"""``namgraph draw RIG``: a picture of a rig (SVG/PNG), or its Mermaid or Graphviz DOT text."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import OptionError

# file extension -> format; text formats go to stdout when no -o is given
EXTENSIONS = {".svg": "svg", ".png": "png", ".md": "mermaid", ".mmd": "mermaid", ".dot": "dot", ".gv": "dot"}
FORMATS = ("svg", "png", "mermaid", "dot")


@click.command("draw")
@click.argument("rig_path", metavar="RIG", type=click.Path(path_type=Path))
@click.option("-o", "--output", "output_path", type=click.Path(path_type=Path), default=None,
              help="Write to this file: .svg/.png (a picture), .md/.mmd (Mermaid), .dot/.gv (Graphviz).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default=None,
              help="What to write (default: from the -o extension; Mermaid text on stdout without -o).")
@click.option("--force", is_flag=True, help="Replace the output file if it exists.")
def draw_command(rig_path: Path, output_path: Path | None, fmt: str | None, force: bool) -> None:
    """Draw RIG (a .nam model, a Sequential file, a rig file): the nodes and the audio between them.

    \b
    namgraph draw rig.nam -o rig.svg
    namgraph draw rig.nam --format mermaid          (text for a Markdown ```mermaid block)
    namgraph draw rig.nam --format dot -o rig.dot   (for Graphviz: dot -Tpdf rig.dot)
    """
    from ..audio import check_output_path

    fmt = _format(fmt, output_path)
    if output_path is not None:
        check_output_path(output_path, exist_ok=force, inputs=[rig_path])
    from .. import drawing

    if fmt in ("svg", "png"):
        drawing.draw(rig_path, output_path)
        click.echo(f"wrote {output_path}")
        return
    text = drawing.to_mermaid(rig_path) if fmt == "mermaid" else drawing.to_dot(rig_path)
    if output_path is None:
        click.echo(text, nl=False)
        return
    if fmt == "mermaid" and output_path.suffix.lower() == ".md":
        text = f"```mermaid\n{text}```\n"
    from ..atomic import atomic_output

    with atomic_output(output_path) as handle:
        handle.write(text.encode("utf-8"))
    click.echo(f"wrote {output_path}")


def _format(fmt: str | None, output: Path | None) -> str:
    """The format asked for, checked against the output's extension."""
    if output is None:
        if fmt in ("svg", "png"):
            raise OptionError(f"--format {fmt} writes a file: give -o rig.{fmt}")
        return fmt or "mermaid"
    implied = EXTENSIONS.get(output.suffix.lower())
    if fmt is None:
        if implied is None:
            known = ", ".join(EXTENSIONS)
            raise OptionError(f"cannot tell the format from the extension {output.suffix or '(none)'!r}; use one of {known}", file=output)
        return implied
    if fmt in ("svg", "png") and implied != fmt:
        raise OptionError(f"--format {fmt} needs a .{fmt} file name", file=output)
    return fmt
