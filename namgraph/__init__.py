"""namgraph: Neural Amp Modeler models and rigs as compiled JAX functions, exact to Core."""

from .xla_tuning import apply as _apply_xla_tuning

_apply_xla_tuning()  # before anything imports jax: XLA reads its flags once

from . import limits
from .limits import Limits
from .loading import load
from .saving import save
from .model import Model
from .rendering import render
from .graph import Graph, chain, parallel
from .streaming import Stream
