# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Copula (rank) transforms: hard ranks for inference, soft ranks for gradients.

InfoNet reads every coordinate through its empirical CDF, so the network only ever sees
uniform marginals on (0, 1]. That makes the estimate invariant to any strictly monotone
transform of either variable, as mutual information is. ``rank_normalize`` averages the
ranks of tied values (the textbook copula transform, used in training, where samples are
continuous); the estimator uses ``pair_ranks``, which breaks ties so that quantized sensor
data keeps uniform marginals. Their differentiable counterparts, ``soft_rank_normalize`` and
``soft_pair_ranks`` (ties broken in ``pair_ranks``' order), compare every pair of samples in
blocks of bounded size, so their memory grows with N, not N^2.
"""

import functools
import math

import numpy as np
import torch
from torch.autograd.function import once_differentiable

# Temperature of the soft rank, as a fraction of each series' standard deviation. Small
# enough that soft ranks of distinct points stay within ~1 % of their hard ranks for typical
# sensor noise, large enough to give useful gradients.
DEFAULT_SOFT_RANK_TAU = 0.05
# Elements of the block of pairwise comparisons (rows x N) that the soft rank holds at once,
# forward and backward: 2^22, 32 MB in float64. All N x N comparisons of every set at once
# would be 8-16 GB for a series of 10^6 samples (500 subsets of 2,000).
SOFT_RANK_BLOCK = 1 << 22


def rank_normalize(x: torch.Tensor) -> torch.Tensor:
    """
    Map each row of ``x`` to its ranks divided by the row length, ties averaged.

    :param x: (..., N) real tensor.

    :return: (..., N) tensor in (0, 1]: the largest value maps to 1, the smallest to 1/N (for
        distinct values); tied values share the mean of their ranks.
    """
    n = x.shape[-1]
    s, order = torch.sort(x, dim=-1)  # (..., N)
    pos = torch.arange(n, device=x.device).expand_as(order)  # (..., N) 0-based sorted position
    # Ties: every member of a run of equal sorted values gets the mean of the run's 1-based
    # ranks, (first + last) / 2 + 1. first: the running max of the positions where a new value
    # starts; last: the same from the right. O(N) after the sort (a searchsorted is O(N log N)
    # and would be the slowest op of a whole estimate).
    starts = torch.ones_like(s, dtype=torch.bool)
    starts[..., 1:] = s[..., 1:] != s[..., :-1]
    ends = torch.ones_like(starts)
    ends[..., :-1] = starts[..., 1:]
    first = torch.where(starts, pos, 0).cummax(dim=-1).values  # (..., N)
    last = torch.where(ends, pos, n - 1).flip(-1).cummin(dim=-1).values.flip(-1)  # (..., N)
    dtype = x.dtype if x.is_floating_point() else torch.get_default_dtype()
    ranks_sorted = (first + last + 2).to(dtype) / (2.0 * n)  # (..., N)
    return torch.empty_like(ranks_sorted).scatter_(-1, order, ranks_sorted)


# Seed of the fixed orders in which pair_ranks breaks ties (one per series length and side).
TIE_SEED = 20260101


@functools.lru_cache(maxsize=64)
def tie_order(n: int, side: int) -> np.ndarray:
    """Return the fixed pseudo-random order of range(n) that ranks tied samples of a side."""
    order = np.random.default_rng([TIE_SEED, n, side]).permutation(n)
    order.flags.writeable = False  # cached and shared
    return order


def pair_ranks(xy: np.ndarray) -> np.ndarray:
    """
    Copula of paired series for the estimator: ranks / N with ties broken, not averaged.

    Every row becomes a permutation of 1/N, 2/N, ..., 1, so both marginals are exactly
    uniform, as the exact product-of-marginals term of the DV readout
    (:func:`infonet_ros.core.readout.dv_exact`) assumes. Averaged ranks (:func:`rank_normalize`)
    stack tied samples on one coordinate; on quantized data that term is then wrong:
    independent Gaussians rounded to a step of 0.5 read -1.6 nats with averaged ranks, ~0
    with broken ties (benchmarks/results/eval_accuracy.md). Breaking ties is adding an
    infinitesimal independent jitter inside each run of equal values, so the estimate is
    that of the quantized variables' MI (as KSG's added noise does). The order inside a run
    is fixed (:func:`tie_order`, different for x and y so that samples tied on both sides are
    not ordered alike), so estimates are deterministic and do not depend on the batch. Rows
    without ties get exactly :func:`rank_normalize`'s values.

    :param xy: (B, 2, N) float64 array: x in ``xy[:, 0]``, y in ``xy[:, 1]``, no NaN.

    :return: (B, 2, N) float64 array in (0, 1].
    """
    n = xy.shape[-1]
    # numpy's vectorized sort is 2-3x faster than torch's on the CPU for these row lengths.
    order = np.argsort(xy, axis=-1)  # (B, 2, N)
    # Gathers and scatters through flat indices: several times faster than
    # take_along_axis / put_along_axis, which build an index grid per call.
    offsets = (np.arange(xy.shape[0] * xy.shape[1]) * n).reshape(xy.shape[:-1] + (1,))
    flat = order + offsets  # (B, 2, N) indices into xy.ravel()
    s = np.ascontiguousarray(xy).ravel()[flat]  # (B, 2, N) sorted values
    tied = (s[..., 1:] == s[..., :-1]).any(axis=-1)  # (B, 2)
    for side in range(xy.shape[1]):
        rows = np.flatnonzero(tied[:, side])
        if len(rows):
            # A stable sort of the series in the side's fixed order keeps that order
            # inside each run of ties.
            perm = tie_order(n, side)
            stable = np.argsort(xy[rows, side][:, perm], axis=-1, kind='stable')  # (R, N)
            flat[rows, side] = perm[stable] + offsets[rows, side]
    out = np.empty(xy.size, dtype=np.float64)
    out[flat.ravel()] = np.tile((np.arange(n) + 1.0) / n, xy.size // n)
    return out.reshape(xy.shape)


def check_tau(tau) -> float:
    """Return the soft-rank temperature as a float; ValueError unless it is finite and > 0."""
    if isinstance(tau, bool) or not isinstance(tau, (int, float, np.integer, np.floating)) \
            or not math.isfinite(tau) or tau <= 0:
        raise ValueError(f'tau must be a positive finite number (a fraction of each '
                         f"series' standard deviation), got {tau!r}")
    return float(tau)


def soft_rank_normalize(x: torch.Tensor, tau: float = DEFAULT_SOFT_RANK_TAU,
                        block: int = SOFT_RANK_BLOCK) -> torch.Tensor:
    """
    Differentiable approximation of :func:`rank_normalize` (pure torch).

    rank_i ~= 1/2 + sum_j sigmoid((x_i - x_j) / (tau * std(x))), then divided by N; as
    ``tau`` -> 0 it tends to the hard rank with ties averaged. The N x N comparisons are
    computed ``block`` elements at a time, forward and backward (:class:`_SoftRankSums`), so
    memory stays O(N) per row plus one block, for any N and any number of rows.

    :param x: (..., N) float tensor.
    :param tau: temperature as a fraction of the standard deviation of each row, > 0.
    :param block: comparisons held at once (the result does not depend on it).

    :return: (..., N) tensor in (0, 1), differentiable with respect to ``x``.
    """
    tau = check_tau(tau)
    n = x.shape[-1]
    rows = _binary_rescaled(x.reshape(-1, n))  # (R, N)
    # The least positive normal number keeps a constant row's scale above 0 (its
    # comparisons are then all 0, ranks 1/2); a row that varies has a larger deviation.
    scale = rows.detach().std(dim=-1, keepdim=True).clamp_min(
        torch.finfo(rows.dtype).tiny) * tau  # (R, 1)
    sums = _SoftRankSums.apply(rows, scale, int(block))  # (R, N)
    # The diagonal contributes sigmoid(0) = 1/2, the self half-rank.
    return ((0.5 + sums) / n).reshape(x.shape)


def _binary_rescaled(rows: torch.Tensor) -> torch.Tensor:
    """
    Each row of (R, N) ``rows`` times a power of two that brings its largest |value| near 1.

    Scaling by a power of two is exact in binary floating point and the soft rank is scale
    free, so the ranks equal those of the unscaled rows wherever those are finite; without it
    the standard deviation of values above ~1e154 (float64; ~1e19 in float32) overflows to
    inf and every soft rank collapses to 1/2. The factor stays a normal number of the dtype.
    """
    top = rows.detach().abs().amax(dim=-1, keepdim=True)  # (R, 1)
    exponent = torch.frexp(top).exponent  # top = mantissa * 2^exponent, mantissa in [0.5, 1)
    info = torch.finfo(rows.dtype)
    lowest, highest = math.frexp(info.tiny)[1] - 1, math.frexp(info.max)[1] - 1
    factor = torch.ldexp(torch.ones_like(top), (-exponent).clamp(lowest, highest))
    return rows * factor


def _comparison_blocks(n_rows: int, n: int, block: int):
    """
    Yield (rows, columns) slices that cover an (R, N) array in blocks of <= ``block`` x N.

    Whole rows when N * N fits in ``block`` (several rows per block), else parts of one row.
    """
    if n * n <= block:
        step = max(1, block // (n * n))
        for r0 in range(0, n_rows, step):
            yield slice(r0, r0 + step), slice(None)
        return
    step = max(1, block // n)
    for r0 in range(n_rows):
        for c0 in range(0, n, step):
            yield slice(r0, r0 + 1), slice(c0, c0 + step)


class _SoftRankSums(torch.autograd.Function):
    """
    s_i = sum_j sigmoid((x_i - x_j) / scale) of (R, N) rows, computed block by block.

    The backward pass recomputes each block instead of keeping the N x N comparisons that
    autograd would store: dL/dx_k = sum_j sigmoid'(d_kj) (g_k - g_j) / scale, since
    sigmoid' is even. ``scale`` (R, 1) is a constant (no gradient).
    """

    @staticmethod
    def forward(ctx, x, scale, block):
        ctx.save_for_backward(x, scale)
        ctx.block = block
        out = torch.empty_like(x)  # (R, N)
        for rows, cols in _comparison_blocks(x.shape[0], x.shape[1], block):
            d = _block_differences(x, scale, rows, cols)  # (r, c, N)
            out[rows, cols] = torch.sigmoid(d).sum(dim=-1)
        return out

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        x, scale = ctx.saved_tensors
        grad_x = torch.empty_like(x)  # (R, N)
        for rows, cols in _comparison_blocks(x.shape[0], x.shape[1], ctx.block):
            s = torch.sigmoid(_block_differences(x, scale, rows, cols))  # (r, c, N)
            spread = grad[rows, cols].unsqueeze(-1) - grad[rows].unsqueeze(-2)  # (r, c, N)
            grad_x[rows, cols] = (s * (1.0 - s) * spread).sum(dim=-1) / scale[rows]
        return grad_x, None, None


def _block_differences(x: torch.Tensor, scale: torch.Tensor, rows: slice, cols: slice
                       ) -> torch.Tensor:
    """(x_i - x_j) / scale for i in the block's columns, j in the whole row: (r, c, N)."""
    return (x[rows, cols].unsqueeze(-1) - x[rows].unsqueeze(-2)) / scale[rows].unsqueeze(-1)


