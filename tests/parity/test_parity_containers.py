"""SlimmableContainer files against Core's golden renders (skipped when the fixtures are absent).

Tolerance 2e-5 absolute: Core's own distance from exact arithmetic is ~1e-5 (fixtures README).
``slimmable_container`` at size 0.0 runs its LSTM, at 0.5 its small WaveNet, else its ReLU WaveNet;
``A2`` at 0.0 runs A2-Lite, else A2-Full.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import numpy as np
import pytest

import namgraph
from namgraph.engine import prewarm_length, process

TOLERANCE = 2e-5


@cache
def _model(folder: Path, name: str):
    return namgraph.load(folder / f"{name}.nam")


CASES = [(name, size) for name in ("A2", "slimmable_container") for size in (None, 0.0, 0.5, 1.0)]


@pytest.mark.parametrize(("name", "size"), CASES, ids=[f"{n}-{'default' if s is None else s}" for n, s in CASES])
def test_container_matches_core(core_fixtures: Path, core_input: np.ndarray, name: str, size: float | None) -> None:
    model = _model(core_fixtures, name)
    got = namgraph.render(model, core_input) if size is None else namgraph.render(model, core_input, size=size)
    want = np.fromfile(core_fixtures / f"{name if size is None else f'{name}.size{size}'}.out.f32", dtype="<f4")
    assert got.shape == want.shape == core_input.shape
    error = float(np.max(np.abs(got - want)))
    print(f"{name} size={size}: max |Δ| = {error:.3g} (peak {np.max(np.abs(want)):.3g})")
    assert error <= TOLERANCE


def test_sequential_file_of_real_models(core_fixtures: Path, core_input: np.ndarray) -> None:
    """A Sequential of Core's LSTM and WaveNet files, loaded from JSON, against the chain composed by hand.

    No Core golden exists for Sequential; the reference is the brief's start-up: the chain
    fed the sum of the children's prewarm counts (rounded up to 64) of zeros, then the input.
    """
    children = [json.loads((core_fixtures / f"{n}.nam").read_text()) for n in ("wavenet", "lstm")]
    seq = namgraph.load({"version": "0.7.0", "architecture": "Sequential", "config": {"models": children},
                         "weights": [], "sample_rate": 48000})
    x = core_input[:4800]
    got = namgraph.render(seq, x)
    silence = prewarm_length(seq.architecture)
    assert silence == -(-(23 + 24000) // 64) * 64
    y = np.concatenate([np.zeros(silence, np.float32), x])[None]
    for arch, params in zip(seq.architecture.children(), seq.params["children"]):
        _, y = process(arch, arch.prepare(params), arch.initial_state(params), y)
    np.testing.assert_allclose(got, np.asarray(y)[0, silence:], atol=1e-6, rtol=0)
