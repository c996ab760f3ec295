"""The rig the NAM maintainer sketched: drive -> amp -> two cabs in parallel, summed -> preamp.

    python examples/maintainer_rig.py [--out DIR]

The preamp after the cabs stands for a mic preamp or a console channel: a capture of the
gear the miked cabs were recorded through. With only one capture shipped, the drive
pedal plays all three parts (drive, amp and preamp); gains between the stages keep the
levels sane, as you would trim them on real gear. The second cab is the shipped cab made
darker with a NumPy low-pass, held in memory only (no file needed).

The rig is built with the explicit ``Graph`` builder so every node has a readable id
(``chain`` names model nodes after their file, which would give ``drive``, ``drive_2``,
``drive_3`` here). It renders the DI, is saved as a DAG rig file (which keeps the two
cabs and their sum as separate, editable nodes), and prints the figures ``namgraph info``
shows for a rig: receptive field, latency, start-up (prewarm) length, parameters and
multiply-adds per sample. It also shows the player-friendly form: the cabs and the gains
are linear, so the rig is exactly a chain of five models (drive, the -3 dB trim as a
one-tap IR, amp, the two cabs and the -12 dB trim folded into one IR, preamp), which
``namgraph.save(rig, path)`` (form "auto") would write as a Sequential file.

Writes ``maintainer_rig.nam`` and ``maintainer_rig.wav`` to ``--out`` (default
``out/examples/``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import namgraph
from namgraph.audio import read_wav, write_wav
from namgraph.converters import to_sequential

RIG = Path(__file__).resolve().parent / "rig"  # the shipped demo rig: di.wav, drive.nam, cab.nam
DEFAULT_OUT = Path(__file__).resolve().parents[1] / "out" / "examples"
SECONDS = 2.0  # how much of the DI to render


def darker(taps: np.ndarray, rate: float, cutoff_hz: float = 2000.0) -> np.ndarray:
    """The IR through a one-pole low-pass ``y[n] = (1 - a) x[n] + a y[n - 1]``, same length."""
    a = np.exp(-2 * np.pi * cutoff_hz / rate)
    lowpass = (1 - a) * a ** np.arange(256)  # the low-pass's impulse response, cut at ~1e-8
    return np.convolve(taps, lowpass)[: taps.size].astype(np.float32)


def build_rig() -> namgraph.Graph:
    pedal = namgraph.load(RIG / "drive.nam")
    cab = namgraph.load(RIG / "cab.nam")
    cab_b = cab.with_params({"ir": darker(np.asarray(cab.params["ir"]), cab.sample_rate)})

    g = namgraph.Graph(metadata={"name": "Drive, amp, two cabs, preamp"})
    g.add("in", "input")
    g.add("drive", model=pedal)
    g.add("drive_to_amp", "gain", db=-3.0)  # trim between the pedal and the amp
    g.add("amp", model=pedal)
    g.add("cab_a", model=cab)
    g.add("cab_b", model=cab_b)
    g.add("cabs", "sum")  # the two mics summed, as on a desk
    g.add("cabs_to_preamp", "gain", db=-12.0)  # two mics summed are hot: trim before the preamp
    g.add("preamp", model=pedal)
    g.add("out", "output")
    g.connect("in", "drive", "drive_to_amp", "amp")
    g.connect("amp", "cab_a", "cabs")  # fan-out: the amp feeds both cabs (a copy each) ...
    g.connect("amp", "cab_b", "cabs")  # ... and the sum node is where they meet again
    g.connect("cabs", "cabs_to_preamp", "preamp", "out")
    return g


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default: %(default)s)")
    out = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)

    rig = build_rig()
    print(rig)

    di, rate = read_wav(RIG / "di.wav")
    di = di[0, : int(SECONDS * rate)]  # 1-D: one mono channel
    wet = namgraph.render(rig, di)
    write_wav(out / "maintainer_rig.wav", wet, rate)
    rms = 20 * np.log10(np.sqrt(np.mean(wet.astype(np.float64) ** 2)))
    print(f"wrote {out / 'maintainer_rig.wav'}: {SECONDS:g} s, peak {20 * np.log10(np.max(np.abs(wet))):.1f} dBFS, "
          f"RMS {rms:.1f} dBFS")

    namgraph.save(rig, out / "maintainer_rig.nam", form="dag")  # the graph as built
    print(f"wrote {out / 'maintainer_rig.nam'} (DAG rig file)")
    # form="auto" (the default) would write the simplest exact form instead: this Sequential.
    chained = to_sequential(rig)
    print("as a Sequential: " + " -> ".join(child.name for child in chained.architecture.children()))

    # What the rig costs and how it starts (the figures come from the compiled graph).
    print(f"sample rate       {rig.sample_rate:g} Hz")
    print(f"receptive field   {rig.receptive_field()} samples (how far back the output can hear)")
    print(f"latency           {rig.latency()} samples (reported by the models; NAM captures report 0)")
    print(f"prewarm           {rig.prewarm_samples()} samples of silence before the first sample, as Core does")
    print(f"parameters        {rig.num_params}")
    print(f"MACs per sample   {rig.macs_per_sample()} (x {rate} = {rig.macs_per_sample() * rate / 1e6:.0f} M/s)")


if __name__ == "__main__":
    main()
