"""Small hand-written ``.nam`` documents for the format and loading tests.

Weight counts are worked out by hand from the format spec (sections 3 and 6.9), not with
namgraph's layout, so a layout bug cannot hide behind its own numbers.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any


def linear(taps: int = 3, bias: bool = True, **extra: Any) -> dict[str, Any]:
    """A Linear model: ``taps`` IR values then the bias (spec 3.2)."""
    weights = [1.0 / (k + 1) for k in range(taps)] + ([0.125] if bias else [])
    doc = {
        "version": "0.5.4",
        "architecture": "Linear",
        "config": {"receptive_field": taps, "bias": bias},
        "weights": weights,
        "sample_rate": 48000,
    }
    doc.update(extra)
    return doc


# One layer array, 2 channels, kernel 2, dilation 1, no gating, head_size 1 without bias.
# Weights (spec 6.9): rechannel (2,1) = 2; conv (2,2,2) = 8 + bias 2; input_mixin (2,1) = 2;
# layer1x1 (2,2) = 4 + bias 2; head_rechannel (1,2) = 2; head_scale 1  -> 23.
TINY_WAVENET_WEIGHTS = 23


def tiny_wavenet(**extra: Any) -> dict[str, Any]:
    doc = {
        "version": "0.6.0",
        "architecture": "WaveNet",
        "config": {
            "layers": [
                {
                    "input_size": 1,
                    "condition_size": 1,
                    "head_size": 1,
                    "channels": 2,
                    "kernel_size": 2,
                    "dilations": [1],
                    "activation": "Tanh",
                    "gated": False,
                    "head_bias": False,
                }
            ],
            "head": None,
            "head_scale": 0.5,
        },
        "weights": [0.01 * (i + 1) for i in range(TINY_WAVENET_WEIGHTS - 1)] + [0.5],
        "sample_rate": 48000,
    }
    doc.update(extra)
    return doc


def sequential(*models: dict[str, Any], **extra: Any) -> dict[str, Any]:
    doc = {"version": "0.7.0", "architecture": "Sequential", "config": {"models": list(models)}, "weights": [], "sample_rate": 48000}
    doc.update(extra)
    return doc


def container(*models: dict[str, Any], **extra: Any) -> dict[str, Any]:
    n = len(models)
    subs = [{"max_value": (i + 1) / n, "model": m} for i, m in enumerate(models)]
    doc = {"version": "0.7.0", "architecture": "SlimmableContainer", "config": {"submodels": subs}, "weights": [], "sample_rate": 48000}
    doc.update(extra)
    return doc


def with_condition_dsp(parent: dict[str, Any], dsp: dict[str, Any]) -> dict[str, Any]:
    doc = copy.deepcopy(parent)
    doc["config"]["condition_dsp"] = dsp
    return doc


def write(directory: Path, doc: Any, name: str = "model.nam") -> Path:
    path = directory / name
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def write_linear(path: Path, taps: Any, sample_rate: float | None = 48000) -> Path:
    """Write a bias-free Linear model with these taps (and a sample rate unless None) to ``path``."""
    doc: dict[str, Any] = {
        "version": "0.5.4",
        "architecture": "Linear",
        "config": {"receptive_field": len(taps), "bias": False},
        "weights": [float(t) for t in taps],
    }
    if sample_rate is not None:
        doc["sample_rate"] = sample_rate
    path.write_text(json.dumps(doc))
    return path
