"""The spec's "Writing files Core accepts" checklist (nam-format.md section 11), as a checker.

Written from the spec alone, without namgraph's format code, so a writer bug cannot pass
because the reader shares it. ``problems(doc)`` walks a document (nested children
included) and returns every rule it breaks, each as ``"<json path>: <what>"``; an empty
list means the document satisfies the checklist.

Weight counts are computed here for the architectures whose count is a short formula
(Linear 3.2, ConvNet 4.2, LSTM 5.2). A WaveNet's count is checked by namgraph's loader in
the tests that use this; here its head_scale rule (item 5) is checked.
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np

VERSION = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")
ARCHITECTURES = {"Linear", "ConvNet", "LSTM", "WaveNet", "SlimmableContainer", "Sequential"}
CONTAINERS = {"SlimmableContainer", "Sequential"}
ACTIVATIONS = {
    "Tanh", "Hardtanh", "Fasttanh", "ReLU", "LeakyReLU", "PReLU", "Sigmoid", "SiLU",
    "Hardswish", "LeakyHardtanh", "LeakyHardTanh", "Softsign",
}  # fmt: skip
LEVEL_KEYS = ("loudness", "input_level_dbu", "output_level_dbu")
FILM_KEYS = (
    "conv_pre_film", "conv_post_film", "input_mixin_pre_film", "input_mixin_post_film",
    "activation_pre_film", "activation_post_film", "layer1x1_post_film", "head1x1_post_film",
)  # fmt: skip


def problems(doc: Any, path: str = "", parent_rate: float | None = None) -> list[str]:
    """Every checklist rule ``doc`` (one model object) breaks, nested objects included."""
    found: list[str] = []

    def bad(where: str, what: str) -> None:
        found.append(f"{where or '<root>'}: {what}")

    if not isinstance(doc, dict):
        return [f"{path or '<root>'}: a model object must be a JSON object"]
    # 1. the four required keys and their types
    version = doc.get("version")
    match = VERSION.match(version) if isinstance(version, str) else None
    if match is None:
        bad(f"{path}.version", f"must be a 'MAJOR.MINOR.PATCH' string, got {version!r}")
    elif not ((0, 5, 0) <= tuple(int(g) for g in match.groups()) < (0, 8, 0)):
        bad(f"{path}.version", f"must be between 0.5.0 and 0.7.x, got {version!r}")
    arch = doc.get("architecture")
    if arch not in ARCHITECTURES:
        bad(f"{path}.architecture", f"must be one of {sorted(ARCHITECTURES)}, got {arch!r}")
    config = doc.get("config")
    if not isinstance(config, dict):
        bad(f"{path}.config", "must be an object")
        config = {}
    weights = doc.get("weights")
    if not isinstance(weights, list):
        bad(f"{path}.weights", "must be an array")
        weights = []
    if arch in CONTAINERS and weights:
        bad(f"{path}.weights", f"a {arch} wrapper's weights must be []")
    # 2. sample rate: a number or absent, equal to the parent's
    rate = doc.get("sample_rate", None)
    if "sample_rate" in doc and (isinstance(rate, bool) or not isinstance(rate, int | float)):
        bad(f"{path}.sample_rate", f"must be a number or absent (never null), got {rate!r}")
        rate = None
    if rate is not None and parent_rate is not None and rate != parent_rate:
        bad(f"{path}.sample_rate", f"{rate} differs from the enclosing model's {parent_rate}")
    # 3. metadata levels are numbers or null
    metadata = doc.get("metadata")
    if "metadata" in doc and not isinstance(metadata, dict):
        bad(f"{path}.metadata", "must be an object")
    for key in LEVEL_KEYS if isinstance(metadata, dict) else ():
        value = metadata.get(key)
        if key in metadata and value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            bad(f"{path}.metadata.{key}", f"must be a number or null, got {value!r}")
    # 4. finite float32 weights (that they carry enough digits is checked against their
    #    source by the tests: the value alone cannot show it)
    for i, w in enumerate(weights):
        if isinstance(w, bool) or not isinstance(w, int | float) or not math.isfinite(w):
            bad(f"{path}.weights[{i}]", f"must be a finite number, got {w!r}")
            break
        if abs(w) > float(np.finfo(np.float32).max):
            bad(f"{path}.weights[{i}]", f"{w!r} overflows float32")
            break
    expected = _weight_count(arch, config)
    if expected is not None and expected != len(weights):
        bad(f"{path}.weights", f"{arch} config needs {expected} weights, the file has {len(weights)}")
    # 5. WaveNet: head_scale in the config and as the last weight; no FiLM key null
    if arch == "WaveNet":
        scale = config.get("head_scale")
        if not isinstance(scale, int | float) or isinstance(scale, bool):
            bad(f"{path}.config.head_scale", "a WaveNet must write head_scale in its config")
        elif not weights or float(np.float32(weights[-1])) != float(np.float32(scale)):
            bad(f"{path}.weights", "a WaveNet's last weight must equal config.head_scale")
        for i, layer in enumerate(config.get("layers") or []):
            for key in FILM_KEYS:
                if isinstance(layer, dict) and key in layer and layer[key] is None:
                    bad(f"{path}.config.layers[{i}].{key}", "a FiLM key must not be null")
    # 6. activations only from section 10
    for where, name in _activations(config, f"{path}.config"):
        if name not in ACTIVATIONS:
            bad(where, f"activation {name!r} is not one Core loads")
    # 8. containers
    own_rate = rate if rate is not None else parent_rate
    if arch == "Sequential":
        found += _sequential(config, path, own_rate)
    elif arch == "SlimmableContainer":
        subs = config.get("submodels")
        if not isinstance(subs, list) or not subs:
            bad(f"{path}.config.submodels", "must be a non-empty array")
            subs = []
        values = [s.get("max_value") for s in subs if isinstance(s, dict)]
        if values != sorted(values) or len(set(values)) != len(values) or (values and values[-1] < 1):
            bad(f"{path}.config.submodels", "max_value must ascend strictly and end at >= 1")
        for i, sub in enumerate(subs):
            found += problems(sub.get("model") if isinstance(sub, dict) else None, f"{path}.config.submodels[{i}].model", own_rate)
    dsp = config.get("condition_dsp")
    if dsp is not None:
        found += problems(dsp, f"{path}.config.condition_dsp", own_rate)
    return found


def _sequential(config: dict[str, Any], path: str, rate: float | None) -> list[str]:
    models = config.get("models")
    if not isinstance(models, list) or not models:
        return [f"{path}.config.models: a Sequential needs a non-empty list of complete child models"]
    found: list[str] = []
    rates = {m.get("sample_rate") for m in models if isinstance(m, dict) and m.get("sample_rate") is not None}
    if len(rates) > 1:
        found.append(f"{path}.config.models: the children's sample rates differ: {sorted(rates)}")
    for i, child in enumerate(models):
        child_path = f"{path}.config.models[{i}]"
        if isinstance(child, dict):
            # sample_rate too where the rig's rate is known (a rate-less source has none to give)
            for key in ("version", "architecture", "config", "weights") + (("sample_rate",) if rate is not None else ()):
                if key not in child:
                    found.append(f"{child_path}: a complete child model needs {key!r}")
        found += problems(child, child_path, rate)
    for i in range(len(models) - 1):
        out, nxt = _channels(models[i], "out"), _channels(models[i + 1], "in")
        if out != nxt:
            found.append(f"{path}.config.models[{i + 1}]: takes {nxt} channels, the child before gives {out}")
    return found


def _channels(doc: Any, side: str) -> int:
    """A model object's input or output channel count (spec 9: config keys, default 1)."""
    if not isinstance(doc, dict):
        return 1
    config = doc.get("config") or {}
    if doc.get("architecture") == "Sequential":
        children = config.get("models") or [{}]
        return _channels(children[0] if side == "in" else children[-1], side)
    if doc.get("architecture") == "SlimmableContainer":
        return 1
    return int(config.get(f"{side}_channels", 1))


