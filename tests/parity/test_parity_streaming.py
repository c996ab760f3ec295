"""The in-place streaming step against NeuralAmpModelerCore's recorded renders.

``Stream.process`` (which runs ``Stream.step_in_place``) renders each fixture's 1 s input in
Core's own 64-sample blocks. On CPU that step is compiled differently from the offline
render (one kernel, without the YNNPACK matrix products, state buffers reused), so it is
held to Core's output directly, with the offline parity tests' bounds: 2e-5 absolute, or
relative to the peak for ``slimmable_wavenet`` (random weights, peak 57). Skipped when the
fixtures are absent (a user's clone).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import namgraph
from conftest import one_kernel_steps_expected

TOL = 2e-5
BLOCK = 64  # Core's block size for the recordings
MODELS = [
    "wavenet", "wavenet_a1_standard", "identity_wavenet_minimal", "identity_wavenet_standard", "wavenet_a2_max",
    "wavenet_condition_dsp", "slimmable_wavenet", "A2", "slimmable_container", "lstm", "identity_linear_1",
    "identity_linear_10",
]
RELATIVE = {"slimmable_wavenet"}


@pytest.mark.parametrize("name", MODELS)
def test_in_place_stream_matches_core(core_fixtures: Path, core_input: np.ndarray, name: str) -> None:
    stream = namgraph.Stream(namgraph.load(core_fixtures / f"{name}.nam"))
    y = np.concatenate([stream.process(core_input[i : i + BLOCK]) for i in range(0, len(core_input), BLOCK)])
    golden = np.fromfile(core_fixtures / f"{name}.out.f32", dtype="<f4")
    err = float(np.abs(y - golden).max())
    if name in RELATIVE:
        err /= float(np.abs(golden).max())
    one_kernel = stream.step_in_place.compiled()
    print(f"{name}: max {'relative' if name in RELATIVE else 'abs'} error {err:.3g}; one kernel per block shape: {one_kernel}")
    assert err <= TOL
    if one_kernel_steps_expected():  # every fixture's step fits in one kernel
        assert all(one_kernel.values()), f"{name}: the step should compile as one kernel on CPU"
