"""Find the mix of a two-cab rig by gradient descent: which levels make my render sound like that one?

    python examples/fit_branch_gains.py [--out DIR] [--steps N]

A rig is a JAX function of its parameters, so ``jax.grad`` gives the slope of any error
with respect to any gain, mix amount or model weight. Here two cab IRs (the shipped cab
and a darker copy made in NumPy) are blended, each with its own level. A target render is
made with levels the fitter is not told (-3 dB and +2 dB); starting from 0 dB on both,
Adam lowers the error-to-signal ratio (ESR) between the rig's render and the target until
the levels come out.

The drive pedal before the cabs does not change during the fit, so its output is rendered
once and fed to the cab rig at every step: the fit then costs two convolutions per step
instead of a WaveNet.

Writes ``fitted_cabs.nam`` (the rig with the fitted levels, a DAG file) to ``--out``
(default ``out/examples/``) and prints the fitted levels.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

import namgraph
from namgraph.audio import read_wav
from namgraph.engine import render_offline
from namgraph.training import AdamState, adam_init, adam_update, esr

RIG = Path(__file__).resolve().parent / "rig"  # the shipped demo rig: di.wav, drive.nam, cab.nam
DEFAULT_OUT = Path(__file__).resolve().parents[1] / "out" / "examples"
SECONDS = 0.5  # of DI to fit on: short clips fit fast, and two numbers need little audio
TRUE_DB = {"level_a": -3.0, "level_b": 2.0}  # what the fit should find


def darker(taps: np.ndarray, rate: float, cutoff_hz: float = 1500.0) -> np.ndarray:
    """The IR through a one-pole low-pass ``y[n] = (1 - a) x[n] + a y[n - 1]``, same length."""
    a = np.exp(-2 * np.pi * cutoff_hz / rate)
    lowpass = (1 - a) * a ** np.arange(256)  # the low-pass's impulse response, cut at ~1e-8
    return np.convolve(taps, lowpass)[: taps.size].astype(np.float32)


def build_cabs() -> namgraph.Graph:
    """in -> level_a -> cab_a, in -> level_b -> cab_b, summed. Both levels start at 0 dB."""
    cab = namgraph.load(RIG / "cab.nam")
    g = namgraph.Graph()
    g.add("in", "input")
    g.add("level_a", "gain", db=0.0)
    g.add("cab_a", model=cab)
    g.add("level_b", "gain", db=0.0)
    g.add("cab_b", model=cab.with_params({"ir": darker(np.asarray(cab.params["ir"]), cab.sample_rate)}))
    g.add("mix", "sum")
    g.add("out", "output")
    g.connect("in", "level_a", "cab_a", "mix")
    g.connect("in", "level_b", "cab_b", "mix")
    g.connect("mix", "out")
    return g


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default: %(default)s)")
    parser.add_argument("--steps", type=int, default=150, help="Adam steps (default: %(default)s)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    # The audio the cabs see: the DI through the drive, rendered once.
    di, rate = read_wav(RIG / "di.wav")
    driven = namgraph.render(RIG / "drive.nam", di[:, : int(SECONDS * rate)])  # (1 channel, samples)

    # The target: the same rig with the "unknown" levels set. with_params returns a copy.
    cabs = build_cabs()
    target = namgraph.render(cabs.with_params({k: {"db": v} for k, v in TRUE_DB.items()}), driven)

    # The compiled rig: a fixed architecture plus a params dict {node id: values}. Only the
    # two gains are fitted; the cab IRs are held fixed by keeping them out of `levels`.
    compiled = cabs.compile()
    arch, fixed = compiled.architecture, compiled.params
    levels = {k: fixed[k] for k in TRUE_DB}  # {"level_a": {"db": 0.0}, "level_b": {"db": 0.0}}
    x, y = jnp.asarray(driven), jnp.asarray(target)

    @jax.jit
    def loss(levels: dict) -> jax.Array:
        return esr(render_offline(arch, {**fixed, **levels}, x), y)

    # One jitted step: the gradient of the loss (w.r.t. the levels only) and an Adam update.
    @jax.jit
    def step(levels: dict, opt: AdamState, lr: float) -> tuple[dict, AdamState]:
        return adam_update(levels, jax.grad(loss)(levels), opt, lr)

    opt = adam_init(levels)
    for i in range(args.steps):
        if i % 25 == 0:
            print(f"step {i:4d}  ESR {float(loss(levels)):.2e}  "
                  + "  ".join(f"{k} {float(v['db']):+.3f} dB" for k, v in levels.items()))
        lr = 0.1 * 0.5 * (1 + np.cos(np.pi * i / args.steps))  # steps of ~0.1 dB at first, easing to 0 (cosine)
        levels, opt = step(levels, opt, lr)

    fitted = {k: float(v["db"]) for k, v in levels.items()}
    print(f"final ESR {float(loss(levels)):.2e}")
    for k, v in fitted.items():
        print(f"fitted {k} = {v:+.3f} dB (true {TRUE_DB[k]:+.1f} dB, error {v - TRUE_DB[k]:+.3f} dB)")

    # Put the fitted levels into the rig and save it; it loads and renders like any rig.
    namgraph.save(cabs.with_params(levels), args.out / "fitted_cabs.nam", form="dag")
    print(f"wrote {args.out / 'fitted_cabs.nam'}")


if __name__ == "__main__":
    main()
