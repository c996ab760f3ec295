"""``load``: a ``.nam`` file (or an already-parsed document) to a :class:`Model`.

Validation happens once, in :mod:`namgraph.format.document`, which also builds the
architectures bottom-up (nested models first, then the model holding them). Here the
validated document tree becomes the params pytree that layout and architectures agree on.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping
from os import PathLike
from typing import Any

from .errors import NamGraphError
from .format.document import NamDocument, parse_document, read_document
from .format.jsonfile import write_json
from .model import Model, nest_params
from .models.base import Params

__all__ = ["load", "save_model", "model_from_document"]


def load(source: str | PathLike[str] | Mapping[str, Any]) -> Model:
    """Load a model from a ``.nam`` path, or from a parsed document (a dict; copied).

    Raises a :class:`namgraph.errors.NamGraphError` subclass naming the file and the JSON
    path of the problem.
    """
    if isinstance(source, Mapping):
        document = parse_document(copy.deepcopy(dict(source)))
        return model_from_document(document, source=None)
    if not isinstance(source, str | PathLike):
        raise TypeError(f"load() takes a path or a dict, not {type(source).__name__}")
    path = os.fspath(source)
    try:
        document = read_document(path)
        return model_from_document(document, source=path)
    except NamGraphError as exc:
        if exc.file:
            raise
        raise exc.located(file=path) from None


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
