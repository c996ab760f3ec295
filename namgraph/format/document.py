"""The ``.nam`` model object ("document"), validated completely at the edge.

A document is one model object: the file's root, or a nested one (a WaveNet's
``config.condition_dsp``, a SlimmableContainer's ``config.submodels[i].model``, a
Sequential's ``config.models[i]``). :func:`parse_document` checks everything Core checks
and what Core leaves to assertions: the envelope (format spec section 2), the config
(:mod:`namgraph.format.configs`), finite float32 weights in exactly the number the layout
implies, nested objects recursively, sample rates and channel counts between a model and
its nested ones, and the legacy Sequential form. Every error says where: the JSON path
(``config.submodels[1].model.config.layers[0].channels``) and, when read from disk, the
file. Nothing behind this boundary re-checks.

The raw dict is kept unchanged (``NamDocument.raw``), so keys namgraph does not know
survive a read -> write round trip.

Duplicate keys are rejected when reading (see :mod:`namgraph.format.jsonfile`).
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Mapping
from os import PathLike
from typing import Annotated, Any

import numpy as np
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StrictFloat,
    StrictStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from .. import limits
from ..errors import (
    ChannelMismatchError,
    ConfigError,
    LegacySequentialError,
    NamFormatError,
    NamFormatWarning,
    NamGraphError,
    SampleRateMismatchError,
    UnknownArchitectureError,
    UnsupportedVersionError,
    WeightCountError,
    WeightValueError,
)
from ..models.base import Architecture
from ..models.registry import KNOWN_ARCHITECTURES, architecture_class
from .configs import CONFIG_TYPES
from .jsonfile import describe_json, json_float, read_json, write_json
from .layout import count, unpack
from .validation_errors import join_path, translate

__all__ = [
    "NamDocument",
    "Metadata",
    "parse_document",
    "read_document",
    "read_json",
    "write_json",
    "check_version",
    "nested_model_locations",
]

REQUIRED_KEYS = ("version", "architecture", "config", "weights")
EARLIEST_VERSION = (0, 5, 0)
LATEST_VERSION = (0, 7, 0)
SUPPORTED = "0.5.0 to 0.7.0 (0.7.x with a warning)"
_VERSION = re.compile(r"[0-9]+\.[0-9]+\.[0-9]+")

Location = tuple[str | int, ...]


# ----------------------------------------------------------------------------- small rules


def check_version(text: str, json_path: str = "version", where: str = "") -> tuple[int, int, int]:
    """Core's ``CoreVersionSupportChecker``: 0.5.0 <= v <= 0.7.x, 0.7.p (p >= 1) with a warning."""
    if not _VERSION.fullmatch(text):
        raise UnsupportedVersionError(
            f"version {text!r} is not of the form MAJOR.MINOR.PATCH (digits only); supported: {SUPPORTED}",
            json_path=json_path,
        )
    major, minor, patch = (int(p) for p in text.split("."))
    if (major, minor, patch) < EARLIEST_VERSION or major > 0 or minor > LATEST_VERSION[1]:
        raise UnsupportedVersionError(f"version {text} is not supported; supported: {SUPPORTED}", json_path=json_path)
    if minor == LATEST_VERSION[1] and patch > LATEST_VERSION[2]:
        warnings.warn(
            f"{where}{json_path}: {text} is newer than 0.7.0, which is the newest fully supported; "
            "it is read as 0.7.0 (Core calls this 'partially supported')",
            NamFormatWarning,
            stacklevel=2,
        )
    return major, minor, patch


def nested_model_locations(architecture: str, config: Mapping[str, Any]) -> tuple[Location, ...]:
    """Where complete nested model objects sit inside ``config``, in file order.

    The same order as the built architecture's ``children()`` and the params' nested
    entries (see :class:`namgraph.model.Model`). ``config`` must already be valid.
    """
    if architecture == "WaveNet":
        return (("condition_dsp",),) if config.get("condition_dsp") is not None else ()
    if architecture == "SlimmableContainer":
        return tuple(("submodels", i, "model") for i in range(len(config["submodels"])))
    if architecture == "Sequential":
        return tuple(("models", i) for i in range(len(config["models"])))
    return ()


