"""The ``namgraph`` command line: one module per command, registered on one click group.

Every failure a user can cause is a :class:`~namgraph.errors.NamGraphError`; the group turns
it into ``error: <message>`` on stderr and exit status 1, without a traceback. Click's own
usage errors keep click's exit status 2.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Any

import click

from ..errors import NamGraphError
from ..limits import names as limit_names
from .chain import chain_command
from .convert import convert_command
from .draw import draw_command
from .info import info_command
from .ir import ir_command
from .plot import plot_command
from .render import render_command
from .validate import validate_command


class CommandError(click.ClickException):
    """A NamGraphError as the command line reports it."""

    exit_code = 1

    def show(self, file: Any = None) -> None:
        click.echo(f"error: {self.format_message()}", err=True, file=file)


class NamGraphGroup(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except NamGraphError as exc:
            raise CommandError(str(exc)) from exc


def _version() -> str:
    try:
        return version("namgraph")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "unknown"


@click.group(cls=NamGraphGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(_version(), "--version", prog_name="namgraph")
@click.option("--limit", "limit_texts", multiple=True, metavar="NAME=VALUE",
              help="Change a resource limit for this run (repeatable), e.g. --limit receptive_field=16777216. "
                   f"Limits: {', '.join(limit_names())}.")
@click.pass_context
def cli(ctx: click.Context, limit_texts: tuple[str, ...]) -> None:
    """Neural Amp Modeler (.nam) models and rigs, rendered sample-exact with NeuralAmpModelerCore."""
    if limit_texts:  # in effect until the command ends (see namgraph.limits)
        from ..limits import from_assignments, override

        ctx.with_resource(override(from_assignments(limit_texts)))


cli.add_command(render_command)
cli.add_command(ir_command)
cli.add_command(draw_command)
cli.add_command(plot_command)
cli.add_command(chain_command)
cli.add_command(convert_command)
cli.add_command(info_command)
cli.add_command(validate_command)


def main(argv: list[str] | None = None) -> Any:
    """Console-script entry point (``namgraph = "namgraph.cli:main"``)."""
    return cli.main(args=argv, prog_name="namgraph")