def soft_pair_ranks(xy: torch.Tensor, tau: float = DEFAULT_SOFT_RANK_TAU,
                    block: int = SOFT_RANK_BLOCK) -> torch.Tensor:
    """
    Soft ranks of paired series with ties broken as :func:`pair_ranks` breaks them.

    :func:`soft_rank_normalize` gives tied values one shared rank, which stacks them on one
    coordinate, and the estimate of quantized data is then far off (binary independent
    data read 5 nats). Here each tied value is moved by the (constant) difference between
    its :func:`pair_ranks` rank and its averaged rank, so as ``tau`` -> 0 the soft ranks tend
    to :func:`pair_ranks`' values, ties included, and the differentiable estimate to the one
    of the numpy API. Rows without ties get exactly :func:`soft_rank_normalize`'s values.

    :param xy: (B, 2, N) float tensor: x in ``xy[:, 0]``, y in ``xy[:, 1]``.

    :return: (B, 2, N) tensor in (0, 1), differentiable with respect to ``xy``.
    """
    soft = soft_rank_normalize(xy, tau, block)  # (B, 2, N)
    values = xy.detach().cpu().double().numpy()  # exact: float32 values are float64 values
    ordered = np.sort(values, axis=-1)
    tied = (ordered[..., 1:] == ordered[..., :-1]).any(axis=(-2, -1))  # (B,)
    if not tied.any():
        return soft
    shift = np.zeros(values.shape)
    shift[tied] = pair_ranks(values[tied]) - rank_normalize(
        torch.from_numpy(values[tied])).numpy()  # (T, 2, N): 0 where a value is not tied
    return soft + torch.from_numpy(shift).to(soft.device, soft.dtype)
