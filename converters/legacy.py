"""Migrating the legacy experimental Sequential form (trainer PR #596) to the canonical one.

The legacy form (format spec section 8.2) lists bare child *configs* in ``config.models``
and concatenates the children's weights in the wrapper's ``weights``. It lacks each child's
architecture name, weight count, version and sample rate, and its Linear children carry
the trainer's reversed tap order (spec 3.4). Core rejects it; so does :func:`namgraph.load`
unless asked to migrate.

The migration recovers what is missing only where nothing is left to guess: each child's
architecture from its config keys (exactly one architecture's required keys must be
present, and the config must validate as that architecture), each child's weight count from
the layout, and the counts must add up to exactly the wrapper's weights. Anything else is a
:class:`LegacySequentialError` naming the child and the reason.
"""

from __future__ import annotations

import copy
import math
from typing import Any

from pydantic import ValidationError

from namgraph.errors import LegacySequentialError, NamGraphError
from namgraph.format.configs import CONFIG_TYPES
from namgraph.format.jsonfile import describe_json, json_float
from namgraph.format.layout import count
from namgraph.format.validation_errors import translate
from namgraph.models.registry import architecture_class

__all__ = ["migrate_legacy", "is_legacy_sequential", "LEGACY_KEYS"]

# The keys that identify a bare child config (spec 8.2): each architecture's required keys.
LEGACY_KEYS: dict[str, tuple[str, ...]] = {
    "Linear": ("receptive_field", "bias"),
    "LSTM": ("hidden_size", "num_layers", "input_size"),
    "ConvNet": ("channels", "dilations", "batchnorm", "activation"),
    "WaveNet": ("layers", "head_scale"),
}


def is_legacy_sequential(raw: Any) -> bool:
    """True for a Sequential holding at least one bare child config (the loader's own rule:
    an entry of ``config.models`` that is an object with neither ``architecture`` nor ``weights``)."""
    if not isinstance(raw, dict) or raw.get("architecture") != "Sequential":
        return False
    config = raw.get("config")
    models = config.get("models") if isinstance(config, dict) else None
    return isinstance(models, list) and any(_is_bare(m) for m in models)


def migrate_legacy(raw: dict[str, Any], *, file: str | None = None) -> dict[str, Any]:
    """The canonical Sequential document of a legacy one (a new dict; ``raw`` is not changed).

    Each child becomes a complete model object: ``version`` and ``sample_rate`` copied from
    the wrapper (``sample_rate`` only when the wrapper has one), ``architecture`` inferred,
    its ``config`` as written, its slice of the wrapper's weights (Linear taps reversed
    when ``receptive_field > 1``: the legacy writer stored them in PyTorch's order). The
    wrapper keeps its metadata and other keys, and its ``weights`` become ``[]``. A
    document not in the legacy form is returned as an unchanged copy, so callers can pass
    any document. The result is not validated here; load it (``namgraph.load(dict)``).

    Raises :class:`LegacySequentialError` (with ``file`` and the JSON path) when the
    migration would have to guess: a child whose keys match no or several architectures,
    a config that does not validate, a nested Sequential or container, a WaveNet with a
    ``condition_dsp``, weights that are not numbers or whose count does not add up.
    """
    if not is_legacy_sequential(raw):
        return copy.deepcopy(raw)

    def refuse(message: str, json_path: str) -> LegacySequentialError:
        return LegacySequentialError(f"cannot migrate the legacy Sequential: {message}", file=file, json_path=json_path)

    version = raw.get("version")
    if not isinstance(version, str):
        raise refuse(f"the wrapper's version is copied into every child and must be a string, found {describe_json(version)}", "version")
    weights = raw.get("weights")
    if not isinstance(weights, list):
        raise refuse(f"weights must be the array of the children's concatenated weights, found {describe_json(weights)}", "weights")
    for i, w in enumerate(weights):
        if isinstance(w, bool) or not isinstance(w, int | float):
            raise refuse(f"weights must be numbers, found {describe_json(w)}", f"weights[{i}]")
    rate = raw.get("sample_rate")
    build_rate = _rate(rate)

    models = raw["config"]["models"]
    children: list[tuple[str, Any, int]] = []  # (architecture, validated config, weight count)
    for i, entry in enumerate(models):
        where = f"config.models[{i}]"
        name, config = _infer(entry, where, models, refuse)
        try:
            arch = architecture_class(name).build(config, build_rate, ())
        except (NamGraphError, ValueError) as exc:
            text = exc.message if isinstance(exc, NamGraphError) else str(exc)
            raise refuse(f"as a {name}: {text}", where) from None
        children.append((name, config, count(arch.tensors())))

    needed = sum(n for _, _, n in children)
    if needed != len(weights):
        parts = " + ".join(f"{n} (config.models[{i}], {name})" for i, (name, _, n) in enumerate(children))
        diff = len(weights) - needed
        more = f"{diff} too many" if diff > 0 else f"{-diff} too few"
        raise refuse(f"the children need {parts} = {needed} values, the file has {len(weights)} ({more})", "weights")

    out_models = []
    offset = 0
    for entry, (name, config, n) in zip(models, children):
        chunk = list(weights[offset : offset + n])
        offset += n
        if name == "Linear" and config.receptive_field > 1:
            taps = config.receptive_field
            chunk[:taps] = chunk[:taps][::-1]
        child = {"version": version, "architecture": name, "config": copy.deepcopy(entry), "weights": chunk}
        if "sample_rate" in raw:
            child["sample_rate"] = copy.deepcopy(rate)
        out_models.append(child)

    config_out = {key: copy.deepcopy(value) for key, value in raw["config"].items() if key != "models"}
    config_out["models"] = out_models
    replaced = {"config": config_out, "weights": []}
    return {key: replaced[key] if key in replaced else copy.deepcopy(value) for key, value in raw.items()}


