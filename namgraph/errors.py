"""Typed errors. Every failure a user can cause ends in one of these.

Each error carries where it happened: the file, and the JSON path inside it
(``config.layers[0].dilations[3]``) or the graph node. The message says what was
expected and what was found, so a user can fix the file without reading our code.
"""

from __future__ import annotations

from os import PathLike


class NamGraphError(Exception):
    """Base class of every error namgraph raises on purpose."""

    def __init__(
        self,
        message: str,
        *,
        file: str | PathLike[str] | None = None,
        json_path: str | None = None,
    ) -> None:
        self.message = message
        self.file = None if file is None else str(file)
        self.json_path = json_path or None
        super().__init__(self._format())

    def _format(self) -> str:
        where = [p for p in (self.file, self.json_path) if p]
        return f"{': '.join(where)}: {self.message}" if where else self.message

    def located(self, *, file: str | PathLike[str] | None = None, prefix: str | None = None) -> "NamGraphError":
        """Return a copy that also says which file, and (for nested objects) where inside it."""
        json_path = self.json_path
        if prefix:
            json_path = join_json_path(prefix, json_path)
        new = self.__class__.__new__(self.__class__)
        new.__dict__.update(self.__dict__)
        new.file = self.file if file is None or self.file else str(file)
        new.json_path = json_path
        Exception.__init__(new, new._format())
        return new

    def __reduce__(self):  # keep pickling working with keyword-only arguments
        return (_rebuild, (self.__class__, self.__dict__.copy()))


def _rebuild(cls: type[NamGraphError], state: dict) -> NamGraphError:
    err = cls.__new__(cls)
    err.__dict__.update(state)
    Exception.__init__(err, err._format())
    return err


def join_json_path(prefix: str, rest: str | None) -> str:
    """``config.models[0]`` + ``config.layers`` -> ``config.models[0].config.layers``."""
    if not rest:
        return prefix
    return f"{prefix}{rest}" if rest.startswith("[") else f"{prefix}.{rest}"


class NamFileError(NamGraphError):
    """The file cannot be read at all: missing, unreadable, not JSON, not an object."""


class NamFormatError(NamGraphError):
    """The JSON is well formed but is not a model Core would load."""


class UnsupportedVersionError(NamFormatError):
    """``version`` is outside what Core accepts (0.5.0 to 0.7.x)."""


class UnknownArchitectureError(NamFormatError):
    """``architecture`` names no known model."""


class ConfigError(NamFormatError):
    """A ``config`` key is missing, has the wrong type, or contradicts another."""


class WeightCountError(NamFormatError):
    """``weights`` does not hold exactly the number of values the config implies."""


class WeightValueError(NamFormatError):
    """A weight is NaN or infinite."""


class AudioError(NamGraphError):
    """An audio file or array cannot be used: unreadable, wrong shape, non-finite."""


class SampleRateMismatchError(NamGraphError):
    """Two sample rates that must agree do not (model vs audio, node vs node)."""


class ChannelMismatchError(NamGraphError):
    """Channel counts that must agree do not."""


class OutputError(NamGraphError):
    """An output file cannot be written where asked."""


class OptionError(NamGraphError, ValueError):
    """An option (render size, a flag's value) is outside what it accepts."""


class StateError(NamGraphError):
    """A stream state cannot be used: an in-place step has already consumed it."""


class LegacySequentialError(NamFormatError):
    """A ``Sequential`` in the legacy experimental form (trainer PR #596): bare child
    configs and concatenated wrapper weights, which Core rejects; it must be migrated."""


class NamFormatWarning(UserWarning):
    """A file loads, but not every reader treats it the same (e.g. version 0.7.1)."""


class GraphError(NamGraphError):
    """A rig graph is not well formed. ``nodes`` names the nodes involved (also in the message)."""

    def __init__(
        self,
        message: str,
        *,
        nodes: tuple[str, ...] | list[str] = (),
        file: str | PathLike[str] | None = None,
        json_path: str | None = None,
    ) -> None:
        self.nodes = tuple(nodes)
        super().__init__(message, file=file, json_path=json_path)


class DuplicateNodeError(GraphError):
    """Two nodes of one graph share an id."""


class UnknownNodeKindError(GraphError):
    """A node's kind names no registered node kind."""


class NodeConfigError(GraphError):
    """A node's settings are missing, of the wrong type or out of range."""


class CycleError(GraphError):
    """The graph has a cycle (audio would feed back into itself)."""


class UnreachableNodeError(GraphError):
    """A node is not reachable from a graph input, or does not reach a graph output."""


class FanInError(GraphError):
    """Edges into a node break its input rule: fan-in at a non-aggregator, a missing or doubled port."""


class GraphChannelError(GraphError, ChannelMismatchError):
    """An edge's channel count does not fit the node it enters."""


class GraphSampleRateError(GraphError, SampleRateMismatchError):
    """Two model nodes of one graph have different sample rates."""


class CalibrationError(GraphError):
    """Calibrated chaining was asked for between models that do not carry their levels."""


class CalibrationWarning(UserWarning):
    """``chain(..., calibrate=True)`` skipped a junction whose models do not both carry their levels."""


class NotRaisableError(GraphError):
    """A graph cannot be written as a Sequential (or single-model) file: no exact rewrite
    turns it into a chain. ``nodes`` names the nodes that block it."""


class LimitError(NamGraphError):
    """An input exceeds a configured resource limit (file size, nesting depth, receptive
    field, node count, parameter count). The message names the limit and how to raise it."""
