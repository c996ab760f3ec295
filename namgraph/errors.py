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


class LegacySequentialError(NamFormatError):
    """A ``Sequential`` in the legacy experimental form (trainer PR #596): bare child
    configs and concatenated wrapper weights, which Core rejects; it must be migrated."""


class NamFormatWarning(UserWarning):
    """A file loads, but not every reader treats it the same (e.g. version 0.7.1)."""
