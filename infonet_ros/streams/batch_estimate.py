# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
MI of many windows in one batched forward pass (no ROS).

Scalar pairs are one row each. A vector-valued pair (a side with several fields) is projected
on ``n_slices`` random directions per side (:func:`infonet_ros.core.sliced.project_slices`, seeded,
so the directions stay the same from one update to the next) and contributes those rows; its
estimate is the mean over its slices (sliced MI, not the MI of the vectors). All rows of one
window length share a single ``InfoNetEstimator.estimate_batch`` call.

A window that cannot be estimated (a non-finite value, which the engine drops before it gets
here, or fewer than ``MIN_SAMPLES`` pairs) gets NaN instead of failing the whole batch.
"""

from __future__ import annotations

from dataclasses import dataclass
import math
import time
from typing import NamedTuple

import numpy as np

from infonet_ros.core.limits import DEFAULT_N_PERMUTATIONS, MIN_SAMPLES


@dataclass
class PairEstimate:
    """The estimate of one pair over one window."""

    pair: object  # infonet_ros.streams.pairs.PairSpec
    mi: float  # nats; NaN when the window could not be estimated
    window_start: float  # stamp of the oldest pair [s]
    window_end: float  # stamp of the newest pair [s]
    sample_count: int
    n_slices: int  # 0 for a scalar pair
    inference_latency: float  # wall time of the batched forward pass [s]
    p_value: float = math.nan
    mi_lower: float = math.nan
    mi_upper: float = math.nan

    @property
    def method(self) -> str:
        """'infonet' or 'infonet-sliced'."""
        return 'infonet-sliced' if self.n_slices else 'infonet'


def window_rows(window, n_slices: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """
    Return the (R, N) x and y rows of a window: 1 row, or n_slices for a vector pair.

    :raises ValueError: a vector side with NaN/inf or too few samples (from project_slices).
    """
    x, y = np.asarray(window.x, dtype=float), np.asarray(window.y, dtype=float)
    if not window.pair.sliced:
        return x.T, y.T
    from infonet_ros.core.sliced import project_slices
    xs, ys = project_slices(x, y, n_slices, seed)
    return np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)


def estimate_windows(estimator, windows, n_slices: int = 64, seed: int = 0,
                     p_value: bool = False,
                     n_permutations: int = DEFAULT_N_PERMUTATIONS):
    """
    Estimate every window with one forward pass per distinct window length.

    :param estimator: an :class:`infonet_ros.core.estimator.InfoNetEstimator`.
    :param windows: list of :class:`infonet_ros.streams.window_engine.Window`.
    :param n_slices: projections per vector-valued pair.
    :param seed: seed of the projections.
    :param p_value: also compute a permutation p-value for sliced pairs (extra forward passes,
        timed separately from ``inference_latency``).
    :param n_permutations: permutations of that test.

    :return: (list of PairEstimate in the order of ``windows``, seconds spent in forward passes).
    """
    if not windows:
        return [], 0.0
    groups, usable_vectors = _row_groups(windows, n_slices, seed)
    mi = np.full(len(windows), np.nan)
    t0 = time.perf_counter()
    for parts in groups.values():
        out = estimator.estimate_batch(np.concatenate([p.x for p in parts]),
                                       np.concatenate([p.y for p in parts]))
        idx = np.concatenate([p.windows for p in parts]).astype(int)
        counts = np.concatenate([p.rows_per_window for p in parts]).astype(int)
        # A window's estimate is the mean over its rows (its slices; a scalar pair has one).
        mi[idx] = np.add.reduceat(out, np.cumsum(counts) - counts) / counts
    latency = time.perf_counter() - t0
    result = []
    for i, w in enumerate(windows):
        est = PairEstimate(w.pair, float(mi[i]), w.start, w.end, w.n,
                           n_slices if w.pair.sliced else 0, latency)
        if p_value and i in usable_vectors:
            est.p_value = _p_value(estimator, w, n_slices, seed, n_permutations)
        result.append(est)
    return result, latency


class _RowGroup(NamedTuple):
    """Estimator rows of some windows of one length, estimated in the same pass."""

    windows: np.ndarray  # (k,) indices of the windows
    rows_per_window: np.ndarray  # (k,) rows of each window: 1, or its slices
    x: np.ndarray  # (rows, N)
    y: np.ndarray  # (rows, N)


def _row_groups(windows, n_slices: int, seed: int) -> tuple[dict[int, list], set]:
    """
    Return {window length: [_RowGroup]} of the usable windows, and the usable sliced ones.

    Scalar pairs (one row each) are stacked and checked in bulk: an offline analysis sends
    thousands of windows, and checking them one by one showed up beside the fast model's
    forward passes in a profile of the walking-bag analysis.
    """
    groups: dict[int, list] = {}
    scalar: dict[int, list[int]] = {}  # window length -> indices of scalar windows
    usable_vectors = set()  # sliced pairs with rows (the p-value needs them too)
    for i, w in enumerate(windows):
        if not w.pair.sliced:
            scalar.setdefault(w.x.shape[0], []).append(i)
            continue
        rows = _usable_rows(w, n_slices, seed)  # None: NaN for that window
        if rows is not None:
            usable_vectors.add(i)
            xr, yr = rows
            groups.setdefault(xr.shape[1], []).append(
                _RowGroup(np.array([i]), np.array([xr.shape[0]]), xr, yr))
    for n, idx in scalar.items():
        if n < MIN_SAMPLES:
            continue
        xb = np.stack([windows[i].x[:, 0] for i in idx]).astype(float, copy=False)  # (k, n)
        yb = np.stack([windows[i].y[:, 0] for i in idx]).astype(float, copy=False)
        ok = np.isfinite(xb).all(axis=1) & np.isfinite(yb).all(axis=1)  # (k,)
        if ok.any():
            groups.setdefault(n, []).append(
                _RowGroup(np.asarray(idx)[ok], np.ones(int(ok.sum()), dtype=int), xb[ok],
                          yb[ok]))
    return groups, usable_vectors


def _usable_rows(window, n_slices, seed):
    """Return the window's rows, or None when they cannot go into the batch."""
    try:
        xr, yr = window_rows(window, n_slices, seed)
    except ValueError:
        return None
    if xr.shape[1] < MIN_SAMPLES or not (np.isfinite(xr).all() and np.isfinite(yr).all()):
        return None
    return xr, yr


def _p_value(estimator, window, n_slices, seed, n_permutations) -> float:
    from infonet_ros.core.independence import independence_test
    res = independence_test(window.x, window.y, estimator=estimator, n_slices=n_slices,
                            n_permutations=n_permutations, seed=seed)
    return float(res.p_value)
