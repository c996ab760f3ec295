"""Pictures of rigs: Mermaid and DOT text name every node and edge; SVG/PNG are valid, complete and reproducible.

Expected texts are written here from the graph's own edges and the documented label rules,
never read back from the drawing code.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import pytest

import graph_parts as gp
import nam_docs
import namgraph
from namgraph.drawing import draw, to_dot, to_mermaid
from namgraph.errors import CycleError, GraphError, OptionError, OutputError
from namgraph.graph import Graph, chain, gain, parallel, polarity

REPO = Path(__file__).resolve().parents[1]
FULL_RIG = REPO / "examples" / "rig" / "full_rig.nam"
SAFE_MERMAID_ID = re.compile(r"[A-Za-z0-9_]+")
MERMAID_EDGE = re.compile(r'^\s*(\S+) -->(?:\|"([^"]*)"\|)? (\S+)$')
DOT_EDGE = re.compile(r'^\s*"([^"]+)" -> "([^"]+)"(?: \[label="((?:[^"\\]|\\.)*)"\])?;$')


def stereo_rig() -> Graph:
    """Mono amps in parallel, widened to stereo by two cabs (merge), then per-side effects
    (split) and a dry/wet mix against the stereo signal before them."""
    amps = parallel(gp.wavenet(0, name="amp"), chain(gain(-3.0), polarity(), gp.wavenet(1, name="amp")), mix="mean")
    widen = Graph()
    widen.add("in", "input")
    widen.add("cab_l", model=gp.linear([0.5, 0.25]))
    widen.add("cab_r", model=gp.linear([0.4, -0.1]))
    widen.add("lr", "merge")
    widen.add("out", "output")
    widen.connect("in", "cab_l", "lr")
    widen.connect("in", "cab_r", "lr")
    widen.connect("lr", "out")
    sides = Graph()
    sides.add("in", "input", channels=2)
    sides.add("split", "split")
    sides.add("left", "gain", db=2.5)
    sides.add("right", "delay", samples=7)
    sides.add("st", "merge")
    sides.add("blend", "mix", amount=0.25, law="equal_power")
    sides.add("out", "output")
    sides.connect("in", "split")
    sides.connect("split", "left", channel=0)
    sides.connect("split", "right", channel=1)
    sides.connect("left", "st")
    sides.connect("right", "st")
    sides.connect("in", "blend", port="dry")
    sides.connect("st", "blend", port="wet")
    sides.connect("blend", "out")
    return chain(amps, widen, sides)


@pytest.fixture(scope="module")
def rig() -> Graph:
    return stereo_rig()


def mermaid_id(node: str) -> str:
    """The documented escape: prefix n_, '_' -> '__', '.' -> '_d', '-' -> '_h'."""
    return "n_" + "".join({"_": "__", ".": "_d", "-": "_h"}.get(c, c) for c in node)


def mermaid_edges(text: str) -> Counter:
    found = Counter()
    for line in text.splitlines():
        m = MERMAID_EDGE.match(line)
        if m:
            found[(m.group(1), m.group(3), m.group(2) or "")] += 1
    return found


# ----------------------------------------------------------------------------- Mermaid


def node_lines(text: str) -> dict[str, str]:
    """Mermaid node definitions: name -> line (lines that are not edges or classes)."""
    out = {}
    for line in text.splitlines()[1:]:
        m = re.match(r"\s*(n_\w+)[(\[{]", line)
        if m and "-->" not in line:
            assert m.group(1) not in out, line
            out[m.group(1)] = line
    return out


def test_mermaid_names_every_node_and_edge(rig: Graph) -> None:
    text = to_mermaid(rig)
    assert text.splitlines()[0] == "graph LR"
    defined = node_lines(text)
    assert set(defined) == {mermaid_id(n.id) for n in rig.nodes}
    for node in rig.nodes:
        assert f'"{node.id}' in defined[mermaid_id(node.id)]  # the label starts with the id
    got = Counter()
    for (s, d, _), n in mermaid_edges(text).items():
        got[(s, d)] += n
    assert got == Counter((mermaid_id(e.src), mermaid_id(e.dst)) for e in rig.edges)


def test_mermaid_edge_labels(rig: Graph) -> None:
    labels = {(s, d): label for s, d, label in mermaid_edges(to_mermaid(rig))}
    m = mermaid_id
    assert labels[(m("split"), m("left"))] == "ch 0"
    assert labels[(m("split"), m("right"))] == "ch 1"
    assert labels[(m("lr"), m("split"))] == "2 ch"
    assert labels[(m("lr"), m("blend"))] == "2 ch, dry"
    assert labels[(m("st"), m("blend"))] == "2 ch, wet"
    assert labels[(m("cab_l"), m("lr"))] == "→ ch 0" and labels[(m("cab_r"), m("lr"))] == "→ ch 1"
    assert labels[(m("amp"), m("mean"))] == ""  # mono, into an unordered blend: nothing to say


def test_weighted_sum_edges_show_their_weights() -> None:
    text = to_mermaid(parallel(gain(0.0), polarity(), mix=[0.7, -0.25]))
    labels = {(s, d): label for s, d, label in mermaid_edges(text)}
    assert labels[("n_gain", "n_weighted__sum")] == "×0.7"
    assert labels[("n_polarity", "n_weighted__sum")] == "×-0.25"


def test_mermaid_shapes_and_details(rig: Graph) -> None:
    lines = node_lines(to_mermaid(rig))
    m = mermaid_id
    assert lines[m("in")].strip() == 'n_in(["in"])' and lines[m("out")].strip() == 'n_out(["out"])'  # stadiums
    assert lines[m("mean")].strip() == 'n_mean(("mean"))'  # blends are circles
    assert lines[m("blend")].strip() == 'n_blend(("blend<br/>mix 25% wet, equal power"))'
    assert lines[m("amp")].strip() == 'n_amp["amp<br/>WaveNet · 1→1 ch"]'  # models are boxes
    assert lines[m("amp_2")].strip() == 'n_amp__2["amp_2<br/>WaveNet · 1→1 ch<br/>amp.nam"]'  # file named when the id is not its stem
    assert lines[m("gain")].strip() == 'n_gain("gain<br/>-3 dB")' and lines[m("left")].strip() == 'n_left("left<br/>+2.5 dB")'
    assert lines[m("right")].strip() == 'n_right("right<br/>delay 7 samples")'
    assert lines[m("split")].strip() == 'n_split{{"split"}}'


def test_mermaid_ids_are_safe_and_distinct() -> None:
    g = Graph()
    g.add("in", "input")
    g.add("end", "gain")
    for node in ("a.b", "a-b", "a_b", "a__b", "a_db"):
        g.add(node, "gain")
    g.add("graph", "sum")
    g.add("out", "output")
    g.connect("in", "end")
    for node in ("a.b", "a-b", "a_b", "a__b", "a_db"):
        g.connect("end", node, "graph")
    g.connect("graph", "out")
    defined = node_lines(to_mermaid(g))
    assert len(defined) == len(g)
    assert all(SAFE_MERMAID_ID.fullmatch(name) and name.startswith("n_") for name in defined)
    assert {line.split('"')[1].split("<br/>")[0] for line in defined.values()} == {n.id for n in g.nodes}


def test_mermaid_escapes_label_text() -> None:
    model = gp.linear([1.0], metadata={"name": 'Amp "Plexi" <1968> & co'})
    text = to_mermaid(model)
    assert "Amp #quot;Plexi#quot; #lt;1968#gt; #amp; co" in text
    assert '"Plexi"' not in text


# ----------------------------------------------------------------------------- DOT


def test_dot_names_every_node_and_edge(rig: Graph) -> None:
    text = to_dot(rig)
    assert text.startswith("digraph rig {") and text.rstrip().endswith("}")
    for node in rig.nodes:
        assert re.search(rf'^\s*"{re.escape(node.id)}" \[label="{re.escape(node.id)}', text, re.M), node.id
    edges = Counter()
    labels = {}
    for line in text.splitlines():
        m = DOT_EDGE.match(line)
        if m:
            edges[(m.group(1), m.group(2))] += 1
            labels[(m.group(1), m.group(2))] = m.group(3) or ""
    assert edges == Counter((e.src, e.dst) for e in rig.edges)
    assert labels[("split", "left")] == "ch 0" and labels[("st", "blend")] == "2 ch, wet"


def test_dot_escapes_quotes_and_backslashes() -> None:
    g = chain(gp.linear([1.0], metadata={"name": 'a "b" \\ c'}))
    g.metadata = {"name": 'My "rig"'}
    text = to_dot(g)
    assert 'label="My \\"rig\\""' in text
    assert 'a \\"b\\" \\\\ c' in text


# ----------------------------------------------------------------------------- models and files


def test_plain_model_is_in_model_out(tmp_path: Path) -> None:
    path = nam_docs.write(tmp_path, nam_docs.linear(taps=4), "ir.nam")
    text = to_mermaid(namgraph.load(path))
    assert Counter((s, d) for s, d, _ in mermaid_edges(text)) == Counter({("n_in", "n_ir"): 1, ("n_ir", "n_out"): 1})
    assert "Linear · 1→1 ch" in text
    assert to_mermaid(path) == text  # a path is loaded first


def test_sequential_file_is_the_chain_of_its_children() -> None:
    text = to_mermaid(FULL_RIG)
    assert text.startswith("%% namgraph demo rig: drive into cab\n")  # the file's name is the title
    edges = [(s, d) for s, d, _ in mermaid_edges(text)]
    assert len(edges) == 3 and edges[0][0] == "n_in" and edges[-1][1] == "n_out"
    assert edges[0][1] == edges[1][0] and edges[1][1] == edges[2][0]
    first = next(line for line in text.splitlines() if line.strip().startswith(edges[0][1] + "["))
    second = next(line for line in text.splitlines() if line.strip().startswith(edges[1][1] + "["))
    assert "WaveNet · 1→1 ch" in first and "Linear · 1→1 ch" in second  # drive, then cab


def test_slimmable_container_lists_its_sizes(tmp_path: Path) -> None:
    path = nam_docs.write(tmp_path, nam_docs.container(nam_docs.linear(taps=2), nam_docs.tiny_wavenet()), "slim.nam")
    text = to_mermaid(path)
    assert "SlimmableContainer[2 of 2: WaveNet] · 1→1 ch" in text
    assert "sizes: ≤0.5 Linear, ≤1 WaveNet" in text


def test_invalid_graphs_are_refused_with_their_errors() -> None:
    cyclic = Graph()
    for node, kind in (("in", "input"), ("s", "sum"), ("a", "gain"), ("out", "output")):
        cyclic.add(node, kind)
    cyclic.connect("in", "s", "a", "out")
    cyclic.connect("a", "s")
    with pytest.raises(CycleError) as err:
        to_mermaid(cyclic)
    assert set(err.value.nodes) == {"s", "a"}
    with pytest.raises(GraphError, match="no output"):
        to_dot(Graph())
    with pytest.raises(TypeError):
        to_dot(42)


# ----------------------------------------------------------------------------- pictures


def svg_texts(path: Path) -> list[str]:
    root = ET.parse(path).getroot()
    return ["".join(el.itertext()) for el in root.iter("{http://www.w3.org/2000/svg}text")]


def test_svg_is_valid_and_shows_every_node_and_label(rig: Graph, tmp_path: Path) -> None:
    out = draw(rig, tmp_path / "rig.svg")
    texts = svg_texts(out)
    for node in rig.nodes:
        assert node.id in texts, node.id
    for label in ("ch 0", "ch 1", "2 ch, dry", "2 ch, wet", "→ ch 0", "WaveNet · 1→1 ch", "mix 25% wet, equal power"):
        assert label in texts, label
    assert [p.name for p in tmp_path.iterdir()] == ["rig.svg"]  # no temporary file left


def test_pictures_are_reproducible(rig: Graph, tmp_path: Path) -> None:
    for ext in ("svg", "png"):
        a = draw(rig, tmp_path / f"a.{ext}").read_bytes()
        b = draw(stereo_rig(), tmp_path / f"b.{ext}").read_bytes()
        assert a == b, ext


def test_png_opens_with_a_sane_size(rig: Graph, tmp_path: Path) -> None:
    import matplotlib.image

    image = matplotlib.image.imread(draw(rig, tmp_path / "rig.png"))
    height, width = image.shape[:2]
    assert 150 <= height <= 1000 and 800 <= width <= 4000 and width > 2 * height  # laid out left to right
    # the model boxes' fill colour (#e3f2fd) and the blends' (#fce4ec) are both painted
    rgb = (image[..., :3] * 255).round().astype(int).reshape(-1, 3)
    colours = {tuple(c) for c in rgb[::7]}
    assert (0xE3, 0xF2, 0xFD) in colours and (0xFC, 0xE4, 0xEC) in colours


def test_picture_grows_with_the_rig(tmp_path: Path) -> None:
    import matplotlib.image

    small = matplotlib.image.imread(draw(chain(gain(1.0)), tmp_path / "small.png"))
    big = matplotlib.image.imread(draw(chain(*[gain(float(i)) for i in range(6)]), tmp_path / "big.png"))
    assert big.shape[1] > 2 * small.shape[1] and big.shape[0] == small.shape[0]


def test_shipped_full_rig_draws(tmp_path: Path) -> None:
    texts = svg_texts(draw(FULL_RIG, tmp_path / "full.svg"))
    assert "namgraph demo rig: drive into cab" in texts
    assert "WaveNet · 1→1 ch" in texts and "Linear · 1→1 ch" in texts


@pytest.mark.parametrize("name", ["rig.jpg", "rig", "rig.svg.txt"])
def test_picture_extension_is_checked(rig: Graph, tmp_path: Path, name: str) -> None:
    with pytest.raises(OptionError, match="svg or .png"):
        draw(rig, tmp_path / name)
    assert list(tmp_path.iterdir()) == []


def test_missing_folder_is_an_output_error(rig: Graph, tmp_path: Path) -> None:
    with pytest.raises(OutputError):
        draw(rig, tmp_path / "nope" / "rig.png")