def get_at(value: Any, location: Location) -> Any:
    for part in location:
        value = value[part]
    return value


def _rate(value: float | None) -> str:
    return "absent (unknown)" if value is None else f"{value:g} Hz"


Level = Annotated[StrictFloat, Field(allow_inf_nan=False)]


class Metadata(BaseModel):
    """The metadata Core reads (the levels and loudness); every other key is kept as is."""

    model_config = ConfigDict(frozen=True, extra="allow")

    loudness: Level | None = None
    input_level_dbu: Level | None = None
    output_level_dbu: Level | None = None


# ----------------------------------------------------------------------------- the document


class NamDocument(BaseModel):
    """One validated model object. Build it with :func:`parse_document`.

    ``config`` is the validated config object (``CONFIG_TYPES[architecture]``), ``weights``
    the file's flat weights as float32. After validation the document also holds the
    built architecture (``arch``), its own unpacked tensors (``own_params``), the nested
    documents (``children``, file order) and the untouched input (``raw``).
    """

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    version: StrictStr
    architecture: StrictStr
    config: Any
    weights: Any
    sample_rate: float | None = None
    metadata: Metadata | None = None

    _raw: dict = PrivateAttr(default_factory=dict)
    _json_path: str = PrivateAttr("")
    _children: tuple = PrivateAttr(())
    _arch: Any = PrivateAttr(None)
    _own_params: dict = PrivateAttr(default_factory=dict)

    # --- public views of the derived parts

    @property
    def raw(self) -> dict[str, Any]:
        return self._raw

    @property
    def json_path(self) -> str:
        return self._json_path

    @property
    def children(self) -> tuple["NamDocument", ...]:
        return self._children

    @property
    def arch(self) -> Architecture:
        return self._arch

    @property
    def own_params(self) -> dict[str, np.ndarray]:
        """This object's own tensors (not its nested models'), named as in the layout."""
        return self._own_params

    # --- field checks (each raises a typed error carrying the JSON path)

    @field_validator("version")
    @classmethod
    def _version(cls, value: str, info: ValidationInfo) -> str:
        prefix, file = _context(info)
        check_version(value, join_path(prefix, "version"), f"{file}: " if file else "")
        return value

    @field_validator("architecture")
    @classmethod
    def _architecture(cls, value: str, info: ValidationInfo) -> str:
        if value not in KNOWN_ARCHITECTURES:
            close = [k for k in KNOWN_ARCHITECTURES if k.lower() == value.lower()]
            hint = f" (did you mean {close[0]!r}? names are case-sensitive)" if close else ""
            raise UnknownArchitectureError(
                f"unknown architecture {value!r}{hint}; known: {', '.join(KNOWN_ARCHITECTURES)}",
                json_path=join_path(_context(info)[0], "architecture"),
            )
        return value

    @field_validator("config", mode="before")
    @classmethod
    def _config(cls, value: Any, info: ValidationInfo) -> Any:
        path = join_path(_context(info)[0], "config")
        if not isinstance(value, dict):
            raise ConfigError(f"config must be an object, found {describe_json(value)}", json_path=path)
        architecture = info.data.get("architecture")
        if architecture is None:  # its own error is reported
            return value
        try:
            return CONFIG_TYPES[architecture].model_validate(value)
        except ValidationError as exc:
            raise translate(exc, value, path, ConfigError) from None

    @field_validator("weights", mode="before")
    @classmethod
    def _weights(cls, value: Any, info: ValidationInfo) -> np.ndarray:
        path = join_path(_context(info)[0], "weights")
        if isinstance(value, list | tuple | np.ndarray):
            limits.check("parameters", len(value), "the number of weights", json_path=path)
        return _float32_weights(value, path)

    @field_validator("sample_rate", mode="before")
    @classmethod
    def _sample_rate(cls, value: Any, info: ValidationInfo) -> float:
        return sample_rate_value(value, join_path(_context(info)[0], "sample_rate"))

    @field_validator("metadata", mode="before")
    @classmethod
    def _metadata(cls, value: Any, info: ValidationInfo) -> Metadata:
        path = join_path(_context(info)[0], "metadata")
        if not isinstance(value, dict):
            raise NamFormatError(f"metadata must be an object or absent, found {describe_json(value)}", json_path=path)
        try:
            return Metadata.model_validate(value)
        except ValidationError as exc:
            raise translate(exc, value, path, NamFormatError) from None

    # --- the whole object: envelope first, then nested objects, links, weights

    @model_validator(mode="wrap")
    @classmethod
    def _complete(cls, data: Any, handler: Any, info: ValidationInfo) -> "NamDocument":
        prefix, file = _context(info)
        depth = _depth(info)
        limits.check("container_depth", depth, "the nesting of model objects inside model objects", json_path=prefix or None)
        _check_envelope(data, prefix)
        doc = handler(data)
        doc._finish(data, prefix, file, depth)
        return doc

    def _finish(self, raw: dict[str, Any], prefix: str, file: str | None, depth: int) -> None:
        raw_config = raw["config"]
        if self.architecture == "WaveNet":
            dsp = raw_config.get("condition_dsp")
            if dsp is not None and not isinstance(dsp, dict):
                raise ConfigError(
                    f"condition_dsp must be a complete model object or null, found {describe_json(dsp)}",
                    json_path=join_path(prefix, "config", "condition_dsp"),
                )
        locations = nested_model_locations(self.architecture, raw_config)
        _check_finite(raw, prefix, {id(get_at(raw_config, loc)) for loc in locations})
        if self.architecture == "Sequential":
            _check_sequential_form(raw_config, self.weights, prefix)
        children = tuple(
            parse_document(get_at(raw_config, loc), json_path=join_path(prefix, "config", *loc), file=file, depth=depth + 1)
            for loc in locations
        )
        _check_sample_rates(self, children, prefix)
        _check_channels(self, children, prefix)
        arch = _build(self, children, prefix)
        _check_size(arch, prefix, len(self.weights))  # before any array of the model's size exists
        self._raw = raw
        self._json_path = prefix
        self._children = children
        self._arch = arch
        self._own_params = _own_params(self, arch, prefix, file)


