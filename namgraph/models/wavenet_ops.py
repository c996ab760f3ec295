"""The building blocks of the WaveNet step: weight preparation and one layer array.

Signals are channel-major blocks ``(channels, T)``. Each causal dilated convolution keeps
the last ``d * (K - 1)`` samples of its own input as state, and computes all K taps with
one matrix product: the taps are stacked into a ``(K * C_in, T)`` matrix and the kernel is
reshaped to ``(C_out, K * C_in)`` once, in :func:`prepare_array`. When no FiLM sits between
the dilated conv and the input mixin, the condition rows are stacked too, so a whole layer
input costs one ``(G*B, K*C + Cd) @ (K*C + Cd, T)`` product; on small channel counts that
single product is what makes the step fast. Grouped convolutions become dense
block-diagonal matrices (cheap at these sizes, and one code path).

Two measures keep compile time down (each copy of a layer in the graph costs ~0.1-0.3 s of
XLA compile): runs of alike short-dilation layers are one ``lax.scan`` (:func:`layer_runs`),
and long kernels loop over their taps instead of stacking them (:data:`LOOP_KERNEL`).
Measured on the A1 standard WaveNet: same speed as fully unrolled, half the compile time.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from ..format.configs import Activation, LayerArrayConfig, Layer
from . import activations
from .base import Array, Params

_HIGHEST = jax.lax.Precision.HIGHEST


def matmul(w: Array, x: Array) -> Array:
    """Full float32 product (no TF32/bf16 shortcuts on accelerators: parity needs f32)."""
    return jnp.matmul(w, x, precision=_HIGHEST)


# ----------------------------------------------------------------------------- weight preparation


def block_diagonal(w: Array, groups: int) -> Array:
    """Dense ``(C_out, C_in, ...)`` weight of a grouped conv stored as ``(C_out, C_in/g, ...)``."""
    w = jnp.asarray(w, jnp.float32)
    if groups == 1:
        return w
    cout, cin_g = w.shape[:2]
    cout_g = cout // groups
    blocks = []
    for g in range(groups):
        rows = w[g * cout_g : (g + 1) * cout_g]
        pad_left = [(0, 0), (g * cin_g, (groups - 1 - g) * cin_g)] + [(0, 0)] * (w.ndim - 2)
        blocks.append(jnp.pad(rows, pad_left))
    return jnp.concatenate(blocks, axis=0)


def stack_taps(w: Array) -> Array:
    """``(C_out, C_in, K)`` -> ``(C_out, K * C_in)``, column block k = tap k (oldest first)."""
    if w.ndim == 2:
        return w
    cout, cin, k = w.shape
    return jnp.transpose(w, (0, 2, 1)).reshape(cout, k * cin)


# Kernels at least this long loop over their taps (one small product per tap) instead of
# stacking them: the stacked copy of many taps compiles slowly and runs no faster.
LOOP_KERNEL = 8


def conv_weight(w: Array) -> Array:
    """A dense conv kernel in the form :func:`dilated_conv` multiplies: stacked, or ``(K, C_out, C_in)``."""
    w = jnp.asarray(w, jnp.float32)
    if w.ndim == 3 and w.shape[2] >= LOOP_KERNEL:
        return jnp.transpose(w, (2, 0, 1))
    return stack_taps(w)


def column(b: Array) -> Array:
    return jnp.asarray(b, jnp.float32).reshape(-1, 1)


def fused_mixin(la: LayerArrayConfig, layer: Layer) -> bool:
    """Conv and input mixin share one product, unless a FiLM acts on either output alone
    or the kernel is long enough to loop over its taps."""
    if layer.kernel_size >= LOOP_KERNEL:
        return False
    return not (_active(la, "conv_post_film") or _active(la, "input_mixin_post_film"))


def _active(la: LayerArrayConfig, position: str) -> bool:
    film = getattr(la, position)
    return film is not None and film.active


# Consecutive layers that differ only in dilation run as one ``lax.scan`` when there are at
# least SCAN_MIN_RUN of them: the compiled graph then holds one layer per run instead of one
# per layer (compile time), at the price of padding their histories to the run's longest.
# Layers with histories longer than SCAN_MAX_HISTORY stay unrolled, so the padding stays cheap.
SCAN_MIN_RUN = 3
SCAN_MAX_HISTORY = 128


def layer_runs(la: LayerArrayConfig) -> tuple[tuple[int, int], ...]:
    """``(start, stop)`` of each run of layers computed together: a scanned run of consecutive
    layers alike except for their (short) dilations, or a single layer."""
    def key(layer: Layer) -> tuple | None:
        if layer.history > SCAN_MAX_HISTORY:
            return None  # never scanned
        return (layer.kernel_size, layer.activation, layer.gating_mode, layer.secondary)

    keys = [key(layer) for layer in la.resolved_layers]
    runs: list[tuple[int, int]] = []
    start = 0
    for i in range(1, len(keys) + 1):
        if i < len(keys) and keys[i] is not None and keys[i] == keys[start]:
            continue
        if i - start >= SCAN_MIN_RUN:
            runs.append((start, i))
        else:
            runs.extend((j, j + 1) for j in range(start, i))
        start = i
    return tuple(runs)


def prepare_array(la: LayerArrayConfig, params: Params, prefix: str) -> dict:
    """File-shaped tensors of one layer array -> the matrices :func:`array_step` multiplies.

    Layers of a scanned run have their matrices stacked along a new leading axis.
    """
    layers = [_prepare_layer(la, layer, params, f"{prefix}.layers.{i}") for i, layer in enumerate(la.resolved_layers)]
    runs = []
    for start, stop in layer_runs(la):
        if stop - start == 1:
            runs.append(layers[start])
        else:
            runs.append(jax.tree_util.tree_map(lambda *a: jnp.stack(a), *layers[start:stop]))
    head = {"w": conv_weight(params[f"{prefix}.head_rechannel.weight"])}
    if la.head_has_bias:
        head["b"] = column(params[f"{prefix}.head_rechannel.bias"])
    return {"rechannel": jnp.asarray(params[f"{prefix}.rechannel.weight"], jnp.float32), "runs": runs, "head": head}


def _prepare_layer(la: LayerArrayConfig, layer: Layer, params: Params, p: str) -> dict:
    conv = conv_weight(block_diagonal(params[f"{p}.conv.weight"], la.groups_input))
    mixin = block_diagonal(params[f"{p}.input_mixin.weight"], la.groups_input_mixin)
    lp: dict = {"b": column(params[f"{p}.conv.bias"])}
    if fused_mixin(la, layer):
        lp["w"] = jnp.concatenate([conv, mixin], axis=1)
    else:
        lp["w"], lp["mix"] = conv, mixin
    if la.layer1x1.active:
        lp["l1_w"] = block_diagonal(params[f"{p}.layer1x1.weight"], la.layer1x1.groups)
        lp["l1_b"] = column(params[f"{p}.layer1x1.bias"])
    if la.head1x1_active:
        lp["h1_w"] = block_diagonal(params[f"{p}.head1x1.weight"], la.head1x1.groups)
        lp["h1_b"] = column(params[f"{p}.head1x1.bias"])
    for position, film_cfg in la.active_films():
        lp[position] = (
            block_diagonal(params[f"{p}.{position}.weight"], film_cfg.groups),
            column(params[f"{p}.{position}.bias"]),
        )
    return lp


# ----------------------------------------------------------------------------- forward pieces


def causal_taps(history: Array, x: Array, kernel: int, dilation: int | Array) -> tuple[Array, Array]:
    """Stack the K dilated taps of ``x`` (with the stored ``history``) into ``(K*C, T)``.

    Returns the stacked taps and the new history (the last ``history.shape[1]`` input
    samples). Tap K-1 is the current sample, tap 0 the oldest, as in the file's kernels.
    ``history`` holds at least ``dilation*(kernel-1)`` samples; more (a scanned run padded to
    its longest) only when ``dilation`` is a traced value.
    """
    if kernel == 1:
        return x, history
    t, length = x.shape[1], history.shape[1]
    extended = jnp.concatenate([history, x], axis=1)
    taps = []
    for k in range(kernel - 1):
        start = length - (kernel - 1 - k) * dilation
        if isinstance(start, int):
            taps.append(extended[:, start : start + t])
        else:
            taps.append(jax.lax.dynamic_slice_in_dim(extended, start, t, axis=1))
    return jnp.concatenate(taps + [x], axis=0), extended[:, t:]


def dilated_conv(w: Array, history: Array, x: Array, kernel: int, dilation: int | Array, extra: Array | None = None) -> tuple[Array, Array]:
    """Causal dilated conv of ``x`` given its stored ``history``: returns (output, new history).

    ``w`` comes from :func:`conv_weight`; with stacked taps, ``extra`` rows (the condition of
    a fused input mixin) join the same product, their columns last in ``w``.
    """
    if kernel < LOOP_KERNEL:
        taps, history = causal_taps(history, x, kernel, dilation)
        if extra is not None:
            taps = jnp.concatenate([taps, extra], axis=0)
        return matmul(w, taps), history
    assert extra is None
    t, length = x.shape[1], history.shape[1]
    extended = jnp.concatenate([history, x], axis=1)

    def tap(k: Array, acc: Array) -> Array:
        start = length - (kernel - 1 - k) * dilation
        return acc + matmul(w[k], jax.lax.dynamic_slice_in_dim(extended, start, t, axis=1))

    out = jax.lax.fori_loop(0, kernel, tap, jnp.zeros((w.shape[1], t), jnp.float32))
    return out, extended[:, t:]


def film(u: Array, weights: tuple[Array, Array], condition: Array, shift: bool) -> Array:
    """``u * scale + shift`` with ``[scale; shift] = W c + b`` (format spec section 6.4)."""
    p = matmul(weights[0], condition) + weights[1]
    d = u.shape[0]
    return u * p[:d] + p[d:] if shift else u * p


def act(activation: Activation, x: Array, fast_tanh: bool) -> Array:
    return activations.apply(activation, x, fast_tanh)


def gate(layer: Layer, z: Array, bottleneck: int, fast_tanh: bool) -> Array:
    """Primary activation, or gated / blended with the secondary one (format spec section 6.3)."""
    if layer.gating_mode == "none":
        return act(layer.activation, z, fast_tanh)
    top, bottom = z[:bottleneck], z[bottleneck:]
    second = act(layer.secondary, bottom, fast_tanh)
    if layer.gating_mode == "gated":
        return act(layer.activation, top, fast_tanh) * second
    return second * act(layer.activation, top, fast_tanh) + (1.0 - second) * top


def layer_step(
    la: LayerArrayConfig,
    layer: Layer,
    lp: dict,
    history: Array,
    h: Array,
    skip: Array | None,
    condition: Array,
    dilation: int | Array,
    fast_tanh: bool,
) -> tuple[Array, Array, Array]:
    """One layer (format spec section 6.10): returns (residual out, skip sum, new history)."""
    films = dict(la.active_films())

    def apply_film(position: str, u: Array) -> Array:
        if position not in films:
            return u
        return film(u, lp[position], condition, films[position].shift)

    u = apply_film("conv_pre_film", h)
    v = apply_film("input_mixin_pre_film", condition)
    if fused_mixin(la, layer):
        z, history = dilated_conv(lp["w"], history, u, layer.kernel_size, dilation, extra=v)
        z = z + lp["b"]
    else:
        zc, history = dilated_conv(lp["w"], history, u, layer.kernel_size, dilation)
        zc = apply_film("conv_post_film", zc + lp["b"])
        zm = apply_film("input_mixin_post_film", matmul(lp["mix"], v))
        z = zc + zm
    z = apply_film("activation_pre_film", z)
    a = gate(layer, z, la.bottleneck_channels, fast_tanh)
    a = apply_film("activation_post_film", a)
    if la.layer1x1.active:
        r = matmul(lp["l1_w"], a) + lp["l1_b"]
        if layer.gating_mode == "blended":  # Core quirk: this FiLM only runs in blended layers
            r = apply_film("layer1x1_post_film", r)
        h = h + r
    if la.head1x1_active:
        s = apply_film("head1x1_post_film", matmul(lp["h1_w"], a) + lp["h1_b"])
    else:
        s = a
    return h, (s if skip is None else skip + s), history


def array_step(
    la: LayerArrayConfig,
    prepared: dict,
    state: dict,
    x: Array,
    condition: Array,
    head_in: Array | None,
    fast_tanh: bool,
) -> tuple[dict, Array, Array]:
    """One layer array on a block: returns (new state, residual output, head output)."""
    h = matmul(prepared["rechannel"], x)
    skip = head_in
    histories = []
    layers = la.resolved_layers
    for (start, stop), lp, history in zip(layer_runs(la), prepared["runs"], state["runs"]):
        layer = layers[start]
        if stop - start == 1:
            h, skip, history = layer_step(la, layer, lp, history, h, skip, condition, layer.dilation, fast_tanh)
        else:
            if skip is None:
                skip = jnp.zeros((la.head_in_channels, x.shape[1]), jnp.float32)
            dilations = jnp.asarray([layers[i].dilation for i in range(start, stop)], jnp.int32)

            def body(carry, xs, layer=layer):
                lp_i, history_i, dilation_i = xs
                h_i, skip_i, history_i = layer_step(la, layer, lp_i, history_i, *carry, condition, dilation_i, fast_tanh)
                return (h_i, skip_i), history_i

            (h, skip), history = jax.lax.scan(body, (h, skip), (lp, history, dilations))
        histories.append(history)
    out, head_history = dilated_conv(prepared["head"]["w"], state["head"], skip, la.head_kernel_size, la.head_dilation)
    if "b" in prepared["head"]:
        out = out + prepared["head"]["b"]
    return {"runs": histories, "head": head_history}, h, out


def array_initial_state(la: LayerArrayConfig) -> dict:
    """Zero histories: each dilated conv's own input (a scanned run: padded to its longest), and the head's."""
    layers = la.resolved_layers
    runs = []
    for start, stop in layer_runs(la):
        lengths = [layers[i].history for i in range(start, stop)]
        shape = (la.channels, lengths[0]) if stop - start == 1 else (stop - start, la.channels, max(lengths))
        runs.append(jnp.zeros(shape, jnp.float32))
    head = jnp.zeros((la.head_in_channels, la.head_history), jnp.float32)
    return {"runs": runs, "head": head}
