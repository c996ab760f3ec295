"""``chain`` and ``parallel``: rigs from parts, nesting freely, in the style of pedalboard.

Every part becomes a small graph with one ``input`` and one ``output`` node (a model, a
path, a one-node effect from :func:`gain`/:func:`polarity`/:func:`delay`, or any graph
already built), and composing inlines those graphs: their input and output nodes vanish
and their other nodes are copied in, renamed only when an id is taken (``cab``, ``cab_2``).
The result is a plain :class:`Graph`, so anything built here can be extended with
``add``/``connect``.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

from ..errors import CalibrationError, CalibrationWarning, GraphError, OptionError
from .ir import Graph
from .nodes import KINDS

if TYPE_CHECKING:
    from ..model import Model

Part = Union[Graph, "Model", str, PathLike]
BLENDS = ("mean", "sum")


def chain(*parts: Part | Sequence[Part], calibrate: bool = False, align_latency: bool = True) -> Graph:
    """Parts in series: ``chain(drive, amp, cab)``.

    ``calibrate=True``: where a model feeds a model and the two carry
    ``metadata.output_level_dbu`` (upstream) and ``metadata.input_level_dbu`` (downstream),
    a gain of (output level − input level) dB is inserted, so the chain behaves as the
    analog gear did; junctions without both levels are left alone, with a
    :class:`~namgraph.errors.CalibrationWarning`.
    """
    graphs = _as_graphs(parts, "chain")
    out = Graph(align_latency=align_latency)
    out._add_node("in", "input", KINDS["input"].Config(channels=graphs[0].in_channels), None)
    tail: tuple[str, int | None] = ("in", None)
    for sub in graphs:
        tail = _inline(out, sub, tail, calibrate=calibrate)
    out._add_node("out", "output", KINDS["output"].Config(), None)
    out._add_edge(tail[0], "out", port=None, channel=tail[1], channels=None)
    return out


def parallel(*branches: Part | Sequence[Part], mix: str | Sequence[float] = "mean", align_latency: bool = True) -> Graph:
    """Branches fed the same input and blended: ``parallel(cab_a, cab_b, mix="mean")``.

    ``mix``: ``"mean"`` (the default: identical branches give one branch's level),
    ``"sum"``, or a list of weights, one per branch in the order given (a ``weighted_sum``;
    the weights are trainable params).
    """
    graphs = _as_graphs(branches, "parallel")
    if isinstance(mix, str):
        if mix not in BLENDS:
            raise OptionError(f"parallel(mix=...) takes 'mean', 'sum' or a list of weights, not {mix!r}")
        kind, settings = mix, {}
    else:
        try:
            weights = [float(w) for w in mix]
        except (TypeError, ValueError):
            raise OptionError(f"parallel(mix=...) takes 'mean', 'sum' or a list of numbers, not {mix!r}") from None
        if len(weights) != len(graphs):
            raise OptionError(f"parallel got {len(weights)} weight(s) for {len(graphs)} branch(es); give one per branch")
        kind, settings = "weighted_sum", {"weights": tuple(weights)}
    out = Graph(align_latency=align_latency)
    out._add_node("in", "input", KINDS["input"].Config(channels=graphs[0].in_channels), None)
    tails = [_inline(out, sub, ("in", None)) for sub in graphs]
    blend = out._unique_id(kind)
    out._add_node(blend, kind, KINDS[kind].Config(**settings), None)
    for src, channel in tails:
        out._add_edge(src, blend, port=None, channel=channel, channels=None)
    out._add_node("out", "output", KINDS["output"].Config(), None)
    out._add_edge(blend, "out", port=None, channel=None, channels=None)
    return out


def gain(db: float, *, channels: int = 1) -> Graph:
    """A one-node gain (dB) to use in ``chain``/``parallel``."""
    return _one("gain", channels, db=db)


def polarity(invert: bool = True, *, channels: int = 1) -> Graph:
    """A one-node polarity inversion."""
    return _one("polarity", channels, invert=invert)


def delay(samples: int, *, channels: int = 1) -> Graph:
    """A one-node delay of whole samples."""
    return _one("delay", channels, samples=samples)


def as_graph(part: Part) -> Graph:
    """A part as a graph with one input and one output node (graphs are returned as they are)."""
    if isinstance(part, Graph):
        if len(part.inputs) != 1 or len(part.outputs) != 1:
            raise GraphError(
                f"a graph used inside chain/parallel needs exactly one input and one output node; "
                f"this one has inputs {part.inputs} and outputs {part.outputs}"
            )
        part.validate()
        return part
    path = None
    if isinstance(part, str | PathLike):
        from ..loading import load

        path = os.fspath(part)
        part = load(path)
        if isinstance(part, Graph):  # a DAG file, or a stereo IR wav
            return as_graph(part)
    if not (hasattr(part, "architecture") and hasattr(part, "params")):
        raise TypeError(f"chain/parallel take models, .nam paths or graphs, not {type(part).__name__}")
    g = Graph()
    g._add_node("in", "input", KINDS["input"].Config(channels=part.in_channels), None)
    node = g._unique_id(_model_id(part))
    g.add(node, "model", model=part, **({} if path is None else {"path": path}))
    g._add_node("out", "output", KINDS["output"].Config(), None)
    g.connect("in", node, "out")
    return g


def _one(kind: str, channels: int, **settings: Any) -> Graph:
    g = Graph()
    g.add("in", "input", channels=channels)
    g.add(kind, kind, **settings)
    g.add("out", "output")
    g.connect("in", kind, "out")
    return g


def _as_graphs(parts: tuple, what: str) -> list[Graph]:
    if len(parts) == 1 and isinstance(parts[0], list | tuple):
        parts = tuple(parts[0])
    if not parts:
        raise GraphError(f"{what}() needs at least one part")
    return [as_graph(p) for p in parts]


def _model_id(model: "Model") -> str:
    source = getattr(model, "source", None)
    if source:
        return Path(source).stem
    return model.architecture.name.lower()


def _inline(parent: Graph, sub: Graph, upstream: tuple[str, int | None], *, calibrate: bool = False) -> tuple[str, int | None]:
    """Copy ``sub`` into ``parent`` fed from ``upstream``; return what feeds ``sub``'s output."""
    (sub_in,) = sub.inputs
    (sub_out,) = sub.outputs
    rename = {}
    for info in sub.nodes:
        if info.id in (sub_in, sub_out):
            continue
        rename[info.id] = parent._unique_id(info.id)
        parent._add_node(rename[info.id], info.kind, info.config, info.model)
    tail = None
    for edge in sub.edges:
        src = upstream if edge.src == sub_in else (rename[edge.src], edge.channel)
        if edge.dst == sub_out:
            tail = src
            continue
        dst = rename[edge.dst]
        if calibrate and edge.src == sub_in:
            src = _calibrate(parent, src, dst)
        parent._add_edge(src[0], dst, port=edge.port, channel=src[1], channels=edge.channels)
    assert tail is not None  # validated: the output has exactly one input
    return tail


def _calibrate(parent: Graph, src: tuple[str, int | None], dst: str) -> tuple[str, int | None]:
    """Insert the calibration gain between two model nodes if both levels are known."""
    g = parent._g
    if g.nodes[src[0]]["kind"] != "model" or g.nodes[dst]["kind"] != "model":
        return src
    try:
        db = parent._calibration_gain(src[0], dst)
    except CalibrationError as exc:
        warnings.warn(f"{exc.message}; no calibration gain inserted", CalibrationWarning, stacklevel=4)
        return src
    node = parent._unique_id(f"{src[0]}_to_{dst}_calibration")
    parent._add_node(node, "gain", KINDS["gain"].Config(db=db), None)
    parent._add_edge(src[0], node, port=None, channel=src[1], channels=None)
    return (node, None)
