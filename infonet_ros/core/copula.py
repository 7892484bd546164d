# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Copula (rank) transforms: hard ranks for inference, soft ranks for gradients.

InfoNet reads every coordinate through its empirical CDF, so the network only ever sees
uniform marginals on (0, 1]. That makes the estimate invariant to any strictly monotone
transform of either variable, as mutual information is. ``rank_normalize`` averages the
ranks of tied values (the textbook copula transform, used in training, where samples are
continuous); the estimator uses ``pair_ranks``, which breaks ties so that quantized sensor
data keeps uniform marginals.
"""

import functools

import numpy as np
import torch

# Temperature of the soft rank, as a fraction of each series' standard deviation. Small
# enough that soft ranks of distinct points stay within ~1 % of their hard ranks for typical
# sensor noise, large enough to give useful gradients.
DEFAULT_SOFT_RANK_TAU = 0.05


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


def soft_rank_normalize(x: torch.Tensor, tau: float = DEFAULT_SOFT_RANK_TAU) -> torch.Tensor:
    """
    Differentiable approximation of :func:`rank_normalize` (pure torch, O(N^2) memory).

    rank_i ~= 1/2 + sum_j sigmoid((x_i - x_j) / (tau * std(x))), then divided by N; as
    ``tau`` -> 0 it tends to the hard rank with ties averaged.

    :param x: (..., N) real tensor.
    :param tau: temperature as a fraction of the standard deviation of each row.

    :return: (..., N) tensor in (0, 1), differentiable with respect to ``x``.
    """
    n = x.shape[-1]
    scale = x.detach().std(dim=-1, keepdim=True).clamp_min(1e-12) * tau  # (..., 1)
    diff = (x.unsqueeze(-1) - x.unsqueeze(-2)) / scale.unsqueeze(-1)  # (..., N, N)
    # The diagonal contributes sigmoid(0) = 1/2, the self half-rank.
    return (0.5 + torch.sigmoid(diff).sum(dim=-1)) / n
