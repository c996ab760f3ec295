"""Architecture name (the file's ``architecture`` string) -> the class that runs it.

Adding an architecture is one entry here plus its module; nothing else dispatches on names.
"""

from __future__ import annotations

from importlib import import_module

from .base import Architecture

_CLASSES: dict[str, tuple[str, str]] = {
    "Linear": ("namgraph.models.linear", "Linear"),
    "ConvNet": ("namgraph.models.convnet", "ConvNet"),
    "LSTM": ("namgraph.models.lstm", "LSTM"),
    "WaveNet": ("namgraph.models.wavenet", "WaveNet"),
    "SlimmableContainer": ("namgraph.models.containers", "SlimmableContainer"),
    "Sequential": ("namgraph.models.containers", "Sequential"),
}

KNOWN_ARCHITECTURES: tuple[str, ...] = tuple(_CLASSES)


def architecture_class(name: str) -> type[Architecture]:
    module, cls = _CLASSES[name]
    return getattr(import_module(module), cls)
