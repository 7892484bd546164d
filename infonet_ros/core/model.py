# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
InfoNet: an attention network that maps a set of copula points to a DV critic table.

A set of N points (u_i, v_i) in the unit square (ranks of x and y) is encoded Perceiver-style:
learned latents cross-attend to the point tokens, then attend among themselves. A decoder
places queries on a coarse grid over the unit square, gives each the local density of the
points around it, lets them read the latents (global shape), and turns the query grid into a
G x G table with a small CNN. The table is the critic T of the Donsker-Varadhan bound; T at a
sample is read by bilinear interpolation (``grid_sample``). Readouts live in
:mod:`infonet_ros.core.readout`.

The decoder's queries see point counts per cell (O(N), no attention to the points) and its
convolutions run at the coarse grid, ending in a pixel shuffle to G x G: several times
faster than queries that cross-attend to every point token (docs/model_card.md).
"""

from dataclasses import asdict, dataclass, fields
import math
import os
import pickle
import warnings

import torch
from torch import nn
import torch.nn.functional as F

from infonet_ros.core.content_hash import checkpoint_sha256, HASH_FIELD
from infonet_ros.core.readout import DEFAULT_INTEGRAL, INTEGRALS, READOUTS


@dataclass
class InfoNetConfig:
    d_model: int = 64  # width of every token
    n_heads: int = 4  # attention heads
    n_latents: int = 32  # learned latent tokens of the Perceiver encoder
    n_self_layers: int = 2  # self-attention blocks among latents
    n_fourier: int = 12  # Fourier frequencies per coordinate for point and grid features
    coarse_grid: int = 16  # decoder queries per side before upsampling
    grid_size: int = 64  # G: side of the output critic table (coarse_grid * 2**k)
    decoder_channels: int = 32  # channels of the decoder CNN at the coarse grid
    # Sub-cells per side of each decoder cell whose point densities its query sees: the
    # finest resolution at which the table can place an edge
    cell_subdivision: int = 2
    encoder_points: int = 0  # points the encoder reads: 0 = all, else an evenly strided subset
    mlp_ratio: int = 4  # hidden width of every MLP, in multiples of d_model
    dropout: float = 0.0  # attention / MLP dropout (training only)
    # How estimates read the table (infonet_ros.core.readout.set_mi): 'crossfit' (two tables from
    # the two halves, each scored on the other) or 'insample' (one table, scored on its points)
    readout: str = 'crossfit'
    # How the readout integrates e^T over the square (infonet_ros.core.readout.log_integral):
    # 'bilinear' (the bilinear critic that the lookup reads) or 'midpoint' (cell values times
    # cell areas: below the critic's own bound at sharp edges; the 'fine' model's rule)
    integral: str = DEFAULT_INTEGRAL

    def __post_init__(self):
        if self.readout not in READOUTS:
            raise ValueError(f'readout must be one of {READOUTS}, got {self.readout!r}')
        if self.integral not in INTEGRALS:
            raise ValueError(f'integral must be one of {INTEGRALS}, got {self.integral!r}')
        ratio = self.grid_size // self.coarse_grid
        if (self.grid_size % self.coarse_grid or ratio < 1 or ratio & (ratio - 1)):
            raise ValueError('grid_size must be coarse_grid times a power of two, got '
                             f'{self.grid_size} and {self.coarse_grid}')
        if self.d_model % self.n_heads:
            raise ValueError('d_model must be divisible by n_heads')
        if self.cell_subdivision < 1:
            raise ValueError(f'cell_subdivision must be >= 1, got {self.cell_subdivision}')

    @classmethod
    def from_dict(cls, d: dict) -> 'InfoNetConfig':
        """Build a config from a dict: unknown keys are ignored, missing ones take defaults."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})


def fourier_features(p: torch.Tensor, n_freq: int) -> torch.Tensor:
    """
    Features [p, sin(pi k p), cos(pi k p)] for k = 1..n_freq, per coordinate.

    p: (..., 2) in [0, 1] -> (..., 2 + 4 * n_freq)
    """
    k = torch.arange(1, n_freq + 1, device=p.device, dtype=p.dtype) * math.pi  # (F,)
    ang = p.unsqueeze(-1) * k  # (..., 2, F)
    feats = torch.cat([ang.sin(), ang.cos()], dim=-1).flatten(-2)  # (..., 4F)
    return torch.cat([p, feats], dim=-1)


