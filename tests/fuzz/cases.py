"""Hostile files for fuzzing (issue 8): hypothesis strategies that corrupt valid ``.nam``
model files, Sequential/container files, DAG rig files and wavs, and the property every
such file must meet (:func:`run_case`).

The property: loading ends in a model or rig, or in a :class:`~namgraph.errors.NamGraphError`,
never another exception. Whatever loads must also behave: it renders a short input to the
right shape (finite, or non-finite only as documented in ``design/threat-model.md``: finite
weights can overflow), and it saves and reloads to the same thing, byte-identical on a
second save. Each case's time and traced memory are measured; the callers bound them.

Seeds are small valid documents (``tests/nam_docs.py``, graphs built with the API, and the
Core fixtures under 80 kB when ``../shared`` is present); the mutations are the issue's
list: malformed JSON, wrong types, missing and extra keys, NaN/Inf/huge weights, negative,
zero and huge dilations and kernel sizes, mismatched weight counts, cycles, duplicate or odd
node ids, deep nesting, truncated and non-float wavs, odd sample rates, NaN audio.
"""

from __future__ import annotations

import copy
import io
import json
import re
import struct
import time
import traceback
import tracemalloc
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import soundfile as sf
from hypothesis import strategies as st

import namgraph
from namgraph.errors import NamGraphError, WeightCountError

import nam_docs

CATEGORIES = ("nam", "sequential", "dag", "wav")
RENDER_FRAMES = 256  # one input length: one compile per architecture, not per case
SHARED_FIXTURES = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "nam"
MAX_SEED_BYTES = 80_000
MAX_REFIT_WEIGHTS = 20_000  # a mutated config is given matching weights only up to this many
MAX_REPEATED_ITEMS = 20_000  # a list is repeated (more layers, too many weights) only up to this length


# ----------------------------------------------------------------------------- seeds


def _values(n: int, scale: float = 0.05) -> list[float]:
    return [float(np.float32(scale * np.sin(1.7 * i + 0.3))) for i in range(n)]


def refit(doc: Any, attempts: int = 4) -> Any:
    """``doc`` with each object's ``weights`` resized to what its config implies (so a
    changed config still reaches the later checks and the render). Uses the loader's own
    :class:`WeightCountError` to learn the count; anything else is left as it is."""
    for _ in range(attempts):
        try:
            namgraph.load(doc)
            return doc
        except WeightCountError as exc:
            match = re.search(r"expected (\d+) weights", exc.message)
            holder = _at(doc, exc.json_path or "weights")
            if match is None or holder is None or int(match.group(1)) > MAX_REFIT_WEIGHTS:
                return doc
            holder["weights"] = _values(int(match.group(1)))
        except (NamGraphError, RecursionError, TypeError, ValueError):
            return doc
    return doc


def _at(doc: Any, json_path: str) -> dict | None:
    """The object whose ``weights`` a JSON path names (None if it names no weights)."""
    parts = re.findall(r"[^.\[\]]+|\[\d+\]", json_path)
    if not parts or parts[-1] != "weights":
        return None
    node = doc
    for part in parts[:-1]:
        key: Any = int(part[1:-1]) if part.startswith("[") else part
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            return None
    return node if isinstance(node, dict) else None


def lstm() -> dict[str, Any]:
    return refit({"version": "0.5.4", "architecture": "LSTM", "config": {"input_size": 1, "hidden_size": 2, "num_layers": 1},
                  "weights": [], "sample_rate": 48000})


def convnet() -> dict[str, Any]:
    return refit({"version": "0.5.4", "architecture": "ConvNet",
                  "config": {"channels": 2, "dilations": [1, 2], "batchnorm": True, "activation": "Tanh"},
                  "weights": [], "sample_rate": 48000})


def _fixture_seeds(predicate: Callable[[dict], bool]) -> list[dict[str, Any]]:
    if not SHARED_FIXTURES.is_dir():
        return []
    out = []
    for path in sorted(SHARED_FIXTURES.glob("*.nam")):
        if path.stat().st_size <= MAX_SEED_BYTES:
            doc = json.loads(path.read_text())
            if predicate(doc):
                out.append(doc)
    return out


def _is_container(doc: dict) -> bool:
    return doc.get("architecture") in ("Sequential", "SlimmableContainer") or bool(doc.get("config", {}).get("condition_dsp"))


