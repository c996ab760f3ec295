"""Driving the command line in tests: one runner and one check of an error exit."""

from __future__ import annotations

from typing import Any

from click.testing import CliRunner, Result

from namgraph.cli import cli


def invoke(*args: Any) -> Result:
    """Run ``namgraph ARGS...`` through click's runner (the real entry point, in process)."""
    return CliRunner().invoke(cli, [str(a) for a in args])


def assert_error(result: Result, *fragments: str) -> None:
    """Exit status 1, one ``error: ...`` message on stderr naming every fragment, no traceback."""
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("error: "), result.stderr
    assert "Traceback" not in result.output, result.output
    for fragment in fragments:
        assert fragment in result.stderr, (fragment, result.stderr)
