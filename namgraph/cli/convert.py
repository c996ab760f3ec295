"""``namgraph convert IN OUT --to dag|sequential|model|auto``: a model or rig in another form.

Loads IN and writes it with :func:`namgraph.save` in the form asked for; every conversion
is exact (``design/converters.md``), and one that cannot be exact is refused naming the
nodes in the way.
"""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import OptionError
from ..saving import FORMS


@click.command("convert")
@click.argument("input_path", metavar="IN", type=click.Path(path_type=Path))
@click.argument("output_path", metavar="OUT", type=click.Path(path_type=Path))
@click.option(
    "--to", "form", type=click.Choice(FORMS), default="auto", show_default=True,
    help="sequential: a Sequential .nam that NeuralAmpModelerCore loads; dag: a namgraph rig file; model: one model; "
    "auto: a model as it is, a rig in its simplest exact form.",
)
@click.option("--migrate-legacy", is_flag=True, help="Read a legacy experimental Sequential (trainer PR #596) by migrating it, where that is unambiguous.")
@click.option("--flatten", is_flag=True, help="Inline Sequentials nested inside a Sequential IN (same sound, one level of models).")
@click.option("--force", is_flag=True, help="Replace OUT if it exists.")
def convert_command(input_path: Path, output_path: Path, form: str, migrate_legacy: bool, flatten: bool, force: bool) -> None:
    """Convert IN between the forms a rig can take, without changing its sound.

    A Sequential file becomes a DAG rig file and back (the very same file again), a rig that
    is a chain becomes a Sequential, a one-model rig becomes that model. A rig with models in
    parallel cannot be a Sequential (unless only IRs, gains and blends are in parallel: those
    are folded into one IR); the error names the nodes in the way.

    \b
    Example:
      namgraph convert rig.nam rig_dag.nam --to dag
      namgraph convert rig_dag.nam rig.nam --to sequential
      namgraph convert old_chain.nam chain.nam --migrate-legacy
    """
    from ..audio import check_output_path
    from ..converters.lowering import is_sequential, to_dag
    from ..loading import load
    from ..model import Model
    from ..saving import save
    from .info import summary

    check_output_path(output_path, exist_ok=force, inputs=[input_path])
    obj = load(input_path, migrate_legacy=migrate_legacy)
    source = summary(obj)
    if flatten:
        if not (isinstance(obj, Model) and is_sequential(obj)):
            raise OptionError("--flatten inlines the Sequentials nested in a Sequential, so IN must be a Sequential file", file=input_path)
        obj = to_dag(obj, flatten=True)
    written = save(obj, output_path, form=form)
    click.echo(f"{input_path} ({source}) -> {output_path}: {summary(written)}")
