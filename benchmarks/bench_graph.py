"""Graph benchmarks: compiled-graph overhead, streaming, batching and compile time.

Prints, from one run on this machine:

1. **overhead**: the offline render of a compiled graph amp -> (cab A, cab B) summed,
   against the sum of its nodes rendered alone (the amp on the input, each cab on the amp's
   output), as a ratio (target <= 1.05);
2. **streaming**: real-time factor of the standard WaveNet streamed through the public
   streaming path (``namgraph.Stream``: ``init_state``, then block by block) at blocks of
   32, 64, 256 and 4096 samples (target >= 10x at 64; Core: ~10x), three ways: ``step``,
   ``step_in_place`` and ``process`` (see :func:`streaming`);
3. **batch**: aggregate real-time factor of 32 clips rendered at once through
   ``namgraph.render`` (and as one vmapped call, for comparison);
4. **compile**: lowering + XLA compile time of a 10-node rig (target < 5 s).

Real-time factor (RTF) = seconds of 48 kHz audio per second of wall time, the median of
``--runs`` timings after compiling; models have random weights (speed does not depend on
values). Run: ``.venv/bin/python benchmarks/bench_graph.py [--quick] [--only streaming]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parent))

import namgraph  # noqa: E402  (first: applies namgraph's XLA tuning before jax starts)
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

from bench_support import LSTM_1X24, STANDARD_WAVENET, build, random_params  # noqa: E402
from namgraph.engine import render_offline_jit, render_vmapped_jit  # noqa: E402
from namgraph.format.configs import LinearConfig  # noqa: E402
from namgraph.graph import Graph, chain, parallel  # noqa: E402
from namgraph.model import Model  # noqa: E402
from namgraph.models.linear import Linear  # noqa: E402
from namgraph.streaming import Stream  # noqa: E402

SR = 48_000
CAB_TAPS = 2048
DRIVE = {  # the demo rig's drive shape (examples/rig/drive.nam): 8 -> 4 channels, dilations 1..128
    "layers": [
        {"input_size": 1, "condition_size": 1, "head_size": 4, "channels": 8, "kernel_size": 3,
         "dilations": [1, 2, 4, 8, 16, 32, 64, 128], "activation": "Tanh", "gated": False, "head_bias": False},
        {"input_size": 8, "condition_size": 1, "head_size": 1, "channels": 4, "kernel_size": 3,
         "dilations": [1, 2, 4, 8, 16, 32, 64, 128], "activation": "Tanh", "gated": False, "head_bias": True},
    ],
    "head": None,
    "head_scale": 0.02,
}


def model(architecture: str, config: dict, seed: int, name: str) -> Model:
    arch = build(architecture, config)
    return Model(arch, random_params(arch, seed), document={}, sample_rate=float(SR), source=f"{name}.nam")


def cab(seed: int, name: str) -> Model:
    arch = Linear(LinearConfig(receptive_field=CAB_TAPS, bias=False))
    rng = np.random.default_rng(seed)
    ir = (rng.standard_normal(CAB_TAPS) * np.exp(-np.arange(CAB_TAPS) / 400.0) * 0.05).astype(np.float32)
    return Model(arch, {"ir": ir}, document={}, sample_rate=float(SR), source=f"{name}.nam")


def median_time(fn: Callable[[], Any], runs: int) -> float:
    jax.block_until_ready(fn())  # warm caches
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        jax.block_until_ready(fn())
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def compiled_render(arch: Any, params: Any, x: np.ndarray) -> tuple[Callable[[], Any], float]:
    t0 = time.perf_counter()
    fn = render_offline_jit.lower(arch, params, x).compile()
    return (lambda: fn(params, x)), time.perf_counter() - t0


def overhead(seconds: float, runs: int) -> None:
    amp, cab_a, cab_b = model("WaveNet", STANDARD_WAVENET, 1, "amp"), cab(2, "cab_a"), cab(3, "cab_b")
    rig = chain(amp, parallel(cab_a, cab_b, mix="sum")).compile()
    x = np.random.default_rng(0).uniform(-0.5, 0.5, (1, int(seconds * SR))).astype(np.float32)
    run_rig, compile_s = compiled_render(rig.architecture, rig.params, x)
    amped = np.asarray(render_offline_jit(amp.architecture, amp.params, x))
    run_amp, _ = compiled_render(amp.architecture, amp.params, x)
    run_a, _ = compiled_render(cab_a.architecture, cab_a.params, amped)
    run_b, _ = compiled_render(cab_b.architecture, cab_b.params, amped)
    # Interleave the timings so drift on a shared machine hits all of them alike.
    t_rig, t_amp, t_a, t_b = [], [], [], []
    for _ in range(runs):
        t_rig.append(median_time(run_rig, 1))
        t_amp.append(median_time(run_amp, 1))
        t_a.append(median_time(run_a, 1))
        t_b.append(median_time(run_b, 1))
    graph_s = statistics.median(t_rig)
    parts_s = statistics.median(t_amp) + statistics.median(t_a) + statistics.median(t_b)
    # Per-round ratios (each round times all four back to back, so drift on a shared
    # machine cancels) and the ratio of the best times (the least disturbed runs).
    rounds = statistics.median(r / (a + ca + cb) for r, a, ca, cb in zip(t_rig, t_amp, t_a, t_b))
    best = min(t_rig) / (min(t_amp) + min(t_a) + min(t_b))
    print(f"overhead: amp + 2 parallel {CAB_TAPS}-tap cabs, {seconds:g} s: graph {graph_s * 1e3:.1f} ms "
          f"(RTF {seconds / graph_s:.1f}x, compile {compile_s:.2f} s) vs nodes alone {parts_s * 1e3:.1f} ms "
          f"(amp {statistics.median(t_amp) * 1e3:.1f} + cabs {statistics.median(t_a) * 1e3:.1f} + {statistics.median(t_b) * 1e3:.1f}); "
          f"ratio {rounds:.3f} (median of rounds), {best:.3f} (best times) (target <= 1.05)")


def streaming(seconds: float, runs: int, blocks: list[int]) -> None:
    """Three ways of streaming the same model, timed interleaved run by run (drift on a
    shared machine hits all alike): ``step`` (pure; the state passed in stays valid),
    ``step_in_place`` (consumes the state; on CPU one kernel per block), both called in a
    loop that does not wait for each block (JAX dispatches the next block while this one
    computes, as when rendering a file), and ``process`` (numpy in and out: each block's
    output is waited for before the next block is sent, as in an audio callback)."""
    amp = model("WaveNet", STANDARD_WAVENET, 1, "amp")
    s = Stream(amp)
    x = np.random.default_rng(0).uniform(-0.5, 0.5, int(seconds * SR)).astype(np.float32)
    for block in blocks:
        chunks = [jnp.asarray(x[i : i + block]) for i in range(0, len(x) - block + 1, block)]
        host_chunks = [np.asarray(c) for c in chunks]
        audio_s = len(chunks) * block / SR

        def with_step(step: Any) -> Callable[[], Any]:
            def run() -> Any:
                state = s.init_state()
                for chunk in chunks:
                    state, y = step(s.params, state, chunk)
                return y

            return run

        def with_process() -> Any:
            s.reset()
            for chunk in host_chunks:
                y = s.process(chunk)
            return y

        runners = {"step": with_step(s.step), "step_in_place": with_step(s.step_in_place), "process": with_process}
        for run in runners.values():
            jax.block_until_ready(run())  # compile this block size, warm caches
        times: dict[str, list[float]] = {name: [] for name in runners}
        for _ in range(runs):
            for name, run in runners.items():
                t0 = time.perf_counter()
                jax.block_until_ready(run())
                times[name].append(time.perf_counter() - t0)
        rtf = {name: audio_s / statistics.median(t) for name, t in times.items()}
        print(f"streaming: standard WaveNet, block {block:>4}: RTF {rtf['step']:.1f}x (step), "
              f"{rtf['step_in_place']:.1f}x (step_in_place), {rtf['process']:.1f}x (process: each block waited for)")


def batch(seconds: float, runs: int, size: int = 32) -> None:
    """The public path (``namgraph.render`` of a (B, C, T) batch: parallel threads of
    single-clip renders on CPU, one vmapped render elsewhere) against one vmapped call and
    one clip alone."""
    amp = model("WaveNet", STANDARD_WAVENET, 1, "amp")
    arch = amp.architecture
    x = np.random.default_rng(0).uniform(-0.5, 0.5, (size, 1, int(seconds * SR))).astype(np.float32)
    namgraph.render(amp, x)  # compile
    public = median_time(lambda: namgraph.render(amp, x), runs)
    fn = render_vmapped_jit.lower(arch, amp.params, x).compile()
    vmapped = median_time(lambda: jax.block_until_ready(fn(amp.params, x)), runs)
    namgraph.render(amp, x[0])
    single = median_time(lambda: namgraph.render(amp, x[0]), runs)
    print(f"batch: {size} clips x {seconds:g} s, standard WaveNet: aggregate RTF {size * seconds / public:.1f}x "
          f"(namgraph.render), {size * seconds / vmapped:.1f}x (one vmapped call); one clip alone: {seconds / single:.1f}x")


def ten_node_rig() -> Graph:
    drive = model("WaveNet", DRIVE, 4, "drive")
    amp = model("WaveNet", STANDARD_WAVENET, 5, "amp")
    preamp = model("LSTM", LSTM_1X24, 6, "preamp")
    g = Graph()
    g.add("in", "input")
    g.add("drive", "model", model=drive)
    g.add("amp", "model", model=amp)
    g.add("cab_a", "model", model=cab(7, "cab_a"))
    g.add("cab_b", "model", model=cab(8, "cab_b"))
    g.add("cab_b_level", "gain", db=-3.0)
    g.add("blend", "sum")
    g.add("preamp", "model", model=preamp)
    g.add("level", "gain", db=-6.0)
    g.add("out", "output")
    g.connect("in", "drive", "amp", "cab_a", "blend")
    g.connect("amp", "cab_b", "cab_b_level", "blend")
    g.connect("blend", "preamp", "level", "out")
    return g


def compile_time() -> None:
    rig = ten_node_rig()
    t0 = time.perf_counter()
    compiled = rig.compile()
    lower_graph_s = time.perf_counter() - t0
    x = np.zeros((1, SR), np.float32)
    _, compile_s = compiled_render(compiled.architecture, compiled.params, x)
    print(f"compile: 10-node rig (2 WaveNets, LSTM, 2 cabs, gains, sum): graph lowering {lower_graph_s * 1e3:.0f} ms, "
          f"jit lower + XLA compile {compile_s:.2f} s (target < 5 s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="audio length for the offline and batch figures")
    parser.add_argument("--stream-seconds", type=float, default=2.0)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="short audio and 2 runs (a smoke test, not figures)")
    parser.add_argument("--only", choices=["compile", "overhead", "streaming", "batch"], help="run one section")
    parser.add_argument("--sync-dispatch", action="store_true",
                        help="run JAX's CPU computations on the calling thread (jax_cpu_enable_async_dispatch=False), "
                             "as an audio host that waits for every block may choose to")
    args = parser.parse_args()
    if args.sync_dispatch:  # before the first computation starts JAX's CPU backend
        jax.config.update("jax_cpu_enable_async_dispatch", False)
    if args.quick:
        args.seconds, args.stream_seconds, args.runs = 1.0, 0.25, 2
    dispatch = "synchronous" if args.sync_dispatch else "asynchronous (JAX's default)"
    print(f"jax {jax.__version__} on {jax.devices()[0].platform}, {dispatch} dispatch; median of {args.runs} runs")
    sections = {
        "compile": compile_time,  # first: nothing of it is cached yet
        "overhead": lambda: overhead(args.seconds, args.runs),
        "streaming": lambda: streaming(args.stream_seconds, args.runs, [32, 64, 256, 4096]),
        "batch": lambda: batch(min(args.seconds, 2.0), args.runs),
    }
    for name, section in sections.items():
        if args.only in (None, name):
            section()


if __name__ == "__main__":
    main()
