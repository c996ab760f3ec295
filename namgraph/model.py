"""``Model``: a loaded ``.nam`` model, the object users hold.

It pairs the architecture (static shape, a ``jax.jit`` static argument) with the params
(the weights, a pytree ``jax.grad`` can differentiate), and keeps the file's raw document
so writing it back preserves everything namgraph does not interpret.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import KW_ONLY, dataclass, field, replace
from typing import Any

import jax
import numpy as np

from .format.document import get_at, nested_model_locations
from .format.layout import pack
from .models.base import Architecture, Params

# Where a model's nested models' params live inside its own params dict.
CONDITION_DSP = "condition_dsp"  # WaveNet: the single condition_dsp, a params dict
CHILDREN = "children"  # containers: a tuple, one entry per nested model, file order
_NESTED_KEY = {"WaveNet": CONDITION_DSP}


def nest_params(architecture: str, own: dict[str, Any], children: tuple[Params, ...]) -> dict[str, Any]:
    """A model's params: its own tensors plus its nested models' params (see :class:`Model`)."""
    out = dict(own)
    key = _NESTED_KEY.get(architecture, CHILDREN)
    if key == CONDITION_DSP:
        if children:
            out[CONDITION_DSP] = children[0]
    elif children:
        out[CHILDREN] = tuple(children)
    return out


def split_params(architecture: str, params: Mapping[str, Any]) -> tuple[dict[str, Any], tuple[Params, ...]]:
    """Inverse of :func:`nest_params`: ``(own tensors, nested models' params)``."""
    own = {k: v for k, v in params.items() if k not in (CONDITION_DSP, CHILDREN)}
    if CONDITION_DSP in params:
        return own, (params[CONDITION_DSP],)
    return own, tuple(params.get(CHILDREN, ()))


class ArchitectureFacts:
    """What a renderable object (a loaded :class:`Model`, a compiled graph) tells about
    itself, read off its ``architecture`` and ``params``."""

    architecture: Architecture
    params: Params

    @property
    def num_weights(self) -> int:
        """Number of float values in all params, nested models included."""
        return sum(int(np.size(leaf)) for leaf in jax.tree_util.tree_leaves(self.params))

    @property
    def in_channels(self) -> int:
        return self.architecture.in_channels

    @property
    def out_channels(self) -> int:
        return self.architecture.out_channels

    @property
    def receptive_field(self) -> int:
        return self.architecture.receptive_field()

    def with_params(self, params: Params):
        """The same object with other weights (same names and shapes)."""
        return replace(self, params=params)


@dataclass(frozen=True, eq=False)
class Model(ArchitectureFacts):
    """A loaded model: architecture, weights, sample rate and metadata.

    ``params`` is exactly the pytree the architecture's ``prepare``/``initial_state``/
    ``step`` receive. For every model it is a dict of float32 arrays keyed by the tensor
    names of :mod:`namgraph.format.layout`, in the file's own shapes (a leaf model is just
    that). Nested models add one entry:

    * WaveNet with a ``condition_dsp``: ``params["condition_dsp"]`` = that model's params;
    * SlimmableContainer and Sequential (no tensors of their own):
      ``params["children"]`` = a tuple of the submodels' params, in file order.

    Equality compares the architecture, the sample rate and every param array (not the
    metadata, the raw document or the source). ``to_document()`` writes the current params,
    so a model whose params were replaced (``with_params``, e.g. after fine-tuning) saves its
    new weights. ``document`` is the raw JSON object the model was loaded from.
    """

    architecture: Architecture
    params: Params
    _: KW_ONLY
    document: dict[str, Any]
    sample_rate: float | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    source: str | None = None

    # --- what the model is

    @property
    def name(self) -> str:
        return self.document.get("architecture", type(self.architecture).__name__)

    # --- writing

    def to_document(self) -> dict[str, Any]:
        """The raw document with every ``weights`` array packed from ``params`` (recursively),
        and this model's ``sample_rate`` and ``metadata`` at the top level."""
        doc = _with_params(self.document, self.architecture, self.params)
        if self.sample_rate is None:
            doc.pop("sample_rate", None)
        elif doc.get("sample_rate") != self.sample_rate:
            rate = self.sample_rate
            doc["sample_rate"] = int(rate) if float(rate).is_integer() else float(rate)
        if self.metadata or "metadata" in doc:
            doc["metadata"] = copy.deepcopy(dict(self.metadata))
        return doc

    # --- Python protocol

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Model):
            return NotImplemented
        return (
            self.architecture == other.architecture
            and self.sample_rate == other.sample_rate
            and _tree_equal(self.params, other.params)
        )

    __hash__ = None  # params are mutable arrays

    def __repr__(self) -> str:
        rate = "unknown rate" if self.sample_rate is None else f"{self.sample_rate:g} Hz"
        source = "" if self.source is None else f", source={self.source!r}"
        return f"Model({self.name}, {self.num_weights} weights, {rate}, rf={self.receptive_field}{source})"


def _tree_equal(a: Any, b: Any) -> bool:
    if isinstance(a, Mapping) or isinstance(b, Mapping):
        return isinstance(a, Mapping) and isinstance(b, Mapping) and a.keys() == b.keys() and all(_tree_equal(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) or isinstance(b, list | tuple):
        return isinstance(a, list | tuple) and isinstance(b, list | tuple) and len(a) == len(b) and all(map(_tree_equal, a, b))
    x, y = np.asarray(a), np.asarray(b)
    return x.shape == y.shape and bool(np.array_equal(x, y))


def _with_params(raw: Mapping[str, Any], arch: Architecture, params: Params) -> dict[str, Any]:
    """A copy of one raw model object with its (and its nested objects') weights from params."""
    name = raw["architecture"]
    own, children = split_params(name, params)
    # Same key order as the input, so the canonical text matches; nested objects are
    # replaced below with their own re-packed copies.
    doc = {k: None if k == "weights" else copy.deepcopy(v) for k, v in raw.items()}
    doc["weights"] = pack(arch.tensors(), own).tolist()
    locations = nested_model_locations(name, raw["config"])
    if len(locations) != len(children) or len(children) != len(arch.children()):
        raise ValueError(f"{name}: params hold {len(children)} nested models, the file {len(locations)}, the architecture {len(arch.children())}")
    for location, child_arch, child_params in zip(locations, arch.children(), children):
        parent = doc["config"]
        for part in location[:-1]:
            parent = parent[part]
        parent[location[-1]] = _with_params(get_at(raw["config"], location), child_arch, child_params)
    if name == "WaveNet" and "head_scale" in own:
        # Core runs on the last weight and ignores config.head_scale; writers keep the two
        # equal. Update the config copy only when the weight changed, so an untouched model
        # writes back exactly what it was read from.
        weight = np.float32(np.asarray(own["head_scale"]).reshape(-1)[0])
        before = raw.get("weights")
        if len(before) == 0 or np.float32(before[-1]) != weight:
            doc["config"]["head_scale"] = float(weight)
    return doc