def cell_density(uv: torch.Tensor, s: int, k: int = 2) -> torch.Tensor:
    """
    Local density features of each cell of an s x s grid: counts, not attention, so O(N).

    Counts on the ks x ks grid are scaled to densities (1 everywhere for independent
    copula points) and grouped as the k x k sub-cells of each coarse cell; then the coarse
    density, its log and log N (the noise level of the counts) are appended.

    uv: (B, N, 2) in [0, 1] -> (B, s * s, k * k + 3), cells in row-major order (rows by v),
    sub-cells too.
    """
    b, n, _ = uv.shape
    f = k * s
    cell = (uv * f).long().clamp_(0, f - 1)  # (B, N, 2)
    idx = cell[..., 1] * f + cell[..., 0]  # (B, N)
    counts = uv.new_zeros(b, f * f).scatter_add_(1, idx, uv.new_ones(b, n))  # (B, k^2 s^2)
    dens = counts * (f * f / n)
    sub = dens.view(b, s, k, s, k).permute(0, 1, 3, 2, 4)  # (B, s, s, k, k)
    sub = sub.reshape(b, s * s, k * k)  # (B, Q, k^2)
    coarse = sub.mean(-1, keepdim=True)  # (B, Q, 1)
    log_n = coarse.new_full(coarse.shape, math.log(n) / math.log(2048.0))
    return torch.cat([sub, coarse, torch.log(coarse + 0.125), log_n], dim=-1)  # (B, Q, k^2+3)


def n_cell_features(k: int) -> int:
    """Width of :func:`cell_density` features with k x k sub-cells per cell."""
    return k * k + 3


class MLP(nn.Module):

    def __init__(self, d: int, dropout: float, ratio: int = 4):
        super().__init__()
        self.fc = nn.Linear(d, ratio * d)
        self.proj = nn.Linear(ratio * d, d)
        self.drop = nn.Dropout(dropout)

    def forward(self, x):
        return self.drop(self.proj(F.gelu(self.fc(x))))


def _like(x: torch.Tensor, module: nn.Module) -> torch.Tensor:
    """``x`` in the dtype of ``module``'s parameters (itself if it has none or the same)."""
    for p in module.parameters():
        return x.to(p.dtype)
    return x


# Key count up to which ``attend`` uses plain matmuls instead of the fused attention kernel.
PLAIN_ATTENTION_MAX_KEYS = 64


