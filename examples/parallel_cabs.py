"""Two cab IRs in parallel after a drive, each with its own level and polarity; then the
same rig baked into a two-model file that a one-model-at-a-time player can run.

    python examples/parallel_cabs.py [--out DIR]

Blending two mics (or two cabs) is the classic studio trick. Here mic A is the shipped
cab; mic B is made from it in NumPy: darker (a gentle low-pass) and placed a little
further from the speaker (0.5 ms later, about 17 cm). Mic B's polarity is flipped, as with
a console's phase button: at low frequencies the two mics then partly cancel, which thins
the low end. Set ``INVERT_B = False`` to hear the difference.

Because cabs (IRs), gains and polarity are all linear, the whole blend is itself one IR:
``namgraph.converters.to_sequential`` rewrites the rig as drive -> one folded IR, a
two-model Sequential file, and the script checks that both render the same audio.

Writes ``cab_far.wav`` (mic B), ``parallel_cabs.nam`` (the rig as a DAG file),
``parallel_cabs_sequential.nam`` and ``parallel_cabs.wav`` to ``--out`` (default
``out/examples/``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import namgraph
from namgraph.audio import read_wav, write_wav
from namgraph.converters import to_sequential
from namgraph.graph import gain, polarity

RIG = Path(__file__).resolve().parent / "rig"  # the shipped demo rig: di.wav, drive.nam, cab.nam
DEFAULT_OUT = Path(__file__).resolve().parents[1] / "out" / "examples"
SECONDS = 2.0  # how much of the DI to render
LEVEL_A_DB, LEVEL_B_DB = -1.0, -4.0  # branch levels (dB)
INVERT_B = True  # flip mic B's polarity


def far_mic(taps: np.ndarray, rate: float, cutoff_hz: float = 2500.0, delay_ms: float = 0.5) -> np.ndarray:
    """A darker, later copy of an IR: a one-pole low-pass (as its impulse response) and a delay."""
    a = np.exp(-2 * np.pi * cutoff_hz / rate)  # y[n] = (1 - a) x[n] + a y[n - 1]
    lowpass = (1 - a) * a ** np.arange(256)  # its impulse response, cut where it is ~1e-8
    late = np.concatenate([np.zeros(round(delay_ms * rate / 1000)), np.convolve(taps, lowpass)])
    return late[: taps.size].astype(np.float32)  # same length as the original IR


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default: %(default)s)")
    out = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)

    drive = namgraph.load(RIG / "drive.nam")
    cab = namgraph.load(RIG / "cab.nam")  # mic A
    write_wav(out / "cab_far.wav", far_mic(np.asarray(cab.params["ir"]), cab.sample_rate), cab.sample_rate)
    cab_far = namgraph.load(out / "cab_far.wav")  # mic B, loaded as an IR like any cab wav
    print(f"wrote {out / 'cab_far.wav'}")

    # The rig: drive -> (level A -> cab) + (level B -> polarity -> far cab).
    # mix="sum" adds the branches as a mixing desk would ("mean" would halve the total).
    rig = namgraph.chain(
        drive,
        namgraph.parallel(
            namgraph.chain(gain(LEVEL_A_DB), cab),
            namgraph.chain(gain(LEVEL_B_DB), polarity(INVERT_B), cab_far),
            mix="sum",
        ),
    )
    print(rig)  # nodes and edges, in signal-flow order
    namgraph.save(rig, out / "parallel_cabs.nam", form="dag")  # the rig as it is, branches and all
    print(f"wrote {out / 'parallel_cabs.nam'}")

    di, rate = read_wav(RIG / "di.wav")
    di = di[0, : int(SECONDS * rate)]  # 1-D: one mono channel
    wet = namgraph.render(rig, di)
    write_wav(out / "parallel_cabs.wav", wet, rate)
    print(f"wrote {out / 'parallel_cabs.wav'}: {SECONDS:g} s, peak {20 * np.log10(np.max(np.abs(wet))):.1f} dBFS")

    # The exact rewrite: everything after the drive is linear, so it folds into one IR.
    # (A second amp in parallel could not be folded: to_sequential would say which nodes block it.)
    baked = to_sequential(rig)
    namgraph.save(baked, out / "parallel_cabs_sequential.nam")
    children = baked.architecture.children()
    print(f"wrote {out / 'parallel_cabs_sequential.nam'}: Sequential of "
          + " -> ".join(f"{c.name} (rf {c.receptive_field()})" for c in children))
    difference = np.max(np.abs(namgraph.render(baked, di) - wet))
    print(f"rig vs two-model Sequential: max difference {difference:.2e} (peak {np.max(np.abs(wet)):.3f})")


if __name__ == "__main__":
    main()
