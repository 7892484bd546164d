# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Series longer than the model's training sets: read as interleaved subsets and averaged.

A network fed sets far larger than any it saw reads low (5-10 % at N = 30,000-100,000 on
Gaussians). A series longer than ``max_set_size`` (the largest N of the model's training,
2048 for the shipped models) is therefore split into interleaved subsets of at most that
size (samples i, i + k, i + 2k, ...: every part of a time-ordered window, not one stretch of
it), all estimated in the same batch, and the estimate is their mean weighted by length.
Each subset is ranked on its own, so its marginals are uniform as the readout assumes.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch

from infonet_ros.core.limits import MIN_SAMPLES

# Longest set one forward pass reads when a checkpoint does not say which N it was trained on
# (its provenance's n_range).
DEFAULT_MAX_SET_SIZE = 2048


def max_set_size_of(value, provenance: dict) -> int:
    """
    Resolve and check an estimator's ``max_set_size``; ValueError naming a bad value.

    None: the largest N of the model's training (provenance ``n_range``), else
    ``DEFAULT_MAX_SET_SIZE``; 0: never split; otherwise at least 2 * MIN_SAMPLES.
    """
    if value is None:
        n_range = provenance.get('n_range')
        try:
            value = int(n_range[1])
        except (TypeError, ValueError, IndexError):
            value = DEFAULT_MAX_SET_SIZE
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f'max_set_size must be an integer, got {value!r}')
    if value != 0 and value < 2 * MIN_SAMPLES:
        raise ValueError(f'max_set_size must be 0 (never split) or at least '
                         f'{2 * MIN_SAMPLES}, got {value}')
    return int(value)


def interleaved_subsets(n: int, max_size: int) -> list[np.ndarray]:
    """
    Split positions 0..n-1 into k >= ceil(n / max_size) interleaved subsets, grouped by length.

    Subset i holds positions i, i + k, i + 2k, ...; every position is in exactly one subset.
    k is the smallest count from ceil(n / max_size) to twice that which divides n, so that
    all subsets have one length and go through the network in one pass (5,000 -> 4 x 1,250;
    100,000 -> 50 x 2,000); if none does, k = ceil(n / max_size) and the first n mod k
    subsets are one longer than the rest (two groups, two passes).

    :return: index arrays of shape (subsets, length); one (1, n) array when n <= max_size.
    """
    k = -(-n // max_size)
    k = next((j for j in range(k, 2 * k + 1) if n % j == 0), k)
    m, r = divmod(n, k)
    groups = []
    if r:
        groups.append(np.arange(r)[:, None] + k * np.arange(m + 1))  # (r, m + 1)
    groups.append(np.arange(r, k)[:, None] + k * np.arange(m))  # (k - r, m)
    return groups


def _groups(n: int, max_set_size: int) -> list[np.ndarray] | None:
    """Index groups of the subsets a series of length n is read as; None: read whole."""
    if max_set_size == 0 or n <= max_set_size:
        return None
    return interleaved_subsets(n, max_set_size)


def subset_mean(xy: np.ndarray, max_set_size: int,
                sets_mi: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """
    MI of (B, 2, N) pairs -> (B,): ``sets_mi`` of the whole rows, or of their subsets, averaged.

    ``sets_mi`` maps (R, 2, M) sets to (R,) estimates; all subsets of one length go to it in
    one call.
    """
    n = xy.shape[-1]
    groups = _groups(n, max_set_size)
    if groups is None:
        return sets_mi(xy)
    mi = np.zeros(xy.shape[0])
    for idx in groups:
        sub = xy[:, :, idx]  # (B, 2, S, M): S interleaved subsets of M samples
        sets = sub.transpose(0, 2, 1, 3).reshape(-1, 2, idx.shape[1])  # (B * S, 2, M)
        part = sets_mi(sets).reshape(xy.shape[0], -1)  # (B, S)
        mi += part.sum(1) * (idx.shape[1] / n)  # (B,)
    return mi


def subset_mean_torch(x: torch.Tensor, y: torch.Tensor, max_set_size: int,
                      sets_mi: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
                      ) -> torch.Tensor:
    """:func:`subset_mean` for (B, N) tensors x and y, differentiable: -> (B,)."""
    n = x.shape[-1]
    groups = _groups(n, max_set_size)
    if groups is None:
        return sets_mi(x, y)  # (B,)
    mi = 0.0
    for idx in groups:
        ix = torch.from_numpy(idx).to(x.device)
        part = sets_mi(x[:, ix].flatten(0, 1), y[:, ix].flatten(0, 1))  # (B * S,)
        mi = mi + part.view(x.shape[0], -1).sum(1) * (idx.shape[1] / n)  # (B,)
    return mi
