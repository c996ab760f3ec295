"""Properties of composition: the algebra every rig relies on, on random graphs.

Each test compares two renders that must agree by an identity of the semantics (never a
value computed by the code under test alone). Tolerances are relative to the reference's
peak (absolute below 1, :func:`strategies.peak_error`):

* 0 (bit for bit) where both sides do the same float32 operations (delays, polarity);
* 1e-6 where only the order of float32 additions or a product of gains changes (a few
  ulps of the peak; a semantic difference is orders of magnitude larger);
* 1e-5 where a float32 rounding difference then passes through nonlinear models, and for
  the Sequential reference, which runs each child's own step on another chunking.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import event, given
from hypothesis import strategies as st

import namgraph
from graph_parts import chain_reference
from namgraph.graph import Graph, chain, delay, gain, parallel, polarity
from strategies import (
    CORE_BLOCK, DB, Feed, audio, embed, examples, fast_compiles, models, parts, peak_error, sequential_docs,
)

_fast = pytest.fixture(autouse=True, scope="module")(fast_compiles)

REASSOCIATED = 1e-6  # float32 sums in another order, or a product of two gains vs one
THROUGH_MODELS = 1e-5  # such a rounding difference amplified by nonlinear models


def render(obj, x: np.ndarray) -> np.ndarray:
    return namgraph.render(obj, x)


# ----------------------------------------------------------------------------- composition


@examples(6)
@given(parts(1), parts(1), parts(1), audio())
def test_chain_is_associative(a: Graph, b: Graph, c: Graph, x: np.ndarray) -> None:
    """chain(a, chain(b, c)) == chain(chain(a, b), c) == chain(a, b, c)."""
    want = render(chain(a, b, c), x)
    assert peak_error(render(chain(a, chain(b, c)), x), want) <= REASSOCIATED
    assert peak_error(render(chain(chain(a, b), c), x), want) <= REASSOCIATED


def _leaves(doc: dict) -> list[dict]:
    """A Sequential's children with nested Sequentials expanded: the models that run in series."""
    if doc["architecture"] != "Sequential":
        return [doc]
    return [leaf for child in doc["config"]["models"] for leaf in _leaves(child)]


@examples(8)
@given(sequential_docs(), audio())
def test_sequential_renders_as_its_children_in_series(case: tuple[dict, int], x: np.ndarray) -> None:
    """Core's start-up for a Sequential: the sum of the children's prewarm counts, fed in
    64-sample blocks. So the file renders as its (leaf) models run one after another from
    their initial state on the input preceded by that much silence, the silence's output
    dropped. The counts come from the spec's table (strategies.POOL), and an LSTM among
    the children makes an off-by-one-block count visible."""
    doc, prewarm = case
    silence = -(-prewarm // CORE_BLOCK) * CORE_BLOCK
    children = [namgraph.load(leaf) for leaf in _leaves(doc)]
    event(f"start-up of {silence // CORE_BLOCK} block(s)")
    event("nested Sequential" if len(children) > len(doc["config"]["models"]) else "flat")
    want = chain_reference(children, x[0], silence)
    assert peak_error(render(namgraph.load(doc), x[0]), want) <= THROUGH_MODELS


# ----------------------------------------------------------------------------- blends


@examples(6)
@given(st.lists(parts(1), min_size=2, max_size=4), st.sampled_from(["sum", "mean"]), st.data())
def test_sum_and_mean_ignore_branch_order(branches: list[Graph], mix: str, data: st.DataObject) -> None:
    order = data.draw(st.permutations(range(len(branches))), label="order")
    x = data.draw(audio(), label="x")
    want = render(parallel(*branches, mix=mix), x)
    assert peak_error(render(parallel(*[branches[i] for i in order], mix=mix), x), want) <= REASSOCIATED


def _fan_in(branch: Graph, kind: str, k: int) -> Graph:
    """``branch`` once, its output wired ``k`` times into one ``kind`` node (a multigraph)."""
    g = Graph()
    g.add("in", "input")
    tail: Feed = embed(g, branch, ("in", None))
    g.add("blend", kind)
    for _ in range(k):
        g.connect(tail[0], "blend", channel=tail[1])
    g.add("out", "output")
    g.connect("blend", "out")
    return g


@examples(5)
@given(parts(1), st.integers(2, 4), st.sampled_from(["mean", "sum"]), st.booleans(), audio())
def test_k_copies_of_a_branch(branch: Graph, k: int, blend: str, inlined: bool, x: np.ndarray) -> None:
    """The mean of k copies of one branch is the branch; their sum is k times it. The copies
    are k inlined branches (``parallel``) or k edges from one node into the blend."""
    copies = parallel(*[branch] * k, mix=blend) if inlined else _fan_in(branch, blend, k)
    want = render(branch, x).astype(np.float64) * (k if blend == "sum" else 1)
    assert peak_error(render(copies, x), want) <= REASSOCIATED


# ----------------------------------------------------------------------------- one-node effects


def _around(model: namgraph.Model, before: bool, *effects: Graph) -> Graph:
    return chain(*effects, model) if before else chain(model, *effects)


@examples(8)
@given(models(), DB, DB, st.booleans(), st.integers(2, 4), audio())
def test_gains_add_in_db(model: namgraph.Model, a: float, b: float, before: bool, k: int, x: np.ndarray) -> None:
    """gain(a) then gain(b) == gain(a + b), before or after a model; and gain(20·log10 k)
    after a model is k times its output (additivity alone holds for any dB law: the anchor
    pins the amplitude law, 20·log10)."""
    two = render(_around(model, before, gain(a), gain(b)), x)
    one = render(_around(model, before, gain(a + b)), x)
    assert peak_error(two, one) <= (THROUGH_MODELS if before else REASSOCIATED)
    scaled = render(_around(model, False, gain(20.0 * math.log10(k))), x)
    assert peak_error(scaled, k * render(model, x).astype(np.float64)) <= REASSOCIATED


@examples(6)
@given(models(), st.integers(0, 5), st.integers(0, 5), st.booleans(), audio())
def test_delays_add(model: namgraph.Model, m: int, n: int, before: bool, x: np.ndarray) -> None:
    """delay(m) then delay(n) == delay(m + n), sample for sample (delay lines start empty)."""
    two = render(_around(model, before, delay(m), delay(n)), x)
    one = render(_around(model, before, delay(m + n)), x)
    np.testing.assert_array_equal(two, one)


@examples(6)
@given(models(), st.booleans(), audio())
def test_polarity_twice_is_the_identity(model: namgraph.Model, before: bool, x: np.ndarray) -> None:
    """Two inversions give the model's own output; one gives its negation (so the identity
    is not met by a polarity node that does nothing). Not bit for bit: the rig is another
    XLA program than the model alone, and XLA may fuse the model's last sums differently
    (seen: 2e-9 on a 3-tap Linear)."""
    plain = render(model, x).astype(np.float64)
    assert peak_error(render(_around(model, before, polarity(), polarity()), x), plain) <= REASSOCIATED
    if not before:
        assert peak_error(render(_around(model, before, polarity()), x), -plain) <= REASSOCIATED
