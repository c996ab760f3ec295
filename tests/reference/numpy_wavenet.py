"""A slow, plain float64 NumPy WaveNet written straight from the format spec (sections 6, 7.1, 10).

It exists to check the JAX WaveNet, so it shares none of its code: whole-signal
evaluation, every convolution an explicit loop over groups and taps, FiLMs and gating
spelled out, channel widths read from the tensors themselves. Only the config schema
(``namgraph.format.configs``) and the tensor names (``namgraph.format.layout``) are shared;
those are checked against Core's own renders by the parity tests.

Start of signal (spec 1.3): Core prewarms with zeros, which for these FIR models equals
left-padding the input with at least ``RF - 1`` zeros, running every conv from zero
history, and dropping the padded outputs. ``render`` does exactly that.
"""

from __future__ import annotations

import math

import numpy as np

from namgraph.format.configs import LayerArrayConfig, WaveNetConfig

from .activations import activation

Params = dict  # tensor name -> array (the file's shapes); "condition_dsp" -> the child's params


# ----------------------------------------------------------------------------- convolutions


def conv(x: np.ndarray, w: np.ndarray, bias: np.ndarray | None = None, dilation: int = 1, groups: int = 1) -> np.ndarray:
    """Causal grouped dilated conv from zero history: ``y[:, t] = b + sum_k W[:, :, k] x[:, t - d(K-1-k)]``.

    ``w`` has the file's shape ``(C_out, C_in/groups, K)`` (or ``(C_out, C_in/groups)`` for 1x1);
    group g maps inputs ``[g*ci, (g+1)*ci)`` to outputs ``[g*co, (g+1)*co)``.
    """
    w = np.asarray(w, np.float64)
    if w.ndim == 2:
        w = w[:, :, None]
    cout, ci, kernel = w.shape
    cin, t = x.shape
    assert cin == ci * groups, f"conv expects {ci * groups} input channels, got {cin}"
    co = cout // groups
    pad = dilation * (kernel - 1)
    xp = np.concatenate([np.zeros((cin, pad)), x], axis=1)
    y = np.zeros((cout, t))
    for g in range(groups):
        xg = xp[g * ci : (g + 1) * ci]
        for k in range(kernel):
            start = k * dilation  # tap k looks back d * (K - 1 - k) samples
            y[g * co : (g + 1) * co] += w[g * co : (g + 1) * co, :, k] @ xg[:, start : start + t]
    if bias is not None:
        y += np.asarray(bias, np.float64)[:, None]
    return y


def film(u: np.ndarray, condition: np.ndarray, w: np.ndarray, b: np.ndarray, shift: bool, groups: int) -> np.ndarray:
    """FiLM (spec 6.4): ``[scale; shift] = grouped 1x1 conv of the condition``; ``u*scale + shift``."""
    p = conv(condition, w, b, groups=groups)
    d = u.shape[0]
    assert p.shape[0] == (2 if shift else 1) * d, "FiLM rows must be D (scale) or 2D (scale, shift)"
    return u * p[:d] + p[d:] if shift else u * p


# ----------------------------------------------------------------------------- the model (spec 6.8-6.10)


def _films(la: LayerArrayConfig) -> dict:
    return dict(la.active_films())


