"""``namgraph info FILE``: what a model, rig or IR file holds and what it costs to run.

:func:`facts` is the one description (a JSON-able dict; ``--json`` prints it as is); the
text output and the one-line :func:`summary` the other commands print are views of it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from ..graph.ir import Graph
    from ..model import Model
    from ..models.base import Architecture

FORMS = {"model": "model file", "sequential": "Sequential file", "dag": "DAG rig file", "ir": "impulse response wav"}


@click.command("info")
@click.argument("path", metavar="FILE", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (for scripts) instead of text.")
def info_command(path: Path, as_json: bool) -> None:
    """Show what FILE is: its models, sample rate, channels, latency and cost.

    FILE is a .nam capture, a Sequential or rig (DAG) file, or a cab IR .wav. The text lists
    the models (nested ones indented), the rig's nodes and connections, the receptive field
    (how many past samples shape each output sample), the prewarm (silence run at start-up,
    as NeuralAmpModelerCore does), the parameter count, an estimate of the multiply-adds per
    sample (a guide to CPU cost) and the file's metadata.

    \b
    Example:
      namgraph info amp.nam
      namgraph info rig.nam --json
    """
    from ..loading import load

    data = facts(load(path), path)
    click.echo(json.dumps(data, indent=2, ensure_ascii=False) if as_json else text(data))


# ----------------------------------------------------------------------------- the description


def form_of(obj: "Model | Graph", path: str | os.PathLike[str] | None = None) -> str:
    """``model``, ``sequential``, ``dag`` or ``ir`` (a wav file)."""
    from ..graph.ir import Graph
    from ..models.containers import Sequential

    if path is not None and str(path).lower().endswith(".wav"):
        return "ir"
    if isinstance(obj, Graph):
        return "dag"
    return "sequential" if isinstance(obj.architecture, Sequential) else "model"


def facts(obj: "Model | Graph", path: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Everything ``info`` shows about a loaded model or rig (``path``: the file it came from)."""
    from ..graph.ir import Graph
    from ..graph.nodes import model_macs

    out: dict[str, Any] = {}
    if path is not None:
        out |= {"file": str(path), "file_size": os.path.getsize(path)}
    out["form"] = form_of(obj, path)
    if isinstance(obj, Graph):
        version = obj.file_fields.get("version")
        rig = obj.compile()
        arch, params, macs = rig.architecture, rig.num_weights, obj.macs_per_sample()
        latency, metadata = obj.latency(), obj.metadata
    else:
        version = obj.document.get("version")
        arch, params, macs = obj.architecture, obj.num_weights, model_macs(obj.architecture)
        latency, metadata = 0, obj.metadata  # Core reports no latency for any NAM model
    out["version"] = None if out["form"] == "ir" else version  # an IR's is namgraph's choice, not the file's
    if isinstance(obj, Graph):
        out |= _graph_listing(obj)
    else:
        out["model"] = model_tree(obj.architecture, obj.document)
    rate = obj.sample_rate
    out |= {
        "sample_rate": None if rate is None else (int(rate) if float(rate).is_integer() else float(rate)),
        "in_channels": arch.in_channels,
        "out_channels": arch.out_channels,
        "receptive_field": arch.receptive_field(),
        "latency": latency,
        "prewarm_samples": arch.prewarm_samples(),
        "parameters": int(params),
        "macs_per_sample": int(macs),
        "metadata": dict(metadata or {}),
    }
    return out


def model_tree(arch: "Architecture", raw: dict[str, Any] | None) -> dict[str, Any]:
    """One model and its nested ones: architecture, a short description, channels,
    receptive field, own and nested parameters, and ``children`` (each with its ``role``)."""
    from ..format.document import get_at, nested_model_locations

    raw = raw if isinstance(raw, dict) else {}
    metadata = raw.get("metadata")
    name = metadata.get("name") if isinstance(metadata, dict) else None
    node: dict[str, Any] = {"architecture": arch.name}
    if isinstance(name, str) and name.strip():
        node["name"] = name
    node |= {
        "details": _details(arch),
        "in_channels": arch.in_channels,
        "out_channels": arch.out_channels,
        "receptive_field": arch.receptive_field(),
        "parameters": _count(arch),
    }
    if arch.children():
        try:
            raws = [get_at(raw["config"], loc) for loc in nested_model_locations(arch.name, raw["config"])]
        except (KeyError, TypeError, IndexError):
            raws = []
        raws = raws if len(raws) == len(arch.children()) else [None] * len(arch.children())
        node["children"] = [
            {"role": role} | model_tree(child, child_raw)
            for role, child, child_raw in zip(_roles(arch), arch.children(), raws)
        ]
    return node