def nam_seeds() -> list[dict[str, Any]]:
    """Single models of every architecture."""
    return [nam_docs.linear(), nam_docs.linear(5, bias=False), nam_docs.tiny_wavenet(), lstm(), convnet()] + _fixture_seeds(
        lambda d: not _is_container(d)
    )


def sequential_seeds() -> list[dict[str, Any]]:
    """Models holding models: Sequential, SlimmableContainer, condition_dsp, nested, legacy."""
    dsp = nam_docs.with_condition_dsp(nam_docs.tiny_wavenet(), nam_docs.linear(2))
    legacy = nam_docs.sequential(
        {"receptive_field": 2, "bias": False}, {"receptive_field": 3, "bias": True}, weights=[0.5, 0.25, 1.0, 0.5, 0.25, 0.1]
    )
    return [
        nam_docs.sequential(nam_docs.linear(), nam_docs.tiny_wavenet()),
        nam_docs.container(nam_docs.linear(2), nam_docs.linear(4)),
        dsp,
        nam_docs.sequential(nam_docs.container(nam_docs.linear(), lstm()), convnet(), nam_docs.sequential(nam_docs.linear(1))),
        legacy,
    ] + _fixture_seeds(_is_container)


def dag_seeds() -> list[dict[str, Any]]:
    """Rig files built with the API: chains, parallel mixes, stereo split/merge, delays."""
    from namgraph.converters.dag_format import graph_to_document
    from namgraph.graph import Graph, chain, parallel
    from namgraph.graph.api import delay, gain, polarity

    lin = namgraph.load(nam_docs.linear())
    wn = namgraph.load(nam_docs.tiny_wavenet())
    stereo = Graph()
    stereo.add("in", "input", channels=2)
    stereo.add("split", "split")
    stereo.add("a", "model", model=lin)
    stereo.add("b", "gain", db=-3.0)
    stereo.add("merge", "merge")
    stereo.add("out", "output", channels=2)
    stereo.connect("in", "split")
    stereo.connect("split", "a", "merge", channel=0, port=0)
    stereo.connect("split", "b", "merge", channel=1, port=1)
    stereo.connect("merge", "out")
    rigs = [
        chain(lin, gain(-6.0), delay(3), wn),
        parallel(lin, chain(polarity(), delay(2)), mix="mean"),
        parallel(wn, lin, mix=[0.25, 0.75]),
        stereo,
    ]
    return [graph_to_document(g) for g in rigs]


SEEDS: dict[str, Callable[[], list[dict[str, Any]]]] = {"nam": nam_seeds, "sequential": sequential_seeds, "dag": dag_seeds}
_seed_cache: dict[str, list[dict[str, Any]]] = {}


def seeds(category: str) -> list[dict[str, Any]]:
    if category not in _seed_cache:
        _seed_cache[category] = SEEDS[category]()
    return _seed_cache[category]


# ----------------------------------------------------------------------------- hostile values

HOSTILE_INTS = [0, -1, 1, 2, 3, 7, 2**31, 2**31 - 1, 2**63, 10**9, 10**30, 10**400, -(10**9)]
HOSTILE_FLOATS = [0.0, -0.0, 1e308, -1e308, 3.4e38, 3.5e38, 1e-45, 5e-324, 1e39, float("nan"), float("inf"), float("-inf"), 0.5, 48000.0]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.sampled_from(HOSTILE_INTS),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from(HOSTILE_FLOATS),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["", "Tanh", "0.5.4", "0.7.0", "DAG", "Linear", "WaveNet", "Sequential", "gain", "model", "\u00e9\u0000\ud7ff"]),
)
json_values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=8
)
node_ids = st.one_of(
    st.sampled_from(["in", "out", "amp", "", " ", "a b", ".x", "-x", "x" * 65, "x" * 64, "\u00e9", "in\u0000", "1", "NaN"]),
    st.text(max_size=70),
)


def _locations(value: Any, limit: int = 5000) -> list[tuple[Any, Any]]:
    """Every (container, key) in ``value``, breadth first (capped: big weight arrays)."""
    out: list[tuple[Any, Any]] = []
    queue = [value]
    while queue and len(out) < limit:
        item = queue.pop(0)
        keys = list(item.keys()) if isinstance(item, dict) else range(len(item))
        for key in keys:
            out.append((item, key))
            if isinstance(item[key], dict | list):
                queue.append(item[key])
    return out


