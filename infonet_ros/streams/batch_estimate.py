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

With :class:`Uncertainty` options every estimated window also gets a p-value of
independence, a noise floor and an interval (:mod:`infonet_ros.core.uncertainty`; all windows
of one length in shared passes). A sliced pair's p-value and spread come from its first
``Uncertainty.slices`` projections (the mean over those is the tested statistic, exactly
valid, somewhat less powerful than the mean over all), and its interval is that spread
centred on the estimate over all ``n_slices`` projections: wider than the spread of the full
mean, so conservative.
"""

from __future__ import annotations

from dataclasses import dataclass
import math
import time
from typing import NamedTuple

import numpy as np

from infonet_ros.core.limits import MIN_SAMPLES


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
    p_value: float = math.nan  # of independence; NaN without uncertainty
    mi_lower: float = math.nan  # nats; NaN without interval
    mi_upper: float = math.nan
    noise_floor: float = math.nan  # 95th null percentile [nats]
    null: str = ''  # 'shift' or 'iid'; '' without uncertainty

    @property
    def method(self) -> str:
        """'infonet' or 'infonet-sliced'."""
        return 'infonet-sliced' if self.n_slices else 'infonet'


@dataclass(frozen=True)
class Uncertainty:
    """What :func:`estimate_windows` adds to each estimate (see the module doc)."""

    null: str = 'shift'  # 'shift' (time series) or 'iid'
    level: float = 0.9  # coverage of [mi_lower, mi_upper]
    null_draws: int = 19  # shifts of y ('shift'), permutations ('iid', sliced pairs)
    n_halves: int = 8  # half-samples of the interval (0: no interval)
    slices: int = 8  # projections of a sliced pair behind its p-value and interval
    null_table: str | None = None  # 'iid' table file; None: the model's shipped table

    def rows(self, n_slices: int, sliced: bool) -> int:
        """Estimator rows of one window with uncertainty (half-length rows count as one)."""
        if not sliced:
            return 1 + (self.null_draws if self.null == 'shift' else 0) + self.n_halves
        return n_slices + min(self.slices, n_slices) * (1 + self.null_draws + self.n_halves)


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
                     uncertainty: Uncertainty | None = None):
    """
    Estimate every window with one forward pass per distinct window length.

    :param estimator: an :class:`infonet_ros.core.estimator.InfoNetEstimator`.
    :param windows: list of :class:`infonet_ros.streams.window_engine.Window`.
    :param n_slices: projections per vector-valued pair.
    :param seed: seed of the projections, the permutations and the half-samples.
    :param uncertainty: also give each estimate a p-value, noise floor and interval (extra
        rows: :meth:`Uncertainty.rows`); None: those stay NaN.

    :return: (list of PairEstimate in the order of ``windows``, seconds spent in forward
        passes, the uncertainty's included).
    """
    if not windows:
        return [], 0.0
    groups = _row_groups(windows, n_slices, seed)
    mi = np.full(len(windows), np.nan)
    t0 = time.perf_counter()
    for parts in groups.values():
        if uncertainty is not None:  # scalar windows: estimated with their uncertainty
            parts = [p for p in parts if windows[p.windows[0]].pair.sliced]
            if not parts:
                continue
        out = estimator.estimate_batch(np.concatenate([p.x for p in parts]),
                                       np.concatenate([p.y for p in parts]))
        idx = np.concatenate([p.windows for p in parts]).astype(int)
        counts = np.concatenate([p.rows_per_window for p in parts]).astype(int)
        # A window's estimate is the mean over its rows (its slices; a scalar pair has one).
        mi[idx] = np.add.reduceat(out, np.cumsum(counts) - counts) / counts
    result = [PairEstimate(w.pair, float(mi[i]), w.start, w.end, w.n,
                           n_slices if w.pair.sliced else 0, 0.0)
              for i, w in enumerate(windows)]
    if uncertainty is not None:
        _add_uncertainty(estimator, groups, result, uncertainty, seed)
    latency = time.perf_counter() - t0
    for est in result:
        est.inference_latency = latency
    return result, latency


def _add_uncertainty(estimator, groups, result, opts: Uncertainty, seed: int) -> None:
    """Fill p_value, noise_floor, mi_lower, mi_upper of the estimated windows."""
    from infonet_ros.core.uncertainty import estimate_batch_with_uncertainty, interval
    for parts in groups.values():
        # Windows of one length and one row count share a call (scalar: 1 row each).
        by_rows: dict[int, list] = {}
        for part in parts:
            start = 0
            for w, r in zip(part.windows, part.rows_per_window):
                k = min(int(r), opts.slices)
                by_rows.setdefault(k, []).append((int(w), part.x[start:start + k],
                                                  part.y[start:start + k]))
                start += int(r)
        for k, items in by_rows.items():
            xs = np.stack([x for _, x, _ in items])  # (G, k, N)
            ys = np.stack([y for _, _, y in items])
            res = estimate_batch_with_uncertainty(
                estimator, xs, ys, level=opts.level, null=opts.null,
                n_shifts=opts.null_draws, n_halves=opts.n_halves, seed=seed,
                null_table=opts.null_table)
            for (i, _, _), r in zip(items, res):
                est = result[i]
                if not est.n_slices:
                    est.mi = r.mi  # the same row as the plain pass, estimated once
                lower, upper, _ = interval(est.mi, r.sd, opts.level, opts.n_halves)
                if r.sd == 0.0:  # a constant side (core: no information)
                    lower = upper = 0.0
                est.p_value, est.noise_floor = r.p_value, r.noise_floor
                est.mi_lower, est.mi_upper, est.null = lower, upper, opts.null


class _RowGroup(NamedTuple):
    """Estimator rows of some windows of one length, estimated in the same pass."""

    windows: np.ndarray  # (k,) indices of the windows
    rows_per_window: np.ndarray  # (k,) rows of each window: 1, or its slices
    x: np.ndarray  # (rows, N)
    y: np.ndarray  # (rows, N)


def _row_groups(windows, n_slices: int, seed: int) -> dict[int, list]:
    """
    Return {window length: [_RowGroup]} of the usable windows.

    Scalar pairs (one row each) are stacked and checked in bulk: an offline analysis sends
    thousands of windows, and checking them one by one showed up beside the fast model's
    forward passes in a profile of the walking-bag analysis.
    """
    groups: dict[int, list] = {}
    scalar: dict[int, list[int]] = {}  # window length -> indices of scalar windows
    for i, w in enumerate(windows):
        if not w.pair.sliced:
            scalar.setdefault(w.x.shape[0], []).append(i)
            continue
        rows = _usable_rows(w, n_slices, seed)  # None: NaN for that window
        if rows is not None:
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
    return groups


def _usable_rows(window, n_slices, seed):
    """Return the window's rows, or None when they cannot go into the batch."""
    try:
        xr, yr = window_rows(window, n_slices, seed)
    except ValueError:
        return None
    if xr.shape[1] < MIN_SAMPLES or not (np.isfinite(xr).all() and np.isfinite(yr).all()):
        return None
    return xr, yr
