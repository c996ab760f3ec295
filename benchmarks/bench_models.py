"""Offline speed of single models: real-time factor and compile time.

Real-time factor (RTF) = seconds of 48 kHz audio rendered per second of wall time, the
median of N runs after compiling, on 10 s of noise. The render includes Core's start-up
(prewarm), as a user's render does. Run: ``.venv/bin/python benchmarks/bench_models.py``.
Reference figures for NeuralAmpModelerCore on the project's 2-core CI machines (1 thread,
block 64): standard WaveNet ~10x, LSTM 1x24 ~52x, A2 full ~12.6x.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import namgraph  # noqa: E402,F401  (first: it sets XLA's CPU flags before JAX starts)
import jax  # noqa: E402
import numpy as np  # noqa: E402

from bench_support import model_zoo, random_params  # noqa: E402
from namgraph.engine import render_array, render_offline_jit  # noqa: E402

SAMPLE_RATE = 48_000


def measure(arch, params, seconds: float, runs: int) -> dict[str, float]:
    x = np.random.default_rng(1).uniform(-0.5, 0.5, (arch.in_channels, int(seconds * SAMPLE_RATE))).astype(np.float32)
    t0 = time.perf_counter()
    compiled = render_offline_jit.lower(arch, params, x).compile()
    compile_s = time.perf_counter() - t0
    compiled(params, x).block_until_ready()  # warm caches
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        compiled(params, x).block_until_ready()
        times.append(time.perf_counter() - t0)
    med = statistics.median(times)
    render_array(arch, params, x)  # compile the segment shape
    both = []
    for _ in range(runs):
        t0 = time.perf_counter()
        render_array(arch, params, x)
        both.append(time.perf_counter() - t0)
    return {
        "compile_s": compile_s,
        "rtf": seconds / med,
        "rtf_best": seconds / min(times),
        "rtf_all_cores": seconds / statistics.median(both),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--only", nargs="*", help="model names to run (default: all)")
    args = parser.parse_args()
    print(f"jax {jax.__version__} on {jax.devices()[0].platform}; {args.seconds:g} s of audio, median of {args.runs} runs")
    print("one core: one jitted render; all cores: namgraph.render's path (models with finite memory")
    print("are split into overlapping time segments rendered on parallel threads)")
    print(f"{'model':<22} {'weights':>8} {'rf':>6} {'compile s':>10} {'1 core median':>14} {'1 core best':>12} {'all cores':>10}")
    for name, arch in model_zoo().items():
        if args.only and name not in args.only:
            continue
        params = random_params(arch)
        r = measure(arch, params, args.seconds, args.runs)
        weights = sum(int(np.size(v)) for v in jax.tree_util.tree_leaves(params))
        print(
            f"{name:<22} {weights:>8} {arch.receptive_field():>6} {r['compile_s']:>10.2f} "
            f"{r['rtf']:>13.1f}x {r['rtf_best']:>11.1f}x {r['rtf_all_cores']:>9.1f}x"
        )


if __name__ == "__main__":
    main()
