"""Amp + cab IR -> one full-rig .nam file that NAM's plugin loads (a Sequential).

    python examples/full_rig.py [--out DIR]

A plugin or pedal that runs one .nam at a time can still run "drive into cab": a
``Sequential`` file holds several models and plays them in series. This script:

1. writes the shipped cab's impulse response as a plain ``cab.wav`` (the form cab IRs
   usually come in), and loads it back as a model with ``namgraph.load("cab.wav")``;
2. chains the shipped drive pedal and that IR, and saves the chain as ``full_rig.nam``;
3. reloads the file, renders 2 s of the shipped DI through it, and checks that it sounds
   exactly like the two parts in series (drive, then the IR as a NumPy convolution).

Writes ``cab.wav``, ``full_rig.nam`` and ``full_rig.wav`` (the render) to ``--out``
(default ``out/examples/``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import namgraph
from namgraph.audio import read_wav, write_wav

RIG = Path(__file__).resolve().parent / "rig"  # the shipped demo rig: di.wav, drive.nam, cab.nam
DEFAULT_OUT = Path(__file__).resolve().parents[1] / "out" / "examples"
SECONDS = 2.0  # how much of the DI to render


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default: %(default)s)")
    out = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)

    # 1. A cab IR as a wav file. The shipped cab.nam is a Linear model: its "ir" taps are the
    #    impulse response, ir[0] first. Written as 32-bit float, the wav holds them exactly.
    cab_model = namgraph.load(RIG / "cab.nam")
    taps = np.asarray(cab_model.params["ir"], np.float32)
    write_wav(out / "cab.wav", taps, cab_model.sample_rate)
    cab = namgraph.load(out / "cab.wav")  # a .wav path loads as an IR: a Linear model, no options needed
    assert np.array_equal(np.asarray(cab.params["ir"]), taps)
    print(f"wrote {out / 'cab.wav'}: {taps.size} taps ({1000 * taps.size / cab.sample_rate:.1f} ms) -> {cab}")

    # 2. Drive into cab, saved as one Sequential file (the form NAM's plugin and Core read).
    drive = namgraph.load(RIG / "drive.nam")
    rig = namgraph.chain(drive, cab)
    namgraph.save(rig, out / "full_rig.nam", form="sequential")
    print(f"wrote {out / 'full_rig.nam'}")

    # 3. Reload and render. The file is an ordinary model now: load, render, done.
    full_rig = namgraph.load(out / "full_rig.nam")
    print(f"reloaded: {full_rig}")
    di, rate = read_wav(RIG / "di.wav")
    di = di[0, : int(SECONDS * rate)]  # 1-D: one mono channel
    wet = namgraph.render(full_rig, di)
    write_wav(out / "full_rig.wav", wet, rate)
    print(f"wrote {out / 'full_rig.wav'}: {SECONDS:g} s, peak {20 * np.log10(np.max(np.abs(wet))):.1f} dBFS")

    # The file renders exactly as the chain we built in Python (same start-up, same math) ...
    print(f"file vs chain graph: max difference {np.max(np.abs(wet - namgraph.render(rig, di))):.2e}")
    # ... and as the parts in series: the drive alone, then the IR as a plain convolution.
    # They agree once the IR's memory has filled with the drive's output; in the first
    # 2048 samples the file's IR still remembers the drive's start-up (its output for
    # silence), while a separate convolution starts from zeros.
    driven = namgraph.render(drive, di).astype(np.float64)
    series = np.convolve(driven, taps.astype(np.float64))[: di.size]
    settled = np.max(np.abs(wet - series)[taps.size :])
    print(f"file vs drive then convolution: max difference {settled:.2e} after the first {taps.size} samples "
          f"({np.max(np.abs(wet - series)[: taps.size]):.2e} before)")


if __name__ == "__main__":
    main()