def _rate(value: Any) -> float | None:
    """The wrapper's rate for building the children (only an LSTM's prewarm uses it); the
    loader checks the value itself afterwards."""
    rate = json_float(value)
    return rate if rate is not None and math.isfinite(rate) else None


def _is_bare(entry: Any) -> bool:
    return isinstance(entry, dict) and "architecture" not in entry and "weights" not in entry


def _infer(entry: Any, where: str, models: list[Any], refuse: Any) -> tuple[str, Any]:
    """The one architecture ``entry`` is a config of, and the validated config."""
    if not isinstance(entry, dict):
        raise refuse(f"expected a bare child config (an object), found {describe_json(entry)}", where)
    if not _is_bare(entry):
        bare = next(j for j, m in enumerate(models) if _is_bare(m))
        raise refuse(
            f"this entry is a complete model object but config.models[{bare}] is a bare config; "
            "a mix of the canonical and the legacy forms cannot be migrated",
            where,
        )
    if "models" in entry:
        raise refuse("this child is itself a Sequential (a 'models' list); nested legacy Sequentials cannot be migrated", where)
    if "submodels" in entry:
        raise refuse("this child is a SlimmableContainer config; the legacy form cannot hold containers", where)
    matches = [name for name, keys in LEGACY_KEYS.items() if all(k in entry for k in keys)]
    if not matches:
        expected = "; ".join(f"{name}: {', '.join(keys)}" for name, keys in LEGACY_KEYS.items())
        raise refuse(f"keys {sorted(entry)} match no architecture (expected all keys of one of {expected})", where)
    if len(matches) > 1:
        raise refuse(f"keys {sorted(entry)} match {' and '.join(matches)}; the architecture is ambiguous", where)
    name = matches[0]
    if name == "WaveNet" and entry.get("condition_dsp") is not None:
        raise refuse("a WaveNet with a condition_dsp cannot be migrated (the legacy form predates condition_dsp)", where)
    try:
        config = CONFIG_TYPES[name].model_validate(entry)
    except ValidationError as exc:
        err = translate(exc, entry, where, LegacySequentialError)
        raise refuse(f"as a {name} config: {err.message}", err.json_path or where) from None
    return name, config