def _context(info: ValidationInfo) -> tuple[str, str | None]:
    context = info.context or {}
    return context.get("json_path", ""), context.get("file")


def _depth(info: ValidationInfo) -> int:
    return (info.context or {}).get("depth", 0)


def _check_envelope(data: Any, prefix: str) -> None:
    if not isinstance(data, dict):
        what = "a nested model" if prefix else "a .nam model"
        raise NamFormatError(
            f"{what} must be a JSON object with version, architecture, config and weights, found {describe_json(data)}",
            json_path=prefix or None,
        )
    for key in REQUIRED_KEYS:
        if key not in data:
            raise NamFormatError(f"missing required key {key!r}", json_path=prefix or None)


def _float32_weights(value: Any, path: str) -> np.ndarray:
    """The weights as float32; names the first entry that is not a finite float32 number."""
    if isinstance(value, np.ndarray):
        if value.ndim != 1 or not (np.issubdtype(value.dtype, np.integer) or np.issubdtype(value.dtype, np.floating)):
            raise WeightValueError(f"weights must be a flat array of numbers, found an array of {value.dtype} with shape {value.shape}", json_path=path)
        values = value.astype(np.float64)
    elif isinstance(value, list | tuple):
        if not all(type(w) is float or type(w) is int for w in value):
            for i, w in enumerate(value):
                if isinstance(w, bool) or not isinstance(w, int | float | np.integer | np.floating):
                    raise WeightValueError(f"weights must be numbers, found {describe_json(w)}", json_path=f"{path}[{i}]")
        try:
            values = np.asarray(value, dtype=np.float64)
        except OverflowError:  # an integer literal beyond float64
            i = next(i for i, w in enumerate(value) if isinstance(w, int) and abs(w) > 1e308)
            raise WeightValueError("weight is too large to be a float32 number", json_path=f"{path}[{i}]") from None
    else:
        raise WeightValueError(f"weights must be an array of numbers, found {describe_json(value)}", json_path=path)
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        i = int(bad[0])
        raise WeightValueError(
            f"weight is {float(values[i])} (NaN, Infinity or a literal like 1e999 that overflows); "
            f"weights must be finite ({bad.size} of {values.size} are not)",
            json_path=f"{path}[{i}]",
        )
    with np.errstate(over="ignore"):
        out = values.astype(np.float32)
    bad = np.flatnonzero(~np.isfinite(out))
    if bad.size:
        i = int(bad[0])
        raise WeightValueError(f"weight {float(values[i])!r} is outside the float32 range Core stores weights in", json_path=f"{path}[{i}]")
    return out


