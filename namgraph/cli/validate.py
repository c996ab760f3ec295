"""``namgraph validate FILE...``: which files load, and every problem found in those that do not.

Loading stops at the first error. To report more, a file that fails is checked again part
by part: each nested model object (Sequential children, container submodels, a
``condition_dsp``, a rig's model nodes) on its own, recursively, then the object around
them; for a rig, the graph rules are checked with every broken model node replaced by a
placeholder, so a graph problem shows up next to the broken models (channel problems at a
placeholder are not reported: they would be the placeholder's, not the file's).
"""

from __future__ import annotations

import copy
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from ..errors import ChannelMismatchError, GraphError, LegacySequentialError, NamGraphError


@dataclass
class Report:
    """The outcome for one file: the loaded object (None when it fails), problems, warnings."""

    path: Path
    loaded: Any = None
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@click.command("validate")
@click.argument("paths", metavar="FILE...", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--migrate-legacy", is_flag=True, help="Accept legacy experimental Sequential files by migrating them (where that is unambiguous).")
def validate_command(paths: tuple[Path, ...], migrate_legacy: bool) -> None:
    """Check that each FILE loads as NeuralAmpModelerCore would load it (or, for a rig file, as namgraph does).

    Prints "OK" with a short summary, or "FAIL" with every problem found (where in the file,
    and what is wrong), and "WARN" for files that load but not everywhere alike (e.g. a
    newer file version). Exit status 0 when every file is valid, 1 otherwise, so scripts
    can use it.

    \b
    Example:
      namgraph validate amp.nam rig.nam cab.wav
      namgraph validate captures/*.nam || echo "some files are broken"
    """
    from .info import summary

    reports = [check_file(path, migrate_legacy=migrate_legacy) for path in paths]
    width = max(len(str(r.path)) for r in reports)
    for r in reports:
        if r.loaded is not None:
            click.echo(f"OK    {str(r.path):<{width}}  ({summary(r.loaded)})")
        elif len(r.problems) == 1:
            click.echo(f"FAIL  {r.path}: {r.problems[0]}")
        else:
            click.echo(f"FAIL  {r.path}: {len(r.problems)} problems")
            for problem in r.problems:
                click.echo(f"        - {problem}")
        for warning in r.warnings:
            click.echo(f"WARN  {r.path}: {warning}")
    failed = sum(r.loaded is None for r in reports)
    if len(reports) > 1:
        click.echo(f"{len(reports) - failed} of {len(reports)} files valid")
    if failed:
        click.get_current_context().exit(1)


def check_file(path: Path, *, migrate_legacy: bool = False) -> Report:
    """Load ``path``; if that fails, collect every problem that can be found cheaply."""
    from ..loading import load

    report = Report(path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            report.loaded = load(path, migrate_legacy=migrate_legacy)
        except NamGraphError as exc:
            report.problems = _all_problems(path, migrate_legacy) or [_where(exc, path)]
    shown = [w for w in caught if issubclass(w.category, UserWarning)]  # NamFormatWarning and the like, not deprecations
    report.warnings = list(dict.fromkeys(_without_file(str(w.message), path) for w in shown))
    return report


def _all_problems(path: Path, migrate_legacy: bool) -> list[str]:
    from ..format.jsonfile import read_json

    if str(path).lower().endswith(".wav"):
        return []  # one wav, one problem: the loader's
    try:
        raw = read_json(path)
        if migrate_legacy:
            from ..converters.legacy import migrate_legacy as migrate

            raw = migrate(raw, file=str(path))
    except NamGraphError as exc:
        return [_where(exc, path)]
    found = _dag_problems(raw, path) if raw.get("architecture") == "DAG" else _model_problems(raw, "", path)
    return [_where(exc, path) for exc in found]


def _model_problems(raw: Any, json_path: str, path: Path) -> list[NamGraphError]:
    """One model object's problems: its nested objects' (recursively), then its own."""
    from ..format.document import parse_document

    try:
        parse_document(raw, json_path=json_path, file=str(path))
        return []
    except NamGraphError as exc:
        own = exc
    if isinstance(own, LegacySequentialError):
        return [own]  # its children are bare configs, not models: one problem, one fix
    found: list[NamGraphError] = []
    broken: list[str] = []
    for child_path, child in _nested(raw, json_path):
        problems = _model_problems(child, child_path, path)
        if problems:
            found += problems
            broken.append(child_path)
    if not any(_under(own.json_path, p) for p in broken):
        found.append(own)
    return found


def _nested(raw: Any, json_path: str) -> list[tuple[str, Any]]:
    """The nested model objects of a (possibly broken) model object, with their JSON paths."""
    from ..format.validation_errors import join_path

    config = raw.get("config") if isinstance(raw, dict) else None
    if not isinstance(config, dict):
        return []
    architecture = raw.get("architecture")
    if architecture == "Sequential" and isinstance(config.get("models"), list):
        return [(join_path(json_path, "config", "models", i), m) for i, m in enumerate(config["models"])]
    if architecture == "SlimmableContainer" and isinstance(config.get("submodels"), list):
        return [
            (join_path(json_path, "config", "submodels", i, "model"), s["model"])
            for i, s in enumerate(config["submodels"])
            if isinstance(s, dict) and "model" in s
        ]
    if architecture == "WaveNet" and isinstance(config.get("condition_dsp"), dict):
        return [(join_path(json_path, "config", "condition_dsp"), config["condition_dsp"])]
    return []


def _dag_problems(raw: dict[str, Any], path: Path) -> list[NamGraphError]:
    """A rig's model nodes' problems, then the first problem of the rest of the file."""
    from ..converters.dag_format import document_to_graph

    config = raw.get("config")
    nodes = config.get("nodes") if isinstance(config, dict) else None
    found: list[NamGraphError] = []
    broken: dict[str, str] = {}  # JSON path of a broken model -> its node id
    patched = copy.deepcopy(raw)
    for i, node in enumerate(nodes if isinstance(nodes, list) else []):
        if isinstance(node, dict) and "model" in node:
            problems = _model_problems(node["model"], f"config.nodes[{i}].model", path)
            if problems:
                found += problems
                broken[f"config.nodes[{i}].model"] = str(node.get("id"))
                patched["config"]["nodes"][i]["model"] = copy.deepcopy(PLACEHOLDER)
    try:
        document_to_graph(patched, file=str(path))
    except NamGraphError as exc:
        at_placeholder = isinstance(exc, GraphError) and set(exc.nodes) & set(broken.values())
        if not any(_under(exc.json_path, p) for p in broken) and not (at_placeholder and isinstance(exc, ChannelMismatchError)):
            found.append(exc)
    return found


# Stands in for a broken model node so the graph rules can still be checked (no rate: a wildcard).
PLACEHOLDER = {"version": "0.5.4", "architecture": "Linear", "config": {"receptive_field": 1, "bias": False}, "weights": [1.0]}


def _under(json_path: str | None, prefix: str) -> bool:
    path = json_path or ""
    return path == prefix or path.startswith(prefix + ".") or path.startswith(prefix + "[")


def _where(exc: NamGraphError, path: Path) -> str:
    """The problem without the file name (the line already shows it)."""
    return f"{exc.json_path}: {exc.message}" if exc.json_path else exc.message


def _without_file(message: str, path: Path) -> str:
    for prefix in (f"{path}: ", f"{os.fspath(path)}: "):
        if message.startswith(prefix):
            return message[len(prefix):]
    return message
