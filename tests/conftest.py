"""Shared test set-up: Core's golden fixtures (when present) and hypothesis profiles."""

from __future__ import annotations

import namgraph  # noqa: F401  (first: namgraph's XLA flags apply before JAX starts, as for a user)
import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

REPO = Path(__file__).resolve().parents[1]
SHARED_FIXTURES = REPO.parent / "shared" / "fixtures" / "nam"

# Hypothesis profiles (HYPOTHESIS_PROFILE=...; see design/testing.md). None has a deadline:
# JIT compiles make one example's time meaningless. Property tests state their example
# count for the ci profile and scale it by max_examples / 25 (tests/strategies.examples),
# so dev runs 2x and thorough 10x the ci examples. print_blob prints @reproduce_failure.
_COMMON = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True)
# ci: bounded and derandomized (the same examples every run; a failure replays by rerunning).
settings.register_profile("ci", max_examples=25, derandomize=True, **_COMMON)
# dev: the local default; random, failures saved in .hypothesis/ and replayed first next run.
settings.register_profile("dev", max_examples=50, **_COMMON)
# thorough: long local runs (about 10x the ci time).
settings.register_profile("thorough", max_examples=250, **_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


def one_kernel_steps_expected() -> bool:
    """Whether ``Stream.step_in_place`` should compile small blocks as one kernel here: on
    CPU, with namgraph's XLA flags in force (they are, since this file imports namgraph
    before anything imports JAX, unless NAMGRAPH_XLA_TUNING=0 or an untested jaxlib)."""
    import jax

    from namgraph import xla_tuning

    flags = os.environ.get("XLA_FLAGS", "")
    return jax.default_backend() == "cpu" and all(flag in flags for flag in xla_tuning.FLAGS)


def core_fixtures_dir() -> Path:
    """The folder of Core's golden renders, or skip: a user's clone does not have it."""
    if not (SHARED_FIXTURES / "input.f32").is_file():
        pytest.skip(f"Core golden fixtures not found at {SHARED_FIXTURES} (they live beside the checkout in CI only)")
    return SHARED_FIXTURES


@pytest.fixture(scope="session")
def core_fixtures() -> Path:
    return core_fixtures_dir()


@pytest.fixture(scope="session")
def core_input(core_fixtures: Path) -> np.ndarray:
    """The fixtures' 1 s test input (log sweep then noise), float32 mono."""
    return np.fromfile(core_fixtures / "input.f32", dtype="<f4")


def core_output(name: str) -> np.ndarray:
    """Core's recorded output ``NAME.out.f32`` (or ``NAME.size0.5.out.f32`` etc.)."""
    return np.fromfile(core_fixtures_dir() / f"{name}.out.f32", dtype="<f4")