def _check_finite(raw: dict[str, Any], prefix: str, nested: set[int]) -> None:
    """Reject numbers that overflowed to infinity outside the weights and nested models
    (which are checked on their own): Core's parser refuses them."""
    for key, item in raw.items():
        if key != "weights":
            _walk_finite(item, join_path(prefix, key), nested, ConfigError if key == "config" else NamFormatError)


def _walk_finite(value: Any, path: str, nested: set[int], cls: type[NamGraphError]) -> None:
    if isinstance(value, dict):
        if id(value) not in nested:
            for key, item in value.items():
                _walk_finite(item, join_path(path, key), nested, cls)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _walk_finite(item, join_path(path, i), nested, cls)
    elif isinstance(value, float) and not math.isfinite(value):
        raise cls(f"{value} is not a finite number (a literal like 1e999 overflows; Core cannot read it)", json_path=path)


def _check_sequential_form(config: dict[str, Any], weights: np.ndarray, prefix: str) -> None:
    """The canonical form only: complete children, empty wrapper weights (spec section 8)."""
    models = config["models"]
    bare = [i for i, m in enumerate(models) if isinstance(m, dict) and "architecture" not in m and "weights" not in m]
    if bare:
        concatenated = f" and {weights.size} concatenated weights in the wrapper" if weights.size else ""
        raise LegacySequentialError(
            f"this looks like the legacy experimental Sequential form (trainer PR #596): bare child configs{concatenated}. "
            "Core rejects it because it does not say each child's architecture or where its weights end. "
            "It must be migrated to the canonical form: each entry of config.models a complete model object "
            "(version, architecture, config, weights, sample_rate) and the wrapper's weights []. "
            "namgraph can do this where it is unambiguous: namgraph.load(path, migrate_legacy=True) "
            "or namgraph convert --migrate-legacy",
            json_path=join_path(prefix, "config", "models", bare[0]),
        )
    if weights.size:
        raise NamFormatError(
            f"a Sequential's own weights must be empty ([]): each child in config.models carries its own; found {weights.size}",
            json_path=join_path(prefix, "weights"),
        )


def _check_sample_rates(doc: NamDocument, children: tuple[NamDocument, ...], prefix: str) -> None:
    """Spec 2.3/7.2/8: condition_dsp exactly equal; container members equal unless unknown;
    Sequential children that declare a rate agree with each other and with the wrapper's."""
    own = (join_path(prefix, "sample_rate"), doc.sample_rate)

    def mismatch(a: tuple[str, float | None], b: tuple[str, float | None], rule: str) -> SampleRateMismatchError:
        return SampleRateMismatchError(f"{b[0]} is {_rate(b[1])} but {a[0]} is {_rate(a[1])}; {rule}", json_path=b[0])

    for child in children:
        theirs = (join_path(child.json_path, "sample_rate"), child.sample_rate)
        if doc.architecture == "WaveNet" and child.sample_rate != doc.sample_rate:
            raise mismatch(own, theirs, "a condition_dsp must have exactly its WaveNet's sample rate (both absent also matches)")
        if doc.architecture == "SlimmableContainer" and None not in (child.sample_rate, doc.sample_rate) and child.sample_rate != doc.sample_rate:
            raise mismatch(own, theirs, "every submodel must have the container's sample rate")
    if doc.architecture == "Sequential":
        reference = own if doc.sample_rate is not None else None
        for child in children:
            if child.sample_rate is None:
                continue
            theirs = (join_path(child.json_path, "sample_rate"), child.sample_rate)
            if reference is None:
                reference = theirs
            elif child.sample_rate != reference[1]:
                raise mismatch(reference, theirs, "all models in a Sequential must run at the same sample rate")


