"""XLA CPU options that make namgraph's models markedly faster, applied at import.

Measured on the project's 2-core CPUs with jaxlib 0.10: letting XLA compile small loops
as one kernel instead of dispatching each iteration's operations (its "small while loop"
rule, for loops touching fewer bytes than the threshold) takes the 1x24 LSTM from ~38-52x
to ~70-75x real time. The threshold is 4 MiB so that a whole streaming step of the usual
models, run as a one-trip loop by ``streaming.InPlaceStep``, is one kernel too (the
standard WaveNet's step touches more than 1 MiB). Offline renders are unchanged by it:
their loops hold library matrix products, which the rule leaves alone (16 KiB against
4 MiB: standard WaveNet 38.2x / 38.6x, A2 35.4x / 36.7x, LSTM 77x / 79x real time).
(``--xla_cpu_experimental_ynn_fusion_type=eltwise``, which once helped a WaveNet
prototype, made namgraph's WaveNet slower and is not used.) XLA reads these flags
only from the environment when JAX initialises its CPU backend, and aborts the process on
a flag it does not know, so they are added only when

* JAX has not been imported yet (otherwise they would be silently ignored),
* the installed jaxlib is a version they were tested with, and
* ``NAMGRAPH_XLA_TUNING`` is not ``0`` (set it to ``0`` to opt out).

Flags the user already put in ``XLA_FLAGS`` are left as they are.
"""

from __future__ import annotations

import os
import sys
from importlib import metadata

TESTED_JAXLIB_MINOR = ((0, 10),)
FLAGS = ("--xla_backend_extra_options=xla_cpu_small_while_loop_byte_threshold=4194304",)


def _jaxlib_minor() -> tuple[int, int] | None:
    try:
        major, minor = metadata.version("jaxlib").split(".")[:2]
        return int(major), int(minor)
    except (metadata.PackageNotFoundError, ValueError):
        return None


def apply() -> bool:
    """Add the tuning flags to ``XLA_FLAGS`` if it is safe and useful; True if added."""
    if os.environ.get("NAMGRAPH_XLA_TUNING", "1") == "0" or "jax" in sys.modules:
        return False
    if _jaxlib_minor() not in TESTED_JAXLIB_MINOR:
        return False
    current = os.environ.get("XLA_FLAGS", "")
    names = {flag.split("=", 1)[0] for flag in current.split()}
    extra = [flag for flag in FLAGS if flag.split("=", 1)[0] not in names]
    if extra:
        os.environ["XLA_FLAGS"] = " ".join([current, *extra]).strip()
    return True
