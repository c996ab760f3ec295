"""Lowering: a loaded model to a rig graph. A Sequential becomes the path of its children.

``to_dag(sequential)`` is ``in → child_1 → … → child_n → out``: one ``model`` node per
child, holding the child as a :class:`~namgraph.Model` (its own document, current params,
sample rate and metadata), and the wrapper's envelope kept on the graph (``metadata``; the
``version``, the ``sample_rate`` when the wrapper states one, whether it had a ``metadata``
key, and unknown keys in ``file_fields``). Without ``flatten`` the lowering is exactly invertible:
:func:`~namgraph.converters.to_sequential` of the result writes the same file (the same
canonical JSON). ``flatten=True`` also inlines nested Sequentials (recursively): it
renders the same, but the nested wrappers' own envelopes (metadata, version) are dropped,
so it is not invertible.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from typing import Any

from namgraph.format.jsonfile import ENVELOPE_ORDER
from namgraph.graph import Graph
from namgraph.model import Model, split_params
from namgraph.models.containers import Sequential

__all__ = ["to_dag", "is_sequential", "sequential_children", "node_name"]

INPUT, OUTPUT = "in", "out"


def to_dag(model: Model, *, flatten: bool = False) -> Graph:
    """The graph of ``model``: a Sequential's children in series, any other model as one node.

    A non-Sequential model gives ``in → model → out`` with empty graph metadata (the model
    keeps its own). Node ids are the children's ``metadata.name`` (sanitized), else their
    architecture name in lower case, made unique (``wavenet``, ``wavenet_2``).
    """
    graph = Graph()
    if is_sequential(model):
        document = model.to_document()
        graph.metadata = copy.deepcopy(dict(document.get("metadata") or {}))
        graph.file_fields = _file_fields(document)
        children = list(_flattened(model) if flatten else sequential_children(model))
    else:
        children = [model]
    graph.add(INPUT, "input", channels=model.in_channels)
    graph.add(OUTPUT, "output")
    tail = INPUT
    for child in children:
        node = graph._unique_id(node_name(child))
        graph.add(node, "model", model=child)
        graph.connect(tail, node)
        tail = node
    graph.connect(tail, OUTPUT)
    return graph


def is_sequential(model: Model) -> bool:
    return isinstance(model.architecture, Sequential)


def sequential_children(model: Model) -> list[Model]:
    """The children of a loaded Sequential as Models: each its own raw object from the
    wrapper's document (with the current params packed in), architecture and params."""
    document = model.to_document()
    _, params = split_params("Sequential", model.params)
    children = []
    for raw, arch, own in zip(document["config"]["models"], model.architecture.children(), params, strict=True):
        metadata = raw.get("metadata")
        rate = raw.get("sample_rate")
        children.append(
            Model(
                arch,
                own,
                document=raw,
                sample_rate=None if rate is None else float(rate),
                metadata=dict(metadata) if isinstance(metadata, Mapping) else {},
            )
        )
    return children


def node_name(model: Model) -> str:
    """A node id base for ``model``: its ``metadata.name``, else its architecture in lower case."""
    name = (model.metadata or {}).get("name")
    if isinstance(name, str) and name.strip():
        return name
    return model.architecture.name.lower()


def _flattened(model: Model) -> Iterator[Model]:
    for child in sequential_children(model):
        if is_sequential(child):
            yield from _flattened(child)
        else:
            yield child


def _file_fields(document: dict[str, Any]) -> dict[str, Any]:
    """The wrapper's envelope as ``namgraph.converters.dag_format`` keeps a file's: version,
    sample_rate and unknown keys, and ``metadata`` as a marker that the key was there
    (``graph.metadata`` is what gets written)."""
    fields = {"version": document["version"]}
    for key in ("sample_rate", "metadata"):  # metadata: only a marker that the wrapper had the key
        if key in document:
            fields[key] = copy.deepcopy(document[key])
    fields |= {k: copy.deepcopy(v) for k, v in document.items() if k not in ENVELOPE_ORDER}
    return fields
