"""Shared test set-up: Core's golden fixtures (when present) and hypothesis profiles."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

REPO = Path(__file__).resolve().parents[1]
SHARED_FIXTURES = REPO.parent / "shared" / "fixtures" / "nam"

# CI: bounded, derandomized, no deadline (JIT compiles make timings meaningless).
settings.register_profile(
    "ci", max_examples=25, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile(
    "thorough", max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


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