def _ints(value: Any) -> list[tuple[Any, Any]]:
    return [(c, k) for c, k in _locations(value) if type(c[k]) is int]


def _weights_arrays(value: Any) -> list[list]:
    return [c[k] for c, k in _locations(value) if k == "weights" and isinstance(c[k], list)]


def _deep(depth: int) -> list:
    value: list = []
    for _ in range(depth):
        value = [value]
    return value


# ----------------------------------------------------------------------------- JSON mutations


@st.composite
def mutate_json(draw: st.DrawFn, doc: Any, category: str) -> Any:
    """One corruption of a parsed document (changed in place; returned for convenience)."""
    ops = ["delete", "replace", "insert", "int", "weights", "nest", "refit", "repeat"]
    if category == "dag":
        ops += ["dag"] * 4
    op = draw(st.sampled_from(ops))
    places = _locations(doc)
    if op in ("delete", "replace", "insert", "nest", "repeat") and places:
        container, key = places[draw(st.integers(0, len(places) - 1))]
        if op == "delete":
            del container[key]
        elif op == "replace":
            container[key] = draw(json_values)
        elif op == "nest":
            container[key] = _deep(draw(st.sampled_from([1, 2, 150, 170, 400, 999, 1100]))) if draw(st.booleans()) else [container[key]]
        elif op == "repeat" and isinstance(container[key], list):
            times = draw(st.integers(0, 40))
            if len(container[key]) * times <= MAX_REPEATED_ITEMS:  # three repeats of a big weights list would be GBs
                container[key] = container[key] * times
        else:
            target = container[key] if isinstance(container[key], dict | list) else container
            if isinstance(target, dict):
                target[draw(st.text(max_size=10))] = draw(json_values)
            else:
                target.insert(draw(st.integers(0, len(target))), draw(json_values))
    elif op in ("int", "refit"):
        ints = _ints(doc)
        if ints:
            container, key = ints[draw(st.integers(0, len(ints) - 1))]
            container[key] = draw(st.one_of(st.sampled_from(HOSTILE_INTS), st.integers(-3, 70)))
            if op == "refit":
                refit(doc)
    elif op == "weights":
        arrays = _weights_arrays(doc)
        if arrays:
            weights = arrays[draw(st.integers(0, len(arrays) - 1))]
            how = draw(st.sampled_from(["value", "grow", "shrink", "type"]))
            if how == "value" and weights:
                weights[draw(st.integers(0, len(weights) - 1))] = draw(st.sampled_from(HOSTILE_FLOATS + HOSTILE_INTS))
            elif how == "grow":
                weights.extend([0.1] * draw(st.integers(1, 5)))
            elif how == "shrink" and weights:
                del weights[-draw(st.integers(1, len(weights))):]
            elif how == "type" and weights:
                weights[draw(st.integers(0, len(weights) - 1))] = draw(json_values)
    elif op == "dag":
        _mutate_dag(draw, doc)
    return doc


