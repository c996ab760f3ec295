"""Raising: a rig graph back to one model or a Sequential, through the exact rewrites.

The graph is first rewritten as a chain (:func:`namgraph.converters.rewrites.as_chain`:
LTI regions folded into one IR each; a NotRaisableError names what blocks it). Then:

* :func:`to_sequential` builds the canonical Sequential document (complete children,
  ``weights: []``) and loads it with :func:`namgraph.load`, so it is validated like any
  file;
* :func:`to_model` returns the one model of a one-model chain;
* :func:`simplest` picks the simplest of model, Sequential and the graph itself.

**Wrapper envelope.** ``version`` is ``graph.file_fields["version"]`` (else ``"0.7.0"``),
unknown envelope keys from ``file_fields`` come back, and ``sample_rate`` is the one in
``file_fields`` when it agrees with the models' rate; a graph read or lowered from a file
(``file_fields`` has a version) whose wrapper had none gets none, and otherwise the
models' common rate is written when known.

**Wrapper metadata.** A graph with metadata, or read or lowered from a file (its
``file_fields`` hold a version), keeps its metadata as it is (none stays none, an empty
object written as such when the file had the key). A graph composed in Python without
metadata gets only what is still true of the whole chain: ``input_level_dbu`` of the
first model and ``output_level_dbu`` of the last, when that model is fed by the graph
input (resp. feeds the output) with nothing in between (or only nodes that fold to exactly
the identity, such as a 0 dB gain). A folded region carries no metadata, so a gain before
the amp drops the input level. ``loudness`` and the trainer's ``gain`` describe one
model's output for a test signal, not the chain's, so they are never copied.
"""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import Any

from namgraph.errors import NotRaisableError
from namgraph.format.jsonfile import ENVELOPE_ORDER
from namgraph.graph import Graph
from namgraph.graph.ir import INPUT_LEVEL, OUTPUT_LEVEL, level
from namgraph.loading import load
from namgraph.model import Model

from .rewrites import Link, as_chain

__all__ = ["to_sequential", "to_model", "simplest", "DEFAULT_VERSION"]

DEFAULT_VERSION = "0.7.0"


def to_sequential(graph: Graph) -> Model:
    """The graph as a canonical Sequential model (one child per model of the raised chain)."""
    return _sequential(graph, as_chain(graph))


def to_model(graph: Graph) -> Model:
    """The single model of a graph that raises to one model; NotRaisableError otherwise.

    A graph with metadata gives the model that metadata (it describes the rig, which is now
    this model); otherwise the model keeps its own.
    """
    return _single(graph, as_chain(graph))


def simplest(graph: Graph) -> Model | Graph:
    """One model if the graph raises to one, else a Sequential, else the graph itself."""
    try:
        links = as_chain(graph)
    except NotRaisableError:
        return graph
    return _single(graph, links) if len(links) == 1 else _sequential(graph, links)


def _single(graph: Graph, links: list[Link]) -> Model:
    if len(links) != 1:
        names = [link.name for link in links]
        raise NotRaisableError(
            f"the graph raises to a chain of {len(links)} models ({' -> '.join(names)}), not to one model; "
            "write it as a Sequential (to_sequential) or keep it as a DAG",
            nodes=[n for link in links for n in ((link.node,) if link.node else link.folded)],
        )
    model = links[0].model
    if graph.metadata:
        model = replace(model, metadata=copy.deepcopy(graph.metadata))
    return model


def _sequential(graph: Graph, links: list[Link]) -> Model:
    fields = graph.file_fields
    doc: dict[str, Any] = {
        "version": fields.get("version", DEFAULT_VERSION),
        "architecture": "Sequential",
        "config": {"models": [_child_document(link) for link in links]},
        "weights": [],
    }
    rate = _wrapper_rate(graph)
    if rate is not None:
        doc["sample_rate"] = rate
        if not _from_file(graph):
            # A rig composed here states its rate in every child, as the spec's writer
            # checklist asks (a file's own children are kept as they were: round trips).
            for child in doc["config"]["models"]:
                child.setdefault("sample_rate", rate)
    if graph.metadata or _from_file(graph):
        if graph.metadata or "metadata" in fields:
            doc["metadata"] = copy.deepcopy(graph.metadata)
    elif levels := _chain_levels(links):
        doc["metadata"] = levels
    doc |= {k: copy.deepcopy(v) for k, v in fields.items() if k not in ENVELOPE_ORDER}
    return load(doc)


def _child_document(link: Link) -> dict[str, Any]:
    if "architecture" not in link.model.document:
        raise NotRaisableError(
            f"model node {link.node!r} holds a model built in memory, without a .nam document to write; "
            "load it with namgraph.load (or build it from a document) to raise the graph",
            nodes=(link.node,) if link.node else link.folded,
        )
    return link.model.to_document()


def _wrapper_rate(graph: Graph) -> int | float | None:
    """The file's own rate (as spelled) when it agrees with the models'; none for a file
    whose wrapper stated none; else the models' common rate when known."""
    stored, rate = graph.file_fields.get("sample_rate"), graph.sample_rate
    if stored is not None and (rate is None or float(stored) == rate):
        return stored
    if rate is None or (_from_file(graph) and "sample_rate" not in graph.file_fields):
        return None
    return int(rate) if float(rate).is_integer() else float(rate)


def _from_file(graph: Graph) -> bool:
    """Read or lowered from a file (its envelope is in ``file_fields``), not composed in Python."""
    return "version" in graph.file_fields


def _chain_levels(links: list[Link]) -> dict[str, Any]:
    """The levels still true of the chain: the first model's input level and the last one's output level."""
    out: dict[str, Any] = {}
    for key, link in ((INPUT_LEVEL, links[0]), (OUTPUT_LEVEL, links[-1])):
        if level(link.model, key) is not None:
            out[key] = link.model.metadata[key]
    return out
