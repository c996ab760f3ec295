"""Pictures of a rig: Mermaid and Graphviz DOT text, and SVG/PNG drawn with matplotlib.

All three outputs come from one :class:`Scene` (boxes with their label lines, arrows with
their labels, both in signal-flow order), so they always say the same thing. A plain
model is drawn as ``in -> model -> out``; a Sequential file as the chain of its children.

The SVG/PNG drawing needs only matplotlib (no Graphviz binary): boxes are placed in
layers left to right by topological generation, edges that skip layers are routed
through spacer slots, and the order inside a layer is chosen by barycentre sweeps. The
figure is built on matplotlib's object API with the Agg canvas, never through ``pyplot``,
so drawing is headless and never changes the backend of the caller's session.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .atomic import atomic_output
from .errors import OptionError

if TYPE_CHECKING:
    from .graph.ir import Edge, Graph, NodeInfo
    from .graph.validation import Checked
    from .model import Model
    from .models.base import Architecture

PICTURE_FORMATS = ("svg", "png")
NAME_LIMIT = 40  # characters of a model's metadata name shown in its box

DPI = 100
# DejaVu Sans ships with matplotlib, so text is measured the same everywhere; SVG viewers
# without it fall back to their own sans-serif.
# text.parse_math off: names come from files, and "$...$" in one must print as written, not
# go to matplotlib's TeX parser (which raises on malformed input).
FIGURE_RC = {"svg.fonttype": "none", "svg.hashsalt": "namgraph", "font.family": "sans-serif", "font.sans-serif": ["DejaVu Sans"],
             "text.parse_math": False}
_METADATA: dict[str, dict[str, Any]] = {"svg": {"Date": None}, "png": {}}
ID_FONT = 9.5
DETAIL_FONT = 8.0
LABEL_FONT = 7.5
PAD = 0.12  # inches of padding inside a box
VGAP = 0.28  # inches between boxes of one layer
SPACER = 0.22  # height of the slot an edge takes in a layer it passes through
ARROW_COLOUR = "#4a4a4a"

# role -> (fill, stroke); a role fixes a box's shape and colour in every output.
ROLE_COLOURS = {
    "endpoint": ("#e8f5e9", "#2e7d32"),
    "model": ("#e3f2fd", "#1565c0"),
    "effect": ("#fff8e1", "#c17900"),
    "blend": ("#fce4ec", "#ad1457"),
    "routing": ("#ede7f6", "#5e35b1"),
}


@dataclass(frozen=True)
class Box:
    """One node as drawn: ``lines[0]`` is its id, the others say what it does."""

    id: str
    kind: str
    role: str  # endpoint | model | effect | blend | routing
    lines: tuple[str, ...]


@dataclass(frozen=True)
class Arrow:
    src: str
    dst: str
    port: int
    label: str  # "" when there is nothing to say (mono, unnamed port)


@dataclass(frozen=True)
class Scene:
    """What every picture shows: boxes and arrows in signal-flow order, and an optional title."""

    title: str | None
    boxes: tuple[Box, ...]
    arrows: tuple[Arrow, ...]


# ----------------------------------------------------------------------------- what to draw


def as_rig(obj: "Graph | Model | str | PathLike[str]") -> "Graph":
    """The graph a picture shows: a graph as it is, a model as ``in -> model -> out``, a
    Sequential as the chain of its children; a path is loaded first."""
    from .graph.api import as_graph
    from .graph.ir import Graph
    from .models.containers import Sequential

    obj = _loaded(obj)
    if isinstance(obj, Graph):
        return obj
    if isinstance(getattr(obj, "graph", None), Graph):  # a compiled graph: draw its graph
        return obj.graph
    if not (hasattr(obj, "architecture") and hasattr(obj, "params")):
        raise TypeError(f"pictures are drawn of a Graph, a Model or a .nam path, not {type(obj).__name__}")
    if isinstance(obj.architecture, Sequential):
        from .converters import to_dag  # the chain of its children, as the converters lower it

        return to_dag(obj)
    return as_graph(obj)


def _loaded(obj: Any) -> Any:
    if isinstance(obj, str | PathLike):
        from .loading import load

        return load(obj)
    return obj


def scene(obj: "Graph | Model | str | PathLike[str]") -> Scene:
    """The boxes and arrows of ``obj`` (validated: channel counts come from the graph's checks)."""
    import networkx as nx

    from .graph.validation import check

    obj = _loaded(obj)
    graph = as_rig(obj)
    title = _name(graph.metadata) or _name(getattr(obj, "metadata", None))
    checked = check(graph)
    order = [n for n in nx.lexicographical_topological_sort(graph.to_networkx())]
    rank = {n: i for i, n in enumerate(order)}
    boxes = tuple(_box(graph.node(n)) for n in order)
    arrows = tuple(
        Arrow(e.src, e.dst, e.port, _arrow_label(e, graph.node(e.dst), checked))
        for e in sorted(graph.edges, key=lambda e: (rank[e.src], rank[e.dst], e.port))
    )
    return Scene(title, boxes, arrows)


def _name(metadata: Any) -> str | None:
    name = metadata.get("name") if isinstance(metadata, dict) else None
    return name.strip() or None if isinstance(name, str) else None


def _role(kind: str) -> str:
    from .graph.nodes import KINDS

    cls = KINDS[kind]
    if kind in ("input", "output"):
        return "endpoint"
    if kind == "model":
        return "model"
    if cls.aggregator:
        return "blend"
    if cls.splits_channels or cls.max_inputs is None:
        return "routing"
    return "effect"


def _box(info: "NodeInfo") -> Box:
    details = [line for line in _details(info) if line != info.id]
    return Box(info.id, info.kind, _role(info.kind), (info.id, *details))


def _details(info: "NodeInfo") -> list[str]:
    """What a node does, in a few short lines (the id is shown above them)."""
    c = info.config
    if info.kind == "model":
        return _model_details(info)
    if info.kind == "input":
        return [f"{c.channels} ch"] if c.channels > 1 else []
    if info.kind == "output":
        return []
    if info.kind == "gain":
        return [f"{c.db:+.3g} dB"]
    if info.kind == "polarity":
        return ["invert ø" if c.invert else "no invert"]
    if info.kind == "delay":
        return [f"delay {c.samples} samples"]
    if info.kind == "sum":
        return ["Σ sum"]
    if info.kind == "weighted_sum":
        return ["Σ weighted"]
    if info.kind == "mix":
        return [f"mix {100 * c.amount:.3g}% wet" + (", equal power" if c.law == "equal_power" else "")]
    if info.kind in ("mean", "split", "merge"):
        return [info.kind]
    from .graph.ir import _describe  # any other kind: the graph's own one-line description

    return [_describe(info)]


def _model_details(info: "NodeInfo") -> list[str]:
    from .models.containers import SlimmableContainer

    model = info.model
    arch = model.architecture
    lines = [f"{architecture_text(arch, arrow='→')} · {model.in_channels}→{model.out_channels} ch"]
    if isinstance(arch, SlimmableContainer):
        sizes = [f"≤{v:g} {m.name}" for v, m in zip(arch.max_values, arch.submodels)]
        lines.append("sizes: " + ", ".join(sizes))
    source = getattr(model, "source", None) or info.config.path
    if source and Path(source).stem != info.id:
        lines.append(os.path.basename(source))
    name = _name(model.metadata)
    if name and _letters(name) != _letters(info.id):  # ids made from the name need not repeat it
        lines.append(name if len(name) <= NAME_LIMIT else name[: NAME_LIMIT - 1] + "…")
    if info.config.latency:
        lines.append(f"latency {info.config.latency} samples")
    return lines


def _letters(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


def architecture_text(arch: "Architecture", *, arrow: str = "->") -> str:
    """``WaveNet``, ``Sequential[WaveNet -> Linear]``, ``SlimmableContainer[2 of 3: WaveNet]``."""
    from .models.containers import Sequential, SlimmableContainer

    if isinstance(arch, Sequential):
        return f"Sequential[{f' {arrow} '.join(architecture_text(m, arrow=arrow) for m in arch.models)}]"
    if isinstance(arch, SlimmableContainer):
        return f"SlimmableContainer[{arch.active + 1} of {len(arch.submodels)}: {architecture_text(arch.active_model, arrow=arrow)}]"
    return arch.name


def _arrow_label(edge: "Edge", dst: "NodeInfo", checked: "Checked") -> str:
    """Split channel, channel count (when > 1), and which input of the destination the edge is."""
    from .graph.nodes import KINDS
    from .graph.validation import edge_channels

    carried = edge_channels(edge, checked.channels)
    parts = []
    if edge.channel is not None:
        parts.append(f"ch {edge.channel}")
    if carried > 1:
        parts.append(f"{carried} ch")
    cls = KINDS[dst.kind]
    if cls.port_names and edge.port < len(cls.port_names):
        parts.append(cls.port_names[edge.port])
    elif dst.kind == "weighted_sum":
        parts.append(f"×{dst.config.weights[edge.port]:g}")
    elif dst.kind == "merge":  # the output channels this input becomes
        first = sum(edge_channels(e, checked.channels) for e in checked.inputs[dst.id] if e.port < edge.port)
        parts.append(f"→ ch {first}" if carried == 1 else f"→ ch {first}-{first + carried - 1}")
    return ", ".join(parts)


# ----------------------------------------------------------------------------- text formats


def to_mermaid(obj: "Graph | Model | str | PathLike[str]") -> str:
    """A Mermaid ``graph LR`` flowchart: endpoints as stadiums, blends as circles, models as boxes."""
    sc = scene(obj)
    ids = {b.id: _mermaid_id(b.id) for b in sc.boxes}
    shapes = {"endpoint": ('(["', '"])'), "model": ('["', '"]'), "effect": ('("', '")'), "blend": ('(("', '"))'), "routing": ('{{"', '"}}')}
    lines = [f"%% {_mermaid_text(sc.title)}"] if sc.title else []
    lines.append("graph LR")
    for b in sc.boxes:
        left, right = shapes[b.role]
        lines.append(f"  {ids[b.id]}{left}{'<br/>'.join(_mermaid_text(s) for s in b.lines)}{right}")
    for a in sc.arrows:
        label = f'|"{_mermaid_text(a.label)}"|' if a.label else ""
        lines.append(f"  {ids[a.src]} -->{label} {ids[a.dst]}")
    for role, (fill, stroke) in ROLE_COLOURS.items():
        members = [ids[b.id] for b in sc.boxes if b.role == role]
        if members:
            lines.append(f"  classDef {role} fill:{fill},stroke:{stroke},color:#111")
            lines.append(f"  class {','.join(members)} {role}")
    return "\n".join(lines) + "\n"


def _mermaid_id(node: str) -> str:
    """A Mermaid-safe, one-to-one node name: ``n_`` + the id with ``_`` -> ``__``, ``.`` -> ``_d``, ``-`` -> ``_h``.

    The prefix keeps ids such as ``end`` or ``graph`` from being read as keywords."""
    return "n_" + node.replace("_", "__").replace(".", "_d").replace("-", "_h")


def _mermaid_text(text: str) -> str:
    for char, entity in (("&", "#amp;"), ('"', "#quot;"), ("<", "#lt;"), (">", "#gt;")):
        text = text.replace(char, entity)
    return text


def to_dot(obj: "Graph | Model | str | PathLike[str]") -> str:
    """Graphviz DOT text with the same boxes, shapes, colours and labels as :func:`to_mermaid`."""
    sc = scene(obj)
    shapes = {
        "endpoint": 'shape=oval, style="filled"',
        "model": 'shape=box, style="filled"',
        "effect": 'shape=box, style="rounded,filled"',
        "blend": 'shape=circle, style="filled"',
        "routing": 'shape=hexagon, style="filled"',
    }
    lines = ["digraph rig {", "  rankdir=LR;", '  node [fontname="Helvetica", fontsize=10];', '  edge [fontname="Helvetica", fontsize=9];']
    if sc.title:
        lines.append(f'  label="{_dot_text(sc.title)}"; labelloc=t;')
    for b in sc.boxes:
        fill, stroke = ROLE_COLOURS[b.role]
        label = "\\n".join(_dot_text(s) for s in b.lines)
        lines.append(f'  "{b.id}" [label="{label}", {shapes[b.role]}, fillcolor="{fill}", color="{stroke}"];')
    for a in sc.arrows:
        label = f' [label="{_dot_text(a.label)}"]' if a.label else ""
        lines.append(f'  "{a.src}" -> "{a.dst}"{label};')
    lines.append("}")
    return "\n".join(lines) + "\n"


def _dot_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


# ----------------------------------------------------------------------------- SVG / PNG


def draw(obj: "Graph | Model | str | PathLike[str]", path: str | PathLike[str]) -> Path:
    """Draw ``obj`` to ``path`` (``.svg`` or ``.png``, by extension), atomically; returns the path."""
    fmt = picture_format(path)
    import matplotlib

    with matplotlib.rc_context(FIGURE_RC):
        return save_figure(_figure(scene(obj)), path, fmt)


def picture_format(path: str | PathLike[str]) -> str:
    """``"svg"`` or ``"png"`` from the file name; anything else is refused before any work is done."""
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in PICTURE_FORMATS:
        raise OptionError(f"a picture is written as .svg or .png, not {path.suffix or 'a file without extension'!r}", file=path)
    return fmt


def save_figure(fig: Any, path: str | PathLike[str], fmt: str) -> Path:
    """Write a matplotlib figure atomically. Call inside ``matplotlib.rc_context(FIGURE_RC)``:
    SVG text stays text (searchable, small) and ids and dates are fixed, so the bytes are reproducible."""
    path = Path(path)
    with atomic_output(path) as handle:
        fig.savefig(handle, format=fmt, dpi=DPI, metadata=_METADATA[fmt])
    return path


def new_figure() -> Any:
    """A matplotlib Figure on the Agg canvas, made without ``pyplot`` (headless, no global state)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(dpi=DPI)
    FigureCanvasAgg(fig)
    return fig


@dataclass
class _Slot:
    """Room in a column: a box, or (``role == ""``) a point an edge passes through."""

    w: float
    h: float
    x: float = 0.0
    y: float = 0.0
    role: str = ""


def _figure(sc: Scene) -> Any:
    fig = new_figure()
    measure = _measurer(fig.canvas.get_renderer())

    layer = _layers(sc)
    n_layers = max(layer.values()) + 1
    text_size = {b.id: _text_block(b, measure) for b in sc.boxes}
    slots: dict[Any, _Slot] = {}
    for b in sc.boxes:
        tw, th = text_size[b.id]
        w, h = _shape_size(b.role, tw, th)
        slots[b.id] = _Slot(w, h, role=b.role)
    routes: list[list[Any]] = []
    for i, a in enumerate(sc.arrows):
        route = [a.src]
        for lay in range(layer[a.src] + 1, layer[a.dst]):
            key = ("~", i, lay)  # arrow i passing through column lay
            slots[key] = _Slot(0.0, SPACER)
            layer[key] = lay
            route.append(key)
        route.append(a.dst)
        routes.append(route)
    columns = _order(sc, layer, routes, n_layers)

    # x: column centres, with room between columns for the labels of the arrows ending there
    label_w = [0.0] * n_layers
    for a, route in zip(sc.arrows, routes):
        if a.label:
            label_w[layer[a.dst]] = max(label_w[layer[a.dst]], measure(a.label, LABEL_FONT, "normal")[0])
    widths = [max(slots[k].w for k in col) for col in columns]
    margin = 0.25
    x = margin
    for i, col in enumerate(columns):
        if i:
            x += widths[i - 1] / 2 + max(0.55, label_w[i] + 0.35) + widths[i] / 2
        else:
            x += widths[0] / 2
        for k in col:
            slots[k].x = x
    width = x + widths[-1] / 2 + margin

    # y: each column stacked top to bottom, centred on 0
    heights = [sum(slots[k].h for k in col) + VGAP * (len(col) - 1) for col in columns]
    tallest = max(heights)
    for col, hgt in zip(columns, heights):
        top = hgt / 2
        for k in col:
            slots[k].y = top - slots[k].h / 2
            top -= slots[k].h + VGAP
    title_h = 0.4 if sc.title else 0.0
    height = tallest + 2 * margin + title_h

    fig.set_size_inches(max(width, 1.5), max(height, 1.0))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, max(width, 1.5))
    bottom = -tallest / 2 - margin
    ax.set_ylim(bottom, bottom + max(height, 1.0))
    ax.set_axis_off()

    for b in sc.boxes:
        _draw_box(ax, b, slots[b.id], text_size[b.id])
    offsets = _port_offsets(sc, routes, slots)
    for i, (a, route) in enumerate(zip(sc.arrows, routes)):
        _draw_arrow(ax, a, [slots[k] for k in route], offsets[i])
    if sc.title:
        ax.text(width / 2, tallest / 2 + margin + title_h / 2 - 0.05, sc.title, ha="center", va="center", fontsize=10, style="italic", color="#333")
    return fig


def _measurer(renderer: Any) -> Any:
    from matplotlib.font_manager import FontProperties

    cache: dict[tuple[str, float, str], tuple[float, float]] = {}

    def measure(text: str, size: float, weight: str) -> tuple[float, float]:
        key = (text, size, weight)
        if key not in cache:
            w, h, _ = renderer.get_text_width_height_descent(text, FontProperties(size=size, weight=weight), ismath=False)
            cache[key] = (w / DPI, h / DPI)
        return cache[key]

    return measure


def _text_block(b: Box, measure: Any) -> tuple[float, float]:
    sizes = [measure(b.lines[0], ID_FONT, "bold")] + [measure(s, DETAIL_FONT, "normal") for s in b.lines[1:]]
    return max(w for w, _ in sizes), sum(_line_height(i) for i in range(len(b.lines)))


def _line_height(i: int) -> float:
    return (ID_FONT if i == 0 else DETAIL_FONT) * 1.35 / 72


def _shape_size(role: str, tw: float, th: float) -> tuple[float, float]:
    if role == "blend":  # an ellipse around the text; a circle when the text is short
        w, h = tw * 1.25 + PAD, th * 1.45 + PAD
        return (max(w, h), max(w, h)) if w < 1.3 * h else (w, h)
    if role == "routing":
        h = th + 2 * PAD
        return tw + 2 * PAD + h * 0.6, h
    if role == "endpoint":
        h = th + 2 * PAD
        return max(tw + 2 * PAD + h * 0.5, 0.6), h
    return tw + 2.5 * PAD, th + 2 * PAD


def _layers(sc: Scene) -> dict[Any, int]:
    """Topological generation of every node; outputs moved to the last column."""
    import networkx as nx

    g = nx.MultiDiGraph()
    g.add_nodes_from(b.id for b in sc.boxes)
    g.add_edges_from((a.src, a.dst) for a in sc.arrows)
    layer: dict[Any, int] = {}
    for i, generation in enumerate(nx.topological_generations(g)):
        for n in generation:
            layer[n] = i
    last = max(layer.values())
    for b in sc.boxes:
        if b.kind == "output":
            layer[b.id] = last
    return layer


def _order(sc: Scene, layer: dict[Any, int], routes: list[list[Any]], n_layers: int) -> list[list[Any]]:
    """Slots per column, ordered by barycentre sweeps (deterministic: ties keep signal-flow order)."""
    flow = {b.id: i for i, b in enumerate(sc.boxes)}
    columns: list[list[Any]] = [[] for _ in range(n_layers)]
    for b in sc.boxes:
        columns[layer[b.id]].append(b.id)
    for route in routes:
        for k in route[1:-1]:
            columns[layer[k]].append(k)

    def tiebreak(k: Any) -> tuple:
        return (flow[k], 0) if isinstance(k, str) else (flow[routes[k[1]][0]], 1 + k[1])

    up: dict[Any, list[Any]] = {}
    down: dict[Any, list[Any]] = {}
    for route in routes:
        for a, b in zip(route, route[1:]):
            down.setdefault(a, []).append(b)
            up.setdefault(b, []).append(a)
    columns = [sorted(col, key=tiebreak) for col in columns]
    pos = {k: i for col in columns for i, k in enumerate(col)}
    sweeps = [range(1, n_layers), range(n_layers - 2, -1, -1)] * 2 + [range(1, n_layers)]
    for sweep in sweeps:
        for i in sweep:
            neighbours = up if sweep.step > 0 else down
            col = columns[i]

            def centre(k: Any) -> float:
                near = neighbours.get(k, [])
                return sum(pos[n] for n in near) / len(near) if near else pos[k]

            columns[i] = sorted(col, key=lambda k: (centre(k), tiebreak(k)))
            pos.update({k: j for j, k in enumerate(columns[i])})
    return columns


def _port_offsets(sc: Scene, routes: list[list[Any]], slots: dict[Any, _Slot]) -> list[list[float]]:
    """Vertical offsets of each arrow's ends, so several arrows at one side of a box fan out."""
    start = [0.0] * len(routes)
    end = [0.0] * len(routes)
    for b in sc.boxes:
        box = slots[b.id]
        outgoing = sorted((i for i, r in enumerate(routes) if r[0] == b.id), key=lambda i: (-slots[routes[i][1]].y, sc.arrows[i].port))
        incoming = sorted((i for i, r in enumerate(routes) if r[-1] == b.id), key=lambda i: (-slots[routes[i][-2]].y, sc.arrows[i].port))
        for group, target in ((outgoing, start), (incoming, end)):
            step = min(0.14, 0.6 * box.h / max(len(group), 1))
            for j, i in enumerate(group):
                target[i] = ((len(group) - 1) / 2 - j) * step
    return [[s, e] for s, e in zip(start, end)]


def _draw_box(ax: Any, b: Box, s: _Slot, text: tuple[float, float]) -> None:
    from matplotlib.patches import Ellipse, FancyBboxPatch, Polygon

    fill, stroke = ROLE_COLOURS[b.role]
    style = {"facecolor": fill, "edgecolor": stroke, "linewidth": 1.2, "zorder": 2}
    x0, y0 = s.x - s.w / 2, s.y - s.h / 2
    if b.role == "blend":
        patch = Ellipse((s.x, s.y), s.w, s.h, **style)
    elif b.role == "routing":
        i = s.h * 0.3
        patch = Polygon([(x0, s.y), (x0 + i, y0 + s.h), (x0 + s.w - i, y0 + s.h), (x0 + s.w, s.y), (x0 + s.w - i, y0), (x0 + i, y0)], closed=True, **style)
    else:
        radius = {"endpoint": s.h / 2, "model": 0.04, "effect": 0.12}[b.role]
        patch = FancyBboxPatch((x0, y0), s.w, s.h, boxstyle=f"round,pad=0,rounding_size={radius}", **style)
    ax.add_patch(patch)
    top = s.y + text[1] / 2
    for i, line in enumerate(b.lines):
        h = _line_height(i)
        ax.text(
            s.x, top - h / 2, line, ha="center", va="center", zorder=3,
            fontsize=ID_FONT if i == 0 else DETAIL_FONT, fontweight="bold" if i == 0 else "normal",
            color="#111" if i == 0 else "#333",
        )
        top -= h


def _attach(s: _Slot, side: int, dy: float) -> tuple[float, float]:
    """Where an arrow meets a box's left (side -1) or right (+1) edge at height ``s.y + dy``."""
    if not s.role:  # an edge passing through a column
        return s.x, s.y
    half = s.w / 2
    if s.role == "blend":
        half *= max(0.0, 1 - (2 * dy / s.h) ** 2) ** 0.5
    elif s.role == "routing":
        half -= s.h * 0.3 * abs(2 * dy / s.h)
    elif s.role == "endpoint":
        r = s.h / 2
        half -= r - (max(0.0, r * r - dy * dy)) ** 0.5
    return s.x + side * half, s.y + dy


def _draw_arrow(ax: Any, a: Arrow, route: list[_Slot], offsets: list[float]) -> None:
    from matplotlib.patches import FancyArrowPatch
    from matplotlib.path import Path as MplPath

    points = [_attach(route[0], 1, offsets[0])] + [(s.x, s.y) for s in route[1:-1]] + [_attach(route[-1], -1, offsets[1])]
    verts = [points[0]]
    codes = [MplPath.MOVETO]
    for (px, py), (qx, qy) in zip(points, points[1:]):
        mid = (qx - px) / 2
        verts += [(px + mid, py), (qx - mid, qy), (qx, qy)]
        codes += [MplPath.CURVE4] * 3
    ax.add_patch(
        FancyArrowPatch(path=MplPath(verts, codes), arrowstyle="-|>", mutation_scale=9, linewidth=1.1, color=ARROW_COLOUR, zorder=1, shrinkA=0, shrinkB=0)
    )
    if a.label:
        (px, py), (qx, qy) = points[-2], points[-1]
        ax.text(
            (px + qx) / 2, (py + qy) / 2, a.label, ha="center", va="center", fontsize=LABEL_FONT, color="#222", zorder=4,
            bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "#bbbbbb", "linewidth": 0.6},
        )
