"""The long fuzzing run of issue 8: N hostile files per category through the property of
:func:`cases.run_case`, with a summary (counts per category and outcome, uncaught count,
slowest case, peak memory). Not a test: run it by hand (it takes a while)::

    nice .venv/bin/python tests/fuzz/long_run.py --cases 10000 [--categories nam,dag] [--keep DIR]

Every uncaught or wrong case is written to ``--keep`` (default ``fuzz-failures/``) as a file
that reproduces it (``namgraph.load(path)``). Exit status 1 if there was any.

Every loaded case compiles its own architecture, and JAX keeps every compiled function;
``--clear-every N`` (default 100) drops JAX's caches every N cases so that the run's
memory reflects the cases, not their number. Each case's own Python allocations are its
"peak traced memory"; a case that raises the process's peak resident memory by over
256 MiB is kept as ``heavy-*`` in ``--keep``, and the case running is always in
``current-<category>`` (to find what a killed run was doing).
"""

from __future__ import annotations

import argparse
import collections
import faulthandler
import gc
import resource
import signal
import sys
import tempfile
import time
import warnings
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TESTS))

import jax  # noqa: E402
from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402

from fuzz import cases  # noqa: E402

HEAVY_BYTES = 256 << 20  # a case that raises the peak resident memory by more is kept (heavy-*)
LOAD_BOUND_SECONDS = 2.0  # loading one hostile file (a case also renders and round-trips what loads, with JIT compiles)


def run_category(category: str, n: int, keep: Path, scratch: Path, clear_every: int) -> dict:
    counts: collections.Counter[str] = collections.Counter()
    stats = {"cases": 0, "uncaught": 0, "wrong": 0, "nonfinite": 0, "slowest": (0.0, b""), "slowest_load": 0.0, "peak_traced": 0,
             "slow_loads": 0, "heavy": 0}
    keep.mkdir(parents=True, exist_ok=True)

    start = time.perf_counter()

    @settings(max_examples=n, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(data=cases.files(category))
    def one(data: bytes) -> None:
        current = keep / f"current-{category}"  # the case running, if the run is killed (absent: generating one)
        current.write_bytes(data)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        outcome = cases.run_case(category, data, scratch)
        current.replace(keep / f"last-{category}")
        stats["cases"] += 1
        grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) * 1024
        if grown > HEAVY_BYTES:  # raised the process's peak a lot: keep it to look at
            stats["heavy"] += 1
            (keep / f"heavy-{category}-{stats['cases']:05d}-{grown >> 20}MiB").write_bytes(data)
        counts[outcome.kind if outcome.kind in ("ok", "uncaught", "wrong") else f"{outcome.kind}: {outcome.error}"] += 1
        stats["nonfinite"] += outcome.nonfinite
        if outcome.seconds > stats["slowest"][0]:
            stats["slowest"] = (outcome.seconds, data)
        stats["slowest_load"] = max(stats["slowest_load"], outcome.load_seconds)
        stats["slow_loads"] += outcome.load_seconds > LOAD_BOUND_SECONDS
        stats["peak_traced"] = max(stats["peak_traced"], outcome.peak_bytes)
        if outcome.kind in ("uncaught", "wrong"):
            stats[outcome.kind] += 1
            keep.mkdir(parents=True, exist_ok=True)
            name = f"{category}-{stats['cases']:05d}.{'wav' if category == 'wav' else 'nam'}"
            (keep / name).write_bytes(data)
            (keep / (name + ".txt")).write_text(outcome.detail)
        if clear_every and stats["cases"] % clear_every == 0:
            jax.clear_caches()
            gc.collect()
        if stats["cases"] % 1000 == 0:
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(f"  {category}: {stats['cases']} cases, {time.perf_counter() - start:.0f} s, peak RSS {rss:.0f} MiB",
                  file=sys.stderr, flush=True)

    one()
    stats["wall"] = time.perf_counter() - start
    stats["counts"] = counts
    return stats


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000, help="cases per category")
    parser.add_argument("--categories", default=",".join(cases.CATEGORIES))
    parser.add_argument("--keep", type=Path, default=Path("fuzz-failures"))
    parser.add_argument("--clear-every", type=int, default=100, help="drop JAX's compile caches every N cases (0: never)")
    args = parser.parse_args()
    faulthandler.register(signal.SIGUSR1, all_threads=True)  # kill -USR1 <pid>: where is it now
    warnings.simplefilter("ignore")  # NamFormatWarning etc.: expected on hostile files, and noisy
    failures = 0
    with tempfile.TemporaryDirectory() as scratch:
        for category in args.categories.split(","):
            s = run_category(category, args.cases, args.keep, Path(scratch), args.clear_every)
            failures += s["uncaught"] + s["wrong"]
            seconds, data = s["slowest"]
            print(f"{category}: {s['cases']} cases in {s['wall']:.0f} s; uncaught {s['uncaught']}, wrong {s['wrong']}; "
                  f"slowest case {seconds:.2f} s (slowest load {s['slowest_load']:.3f} s; "
                  f"{s['slow_loads']} loads over {LOAD_BOUND_SECONDS:g} s); "
                  f"peak traced memory of one case {s['peak_traced'] / 2**20:.1f} MiB; non-finite renders {s['nonfinite']}; "
                  f"peak resident memory so far {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB; "
                  f"{s['heavy']} case(s) raised it by over {HEAVY_BYTES >> 20} MiB")
            for key, value in s["counts"].most_common():
                print(f"    {value:6d}  {key}")
            print(f"    slowest case starts {data[:100]!r}")
            sys.stdout.flush()
    print(f"peak resident memory of the whole run: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    print(f"uncaught or wrong: {failures}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
