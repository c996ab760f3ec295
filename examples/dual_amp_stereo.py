"""A dual-amp stereo rig: one guitar, two amps, each into its own cab, left and right.

    python examples/dual_amp_stereo.py [--out DIR]

Only one amp capture ships with namgraph (``drive.nam``), so the two "amps" are that
capture driven two ways, like the clean-ish and the lead channel of one amp: the left amp
gets the guitar 6 dB quieter (less drive, more dynamics), the right amp gets it 6 dB hotter
(more saturation), then a gain brings its level back down to the left's. Both go through the
shipped cab, and a ``merge`` node puts left and right side by side as a stereo output.

This uses the explicit ``Graph`` builder: ``add`` a node (an id, a kind, its settings),
then ``connect`` the nodes. A rig like this cannot be a Sequential file (two amps in
parallel are not "models in series"), so it is saved as a DAG rig file, which namgraph
loads back as the same graph.

Writes ``dual_amp_stereo.nam`` (the rig) and ``dual_amp_stereo.wav`` (a stereo render) to
``--out`` (default ``out/examples/``).
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


def build_rig() -> namgraph.Graph:
    drive = namgraph.load(RIG / "drive.nam")  # loaded once, used by both amp nodes
    cab = namgraph.load(RIG / "cab.nam")
    g = namgraph.Graph(metadata={"name": "Dual amp stereo"})
    g.add("guitar", "input")  # one mono input
    # Left: a little less input level, so the amp breaks up less.
    g.add("left_input", "gain", db=-6.0)
    g.add("left_amp", model=drive)
    g.add("left_cab", model=cab)
    # Right: 6 dB hotter into the amp, then 5.5 dB down so it sits level with the left
    # (the amp saturates, so 12 dB more in is only about 5.5 dB more out).
    g.add("right_input", "gain", db=+6.0)
    g.add("right_amp", model=drive)
    g.add("right_level", "gain", db=-5.5)
    g.add("right_cab", model=cab)
    # merge stacks its inputs as channels, in port order: port 0 = left, port 1 = right.
    g.add("stereo", "merge")
    g.add("out", "output")
    g.connect("guitar", "left_input", "left_amp", "left_cab")  # connect(a, b, c) = a -> b -> c
    g.connect("guitar", "right_input", "right_amp", "right_level", "right_cab")
    g.connect("left_cab", "stereo", port=0)
    g.connect("right_cab", "stereo", port=1)
    g.connect("stereo", "out")
    return g


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default: %(default)s)")
    out = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)

    rig = build_rig()
    print(rig)
    print(f"{rig.in_channels} channel in, {rig.out_channels} channels out")

    di, rate = read_wav(RIG / "di.wav")
    di = di[0, : int(SECONDS * rate)]  # 1-D mono in ...
    stereo = namgraph.render(rig, di)  # ... (2, samples) out: row 0 left, row 1 right
    write_wav(out / "dual_amp_stereo.wav", stereo, rate)
    rms = 20 * np.log10(np.sqrt(np.mean(stereo.astype(np.float64) ** 2, axis=1)))
    print(f"wrote {out / 'dual_amp_stereo.wav'}: {stereo.shape[0]} channels, {SECONDS:g} s, "
          f"RMS left {rms[0]:.1f} dBFS, right {rms[1]:.1f} dBFS")

    # Save as a DAG rig file (form="auto" would pick it too: this graph is not a chain).
    namgraph.save(rig, out / "dual_amp_stereo.nam", form="dag")
    reloaded = namgraph.load(out / "dual_amp_stereo.nam")
    same = reloaded == rig  # same nodes, settings, weights and connections
    difference = np.max(np.abs(namgraph.render(reloaded, di) - stereo))
    print(f"wrote {out / 'dual_amp_stereo.nam'}; reloaded: same graph {same}, max render difference {difference:.2e}")


if __name__ == "__main__":
    main()
