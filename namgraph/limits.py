"""Resource limits on what a file (or a render) may ask of this machine.

``.nam`` files come from strangers. A few bytes of JSON can ask for a dilation of 10^9
(gigabytes of state), a model nested ten thousand levels deep, or a billion weights. Each
such request is refused *before* anything of that size is allocated, with a
:class:`~namgraph.errors.LimitError` that names the file, the JSON path, the value, the
limit and how to raise it. The defaults are far above any real capture or rig, so only
hostile or broken files meet them.

Limits are plain data (:class:`Limits`), chosen in one of three ways, innermost first:

* per call: ``namgraph.load(path, limits=Limits(receptive_field=1 << 24))``;
* scoped: ``with namgraph.limits.override(receptive_field=1 << 24): ...`` (a
  :mod:`contextvars` value: it holds for this thread or task until the block ends, and
  nothing else changes);
* command line: ``namgraph --limit receptive_field=16777216 render ...`` (repeatable).

There is no environment variable and no module-level setter: a limit in effect is always
visible in the code (or command line) that runs.
"""

from __future__ import annotations

import contextvars
import dataclasses
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from os import PathLike
from typing import Any

from .errors import LimitError, OptionError

__all__ = ["Limits", "MAX_IR_SAMPLES", "current", "override", "from_assignments", "check", "check_json_depth"]

MAX_IR_SAMPLES = 1 << 20
"""Longest wav IR accepted (~22 s at 48 kHz): far beyond any cabinet or room response."""

EDGES_PER_NODE = 4
"""A graph may have at most this many edges per allowed node (real rigs have 1 to 2)."""


@dataclass(frozen=True)
class Limits:
    """What one input may ask for. Every field is a positive whole number.

    * ``file_bytes`` (256 MiB): the size of a ``.nam`` file, checked before it is read.
      The largest real files (a 2^20-tap IR, a rig of a few long IRs) are tens of MiB;
      parsing JSON takes about ten times the file's size in memory.
    * ``json_depth`` (160): arrays and objects nested inside each other, anywhere in the
      document (metadata included). Real files nest under 20 deep, plus 3 to 4 per
      container level; the limit keeps every recursive reader far from Python's stack limit.
    * ``container_depth`` (32): model objects nested in model objects (Sequential,
      SlimmableContainer, condition_dsp, a DAG's model nodes). Real rigs nest 1 to 3.
    * ``receptive_field`` (2^22 samples, ~87 s at 48 kHz): the history a model keeps, which
      its state holds in memory (per channel): a model's receptive field, its start-up
      (prewarm) length, the sum over a Sequential's members, and in a DAG the sum over model
      and delay nodes; also each delay node's length. Four times :data:`MAX_IR_SAMPLES`, so
      the longest wav IR loads, and a rig of four of them.
    * ``state`` (2^26 floats, 256 MiB): the streaming state a model or rig keeps, every
      layer's history of every channel, computed from the shapes alone (``jax.eval_shape``)
      before anything is allocated; summed over a DAG's model nodes. The receptive field
      bounds history per channel, this bounds it in memory: a 350 kB file with 128 channels
      and a dilation of 4 x 10^6 asks for 2^29 floats (2 GiB) within every other limit. The
      standard WaveNet keeps ~65 k floats, a 2^20-tap IR 2^20 per channel.
    * ``audio_channels`` (64): the channels a rig's input and output nodes (and any other node
      setting ``channels``) declare, checked as each node is read. Real rigs have 1 or 2;
      a wav holds at most 1024. Models' own channel counts are bounded by ``parameters``
      and ``state`` (their weights and history grow with them); a node's are not.
    * ``nodes`` (4096): nodes of a DAG file (and :data:`EDGES_PER_NODE` times as many
      edges), checked before the graph is built. Real rigs have tens.
    * ``parameters`` (50 M): weights of one file (all nested models and nodes together),
      checked from the config before any array is made. The standard WaveNet has 13.8 k;
      a 2^20-tap IR has 1 M.
    * ``render_samples`` (2^27 = 134 M, 512 MiB of float32): samples x channels of audio a
      render holds in memory at once; longer audio is rendered in blocks (the streaming
      path, same result) and the command line reads and writes it block by block.
    """

    file_bytes: int = 256 << 20
    json_depth: int = 160
    container_depth: int = 32
    receptive_field: int = 4 * MAX_IR_SAMPLES
    state: int = 1 << 26
    audio_channels: int = 64
    nodes: int = 4096
    parameters: int = 50_000_000
    render_samples: int = 1 << 27

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise OptionError(f"limit {f.name} must be a positive whole number, got {value!r}")

    def replace(self, **changes: int) -> "Limits":
        """These limits with some changed; an unknown name is an :class:`OptionError`."""
        unknown = sorted(set(changes) - set(names()))
        if unknown:
            raise OptionError(f"unknown limit {unknown[0]!r}; limits: {', '.join(names())}")
        return dataclasses.replace(self, **changes)


