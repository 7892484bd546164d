# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The ready windows of many updates, estimated together in batched forward passes.

Offline, nothing waits for an estimate, so the windows of consecutive updates are gathered
until they fill a batch of estimator rows and go through the node's
:func:`~infonet_ros.streams.batch_estimate.estimate_windows` together (a row's estimate does
not depend on its batch). The batch size is fixed, or chosen by timing the first passes
(:class:`~infonet_ros.offline.batch_tuner.BatchTuner`). On request each window is also
estimated with KSG (``--ksg``, scalar pairs) and with y permuted in time (``--shuffle-control``,
which should read about 0).
"""

from __future__ import annotations

from dataclasses import dataclass
import math
import time

import numpy as np

from infonet_ros.offline.batch_tuner import BatchTuner
from infonet_ros.streams.batch_estimate import estimate_windows, PairEstimate
from infonet_ros.streams.window_engine import Window

# ``batch_rows`` value meaning "choose the rows per forward pass by timing the first passes":
# the best size depends on the model and the machine, from 32 rows for 'default' on a 2-core
# CPU to thousands on a GPU.
AUTO_BATCH_ROWS = 0
# Neighbours of the KSG comparison (the usual choice, and scikit-learn's default).
KSG_NEIGHBORS = 3


@dataclass
class Record:
    """One estimate of an analysis: a pair's window at one update, and its comparisons."""

    update: int  # index of the update, from 1
    time: float  # update time [s] (receive clock of the bag)
    estimate: PairEstimate  # the node's estimate of the window
    mi_ksg: float = math.nan  # KSG on the same window (with ksg, scalar pairs only)
    mi_shuffled: float = math.nan  # the window with y permuted in time (with shuffle_control)


def shuffled_window(window: Window, rng: np.random.Generator) -> Window:
    """Return the window with its y samples permuted in time (x and stamps kept)."""
    perm = rng.permutation(window.n)
    return Window(window.pair, window.stamps, window.x, window.y[perm])


class WindowBatcher:
    """
    Gathers the windows of many updates into forward passes; KSG and control on request.

    :param estimator: an :class:`~infonet_ros.core.estimator.InfoNetEstimator`.
    :param cfg: the NodeConfig (``n_slices``, ``slice_seed``, its uncertainty options).
    :param batch_rows: estimator rows per forward pass, or :data:`AUTO_BATCH_ROWS`.
    :param ksg: also estimate every scalar window with KSG.
    :param shuffle_control: also estimate every window with y permuted in time.
    :param seed: seed of the permutations (one generator per window, so that the control does
        not depend on the batching).

        batcher = WindowBatcher(estimator, cfg)
        for update, (t, windows) in enumerate(updates, start=1):
            batcher.add(update, t, windows)
        batcher.flush()
        batcher.records  # one Record per window, in order
    """

    def __init__(self, estimator, cfg, batch_rows: int = AUTO_BATCH_ROWS, ksg: bool = False,
                 shuffle_control: bool = False, seed: int = 0):
        self.estimator, self.cfg = estimator, cfg
        self.uncertainty = cfg.uncertainty_options()
        self.fixed_rows = max(int(batch_rows), 0)
        self.tuner = None if self.fixed_rows else BatchTuner()
        self.ksg, self.shuffle_control, self.seed = ksg, shuffle_control, seed
        self.pending = []  # (update, time, window, index of the window in its update)
        self.rows = 0  # estimator rows of the pending windows
        self.records: list[Record] = []
        self.infonet_s = self.ksg_s = self.control_s = 0.0
        self.n_ksg = 0

    @property
    def batch_rows(self) -> int:
        """Rows of the next forward pass."""
        return self.fixed_rows or self.tuner.size

    def add(self, update: int, t: float, windows) -> None:
        """Queue the ready windows of one update; estimate the queue once it fills a batch."""
        for k, w in enumerate(windows):
            self.pending.append((update, t, w, k))
            # A vector pair is n_slices rows of the batch (sliced MI), a scalar pair one,
            # with the rows of their uncertainty.
            if self.uncertainty is None:
                self.rows += self.cfg.n_slices if w.pair.sliced else 1
            else:
                self.rows += self.uncertainty.rows(self.cfg.n_slices, w.pair.sliced)
        if self.rows >= self.batch_rows:
            self.flush()

    def flush(self) -> None:
        """Estimate the queued windows (the last, partial batch included)."""
        if not self.pending:
            return
        cfg = self.cfg
        windows = [p[2] for p in self.pending]
        t0 = time.perf_counter()
        estimates, _ = estimate_windows(self.estimator, windows, cfg.n_slices, cfg.slice_seed,
                                        self.uncertainty)
        elapsed = time.perf_counter() - t0
        self.infonet_s += elapsed
        if self.tuner is not None:
            self.tuner.record(self.rows, elapsed)
        records = [Record(u, t, e) for (u, t, _, _), e in zip(self.pending, estimates)]
        if self.shuffle_control:
            self._add_control(records)
        if self.ksg:
            self._add_ksg(records, windows)
        self.records.extend(records)
        self.pending, self.rows = [], 0

    def _add_control(self, records) -> None:
        t0 = time.perf_counter()
        shuffled = [shuffled_window(w, np.random.default_rng([self.seed, u, k]))
                    for u, _, w, k in self.pending]
        control, _ = estimate_windows(self.estimator, shuffled, self.cfg.n_slices,
                                      self.cfg.slice_seed)
        for r, c in zip(records, control):
            r.mi_shuffled = c.mi
        self.control_s += time.perf_counter() - t0

    def _add_ksg(self, records, windows) -> None:
        from infonet_ros.core.ksg import ksg_mi  # scikit-learn, only with --ksg
        t0 = time.perf_counter()
        for r, w in zip(records, windows):
            if not w.pair.sliced:
                r.mi_ksg = ksg_mi(w.x[:, 0], w.y[:, 0], n_neighbors=KSG_NEIGHBORS)
                self.n_ksg += 1
        self.ksg_s += time.perf_counter() - t0

    def timings(self, total_s: float) -> dict:
        """Return where the time of an analysis of ``total_s`` seconds went."""
        work = self.infonet_s + self.ksg_s + self.control_s
        return {'total_s': total_s, 'infonet_s': self.infonet_s, 'ksg_s': self.ksg_s,
                'control_s': self.control_s, 'ksg_windows': self.n_ksg,
                'read_and_pair_s': total_s - work}

    def options(self) -> dict:
        """Return the batching and comparisons of the run, as the summary reports them."""
        out = {'ksg': self.ksg, 'shuffle_control': self.shuffle_control,
               'batch_rows': self.fixed_rows or f'auto ({self.batch_rows})',
               'batch_rows_used': self.batch_rows,
               # What 'auto' resolved to on this machine: estimates differ between machines
               # with and without bfloat16 instructions (docs/jetson.md, Precision).
               'precision': getattr(self.estimator, 'precision', 'fp32'),
               'backend': getattr(self.estimator, 'backend', 'torch')}
        if self.tuner is not None:  # what the search measured: ms per row by batch size
            out['batch_ms_per_row'] = {k: round(v * 1e3, 4)
                                       for k, v in self.tuner.costs.items()}
        return out