def _check_channels(doc: NamDocument, children: tuple[NamDocument, ...], prefix: str) -> None:
    """Channel counts between an object and its nested ones (spec 6.7, 6.12, 8, 9)."""
    if doc.architecture == "WaveNet":
        cfg = doc.config
        if children:
            dsp = children[0]
            if dsp.arch.in_channels != cfg.in_channels:
                raise ChannelMismatchError(
                    f"condition_dsp takes {dsp.arch.in_channels} input channel(s) but the WaveNet's in_channels is {cfg.in_channels}",
                    json_path=dsp.json_path,
                )
        for k, la in enumerate(cfg.layers):
            path = join_path(prefix, "config", "layers", k, "condition_size")
            if children and la.condition_size != children[0].arch.out_channels:
                raise ChannelMismatchError(
                    f"condition_size is {la.condition_size} but condition_dsp outputs {children[0].arch.out_channels} channel(s)",
                    json_path=path,
                )
            if not children and la.condition_size != cfg.in_channels:
                raise ConfigError(
                    f"condition_size is {la.condition_size} but without a condition_dsp the condition is the input, "
                    f"which has in_channels = {cfg.in_channels} channel(s)",
                    json_path=path,
                )
    elif doc.architecture == "Sequential":
        for a, b in zip(children, children[1:]):
            if a.arch.out_channels != b.arch.in_channels:
                raise ChannelMismatchError(
                    f"{a.json_path} outputs {a.arch.out_channels} channel(s) but the next model, {b.json_path}, "
                    f"takes {b.arch.in_channels}",
                    json_path=b.json_path,
                )
    elif doc.architecture == "SlimmableContainer" and children:
        first = children[0].arch
        for child in children[1:]:
            if (child.arch.in_channels, child.arch.out_channels) != (first.in_channels, first.out_channels):
                raise ChannelMismatchError(
                    f"submodels must all have the same channels: {children[0].json_path} is "
                    f"{first.in_channels}->{first.out_channels}, {child.json_path} is "
                    f"{child.arch.in_channels}->{child.arch.out_channels}",
                    json_path=child.json_path,
                )


def _build(doc: NamDocument, children: tuple[NamDocument, ...], prefix: str) -> Architecture:
    cls = architecture_class(doc.architecture)
    try:
        return cls.build(doc.config, doc.sample_rate, tuple(c.arch for c in children))
    except NamGraphError as exc:
        raise exc.located(prefix=prefix or None) from None
    except ValueError as exc:  # a combination the schema let through but the model cannot run
        raise ConfigError(str(exc), json_path=join_path(prefix, "config")) from None


def _check_size(arch: Architecture, prefix: str, weights: int) -> None:
    """Refuse a model whose history (receptive field, start-up length), weights or state
    exceed the limits, from its shape alone: nothing of that size has been allocated yet.

    ``weights``: how many the object holds. An LSTM's ``num_layers`` is a single number that
    sizes the list of its tensors (and of its state), which counting would build: a count
    the file's own weights cannot fill (every layer has weights) is refused first, so a
    100-byte file asking for 10^9 layers costs nothing.
    """
    path = join_path(prefix, "config")
    layers = getattr(getattr(arch, "config", None), "num_layers", 0)
    if isinstance(layers, int) and layers > weights:
        raise WeightCountError(
            f"the config asks for {layers:,} layers, but the file holds only {weights:,} weights (every layer has some)",
            json_path=join_path(path, "num_layers"),
        )
    limits.check("receptive_field", arch.receptive_field(), "the receptive field (samples)", json_path=path)
    limits.check("receptive_field", arch.prewarm_samples(), "the start-up (prewarm) length (samples)", json_path=path)
    limits.check("parameters", parameter_count(arch), "the number of weights the config implies", json_path=path)
    limits.check("state", state_size(arch), "the streaming state (floats) the model keeps", json_path=path)