def attend(mha: nn.MultiheadAttention, q: torch.Tensor, kv: torch.Tensor) -> torch.Tensor:
    """
    ``mha(q, kv, kv)`` computed from the module's own parameters, 2-3x faster on the CPU.

    nn.MultiheadAttention moves batch-first inputs to sequence-first and back, and those
    copies cost more than the attention itself at these widths. Same parameters, same result
    (to float rounding): the weights are stored as nn.MultiheadAttention's.

    q: (B, Q, D), kv: (B, K, D) -> (B, Q, D)
    """
    b, nq, d = q.shape
    nk, h = kv.shape[1], mha.num_heads
    w, bias = mha.in_proj_weight, mha.in_proj_bias
    qh = F.linear(q, w[:d], bias[:d]).view(b, nq, h, d // h).transpose(1, 2)  # (B, H, Q, dh)
    kvh = F.linear(kv, w[d:], bias[d:]).view(b, nk, 2, h, d // h)  # (B, K, 2, H, dh)
    kvh = kvh.permute(2, 0, 3, 1, 4)  # (2, B, H, K, dh)
    p = mha.dropout if mha.training else 0.0
    if nk > PLAIN_ATTENTION_MAX_KEYS:
        out = F.scaled_dot_product_attention(qh, kvh[0], kvh[1], dropout_p=p)  # (B, H, Q, dh)
    else:
        # With few keys (latents, a subset of points) plain batched matmuls are 1.5-3x
        # faster on the CPU than the fused kernel; with hundreds of keys the fused one wins.
        scores = qh @ kvh[0].transpose(-1, -2) * (d // h) ** -0.5  # (B, H, Q, K)
        # Softmax in float32 even for reduced-precision weights: the CPU's bfloat16 softmax
        # is about twice as slow as casting there and back (a no-op for float32).
        attn = scores.to(torch.promote_types(scores.dtype, torch.float32)).softmax(-1)
        attn = attn.to(scores.dtype)  # (B, H, Q, K)
        out = F.dropout(attn, p, mha.training) @ kvh[1]  # (B, H, Q, dh)
    return mha.out_proj(out.transpose(1, 2).reshape(b, nq, d))  # (B, Q, D)


class CrossBlock(nn.Module):
    """Pre-norm block: queries attend to a context set, then an MLP (both residual)."""

    def __init__(self, cfg: InfoNetConfig):
        super().__init__()
        self.ln_q = nn.LayerNorm(cfg.d_model)
        self.ln_kv = nn.LayerNorm(cfg.d_model)
        self.attn = nn.MultiheadAttention(cfg.d_model, cfg.n_heads, dropout=cfg.dropout,
                                          batch_first=True)
        self.ln_mlp = nn.LayerNorm(cfg.d_model)
        self.mlp = MLP(cfg.d_model, cfg.dropout, cfg.mlp_ratio)

    def forward(self, q, kv):
        kv = self.ln_kv(kv)
        q = q + attend(self.attn, self.ln_q(q), kv)  # (B, Q, D)
        return q + self.mlp(self.ln_mlp(q))


class SelfBlock(CrossBlock):
    """Pre-norm self-attention block."""

    def forward(self, x):
        h = self.ln_q(x)
        x = x + attend(self.attn, h, h)  # (B, L, D)
        return x + self.mlp(self.ln_mlp(x))


class InfoNet(nn.Module):
    """Copula points (B, N, 2) -> critic table T (B, G, G), T[b, i, j] at (u_j, v_i)."""

    def __init__(self, cfg: InfoNetConfig):
        super().__init__()
        self.cfg = cfg
        d, f = cfg.d_model, 2 + 4 * cfg.n_fourier
        self.point_embed = nn.Sequential(nn.Linear(f, d), nn.GELU(), nn.Linear(d, d))
        self.latents = nn.Parameter(torch.randn(cfg.n_latents, d) * 0.02)
        self.encode = CrossBlock(cfg)
        self.process = nn.ModuleList([SelfBlock(cfg) for _ in range(cfg.n_self_layers)])
        self.query_embed = nn.Sequential(nn.Linear(f, d), nn.GELU(), nn.Linear(d, d))
        self.read_latents = CrossBlock(cfg)
        self.cell_embed = nn.Linear(n_cell_features(cfg.cell_subdivision), d)
        # Coarse grid of cell centres, rows indexed by v, columns by u.
        g = (torch.arange(cfg.coarse_grid) + 0.5) / cfg.coarse_grid
        vv, uu = torch.meshgrid(g, g, indexing='ij')
        self.register_buffer('coarse_xy', torch.stack([uu, vv], -1).reshape(-1, 2),
                             persistent=False)  # (Q, 2)
        c, r = cfg.decoder_channels, cfg.grid_size // cfg.coarse_grid
        # All convolutions run on the coarse grid (cheap); the last one predicts the r x r
        # sub-cells of each cell, which the pixel shuffle lays out as the table.
        self.upsample = nn.Sequential(
            nn.Conv2d(d, c, 3, padding=1), nn.GELU(), nn.Conv2d(c, c, 3, padding=1), nn.GELU(),
            nn.Conv2d(c, r * r, 3, padding=1), nn.PixelShuffle(r))

    def forward(self, uv: torch.Tensor) -> torch.Tensor:
        b, n, _ = uv.shape
        pts = uv
        if 0 < self.cfg.encoder_points < n:
            # The encoder only needs the global shape of the set; the decoder's cell counts
            # carry every point. A strided subset spans a time-ordered window evenly.
            keep = torch.linspace(0, n - 1, self.cfg.encoder_points, device=uv.device)
            pts = uv[:, keep.round().long()]  # (B, M, 2)
        # Features are computed in the input's dtype and each stage runs in its parameters'
        # dtype: all the model's, or reduced precision for some (infonet_ros.core.precision).
        feats = fourier_features(pts, self.cfg.n_fourier)  # (B, M, F)
        tokens = self.point_embed(_like(feats, self.point_embed))  # (B, M, D)
        z = self.latents.expand(b, -1, -1)  # (B, L, D)
        z = self.encode(_like(z, self.encode), _like(tokens, self.encode))  # (B, L, D)
        for blk in self.process:
            z = blk(_like(z, blk))  # (B, L, D)
        qf = fourier_features(self.coarse_xy.to(uv.dtype), self.cfg.n_fourier)  # (Q, F)
        h = self.query_embed(_like(qf, self.query_embed)).expand(b, -1, -1)  # (B, Q, D)
        cells = cell_density(uv, self.cfg.coarse_grid, self.cfg.cell_subdivision)  # (B, Q, C)
        h = _like(h, self.cell_embed) + self.cell_embed(_like(cells, self.cell_embed))  # (B, Q, D)
        h = self.read_latents(_like(h, self.read_latents), _like(z, self.read_latents))
        s = self.cfg.coarse_grid
        h = h.transpose(1, 2).reshape(b, -1, s, s)  # (B, D, S, S)
        for layer in self.upsample:  # (B, D, S, S) -> (B, 1, G, G)
            h = layer(_like(h, layer))
        return h.squeeze(1).to(uv.dtype)  # (B, G, G)

    def num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())

    # ---- checkpoints -------------------------------------------------------------------

    def checkpoint(self, provenance: dict | None = None) -> dict:
        """Self-describing checkpoint: weights, config, provenance and their content hash."""
        ckpt = {'format': CHECKPOINT_FORMAT, 'config': asdict(self.cfg),
                'model': {k: v.detach().cpu() for k, v in self.state_dict().items()},
                'provenance': dict(provenance or {})}
        ckpt[HASH_FIELD] = checkpoint_sha256(ckpt)
        return ckpt

    @classmethod
    def from_checkpoint(cls, ckpt: dict) -> 'InfoNet':
        model = cls(InfoNetConfig.from_dict(ckpt['config']))
        model.load_state_dict(ckpt['model'])
        return model

    @classmethod
    def from_pretrained(cls, path: str | os.PathLike | None = None,
                        map_location: str | torch.device = 'cpu') -> 'InfoNet':
        """Rebuild the model from a checkpoint file alone (the shipped one by default)."""
        model, _ = load_checkpoint(path, map_location)
        return model


CHECKPOINT_FORMAT = 'infonet_ros.checkpoint/1'
WEIGHTS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'weights')
# Checkpoints shipped in the package, by the name that selects them instead of a path
# (docs/model_card.md; each file's provenance says how to reproduce it). 'default': the
# reference (in-sample readout). 'fine' (cross-fitted, 128 x 128 critic table): a lower bound
# in expectation, conservative, slower. 'fast' (8 x 8 decoder grid, 64 encoder points,
# narrower MLPs and convolutions; in-sample): 3-4x the throughput in batches, somewhat less
# accurate at N = 1000.
SHIPPED_WEIGHTS = {'default': 'infonet_default.pt', 'fine': 'infonet_fine.pt',
                   'fast': 'infonet_fast.pt'}
DEFAULT_WEIGHTS = os.path.join(WEIGHTS_DIR, SHIPPED_WEIGHTS['default'])


def resolve_weights(path=None) -> str:
    """Return the file of a weights argument: None or '' -> default, a shipped name, a path."""
    if not path:
        return DEFAULT_WEIGHTS
    path = os.fspath(path)
    if path in SHIPPED_WEIGHTS:
        return os.path.join(WEIGHTS_DIR, SHIPPED_WEIGHTS[path])
    return path


class WeightsError(RuntimeError):
    """A weights file is missing, unreadable, altered, non-finite or not a checkpoint."""


class UncheckedWeightsWarning(UserWarning):
    """A checkpoint without a content hash was loaded: its integrity was not checked."""


def load_checkpoint(path=None, map_location='cpu'):
    """
    Load a checkpoint; return (model in eval mode, provenance dict).

    The content hash (:mod:`infonet_ros.core.content_hash`) is checked when the file has one;
    a file without one loads with an :class:`UncheckedWeightsWarning`
    (:func:`write_content_hash` adds it).

    :param path: a checkpoint file, a shipped name (``SHIPPED_WEIGHTS``: 'default', 'fine',
        'fast'), or None for the default.
    :raises WeightsError: naming the path, if the file is missing, corrupt or of another
        format, its content does not match its hash, or a weight is NaN or inf.
    """
    path = resolve_weights(path)
    ckpt = _read_checkpoint(path, map_location)
    if HASH_FIELD in ckpt:
        _check_content_hash(path, ckpt)
    else:
        warnings.warn(f'{path} has no content hash ({HASH_FIELD}): loaded without an '
                      'integrity check (infonet_ros.core.model.write_content_hash adds one)',
                      UncheckedWeightsWarning, stacklevel=2)
    _check_finite(path, ckpt)
    try:
        model = InfoNet.from_checkpoint(ckpt)
    except Exception as exc:
        raise WeightsError(f'InfoNet weights file {path} does not match its config: '
                           f'{exc}') from exc
    # The measured accuracy of reduced precision is keyed by it (infonet_ros.core.precision).
    model.content_hash = ckpt.get(HASH_FIELD)
    return model.eval(), dict(ckpt.get('provenance', {}))


def write_content_hash(path) -> str:
    """
    Store the content hash in a checkpoint file that has none (atomically); return it.

    For checkpoints written without one. A file whose stored hash does not match, or that
    holds NaN or inf, is refused (WeightsError) rather than given a hash.
    """
    path = resolve_weights(path)
    ckpt = _read_checkpoint(path, 'cpu')
    if HASH_FIELD in ckpt:
        _check_content_hash(path, ckpt)
        return ckpt[HASH_FIELD]
    _check_finite(path, ckpt)
    ckpt[HASH_FIELD] = _content_hash(path, ckpt)
    torch.save(ckpt, path + '.tmp')
    os.replace(path + '.tmp', path)
    return ckpt[HASH_FIELD]


def _read_checkpoint(path: str, map_location) -> dict:
    """Return the checkpoint dict of ``path``; WeightsError if missing, unreadable, foreign."""
    if not os.path.isfile(path):
        names = ', '.join(SHIPPED_WEIGHTS)
        raise WeightsError(f'InfoNet weights file not found: {path} (give a checkpoint file '
                           f'or a shipped name: {names})')
    try:
        # weights_only: a checkpoint is data, never code. TorchVersion (a str) is allowed
        # because checkpoints written by torch.__version__ hold one in their provenance.
        with torch.serialization.safe_globals([torch.torch_version.TorchVersion]):
            ckpt = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        # torch's message suggests weights_only=False, which would run the file's code.
        raise WeightsError(f'cannot read InfoNet weights file {path}: not a checkpoint '
                           'written by torch.save, or corrupt') from exc
    except Exception as exc:  # torch raises several types for corrupt files
        raise WeightsError(f'cannot read InfoNet weights file {path}: {exc}') from exc
    if not isinstance(ckpt, dict) or ckpt.get('format') != CHECKPOINT_FORMAT:
        raise WeightsError(f'{path} is not an infonet_ros checkpoint '
                           f'(expected format {CHECKPOINT_FORMAT!r})')
    return ckpt


def _content_hash(path: str, ckpt: dict) -> str:
    """Return the checkpoint's content hash; WeightsError naming the path if malformed."""
    try:
        return checkpoint_sha256(ckpt)
    except (KeyError, TypeError, AttributeError) as exc:
        raise WeightsError(f'InfoNet weights file {path} is malformed: {exc}') from exc


def _check_content_hash(path: str, ckpt: dict) -> None:
    """Raise WeightsError naming the path if the content differs from its stored hash."""
    stored, actual = ckpt[HASH_FIELD], _content_hash(path, ckpt)
    if stored != actual:
        raise WeightsError(f'InfoNet weights file {path} was altered or damaged: its content '
                           f'hash is {actual}, the file says {stored}')


def _check_finite(path: str, ckpt: dict) -> None:
    """Raise WeightsError naming the path and tensor if a floating-point weight is NaN/inf."""
    state = ckpt.get('model')
    if not isinstance(state, dict):
        return  # InfoNet.from_checkpoint reports it as a mismatch
    for name, tensor in state.items():
        if isinstance(tensor, torch.Tensor) and tensor.is_floating_point() \
                and not bool(torch.isfinite(tensor).all()):
            raise WeightsError(f'InfoNet weights file {path} holds NaN or inf in {name}: '
                               'a diverged or damaged model, refused')
