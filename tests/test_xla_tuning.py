"""XLA flags are added only when safe: before JAX starts, for a tested jaxlib, unless opted out."""

from __future__ import annotations

import os
import subprocess
import sys

from namgraph import xla_tuning

SNIPPET = "import os, namgraph; print(os.environ.get('XLA_FLAGS', ''))"


def _flags_after_import(env_extra: dict[str, str], pre: str = "") -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("XLA_FLAGS", "NAMGRAPH_XLA_TUNING")}
    env.update(env_extra)
    out = subprocess.run([sys.executable, "-c", pre + SNIPPET], env=env, capture_output=True, text=True, check=True)
    return out.stdout.strip()


def test_flags_added_on_import_for_tested_jaxlib() -> None:
    flags = _flags_after_import({})
    if xla_tuning._jaxlib_minor() in xla_tuning.TESTED_JAXLIB_MINOR:
        assert flags.split() == list(xla_tuning.FLAGS)
    else:
        assert flags == ""


def test_opt_out() -> None:
    assert _flags_after_import({"NAMGRAPH_XLA_TUNING": "0"}) == ""


def test_user_flags_kept_and_not_duplicated() -> None:
    user = xla_tuning.FLAGS[0].split("=", 1)[0] + "=xla_cpu_small_while_loop_byte_threshold=1"
    assert _flags_after_import({"XLA_FLAGS": user}) == user


def test_not_applied_once_jax_is_imported() -> None:
    assert _flags_after_import({}, pre="import jax; ") == ""