def state_size(arch: Architecture) -> int:
    """Floats of ``arch``'s streaming state (every layer's history, every channel), from
    shapes alone: ``initial_state`` traced by ``jax.eval_shape`` on the shapes of the params
    it would take, so nothing of that size is allocated."""
    import jax

    from ..model import nest_params  # deferred: model imports this module

    def shapes(a: Architecture) -> Any:
        own = {spec.name: jax.ShapeDtypeStruct(spec.shape, np.float32) for spec in a.tensors()}
        return nest_params(a.name, own, tuple(shapes(child) for child in a.children()))

    state = jax.eval_shape(arch.initial_state, shapes(arch))
    return sum(math.prod(leaf.shape) for leaf in jax.tree_util.tree_leaves(state))


def sample_rate_value(value: Any, json_path: str) -> float:
    """A ``sample_rate`` field's value in Hz: a finite positive number, else a NamFormatError."""
    rate = json_float(value)
    if rate is None:
        raise NamFormatError(f"sample_rate must be a number (Hz) or absent, found {describe_json(value)}", json_path=json_path)
    if not (math.isfinite(rate) and rate > 0):
        raise NamFormatError(f"sample_rate must be a positive number of Hz, found {describe_json(value)}", json_path=json_path)
    return rate


def parameter_count(arch: Architecture) -> int:
    """Weights of ``arch`` and every nested model, from the shapes alone."""
    return count(arch.tensors()) + sum(parameter_count(child) for child in arch.children())


def _own_params(doc: NamDocument, arch: Architecture, prefix: str, file: str | None) -> dict[str, np.ndarray]:
    tensors = arch.tensors()
    if not tensors and doc.weights.size and doc.architecture == "SlimmableContainer":
        warnings.warn(
            f"{file + ': ' if file else ''}{join_path(prefix, 'weights')}: a SlimmableContainer's own weights "
            f"are ignored (as Core does); {doc.weights.size} found, [] expected and written",
            NamFormatWarning,
            stacklevel=2,
        )
        return {}
    try:
        return unpack(tensors, doc.weights)
    except WeightCountError as exc:
        raise exc.located(prefix=prefix or None) from None


# ----------------------------------------------------------------------------- entry points


def parse_document(
    data: Any, *, json_path: str = "", file: str | PathLike[str] | None = None, depth: int = 0
) -> NamDocument:
    """Validate one model object (and everything nested in it).

    ``json_path`` is where the object sits in its file ("" for the root); ``file`` is
    attached to every error; ``depth`` is how many model objects enclose this one (checked
    against the ``container_depth`` limit). Raises a
    :class:`namgraph.errors.NamGraphError` subclass; a request beyond the current
    :mod:`namgraph.limits` is a :class:`~namgraph.errors.LimitError`.
    """
    file_text = None if file is None else str(file)
    try:
        try:
            context = {"json_path": json_path, "file": file_text, "depth": depth}
            return NamDocument.model_validate(data, context=context)
        except ValidationError as exc:  # plain type errors of the envelope fields
            field = exc.errors()[0]["loc"][0] if exc.errors() and exc.errors()[0]["loc"] else None
            cls = {"version": UnsupportedVersionError, "architecture": UnknownArchitectureError}.get(field, NamFormatError)
            raise translate(exc, data, json_path, cls) from None
    except NamGraphError as exc:
        if file_text is None or exc.file:
            raise
        raise exc.located(file=file_text) from None


def read_document(path: str | PathLike[str]) -> NamDocument:
    """Read and validate a ``.nam`` file; every error names ``path``."""
    return parse_document(read_json(path), file=path)