def layer_array(
    la: LayerArrayConfig, params: Params, prefix: str, x: np.ndarray, condition: np.ndarray, head_in: np.ndarray | None, fast: bool
) -> tuple[np.ndarray, np.ndarray]:
    films = _films(la)

    def maybe_film(name: str, i: int, u: np.ndarray, cond: np.ndarray) -> np.ndarray:
        if name not in films:
            return u
        f = films[name]
        return film(u, cond, params[f"{prefix}.layers.{i}.{name}.weight"], params[f"{prefix}.layers.{i}.{name}.bias"], f.shift, f.groups)

    h = conv(x, params[f"{prefix}.rechannel.weight"])
    skip = np.zeros((la.head_in_channels, x.shape[1])) if head_in is None else head_in.copy()
    for i, layer in enumerate(la.resolved_layers):
        p = f"{prefix}.layers.{i}"
        u = maybe_film("conv_pre_film", i, h, condition)
        zc = conv(u, params[f"{p}.conv.weight"], params[f"{p}.conv.bias"], layer.dilation, la.groups_input)
        zc = maybe_film("conv_post_film", i, zc, condition)
        v = maybe_film("input_mixin_pre_film", i, condition, condition)
        zm = conv(v, params[f"{p}.input_mixin.weight"], groups=la.groups_input_mixin)
        zm = maybe_film("input_mixin_post_film", i, zm, condition)
        z = maybe_film("activation_pre_film", i, zc + zm, condition)
        bottleneck = z.shape[0] // (1 if layer.gating_mode == "none" else 2)
        if layer.gating_mode == "none":
            a = activation(layer.activation, z, fast)
        elif layer.gating_mode == "gated":
            a = activation(layer.activation, z[:bottleneck], fast) * activation(layer.secondary, z[bottleneck:], fast)
        else:  # blended
            alpha = activation(layer.secondary, z[bottleneck:], fast)
            a = alpha * activation(layer.activation, z[:bottleneck], fast) + (1.0 - alpha) * z[:bottleneck]
        a = maybe_film("activation_post_film", i, a, condition)
        if la.layer1x1.active:
            r = conv(a, params[f"{p}.layer1x1.weight"], params[f"{p}.layer1x1.bias"], groups=la.layer1x1.groups)
            if layer.gating_mode == "blended":  # Core applies layer1x1_post_film only here (spec 6.10)
                r = maybe_film("layer1x1_post_film", i, r, condition)
            h = h + r
        if la.head1x1_active:
            s = conv(a, params[f"{p}.head1x1.weight"], params[f"{p}.head1x1.bias"], groups=la.head1x1.groups)
            s = maybe_film("head1x1_post_film", i, s, condition)
        else:
            s = a
        skip = skip + s
    bias = params[f"{prefix}.head_rechannel.bias"] if la.head_has_bias else None
    head = conv(skip, params[f"{prefix}.head_rechannel.weight"], bias, la.head_dilation)
    return h, head


def forward(cfg: WaveNetConfig, params: Params, x: np.ndarray, condition_cfg: WaveNetConfig | None = None, fast: bool = False) -> np.ndarray:
    """The WaveNet from zero history on the whole signal ``x`` (in_channels, T)."""
    x = np.asarray(x, np.float64)
    condition = x if condition_cfg is None else forward(condition_cfg, params["condition_dsp"], x, None, fast)
    h, head = x, None
    for k, la in enumerate(cfg.layers):
        h, head = layer_array(la, params, f"arrays.{k}", h, condition, head, fast)
    y = float(np.asarray(params["head_scale"]).reshape(-1)[0]) * head  # the last weight, not the config value
    if cfg.head is not None:
        for j, _ in enumerate(cfg.head.kernel_sizes):
            y = conv(activation(cfg.head.activation, y, fast), params[f"head.convs.{j}.weight"], params[f"head.convs.{j}.bias"])
    return y


def receptive_field(cfg: WaveNetConfig) -> int:
    rf = 1
    for la in cfg.layers:
        rf += sum(layer.dilation * (layer.kernel_size - 1) for layer in la.resolved_layers)
        rf += la.head_dilation * (la.head_kernel_size - 1)
    if cfg.head is not None:
        rf += sum(k - 1 for k in cfg.head.kernel_sizes)
    return rf


def render(
    cfg: WaveNetConfig,
    params: Params,
    x: np.ndarray,
    *,
    condition_cfg: WaveNetConfig | None = None,
    fast_tanh: bool = False,
    size: float | None = None,
    extra_zeros: int = 7,
) -> np.ndarray:
    """Core's default render (prewarmed) of ``x`` (in_channels, T), in float64.

    ``size`` slims a slimmable model first (:func:`slim`). The input is left-padded with
    ``RF - 1 + extra_zeros`` zeros (any count >= RF - 1 gives the same result).
    """
    if size is not None:
        cfg, params = slim(cfg, params, size)
    rf = receptive_field(cfg) + (0 if condition_cfg is None else receptive_field(condition_cfg) - 1)
    pad = rf - 1 + extra_zeros
    x = np.asarray(x, np.float64)
    xp = np.concatenate([np.zeros((x.shape[0], pad)), x], axis=1)
    return forward(cfg, params, xp, condition_cfg, fast_tanh)[:, pad:]