def _roles(arch: "Architecture") -> list[str]:
    from ..models.containers import Sequential, SlimmableContainer

    if isinstance(arch, Sequential):
        return [f"model {i}" for i in range(len(arch.models))]
    if isinstance(arch, SlimmableContainer):
        return [f"size <= {v:g}" + (" (active)" if i == arch.active else "") for i, v in enumerate(arch.max_values)]
    return ["condition_dsp"]


def _count(arch: "Architecture") -> int:
    return sum(t.size for t in arch.tensors()) + sum(_count(c) for c in arch.children())


def _details(arch: "Architecture") -> str:
    """A few words on a model's shape, in the file's own terms."""
    from ..models.containers import Sequential, SlimmableContainer
    from ..models.convnet import ConvNet
    from ..models.linear import Linear
    from ..models.lstm import LSTM
    from ..models.wavenet import WaveNet

    if isinstance(arch, Linear):
        c = arch.config
        return f"{c.receptive_field} taps" + (" + bias" if c.bias else "")
    if isinstance(arch, ConvNet):
        c = arch.config
        extra = (", batchnorm" if c.batchnorm else "") + (f", {c.groups} groups" if c.groups > 1 else "")
        return f"{c.channels} channels, dilations {list(c.dilations)}, {c.activation.type}{extra}"
    if isinstance(arch, LSTM):
        c = arch.config
        return f"{c.num_layers} layer(s) of {c.hidden_size} cells"
    if isinstance(arch, WaveNet):
        arrays = [_layer_array(la) for la in arch.config.layers]
        head = " + post-stack head" if arch.config.head is not None else ""
        return f"{len(arrays)} layer array(s): " + "; ".join(arrays) + head
    if isinstance(arch, Sequential):
        return f"{len(arch.models)} models in series"
    if isinstance(arch, SlimmableContainer):
        return f"{len(arch.submodels)} sizes; runs size {arch.active + 1} (the full model unless a size is chosen)"
    return ""


def _layer_array(la: Any) -> str:
    layers = la.resolved_layers
    kernels = sorted({layer.kernel_size for layer in layers})
    activations = list(dict.fromkeys(layer.activation.type for layer in layers))
    gating = sorted({layer.gating_mode for layer in layers} - {"none"})
    parts = [
        f"{la.channels} ch",
        f"{len(layers)} layer(s)",
        f"kernel {kernels[0] if len(kernels) == 1 else kernels}",
        f"dilations {list(la.dilations)}",
        "/".join(activations),
    ]
    if gating:
        parts.append("/".join(gating))
    if la.slimmable is not None and la.slimmable.allowed_channels:
        parts.append(f"slimmable {list(la.slimmable.allowed_channels)}")
    return ", ".join(parts)


def _graph_listing(graph: "Graph") -> dict[str, Any]:
    """The rig's nodes (file order: signal flow) with their settings and models, and its edges."""
    from ..converters.dag_format import graph_to_document

    document = graph_to_document(graph)["config"]
    nodes = []
    for raw in document["nodes"]:
        node = {"id": raw["id"], "kind": raw["kind"], "settings": raw["config"]}
        info = graph.node(raw["id"])
        if info.model is not None:
            node["model"] = model_tree(info.model.architecture, raw["model"])
        nodes.append(node)
    return {"nodes": nodes, "edges": document["edges"], "inputs": document["inputs"], "outputs": document["outputs"]}


# ----------------------------------------------------------------------------- text