def _mutate_dag(draw: st.DrawFn, doc: Any) -> None:
    config = doc.get("config") if isinstance(doc, dict) else None
    if not isinstance(config, dict):
        return
    nodes, edges = config.get("nodes"), config.get("edges")
    if not (isinstance(nodes, list) and isinstance(edges, list) and nodes):
        return
    ids = [n.get("id") for n in nodes if isinstance(n, dict)]
    if not ids:  # every node object was replaced by something else
        return
    how = draw(st.sampled_from(["cycle", "duplicate id", "odd id", "kind", "edge", "drop edge", "port", "channel", "self loop", "setting"]))
    if how == "cycle" and edges:
        e = edges[draw(st.integers(0, len(edges) - 1))]
        if isinstance(e, dict):
            edges.append({"from": e.get("to"), "to": e.get("from")} | ({"port": 1} if draw(st.booleans()) else {}))
    elif how == "self loop":
        i = draw(st.sampled_from(ids))
        edges.append({"from": i, "to": i})
    elif how == "duplicate id" and len(nodes) > 1:
        a, b = draw(st.integers(0, len(nodes) - 1)), draw(st.integers(0, len(nodes) - 1))
        if isinstance(nodes[a], dict) and isinstance(nodes[b], dict):
            nodes[a]["id"] = nodes[b].get("id")
    elif how == "odd id":
        node = nodes[draw(st.integers(0, len(nodes) - 1))]
        if isinstance(node, dict):
            old, new = node.get("id"), draw(node_ids)
            node["id"] = new
            if draw(st.booleans()):  # rename everywhere: reaches the id-pattern check
                for e in edges:
                    if isinstance(e, dict):
                        e.update({k: new for k in ("from", "to") if e.get(k) == old})
                for key in ("inputs", "outputs"):
                    if isinstance(config.get(key), list):
                        config[key] = [new if x == old else x for x in config[key]]
    elif how == "kind":
        node = nodes[draw(st.integers(0, len(nodes) - 1))]
        if isinstance(node, dict):
            node["kind"] = draw(st.sampled_from(["input", "output", "model", "gain", "polarity", "delay", "sum", "mean",
                                                 "weighted_sum", "mix", "split", "merge", "DAG", "reverb"]))
    elif how == "edge":
        edges.append({"from": draw(st.sampled_from(ids)), "to": draw(st.sampled_from(ids))}
                     | ({"port": draw(st.integers(-1, 3))} if draw(st.booleans()) else {}))
    elif how == "drop edge" and edges:
        del edges[draw(st.integers(0, len(edges) - 1))]
    elif how in ("port", "channel") and edges:
        e = edges[draw(st.integers(0, len(edges) - 1))]
        if isinstance(e, dict):
            e[how] = draw(st.one_of(st.sampled_from([-1, 0, 1, 2, 3, 2**40]), json_values))
    elif how == "setting":
        node = nodes[draw(st.integers(0, len(nodes) - 1))]
        if isinstance(node, dict) and isinstance(node.get("config"), dict):
            key = draw(st.sampled_from(["db", "samples", "invert", "weights", "amount", "law", "channels", "path"]))
            node["config"][key] = draw(st.one_of(st.sampled_from(HOSTILE_INTS + HOSTILE_FLOATS), json_values))


# ----------------------------------------------------------------------------- text corruptions


@st.composite
def corrupt_text(draw: st.DrawFn, text: str) -> bytes:
    """The JSON text, usually as is, else broken at the text level."""
    how = draw(st.sampled_from(["none"] * 6 + ["truncate", "byte", "nan token", "bom", "duplicate key", "bad utf-8", "deep text", "empty"]))
    data = text.encode("utf-8")
    if how == "truncate":
        return data[: draw(st.integers(0, max(0, len(data) - 1)))]
    if how == "byte" and data:
        i = draw(st.integers(0, len(data) - 1))
        return data[:i] + bytes([draw(st.integers(0, 255))]) + data[i + 1 :]
    if how == "nan token":
        numbers = [m.span() for m in re.finditer(r"(?<![\w.\"])-?\d+\.\d+", text)]
        if numbers:
            a, b = numbers[draw(st.integers(0, len(numbers) - 1))]
            return (text[:a] + draw(st.sampled_from(["NaN", "Infinity", "-Infinity", "1e999", "-1e999", "1" + "0" * 400])) + text[b:]).encode()
    if how == "bom":
        return b"\xef\xbb\xbf" + data
    if how == "duplicate key" and text.startswith("{"):
        return ('{"version": "0.5.4", ' + text[1:]).encode()
    if how == "bad utf-8":
        i = draw(st.integers(0, len(data)))
        return data[:i] + b"\xff\xfe" + data[i:]
    if how == "deep text":
        depth = draw(st.sampled_from([500, 5000, 100_000]))
        return ('{"metadata": ' + "[" * depth + "]" * depth + ', ' + text.lstrip()[1:]).encode() if text.startswith("{") else data
    if how == "empty":
        return draw(st.sampled_from([b"", b" ", b"null", b"[]", b"{}", b"0", b'"x"']))
    return data