def names() -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(Limits))


_CURRENT: contextvars.ContextVar[Limits] = contextvars.ContextVar("namgraph_limits", default=Limits())


def current() -> Limits:
    """The limits in effect here: the innermost :func:`override`, else the defaults."""
    return _CURRENT.get()


@contextmanager
def override(limits: Limits | None = None, /, **changes: int) -> Iterator[Limits]:
    """Within the block, ``limits`` (default: the current ones) with ``changes`` apply.

    ``with override(receptive_field=1 << 24): namgraph.load(path)``.
    """
    if limits is not None and not isinstance(limits, Limits):
        raise OptionError(f"limits must be a namgraph.limits.Limits, got {type(limits).__name__}")
    chosen = (limits or current()).replace(**changes)
    token = _CURRENT.set(chosen)
    try:
        yield chosen
    finally:
        _CURRENT.reset(token)


def from_assignments(texts: Iterable[str], base: Limits | None = None) -> Limits:
    """Limits from ``NAME=VALUE`` texts (the command line's ``--limit``); ``_`` may group digits."""
    changes: dict[str, int] = {}
    for text in texts:
        name, sep, value = text.partition("=")
        name = name.strip().replace("-", "_")
        try:
            if not sep:
                raise ValueError
            changes[name] = int(value.strip())
        except ValueError:
            raise OptionError(f"--limit takes NAME=VALUE with a whole number, got {text!r}; limits: {', '.join(names())}") from None
    return (base or current()).replace(**changes)


def _how_to_raise(name: str) -> str:
    return (
        f"if you trust this input, raise the limit: namgraph.load(..., limits=Limits({name}=...)), "
        f"`with namgraph.limits.override({name}=...)`, or `namgraph --limit {name}=... <command>`"
    )


def check(
    name: str,
    value: int,
    what: str,
    *,
    file: str | PathLike[str] | None = None,
    json_path: str | None = None,
    limit: int | None = None,
) -> None:
    """Raise :class:`LimitError` if ``value`` exceeds the current limit ``name`` (or ``limit``).

    ``what`` says what was measured (``"the receptive field (samples)"``).
    """
    allowed = getattr(current(), name) if limit is None else limit
    if value > allowed:
        raise LimitError(f"{what} is {value:,}, over the limit of {allowed:,} ({name}); {_how_to_raise(name)}", file=file, json_path=json_path)


def check_json_depth(value: Any, *, file: str | PathLike[str] | None = None, json_path: str = "") -> None:
    """Refuse arrays/objects nested deeper than ``json_depth``, without recursion (so a
    10 000-deep document cannot exhaust the stack here either). The error names the first
    path that goes too deep."""
    if not isinstance(value, _NESTING):
        return
    limit = current().json_depth
    # Level by level, keeping nothing but the containers of the next level (several times
    # faster than a walk that tracks paths: this is the path every file takes).
    level: list[Any] = [value]
    for _ in range(limit):
        level = [c for item in level for c in (item.values() if isinstance(item, dict) else item) if isinstance(c, _NESTING)]
        if not level:
            return
        if len(level) > _DEDUPE_LEVEL:  # a caller's dict may share one object many times: visit each once
            level = list({id(c): c for c in level}.values())
    _refuse_deepest(value, limit, file, json_path)


def _refuse_deepest(value: Any, limit: int, file: str | PathLike[str] | None, json_path: str) -> None:
    """Raise the json_depth :class:`LimitError`, naming the first path that goes too deep."""
    # (value, depth, parent entry, key): parents are kept only to spell the path.
    stack: list[tuple[Any, int, Any, Any]] = [(value, 1, None, None)]
    while stack:
        entry = stack.pop()
        item, depth = entry[0], entry[1]
        if depth > limit:
            raise LimitError(
                f"arrays and objects are nested more than {limit} deep (json_depth); {_how_to_raise('json_depth')}",
                file=file,
                json_path=_spell(entry, json_path),
            )
        children = item.items() if isinstance(item, dict) else enumerate(item)
        for key, child in children:
            if isinstance(child, _NESTING):
                stack.append((child, depth + 1, entry, key))


_NESTING = (dict, list, tuple)
_SHOWN_PARTS = 8
_DEDUPE_LEVEL = 4096


def _spell(entry: tuple[Any, int, Any, Any], prefix: str) -> str | None:
    parts: list[str] = []
    while entry[2] is not None:
        key = entry[3]
        parts.append(f"[{key}]" if isinstance(key, int) else f".{key}")
        entry = entry[2]
    parts.reverse()
    if len(parts) > _SHOWN_PARTS:  # name where it starts; the rest is "more of the same"
        parts = parts[:_SHOWN_PARTS] + [f"... ({len(parts) - _SHOWN_PARTS} more levels)"]
    text = prefix + "".join(parts)
    return text.lstrip(".") or None