def text(data: dict[str, Any]) -> str:
    """``facts`` for a person."""
    lines = []
    head = FORMS[data["form"]] + (f", version {data['version']}" if data.get("version") else "")
    if "file" in data:
        head = f"{data['file']}: {head}, {_size(data['file_size'])}"
    lines.append(head)
    if "model" in data:
        lines += _tree_lines(data["model"], "  ")
    else:
        lines.append("nodes (in signal-flow order):")
        width = max(len(n["id"]) for n in data["nodes"])
        for node in data["nodes"]:
            lines += _node_lines(node, width)
        lines.append("connections:")
        lines += [f"  {_edge_text(e)}" for e in data["edges"]]
    rate = data["sample_rate"]
    rows = [
        ("sample rate", "not stated (the model runs at any rate)" if rate is None else f"{rate:g} Hz"),
        ("channels", f"{data['in_channels']} in -> {data['out_channels']} out"),
        ("receptive field", f"{data['receptive_field']} samples"),
        ("latency", f"{data['latency']} samples"),
        ("prewarm", f"{data['prewarm_samples']} samples of silence at start-up"),
        ("parameters", f"{data['parameters']:,}"),
        ("multiply-adds", f"~{data['macs_per_sample']:,} per sample" + (f" (~{_si(data['macs_per_sample'] * rate)} per second)" if rate else "")),
    ]
    lines += [f"{key + ':':<17}{value}" for key, value in rows]
    if data["metadata"]:
        lines.append("metadata:")
        width = max(len(k) for k in data["metadata"]) + 1
        lines += [f"  {key + ':':<{width}} {_value(value)}" for key, value in data["metadata"].items()]
    return "\n".join(lines)


def _tree_lines(node: dict[str, Any], indent: str, role: str = "") -> list[str]:
    name = f" {json.dumps(node['name'], ensure_ascii=False)}" if "name" in node else ""
    role_text = f"[{role}] " if role else ""
    details = f": {node['details']}" if node["details"] else ""
    line = (
        f"{indent}{role_text}{node['architecture']}{name}{details} "
        f"({node['in_channels']}->{node['out_channels']} ch, receptive field {node['receptive_field']}, {node['parameters']:,} parameters)"
    )
    out = [line]
    for child in node.get("children", ()):
        out += _tree_lines(child, indent + "  ", child["role"])
    return out


def _node_lines(node: dict[str, Any], width: int) -> list[str]:
    settings = ", ".join(f"{k}={json.dumps(v)}" for k, v in node["settings"].items())
    head = f"  {node['id']:<{width}}  {node['kind']}" + (f" ({settings})" if settings else "")
    if "model" not in node:
        return [head]
    return [head + ":"] + _tree_lines(node["model"], " " * (width + 6))


def _edge_text(edge: dict[str, Any]) -> str:
    src = edge["from"] if "channel" not in edge else f"{edge['from']}[channel {edge['channel']}]"
    port = f" (input {edge['port']})" if "port" in edge else ""
    return f"{src} -> {edge['to']}{port}"


def _size(n: int) -> str:
    return f"{n} bytes" if n < 1000 else f"{n / 1000:.1f} kB" if n < 1_000_000 else f"{n / 1e6:.1f} MB"


def _si(x: float) -> str:
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if x >= scale:
            return f"{x / scale:.1f} {unit}"
    return f"{x:.0f}"


def _value(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 100 else text[:99] + "…"


# ----------------------------------------------------------------------------- one line


def summary(obj: "Model | Graph") -> str:
    """One line: what the object is, its rate, channels and receptive field."""
    from ..drawing import architecture_text
    from ..graph.ir import Graph

    if isinstance(obj, Graph):
        models = sum(1 for n in obj.nodes if n.kind == "model")
        what = f"DAG rig of {len(obj)} nodes ({models} model{'s' if models != 1 else ''})"
        arch = obj.compile().architecture
    else:
        what, arch = architecture_text(obj.architecture), obj.architecture
    rate = obj.sample_rate
    rate_text = "no sample rate" if rate is None else f"{rate:g} Hz"
    return f"{what}, {rate_text}, {arch.in_channels}->{arch.out_channels} ch, receptive field {arch.receptive_field()}"