@st.composite
def json_files(draw: st.DrawFn, category: str) -> bytes:
    """A seed of ``category``, mutated 0 to 3 times, maybe broken as text."""
    doc = copy.deepcopy(draw(st.sampled_from(seeds(category))))
    for _ in range(draw(st.integers(0, 3))):
        doc = draw(mutate_json(doc, category))
    try:
        text = json.dumps(doc, allow_nan=True)
    except (RecursionError, ValueError):  # a mutation nested beyond what json.dumps writes
        text = '{"metadata": ' + "[" * 5000 + "]" * 5000 + "}"
    return draw(corrupt_text(text))


# ----------------------------------------------------------------------------- wav files

SUBTYPES = ["PCM_16", "PCM_24", "PCM_32", "PCM_U8", "FLOAT", "DOUBLE", "ULAW", "ALAW"]
RATES = [48000, 44100, 96000, 8000, 1, 3, 12345, 384000, 2**31 - 1]


@st.composite
def valid_audio(draw: st.DrawFn) -> bytes:
    channels = draw(st.integers(1, 3))
    frames = draw(st.sampled_from([0, 1, 2, 7, 64, 300, 1000]))
    subtype = draw(st.sampled_from(SUBTYPES))
    container = draw(st.sampled_from(["WAV"] * 6 + ["RF64", "WAVEX", "FLAC", "AIFF"]))
    if container == "FLAC" and subtype not in ("PCM_16", "PCM_24"):
        subtype = "PCM_16"
    if container == "AIFF" and subtype in ("PCM_U8",):
        subtype = "PCM_16"
    rate = draw(st.sampled_from(RATES))
    if container == "FLAC" and rate > 655350:
        rate = 48000
    kind = draw(st.sampled_from(["noise", "silence", "loud", "nan", "impulse"]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    audio = (rng.standard_normal((frames, channels)) * 0.3).astype(np.float64)
    if kind == "silence":
        audio[:] = 0.0
    elif kind == "loud":
        audio *= 1e6
    elif kind == "impulse" and frames:
        audio[:] = 0.0
        audio[0] = 1.0
    elif kind == "nan" and frames:
        audio[draw(st.integers(0, frames - 1)), 0] = draw(st.sampled_from([np.nan, np.inf, -np.inf]))
    if subtype in ("ULAW", "ALAW"):  # libsndfile's own writer crashes on out-of-range samples here
        audio = np.clip(np.nan_to_num(audio), -1.0, 1.0)
    buffer = io.BytesIO()
    try:
        sf.write(buffer, audio, rate, subtype=subtype, format=container)
    except (sf.SoundFileError, RuntimeError, ValueError, TypeError, AssertionError):  # a combination libsndfile does not write
        buffer = io.BytesIO()
        sf.write(buffer, np.clip(np.nan_to_num(audio), -1, 1), 48000, subtype="PCM_16", format="WAV")
    return buffer.getvalue()


@st.composite
def wav_files(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(valid_audio()))
    how = draw(st.sampled_from(["none"] * 4 + ["truncate", "byte", "header", "data size", "append", "random", "riff size"]))
    if how == "truncate":
        del data[draw(st.integers(0, max(0, len(data) - 1))):]
    elif how == "byte" and data:
        for _ in range(draw(st.integers(1, 8))):
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    elif how == "header" and data[:4] == b"RIFF" and len(data) >= 36:
        offset, width = draw(st.sampled_from([(20, 2), (22, 2), (24, 4), (28, 4), (32, 2), (34, 2), (16, 4)]))
        value = draw(st.sampled_from([0, 1, 2, 3, 7, 8, 255, 65535, 2**32 - 1, 0x7FFFFFFF][: 7 if width == 2 else None]))
        data[offset : offset + width] = (value % (1 << (8 * width))).to_bytes(width, "little")
    elif how == "data size":
        at = data.find(b"data")
        if at >= 0 and at + 8 <= len(data):
            data[at + 4 : at + 8] = struct.pack("<I", draw(st.sampled_from([0, 1, 3, 2**31, 2**32 - 1, 2**32 - 2])))
    elif how == "riff size" and len(data) >= 8:
        data[4:8] = struct.pack("<I", draw(st.sampled_from([0, 4, 2**32 - 1])))
    elif how == "append":
        data += draw(st.binary(max_size=64))
    elif how == "random":
        return draw(st.binary(max_size=200))
    return bytes(data)


def files(category: str) -> st.SearchStrategy[bytes]:
    return wav_files() if category == "wav" else json_files(category)


# ----------------------------------------------------------------------------- the property


@dataclass
class Outcome:
    """What one case did. ``kind``: "ok" (loaded, rendered, round-tripped), "refused" (a
    NamGraphError while loading), "render refused" (loaded; rendering or saving raised a
    NamGraphError), "uncaught" (any other exception: a bug), "wrong" (a property failed)."""

    category: str
    kind: str
    error: str = ""
    seconds: float = 0.0
    load_seconds: float = 0.0
    peak_bytes: int = 0
    nonfinite: bool = False
    detail: str = field(default="", repr=False)


_PROBE_IR: Any = None


def _probe_ir() -> Any:
    global _PROBE_IR
    if _PROBE_IR is None:
        _PROBE_IR = namgraph.load(nam_docs.linear(8, bias=False))
    return _PROBE_IR


def _runnable(obj: Any) -> Any:
    from namgraph.graph import Graph

    return obj.compile() if isinstance(obj, Graph) else obj


def _input(channels: int) -> np.ndarray:
    rng = np.random.default_rng(channels)
    return (rng.standard_normal((channels, RENDER_FRAMES)) * 0.25).astype(np.float32)


def _check_loaded(obj: Any, directory: Path, outcome: Outcome) -> None:
    """Render, save, reload, save again: raises AssertionError for a wrong result."""
    runnable = _runnable(obj)
    arch = runnable.architecture
    y = namgraph.render(runnable, _input(arch.in_channels))
    assert y.shape == (arch.out_channels, RENDER_FRAMES), f"render shape {y.shape}"
    outcome.nonfinite = not bool(np.isfinite(y).all())
    first, second = directory / "saved.nam", directory / "saved_again.nam"
    written = namgraph.save(obj, first)
    again = namgraph.load(first)
    assert again == written, "save -> load gives a different model or rig"
    namgraph.save(again, second)
    assert first.read_bytes() == second.read_bytes(), "save -> load -> save is not byte-identical"


def _check_wav_as_audio(path: Path) -> None:
    """A wav that reads as audio either renders through a small IR or is refused (NaN)."""
    from namgraph.audio import read_wav

    audio, _ = read_wav(path)
    x = np.zeros((audio.shape[0], RENDER_FRAMES), np.float32)
    n = min(RENDER_FRAMES, audio.shape[1])
    x[:, :n] = audio[:, :n]
    y = namgraph.render(_probe_ir(), x)
    assert y.shape == x.shape


def run_case(category: str, data: bytes, directory: Path, *, trace_memory: bool = True, options: dict | None = None) -> Outcome:
    """Load ``data`` as a file of ``category`` and check what comes out (see the module doc)."""
    path = directory / ("case.wav" if category == "wav" else "case.nam")
    path.write_bytes(data)
    for leftover in ("saved.nam", "saved_again.nam"):
        (directory / leftover).unlink(missing_ok=True)
    outcome = Outcome(category, "ok")
    if trace_memory:
        tracemalloc.start()
    start = time.perf_counter()
    stage = "load"
    try:
        try:
            obj = namgraph.load(path, **(options or {}))
        finally:
            outcome.load_seconds = time.perf_counter() - start
        stage = "render"
        _check_loaded(obj, directory, outcome)
    except NamGraphError as exc:
        outcome.kind, outcome.error = ("refused" if stage == "load" else "render refused"), type(exc).__name__
    except AssertionError as exc:
        outcome.kind, outcome.error, outcome.detail = "wrong", str(exc), traceback.format_exc()
    except Exception as exc:  # noqa: BLE001 - exactly what the property forbids
        outcome.kind, outcome.error, outcome.detail = "uncaught", f"{type(exc).__name__}: {exc}"[:300], traceback.format_exc()
    if category == "wav" and outcome.kind in ("ok", "refused", "render refused"):
        try:
            _check_wav_as_audio(path)
        except NamGraphError:
            pass
        except AssertionError as exc:
            outcome.kind, outcome.error, outcome.detail = "wrong", str(exc), traceback.format_exc()
        except Exception as exc:  # noqa: BLE001
            outcome.kind, outcome.error, outcome.detail = "uncaught", f"{type(exc).__name__}: {exc}"[:300], traceback.format_exc()
    outcome.seconds = time.perf_counter() - start
    if trace_memory:
        outcome.peak_bytes = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return outcome
