"""JSON files as ``.nam`` needs them: strict reading, canonical atomic writing.

Reading is stricter than Python's ``json``: ``NaN``/``Infinity`` tokens are not JSON and
make Core's parser fail, so they are rejected here too; so are duplicate keys (JSON
parsers disagree on which value wins, so a file that has them means different things to
different readers). Writing produces one canonical text for a given document, so two
files can be compared as text: objects indented, arrays of plain values on one line, each
model object's envelope keys in one fixed order (:data:`ENVELOPE_ORDER`), and each model
object's ``weights`` written as the shortest decimal that reads back as the same float32
(what Core stores), whatever precision the values came with.
"""

from __future__ import annotations

import json
import math
import re
import stat
from collections.abc import Mapping
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

from .. import limits
from ..atomic import atomic_output
from ..errors import NamFileError, OutputError, join_json_path

# ----------------------------------------------------------------------------- reading


class _BadConstant(Exception):
    def __init__(self, token: str) -> None:
        self.token = token


class _DuplicateKey(Exception):
    def __init__(self, key: str) -> None:
        self.key = key


def _reject_constant(token: str) -> Any:
    raise _BadConstant(token)


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return out


# A JSON string, or one of the non-JSON constants Python's json would accept.
_CONSTANT_SCAN = re.compile(r'"(?:[^"\\]|\\.)*"|(-?Infinity|NaN)')


def _line_col(text: str, pos: int) -> tuple[int, int]:
    line = text.count("\n", 0, pos) + 1
    return line, pos - (text.rfind("\n", 0, pos) + 1) + 1


def json_float(value: Any) -> float | None:
    """A JSON number as a float, None for anything else (booleans included). An integer
    literal beyond float64 (valid JSON) becomes an infinity of its sign, so callers need one
    finiteness check, not an ``OverflowError`` handler each."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def read_json(path: str | PathLike[str]) -> dict[str, Any]:
    """The root object of a JSON file; every failure is a :class:`NamFileError` naming the file."""
    p = Path(path)
    if not p.exists():
        raise NamFileError("file does not exist", file=p)
    if p.is_dir():
        raise NamFileError("is a directory, not a .nam file", file=p)
    try:
        info = p.stat()
    except OSError as exc:
        raise NamFileError(f"file could not be read ({exc.strerror or exc})", file=p) from None
    if not stat.S_ISREG(info.st_mode):  # a FIFO or a device could stream without end
        raise NamFileError("is not a regular file", file=p)
    limits.check("file_bytes", info.st_size, "the file size (bytes)", file=p)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise NamFileError(f"file could not be read ({exc.strerror or exc})", file=p) from None
    if not data.strip():
        raise NamFileError("file is empty (expected a JSON object)", file=p)
    try:
        text = data.decode("utf-8-sig")  # Core's parser skips a UTF-8 byte-order mark too
    except UnicodeDecodeError as exc:
        raise NamFileError(f"not UTF-8 text (invalid byte 0x{data[exc.start]:02x} at offset {exc.start})", file=p) from None
    try:
        value = json.loads(text, parse_constant=_reject_constant, object_pairs_hook=_unique_pairs)
    except json.JSONDecodeError as exc:
        raise NamFileError(f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}", file=p) from None
    except _BadConstant as exc:
        where = ""
        for match in _CONSTANT_SCAN.finditer(text):
            if match.group(1):
                line, col = _line_col(text, match.start(1))
                where = f" at line {line}, column {col}"
                break
        raise NamFileError(
            f"not valid JSON: {exc.token}{where} is not a JSON number (NaN and Infinity cannot be stored in a .nam file)",
            file=p,
        ) from None
    except _DuplicateKey as exc:
        raise NamFileError(f"not valid for .nam: key {json.dumps(exc.key)} appears twice in the same object", file=p) from None
    except RecursionError:
        # Beyond what Python's parser can read at all, whatever json_depth says.
        raise NamFileError("not valid for .nam: JSON nested too deeply to parse (about 1000 levels or more)", file=p) from None
    except ValueError as exc:  # the parser's own guards, e.g. an integer literal of over 4300 digits
        raise NamFileError(f"not valid for .nam: {exc}", file=p) from None
    if not isinstance(value, dict):
        raise NamFileError(f"root JSON value must be an object, found {describe_json(value)}", file=p)
    limits.check_json_depth(value, file=p)
    return value


def describe_json(value: Any) -> str:
    """How a JSON value reads in an error message: ``a string ("16")``, ``null``, ``an array``."""
    if value is None:
        return "null"
    if isinstance(value, bool | np.bool_):
        return f"a boolean ({'true' if value else 'false'})"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"a string ({json.dumps(shown, ensure_ascii=False)})"
    if isinstance(value, int | float | np.integer | np.floating):
        return f"a number ({value})"
    if isinstance(value, list | tuple | np.ndarray):
        return "an array"
    if isinstance(value, Mapping):
        return "an object"
    return f"a {type(value).__name__}"


# ----------------------------------------------------------------------------- canonical text


def is_model_object(value: Any) -> bool:
    """A complete model object (top level or nested): its ``weights`` are float32 tensors."""
    return isinstance(value, Mapping) and "architecture" in value and "config" in value and "weights" in value


def float32_json(values: Any, *, json_path: str = "weights") -> str:
    """A JSON array text of float32 values, each the shortest decimal that reads back
    (through float64, as both Python and Core read it) as the identical float32."""
    try:
        array = np.asarray(values)
        real = np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)
        if array.ndim != 1 or not (array.size == 0 or real):
            raise TypeError
        if isinstance(values, list | tuple) and any(isinstance(v, bool) for v in values):
            raise TypeError
        with np.errstate(over="ignore"):
            array = array.astype(np.float32)
    except (TypeError, ValueError):
        raise OutputError("weights must be a flat array of numbers", json_path=json_path) from None
    bad = np.flatnonzero(~np.isfinite(array))
    if bad.size:
        i = int(bad[0])
        raise OutputError(
            f"weight {i} is {array[i]}; NaN and Infinity cannot be written to a .nam file ({bad.size} such weights)",
            json_path=f"{json_path}[{i}]",
        )
    texts = [str(v) for v in array]  # numpy's shortest round-trip repr of each float32
    back = np.array([float(t) for t in texts], dtype=np.float64).astype(np.float32)
    for i in np.flatnonzero(back.view(np.uint32) != array.view(np.uint32)):
        texts[i] = repr(float(array[i]))  # exact value; needed only if double rounding bites
    return "[" + ", ".join(texts) + "]"


def _plain(value: Any, json_path: str) -> Any:
    """Python scalar for a JSON scalar (numpy scalars allowed); raises for NaN/Infinity."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, bool | str | int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise OutputError(f"{value} cannot be written: NaN and Infinity are not JSON numbers", json_path=json_path or None)
        return value
    raise OutputError(f"{type(value).__name__} is not a JSON value", json_path=json_path or None)


