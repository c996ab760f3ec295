"""Properties of the compiler and the runtimes, on random graphs: the output depends on the
graph only, not on how its nodes are ordered or named, how the audio is cut into blocks,
or whether clips are batched.

Tolerances (relative to the reference's peak, absolute below 1): 1e-6 where the same node
computations run in another order, another chunking or another XLA program (vmapped):
float32 rounding of reordered or re-chunked operations (FFT sizes follow the block
length), a few ulps of the peak. Per-item batch renders on CPU are the single render: 0.
"""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path
from typing import Any
from unittest import mock

import jax.numpy as jnp
import networkx as nx
import numpy as np
import pytest
from hypothesis import event, given
from hypothesis import strategies as st

import namgraph
from namgraph import engine
from namgraph.graph import Graph, compiler, validation
from strategies import (
    audio, examples, fast_compiles, partitions, peak_error, pooled_rigs, relabel, relabelings, rigs, topological_orders,
)

_fast = pytest.fixture(autouse=True, scope="module")(fast_compiles)

RECHUNKED = 1e-6  # same computations, another order / chunking / program: float32 rounding only


def compile_in_order(graph: Graph, order: tuple[str, ...]) -> Any:
    """``graph`` compiled with its nodes visited in ``order`` (a valid topological order)
    instead of the default (topological, ties broken by id)."""
    real = validation.check

    def check(g: Graph) -> validation.Checked:
        return dataclasses.replace(real(g), order=order)

    with mock.patch.object(compiler, "check", check):
        return compiler.compile_graph(graph)


@examples(6)
@given(rigs(), st.data())
def test_any_topological_order_gives_the_same_output(rig: Graph, data: st.DataObject) -> None:
    order = data.draw(topological_orders(rig), label="order")
    x = data.draw(audio(rig.in_channels), label="x")
    compiled = compile_in_order(rig, order)
    event("order differs from the default" if compiled.architecture.ids != rig.compile().architecture.ids else "same order")
    assert peak_error(namgraph.render(compiled, x), namgraph.render(rig, x)) <= RECHUNKED


def _node_match(a: dict, b: dict) -> bool:
    same_model = (a["model"] is None) == (b["model"] is None) and (a["model"] is None or a["model"] == b["model"])
    settings = lambda d: {k: v for k, v in d["config"].model_dump().items() if k != "path"}  # noqa: E731
    return a["kind"] == b["kind"] and settings(a) == settings(b) and same_model


def _edge_match(a: dict, b: dict) -> bool:
    """Parallel edges between two nodes match as multisets of (port, channel, channels)."""
    key = lambda edges: sorted((d["port"], -1 if d["channel"] is None else d["channel"], d["channels"] or 0) for d in edges.values())  # noqa: E731
    return key(a) == key(b)


@examples(6)
@given(rigs(), st.data())
def test_relabeling_node_ids_changes_nothing(rig: Graph, data: st.DataObject) -> None:
    """Renamed nodes render the same; written as a DAG file and read back, the renamed graph
    is isomorphic to the original (kinds, settings, models, ports, channels); renaming back
    gives the original graph."""
    mapping = data.draw(relabelings(rig), label="mapping")
    renamed = relabel(rig, mapping)
    x = data.draw(audio(rig.in_channels), label="x")
    assert peak_error(namgraph.render(renamed, x), namgraph.render(rig, x)) <= RECHUNKED
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "renamed.nam"
        namgraph.save(renamed, path, form="dag")
        loaded = namgraph.load(path)
    assert nx.is_isomorphic(rig.to_networkx(), loaded.to_networkx(), node_match=_node_match, edge_match=_edge_match)
    assert relabel(loaded, {new: old for old, new in mapping.items()}) == rig


@examples(10)
@given(pooled_rigs(), partitions(), st.data())
def test_streaming_in_any_blocks_equals_offline(rig: Graph, sizes: list[int], data: st.DataObject) -> None:
    x = data.draw(audio(rig.in_channels, sum(sizes), sum(sizes)), label="x")
    stream = namgraph.Stream(rig)
    state, pieces, start = stream.init_state(), [], 0
    for n in sizes:
        state, y = stream.step(stream.params, state, jnp.asarray(x[:, start : start + n]))
        pieces.append(np.asarray(y))
        start += n
    assert peak_error(np.concatenate(pieces, axis=1), namgraph.render(rig, x)) <= RECHUNKED


BATCH = 3  # fixed, so the vmapped render compiles once per rig
CUT = 128  # the batched stream's block: two blocks, so each item's state must carry over


@examples(6)
@given(pooled_rigs(), st.data())
def test_a_batch_renders_as_its_clips_alone(rig: Graph, data: st.DataObject) -> None:
    """``render`` of a (B, C, T) batch, the vmapped batch render (what GPU and TPU backends
    run) and a batched Stream (two blocks: every item keeps its own state) each equal the
    clips rendered one at a time."""
    clips = np.stack([data.draw(audio(rig.in_channels, 256, 256), label=f"clip {i}") for i in range(BATCH)])
    alone = np.stack([namgraph.render(rig, clip) for clip in clips])
    np.testing.assert_array_equal(namgraph.render(rig, clips), alone)
    compiled = rig.compile()
    vmapped = np.asarray(engine.render_vmapped_jit(compiled.architecture, compiled.params, jnp.asarray(clips)))
    assert peak_error(vmapped, alone) <= RECHUNKED
    stream = namgraph.Stream(rig, batch=BATCH)
    state, first = stream.step(stream.params, stream.init_state(), jnp.asarray(clips[..., :CUT]))
    _, second = stream.step(stream.params, state, jnp.asarray(clips[..., CUT:]))
    assert peak_error(np.concatenate([first, second], axis=-1), alone) <= RECHUNKED
