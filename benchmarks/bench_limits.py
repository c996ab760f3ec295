"""Limits benchmarks (issue 8): how fast hostile files are refused, and what rendering in
blocks over the ``render_samples`` limit costs.

Prints, from one run on this machine:

1. **refusals**: wall time of ``namgraph.load`` on files that ask for too much (a WaveNet
   dilation of 10^9, a kernel of 10^9, a 10^9-tap Linear, an LSTM whose start-up at 10^13 Hz
   would be 5 * 10^12 samples, a 9.7 MB DAG of 10^5 nodes, JSON nested 10^5 deep): the first
   call in this process (target < 1 s; the DAG is bound by parsing its 9.7 MB) and the
   median of ``--runs`` more;
2. **blocks**: real-time factor of the standard WaveNet on 10 s of audio rendered whole,
   and over a ``render_samples`` limit of 2^16 (so in blocks of 2^16 samples through the
   streaming path, what audio over the default limit goes through).

The tests check that refusals allocate next to nothing (``tests/test_limits.py``); timing
lives here because a loaded machine would make a timed test flaky. Run:
``.venv/bin/python benchmarks/bench_limits.py [--runs N] [--skip-render]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import namgraph  # noqa: E402  (first: applies namgraph's XLA tuning before jax starts)
import numpy as np  # noqa: E402

from bench_support import STANDARD_WAVENET, build, random_params  # noqa: E402
from namgraph.errors import NamGraphError  # noqa: E402
from namgraph.limits import override  # noqa: E402
from namgraph.model import Model  # noqa: E402

SR = 48_000


def _wavenet(**layer: Any) -> dict[str, Any]:
    config = {
        "layers": [{"input_size": 1, "condition_size": 1, "head_size": 1, "channels": 2, "kernel_size": 2,
                    "dilations": [1], "activation": "Tanh", "gated": False, "head_bias": False} | layer],
        "head": None, "head_scale": 0.5,
    }
    return {"version": "0.6.0", "architecture": "WaveNet", "config": config, "weights": [0.1] * 23, "sample_rate": SR}


def _dag(nodes: int) -> dict[str, Any]:
    ids = ["in"] + [f"d{i}" for i in range(nodes - 2)] + ["out"]
    listed = [{"id": "in", "kind": "input", "config": {"channels": 1}}]
    listed += [{"id": i, "kind": "delay", "config": {"samples": 1}} for i in ids[1:-1]] + [{"id": "out", "kind": "output", "config": {}}]
    config = {"nodes": listed, "edges": [{"from": a, "to": b} for a, b in zip(ids, ids[1:])], "inputs": ["in"], "outputs": ["out"]}
    return {"version": "0.7.0", "architecture": "DAG", "config": config, "weights": []}


def hostile_files(directory: Path) -> dict[str, Path]:
    """Name -> a file that asks for too much (files: what strangers send; parsing is part of the cost)."""
    lstm = {"version": "0.5.4", "architecture": "LSTM", "config": {"input_size": 1, "hidden_size": 1, "num_layers": 1},
            "weights": [0.1] * 16, "sample_rate": 1e13}
    texts = {
        "WaveNet dilation 10^9": json.dumps(_wavenet(dilations=[10**9])),
        "WaveNet kernel 10^9": json.dumps(_wavenet(kernel_size=10**9)),
        "Linear of 10^9 taps": json.dumps({"version": "0.5.4", "architecture": "Linear", "config": {"receptive_field": 10**9, "bias": True},
                                           "weights": [0.0], "sample_rate": SR}),
        "LSTM start-up at 10^13 Hz": json.dumps(lstm),
        "DAG of 10^5 nodes (9.7 MB)": json.dumps(_dag(100_000)),
        "JSON nested 10^5 deep": '{"metadata": ' + "[" * 100_000 + "]" * 100_000 + "}",
    }
    paths = {}
    for i, (name, text) in enumerate(texts.items()):
        paths[name] = directory / f"{i}.nam"
        paths[name].write_text(text)
    return paths


def refusal_times(runs: int) -> None:
    import tempfile

    print("refusals: first call / median of later calls (s)")
    with tempfile.TemporaryDirectory() as tmp:
        for name, doc in hostile_files(Path(tmp)).items():
            times = []
            for _ in range(runs + 1):
                start = time.perf_counter()
                try:
                    namgraph.load(doc)
                    raise SystemExit(f"{name}: was loaded")
                except NamGraphError as exc:
                    error = type(exc).__name__
                times.append(time.perf_counter() - start)
            print(f"  {name:30s} {times[0]:8.4f}  {statistics.median(times[1:]):8.4f}  ({error})")


def block_render(runs: int) -> None:
    arch = build("WaveNet", STANDARD_WAVENET)
    model = Model(arch, random_params(arch), document={}, sample_rate=float(SR))
    x = (0.1 * np.random.default_rng(0).standard_normal(10 * SR)).astype(np.float32)

    def rtf(limit: int | None) -> float:
        with override(**({"render_samples": limit} if limit else {})):
            namgraph.render(model, x)  # compile
            times = []
            for _ in range(runs):
                start = time.perf_counter()
                namgraph.render(model, x)
                times.append(time.perf_counter() - start)
        return 10.0 / statistics.median(times)

    print("standard WaveNet, 10 s of audio: real-time factor (median)")
    print(f"  whole render                       {rtf(None):8.1f}x")
    print(f"  in blocks (render_samples=2^16)    {rtf(1 << 16):8.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--skip-render", action="store_true", help="only the refusals")
    args = parser.parse_args()
    refusal_times(args.runs)
    if not args.skip_render:
        block_render(max(1, args.runs // 2))


if __name__ == "__main__":
    main()