# Envelope keys of every model object, in the order the canonical text writes them; any
# other key follows, in the order it came (configs keep their own order: it is readable).
ENVELOPE_ORDER = ("version", "architecture", "config", "weights", "sample_rate", "metadata")


def _envelope_ordered(value: Mapping[str, Any]) -> list[tuple[Any, Any]]:
    known = [(k, value[k]) for k in ENVELOPE_ORDER if k in value]
    return known + [(k, v) for k, v in value.items() if k not in ENVELOPE_ORDER]


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, bool | str | int | float | np.generic)


def _encode(value: Any, path: str, depth: int) -> str:
    pad, inner = "  " * depth, "  " * (depth + 1)
    if isinstance(value, Mapping):
        if not value:
            return "{}"
        model = is_model_object(value)
        items = []
        for key, item in (_envelope_ordered(value) if model else value.items()):
            if not isinstance(key, str):
                raise OutputError(f"object key {key!r} is not a string", json_path=path or None)
            sub = join_json_path(path, key) if path else key
            text = float32_json(item, json_path=sub) if model and key == "weights" else _encode(item, sub, depth + 1)
            items.append(f"{inner}{json.dumps(key, ensure_ascii=False)}: {text}")
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, list | tuple):
        if not value:
            return "[]"
        if all(_is_scalar(v) for v in value):
            return "[" + ", ".join(
                json.dumps(_plain(v, f"{path}[{i}]"), ensure_ascii=False) for i, v in enumerate(value)
            ) + "]"
        items = [f"{inner}{_encode(v, f'{path}[{i}]', depth + 1)}" for i, v in enumerate(value)]
        return "[\n" + ",\n".join(items) + "\n" + pad + "]"
    return json.dumps(_plain(value, path), ensure_ascii=False)


def dumps_canonical(document: Mapping[str, Any]) -> str:
    """The canonical text of a document (ends with a newline). Raises :class:`OutputError`
    naming the JSON path of anything that cannot be written (NaN, Infinity, non-JSON types)."""
    if not isinstance(document, Mapping):
        raise OutputError(f"a .nam document must be an object, not {describe_json(document)}")
    return _encode(document, "", 0) + "\n"


# ----------------------------------------------------------------------------- atomic writing


def atomic_write_bytes(path: str | PathLike[str], data: bytes) -> None:
    """Write ``data`` so that ``path`` holds either its old content or all of the new."""
    with atomic_output(path) as handle:
        handle.write(data)


def write_json(document: Mapping[str, Any], path: str | PathLike[str]) -> None:
    """Write ``document`` as canonical UTF-8 JSON, atomically (see :func:`atomic_write_bytes`).

    The whole text is produced before anything touches the disk, so a document that cannot
    be written (NaN weights, ...) raises :class:`OutputError` and leaves ``path`` as it was.
    """
    try:
        text = dumps_canonical(document)
    except OutputError as exc:
        raise exc.located(file=path) from None
    atomic_write_bytes(path, text.encode("utf-8"))
