"""``load``: a ``.nam`` file (or an already-parsed document) to a :class:`Model`.

Validation happens once, in :mod:`namgraph.format.document`, which also builds the
architectures bottom-up (nested models first, then the model holding them). Here the
validated document tree becomes the params pytree that layout and architectures agree on.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping
from contextlib import nullcontext
from os import PathLike
from typing import TYPE_CHECKING, Any

from . import limits as _limits
from .errors import NamGraphError
from .format.document import NamDocument, parse_document
from .format.jsonfile import read_json, write_json
from .model import Model, nest_params
from .models.base import Params

if TYPE_CHECKING:
    from .graph.ir import Graph

__all__ = ["load", "save_model", "model_from_document"]


def load(
    source: str | PathLike[str] | Mapping[str, Any],
    *,
    migrate_legacy: bool = False,
    limits: "_limits.Limits | None" = None,
) -> "Model | Graph":
    """Load a model from a ``.nam`` path, or from a parsed document (a dict; copied).

    A DAG file (``architecture: "DAG"``, a rig) gives a :class:`~namgraph.Graph`.

    A ``.wav`` path is an impulse response: ``converters.wav_ir.read_ir(path)`` with its
    defaults (a Linear model; a stereo IR with different channels gives a Graph).
    ``migrate_legacy=True`` migrates a legacy experimental Sequential (trainer PR #596) to
    the canonical form in memory (``converters.legacy.migrate_legacy``) instead of rejecting it.

    ``limits`` (a :class:`namgraph.limits.Limits`) replaces the limits in effect for this
    call (see :mod:`namgraph.limits`); a file asking for more is refused with a
    :class:`~namgraph.errors.LimitError` before anything of that size is allocated.

    Raises a :class:`namgraph.errors.NamGraphError` subclass naming the file and the JSON
    path of the problem.
    """
    with _limits.override(limits) if limits is not None else nullcontext():
        return _load(source, migrate_legacy)


def _load(source: str | PathLike[str] | Mapping[str, Any], migrate_legacy: bool) -> "Model | Graph":
    if isinstance(source, Mapping):
        raw = dict(source)  # any Mapping: the depth check walks dicts and lists
        _limits.check_json_depth(raw)  # before deepcopy, which recurses
        raw = copy.deepcopy(raw)
        if raw.get("architecture") == "DAG":
            return _dag(raw, None)
        document = parse_document(_migrated(raw, None) if migrate_legacy else raw)
        return model_from_document(document, source=None)
    if not isinstance(source, str | PathLike):
        raise TypeError(f"load() takes a path or a dict, not {type(source).__name__}")
    path = os.fspath(source)
    if path.lower().endswith(".wav"):
        from .converters.wav_ir import read_ir

        return read_ir(path)
    try:
        raw = read_json(path)
        if raw.get("architecture") == "DAG":
            return _dag(raw, path)
        document = parse_document(_migrated(raw, path) if migrate_legacy else raw, file=path)
        return model_from_document(document, source=path)
    except NamGraphError as exc:
        if exc.file:
            raise
        raise exc.located(file=path) from None


def _dag(raw: dict[str, Any], path: str | None) -> "Graph":
    """A rig file (``architecture: "DAG"``): see ``converters/dag_format.py``."""
    from .converters.dag_format import document_to_graph

    return document_to_graph(raw, file=path, copy_raw=False)  # raw is already this call's own


def _migrated(raw: Any, path: str | None) -> Any:
    from .converters.legacy import migrate_legacy

    return migrate_legacy(raw, file=path)


def model_from_document(document: NamDocument, *, source: str | None = None) -> Model:
    """The :class:`Model` of a validated document."""
    metadata = document.raw.get("metadata")
    return Model(
        document.arch,
        _params(document),
        document=document.raw,
        sample_rate=document.sample_rate,
        metadata=dict(metadata) if isinstance(metadata, dict) else {},
        source=source,
    )


def _params(document: NamDocument) -> Params:
    children = tuple(_params(child) for child in document.children)
    return nest_params(document.architecture, document.own_params, children)


def save_model(model: Model, path: str | PathLike[str]) -> None:
    """Write ``model`` (its current params) as a canonical ``.nam`` file, atomically."""
    write_json(model.to_document(), path)
