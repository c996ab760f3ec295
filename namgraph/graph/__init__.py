"""Rigs as graphs: the IR (:class:`Graph`), node kinds, the compiler and the builders.

``chain``/``parallel`` compose parts; ``Graph.add``/``connect`` build anything else;
``graph.compile()`` lowers a graph to one architecture + params that ``namgraph.render``,
streaming, batching and ``jax.grad`` use like a single model. See ``design/graph.md``.
"""

from .api import as_graph, chain, delay, gain, parallel, polarity
from .compiler import CompiledGraph, GraphArchitecture, compile_graph
from .ir import Edge, Graph, NodeInfo
from .nodes import KINDS, NodeConfig, NodeKind, register

__all__ = [
    "CompiledGraph",
    "Edge",
    "Graph",
    "GraphArchitecture",
    "KINDS",
    "NodeConfig",
    "NodeInfo",
    "NodeKind",
    "as_graph",
    "chain",
    "compile_graph",
    "delay",
    "gain",
    "parallel",
    "polarity",
    "register",
]
