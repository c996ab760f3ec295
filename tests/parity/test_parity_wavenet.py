"""WaveNet parity with NeuralAmpModelerCore's recorded renders (``../shared/fixtures/nam``).

Each fixture model renders the fixtures' 1 s input as Core did (default prewarm, exact or
fast tanh, a slimmable size), and must match Core's output within 2e-5 absolute (relative
to the output's peak for ``slimmable_wavenet``, whose random weights reach 57). The
independent NumPy reference is held to the same bound, so a failure says which side moved.
Skipped when the fixtures are absent (a user's clone).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from reference import numpy_wavenet as ref

from namgraph.engine import render_offline_jit
from namgraph.format.configs import WaveNetConfig
from namgraph.loading import load
from namgraph.models.base import RenderOptions
from namgraph.models.wavenet import WaveNet

TOL = 2e-5

# (case id, file, submodel index inside a container or None, options, golden name, relative tolerance?)
CASES = [
    ("wavenet", "wavenet", None, RenderOptions(), "wavenet", False),
    ("a1_standard", "wavenet_a1_standard", None, RenderOptions(), "wavenet_a1_standard", False),
    ("a1_standard_fasttanh", "wavenet_a1_standard", None, RenderOptions(fast_tanh=True), "wavenet_a1_standard.fasttanh", False),
    ("identity_minimal", "identity_wavenet_minimal", None, RenderOptions(), "identity_wavenet_minimal", False),
    ("identity_standard", "identity_wavenet_standard", None, RenderOptions(), "identity_wavenet_standard", False),
    ("a2_max", "wavenet_a2_max", None, RenderOptions(), "wavenet_a2_max", False),
    ("condition_dsp", "wavenet_condition_dsp", None, RenderOptions(), "wavenet_condition_dsp", False),
    ("slimmable_default", "slimmable_wavenet", None, RenderOptions(), "slimmable_wavenet", True),
    ("slimmable_0.0", "slimmable_wavenet", None, RenderOptions(size=0.0), "slimmable_wavenet.size0.0", True),
    ("slimmable_0.5", "slimmable_wavenet", None, RenderOptions(size=0.5), "slimmable_wavenet.size0.5", True),
    ("slimmable_1.0", "slimmable_wavenet", None, RenderOptions(size=1.0), "slimmable_wavenet.size1.0", True),
    ("A2_full", "A2", 1, RenderOptions(), "A2", False),
    ("A2_lite", "A2", 0, RenderOptions(), "A2.size0.0", False),
]


@cache
def _document(folder: Path, name: str, submodel: int | None) -> dict:
    doc = json.loads((folder / f"{name}.nam").read_text())
    return doc if submodel is None else doc["config"]["submodels"][submodel]["model"]


def _golden(folder: Path, name: str) -> np.ndarray:
    return np.fromfile(folder / f"{name}.out.f32", dtype="<f4")


def _error(y: np.ndarray, golden: np.ndarray, relative: bool) -> float:
    err = float(np.abs(y - golden).max())
    return err / float(np.abs(golden).max()) if relative else err


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_jax_matches_core(core_fixtures: Path, core_input: np.ndarray, case: tuple) -> None:
    _, name, submodel, options, golden_name, relative = case
    golden = _golden(core_fixtures, golden_name)
    model = load(_document(core_fixtures, name, submodel))
    arch = model.architecture.configure(options)
    assert isinstance(arch, WaveNet)
    y = np.asarray(render_offline_jit(arch, model.params, core_input[None, :]))[0]
    err = _error(y, golden, relative)
    print(f"{golden_name}: max {'relative' if relative else 'abs'} error vs Core {err:.3g}")
    assert err <= TOL, f"{golden_name}: max {'relative' if relative else 'abs'} error {err:.3g} > {TOL}"


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_reference_matches_core(core_fixtures: Path, core_input: np.ndarray, case: tuple) -> None:
    """The float64 reference reproduces Core too, so it is a trustworthy yardstick."""
    _, name, submodel, options, golden_name, relative = case
    golden = _golden(core_fixtures, golden_name)
    model = load(_document(core_fixtures, name, submodel))
    cfg = model.architecture.config
    condition = model.architecture.condition_dsp
    size = options.size if cfg.is_slimmable else None
    y = ref.render(cfg, model.params, core_input[None, :], condition_cfg=None if condition is None else condition.config,
                   fast_tanh=options.fast_tanh, size=size)[0]
    assert _error(y, golden, relative) <= TOL


def test_receptive_fields_and_prewarm_counts(core_fixtures: Path) -> None:
    """Spec 6.11 and the fixtures README: Core's prewarm counts."""
    counts = {("wavenet", None): 23, ("wavenet_a1_standard", None): 4093, ("A2", 1): 6347, ("A2", 0): 6347,
              ("wavenet_a2_max", None): 31, ("wavenet_condition_dsp", None): 45, ("slimmable_wavenet", None): 2047,
              ("identity_wavenet_minimal", None): 1}
    for (name, sub), want in counts.items():
        arch = load(_document(core_fixtures, name, sub)).architecture
        assert arch.prewarm_samples() == want, name


def test_head_scale_is_the_last_weight(core_fixtures: Path) -> None:
    doc = _document(core_fixtures, "wavenet", None)
    cfg = WaveNetConfig.model_validate(doc["config"])
    assert cfg.head_scale == 0.02
    params = load(doc).params
    assert float(np.asarray(params["head_scale"]).reshape(())) == np.float32(doc["weights"][-1])