# ----------------------------------------------------------------------------- slimmable (spec 7.1)


def slim(cfg: WaveNetConfig, params: Params, size: float) -> tuple[WaveNetConfig, Params]:
    """The sliced model Core runs after ``SetSlimmableSize(size)``, tensor by tensor per the spec's table."""
    chosen = []
    for la in cfg.layers:
        if la.slimmable is None:
            chosen.append(la.channels)
            continue
        allowed = la.slimmable.allowed_channels or tuple(range(1, la.channels + 1))
        chosen.append(allowed[min(int(math.floor(size * len(allowed))), len(allowed) - 1)])
    out: Params = {"head_scale": params["head_scale"]}
    if "condition_dsp" in params:
        out["condition_dsp"] = params["condition_dsp"]
    layers = []
    n = len(cfg.layers)
    for k, la in enumerate(cfg.layers):
        c = chosen[k]
        b = max(1, (la.bottleneck_channels * c) // la.channels) if la.layer1x1.active else c
        i_in = la.input_size if k == 0 else chosen[k - 1]
        hs = chosen[k + 1] if k < n - 1 else la.head_out_channels
        ho = la.head1x1.out_channels if la.head1x1_active else b
        pre = f"arrays.{k}"
        out[f"{pre}.rechannel.weight"] = params[f"{pre}.rechannel.weight"][:c, :i_in]
        for i, layer in enumerate(la.resolved_layers):
            p = f"{pre}.layers.{i}"
            g = 1 if layer.gating_mode == "none" else 2
            out[f"{p}.conv.weight"] = params[f"{p}.conv.weight"][: g * b, :c, :]  # first 2B' rows, not B' per half
            out[f"{p}.conv.bias"] = params[f"{p}.conv.bias"][: g * b]
            out[f"{p}.input_mixin.weight"] = params[f"{p}.input_mixin.weight"][: g * b, :]
            if la.layer1x1.active:
                out[f"{p}.layer1x1.weight"] = params[f"{p}.layer1x1.weight"][:c, :b]
                out[f"{p}.layer1x1.bias"] = params[f"{p}.layer1x1.bias"][:c]
            if la.head1x1_active:
                out[f"{p}.head1x1.weight"] = params[f"{p}.head1x1.weight"][:, :b]
                out[f"{p}.head1x1.bias"] = params[f"{p}.head1x1.bias"]
            widths = {
                "conv_pre_film": c, "conv_post_film": g * b, "input_mixin_pre_film": la.condition_size,
                "input_mixin_post_film": g * b, "activation_pre_film": g * b, "activation_post_film": b,
                "layer1x1_post_film": c, "head1x1_post_film": ho,
            }
            for name, f in la.active_films():
                rows = (2 if f.shift else 1) * widths[name]
                out[f"{p}.{name}.weight"] = params[f"{p}.{name}.weight"][:rows]
                out[f"{p}.{name}.bias"] = params[f"{p}.{name}.bias"][:rows]
        out[f"{pre}.head_rechannel.weight"] = params[f"{pre}.head_rechannel.weight"][:hs, :ho]
        if la.head_has_bias:
            out[f"{pre}.head_rechannel.bias"] = params[f"{pre}.head_rechannel.bias"][:hs]
        update: dict = {"channels": c, "bottleneck": b, "input_size": i_in}
        if la.head is not None:
            update["head"] = la.head.model_copy(update={"out_channels": hs})
        else:
            update["head_size"] = hs
        layers.append(la.model_copy(update=update))
    return cfg.model_copy(update={"layers": tuple(layers)}), out
