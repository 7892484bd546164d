# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Copula (rank) transforms: hard ranks for inference, soft ranks for gradients.

InfoNet reads every coordinate through its empirical CDF, so the network only ever sees
uniform marginals on (0, 1]. That makes the estimate invariant to any strictly monotone
transform of either variable, as mutual information is.
"""

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
    s, _ = torch.sort(x, dim=-1)  # (..., N)
    lo = torch.searchsorted(s, x.contiguous(), right=False)  # (..., N) count of values < x
    hi = torch.searchsorted(s, x.contiguous(), right=True)  # (..., N) count of values <= x
    # 1-based ranks lo+1 .. hi share the mean (lo + 1 + hi) / 2.
    return (lo + hi + 1).to(torch.get_default_dtype() if not x.is_floating_point()
                            else x.dtype) / (2.0 * n)


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
