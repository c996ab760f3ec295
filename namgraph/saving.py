"""``save``: a model or a rig written as one model, a Sequential, or a DAG file.

The three forms and the exact conversions between them are in ``design/converters.md``.
``save`` only picks the conversion and the writer: :func:`~namgraph.loading.save_model`
for a model (a Sequential is a model) and ``converters.dag_format.write_dag`` for a graph,
both canonical and atomic. The conversion happens before anything is written, so a
graph that cannot be raised leaves the target untouched.
"""

from __future__ import annotations

from os import PathLike
from typing import TYPE_CHECKING

from .errors import OptionError, OutputError

if TYPE_CHECKING:
    from .graph.ir import Graph
    from .model import Model

__all__ = ["save", "in_form", "FORMS"]

FORMS = ("auto", "dag", "sequential", "model")


def save(obj: "Model | Graph", path: str | PathLike[str], form: str = "auto") -> "Model | Graph":
    """Write ``obj`` (a :class:`~namgraph.Model` or a :class:`~namgraph.Graph`) to ``path``.

    ``form``:

    * ``"auto"``: a model as it is (a Sequential stays a Sequential); a graph in its
      simplest exact form: one model, else a Sequential, else a DAG file.
    * ``"dag"``: a DAG rig file (a Sequential becomes the chain of its children).
    * ``"sequential"``: a Sequential file Core loads; a graph must raise to a chain
      (:class:`~namgraph.errors.NotRaisableError` names the nodes that block it), a single
      model becomes a one-model Sequential.
    * ``"model"``: one model; a graph or Sequential that is more than one model is a
      :class:`~namgraph.errors.NotRaisableError`.

    Returns what was written: a ``Model`` (one model or a Sequential) or a ``Graph`` (a DAG
    file). Like ``open(path, "w")`` an existing file is replaced (atomically: it holds the old
    or the new content, never a part); nothing is written when the conversion fails.
    """
    written = in_form(obj, form)
    from .graph.ir import Graph

    if isinstance(written, Graph):
        from .converters.dag_format import write_dag

        write_dag(written, path)
    else:
        from .loading import save_model

        if "architecture" not in written.document:
            raise OutputError("this model was built in Python without a .nam document, so it has nothing to write; load it from a file or a dict", file=path)
        save_model(written, path)
    return written


def in_form(obj: "Model | Graph", form: str = "auto") -> "Model | Graph":
    """``obj`` converted to ``form`` (see :func:`save`) without writing anything."""
    from .converters import simplest, to_dag, to_model, to_sequential
    from .converters.lowering import is_sequential
    from .graph.ir import Graph
    from .model import Model

    if form not in FORMS:
        raise OptionError(f"form must be one of {', '.join(map(repr, FORMS))}, not {form!r}")
    if isinstance(obj, Graph):
        return {"auto": simplest, "dag": _same, "sequential": to_sequential, "model": to_model}[form](obj)
    if not isinstance(obj, Model):
        raise TypeError(f"save() takes a Model or a Graph, not {type(obj).__name__} (load a path with namgraph.load first)")
    if form == "auto" or (form == "sequential" and is_sequential(obj)) or (form == "model" and not is_sequential(obj)):
        return obj
    graph = to_dag(obj)  # a Sequential as the chain of its children, any other model as one node
    return {"dag": _same, "sequential": to_sequential, "model": to_model}[form](graph)


def _same(graph: "Graph") -> "Graph":
    return graph
