"""Converters between the container forms: Sequential <-> DAG, wav IRs -> Linear, and the
DAG file format (a rig as a ``.nam`` file, ``dag_format``; schema in ``schema/``).

Installed as ``namgraph.converters``; the folder sits at the top of the repository so the
file-format work is easy to find.
"""

from .dag_format import document_to_graph, graph_to_document, read_dag, write_dag
from .lowering import to_dag
from .raising import simplest, to_model, to_sequential
from .rewrites import as_chain