def _weight_count(arch: Any, config: dict[str, Any]) -> int | None:
    """Sections 3.2, 4.2 and 5.2; None where this checker does not count."""
    try:
        if arch == "Linear":
            return int(config["receptive_field"]) + (1 if config["bias"] else 0)
        if arch == "LSTM":
            i, h, n = int(config["input_size"]), int(config["hidden_size"]), int(config["num_layers"])
            out = int(config.get("out_channels", 1))
            return sum(4 * h * ((i if l == 0 else h) + h) + 4 * h + 2 * h for l in range(n)) + out * h + out
        if arch == "ConvNet":
            c, groups, out = int(config["channels"]), int(config.get("groups", 1)), int(config.get("out_channels", 1))
            total, c_in = 0, int(config.get("in_channels", 1))
            for _ in config["dilations"]:
                total += 2 * c * c_in // groups + (4 * c + 1 if config["batchnorm"] else c)
                c_in = c
            return total + out * c + out
    except (KeyError, TypeError, ValueError):
        return -1  # a config this count cannot even read: never equal to a real length
    return None


def _activations(config: Any, path: str) -> list[tuple[str, str]]:
    """Every activation named under a key containing 'activation' (string, object or list)."""
    found: list[tuple[str, str]] = []
    if isinstance(config, list):
        for i, item in enumerate(config):
            found += _activations(item, f"{path}[{i}]")
        return found
    if not isinstance(config, dict):
        return found
    for key, value in config.items():
        if key in ("condition_dsp", "models", "submodels"):
            continue  # nested model objects are checked as models
        where = f"{path}.{key}"
        if "activation" in key and "film" not in key:
            for i, item in enumerate(value if isinstance(value, list) else [value]):
                name = item.get("type") if isinstance(item, dict) else item
                if name is not None:  # null entries are allowed for "none" layers' secondaries
                    found.append((f"{where}[{i}]" if isinstance(value, list) else where, name))
        else:
            found += _activations(value, where)
    return found
