"""pydantic's validation errors, rewritten as namgraph errors a user can act on.

pydantic reports a location like ``('layers', 0, 'activation', 'tuple[Activation, ...]')``
(union members and validator names mixed in with the file's keys) and a message like
"Input should be a valid integer". We keep only the parts of the location that exist in
the user's JSON, turn it into a JSON path (``config.layers[0].activation``), and say what
was expected and what was found.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from ..errors import NamGraphError
from .jsonfile import describe_json

_EXPECTED = {
    "int_type": "an integer",
    "int_from_float": "an integer",
    "int_parsing": "an integer",
    "float_type": "a number",
    "float_parsing": "a number",
    "finite_number": "a finite number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "string_type": "a string",
    "tuple_type": "an array",
    "list_type": "an array",
    "dict_type": "an object",
    "model_type": "an object",
    "model_attributes_type": "an object",
}


def join_path(prefix: str, *parts: str | int) -> str:
    """``join_path('config', 'layers', 0, 'channels')`` -> ``config.layers[0].channels``."""
    out = prefix
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part.startswith("["):
            out += part
        elif part:
            out = f"{out}.{part}" if out else part
    return out


def file_location(loc: tuple[Any, ...], data: Any, error_type: str) -> list[str | int]:
    """The parts of a pydantic ``loc`` that name places in ``data`` (the user's JSON)."""
    out: list[str | int] = []
    node = data
    for i, part in enumerate(loc):
        last = i == len(loc) - 1
        if isinstance(node, dict) and isinstance(part, str) and (part in node or (last and error_type == "missing")):
            out.append(part)
            node = node.get(part)
        elif isinstance(node, list | tuple) and isinstance(part, int) and 0 <= part < len(node):
            out.append(part)
            node = node[part]
        # anything else is a union member or validator tag, not a place in the file
    return out


def describe(error: dict[str, Any]) -> str:
    """A one-line, human message for one pydantic error."""
    kind = error["type"]
    value = error.get("input")
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return "required key is missing"
    if kind in ("value_error", "assertion_error") and "error" in ctx:
        return str(ctx["error"])
    if kind in _EXPECTED:
        return f"expected {_EXPECTED[kind]}, found {describe_json(value)}"
    bounds = {"greater_than_equal": (">=", "ge"), "greater_than": (">", "gt"), "less_than_equal": ("<=", "le"), "less_than": ("<", "lt")}
    if kind in bounds:
        op, key = bounds[kind]
        return f"must be {op} {ctx.get(key)}, found {describe_json(value)}"
    if kind == "too_short":
        return f"must have at least {ctx.get('min_length')} entries, found {ctx.get('actual_length')}"
    if kind == "too_long":
        return f"must have at most {ctx.get('max_length')} entries, found {ctx.get('actual_length')}"
    message = error.get("msg", kind)
    if message.startswith("Input should be "):
        message = "expected " + message[len("Input should be ") :]
    return f"{message}, found {describe_json(value)}"


def translate(
    exc: ValidationError,
    data: Any,
    prefix: str,
    error_class: type[NamGraphError],
) -> NamGraphError:
    """The most specific of ``exc``'s errors as ``error_class``, located under ``prefix``.

    With unions pydantic reports one error per member; the deepest location wins, and at
    equal depth an error about the value (e.g. "unknown activation 'Relu'") beats one
    about the member's type ("expected an array").
    """
    best: tuple[tuple[int, int], str, str] | None = None
    for error in exc.errors(include_url=False):
        where = file_location(tuple(error["loc"]), data, error["type"])
        rank = (len(where), 0 if error["type"].endswith("_type") else 1)
        if best is None or rank > best[0]:
            best = (rank, join_path(prefix, *where), describe(error))
    assert best is not None
    return error_class(best[2], json_path=best[1] or None)
