# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Run the rows of a batch on several CPU threads, each with one torch intra-op thread.

Why: InfoNet's forward pass is a chain of small operations (widths of 32-64, sets of a few
hundred points). Torch parallelizes each operation over its intra-op threads, and at these
sizes the synchronization after every operation eats much of the gain. Rows of a batch are
independent, so giving each thread its own share of the rows, computed end to end on one
intra-op thread, keeps the cores busy without that synchronization
(``benchmarks/estimator_speed.py`` measures both ways). The threads run in parallel because
numpy's sort and a TorchScript trace release the GIL. Eager passes run Python between their
operations, which the threads queue for on the GIL: slower with the small ``fast`` model,
so the estimator shares rows by default only for traced passes (``jit``).

Each row's result does not depend on how the batch was split (rows never interact), so
estimates are the same with any number of workers (tested).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
import os
import threading

import numpy as np
import torch

# Fewest rows a worker gets: below this, splitting costs more than it gains.
MIN_ROWS_PER_WORKER = 2


def split_counts(n_rows: int, workers: int) -> list[int]:
    """
    Rows per chunk: at most ``workers`` chunks of at least MIN_ROWS_PER_WORKER rows each.

    Sizes differ by at most one; a batch too small to split is one chunk.
    """
    k = max(1, min(workers, n_rows // MIN_ROWS_PER_WORKER))
    base, extra = divmod(n_rows, k)
    return [base + (i < extra) for i in range(k)]


def check_workers(workers) -> int | str:
    """Return a valid ``workers`` argument ('auto' or a positive int) or raise ValueError."""
    if workers == 'auto':
        return workers
    if isinstance(workers, bool) or not isinstance(workers, (int, np.integer)) \
            or workers < 1:
        raise ValueError(f"workers must be a positive integer or 'auto', got {workers!r}")
    return int(workers)


class RowPool:
    """
    Threads that each compute a share of a batch's rows.

    ``map_rows(fn, workers, *arrays)`` splits the first axis of every array the same way,
    calls ``fn`` on each share (one share on the calling thread, the others on pool threads)
    and concatenates the results in order. With one worker, or a batch too small to split,
    ``fn`` runs once on the calling thread, exactly as without a pool. Threads start at the
    first split and stay (idle) until ``close`` or until the pool is garbage-collected.
    """

    def __init__(self):
        self._pool = None
        self._size = 0
        self._pid = None
        self._lock = threading.Lock()

    def map_rows(self, fn, workers: int, *arrays):
        """Return ``fn`` over at most ``workers`` row shares of ``arrays``, concatenated."""
        counts = split_counts(len(arrays[0]), workers)
        if len(counts) == 1:
            return fn(*arrays)
        bounds = np.cumsum([0] + counts)
        shares = [[a[bounds[i]:bounds[i + 1]] for a in arrays] for i in range(len(counts))]
        with self._lock:  # submitted before another caller can replace the pool
            pool = self._executor(len(counts) - 1)
            futures = [pool.submit(_one_thread, fn, *s) for s in shares[1:]]
        first = _one_thread(fn, *shares[0])
        parts = [first] + [f.result() for f in futures]
        if isinstance(first, torch.Tensor):
            return torch.cat(parts)
        return np.concatenate(parts)

    def _executor(self, threads: int) -> ThreadPoolExecutor:
        """Return a pool of at least ``threads`` threads (call with the lock held)."""
        # A forked child inherits the pool object but not its threads: start new ones.
        if self._pool is None or self._pid != os.getpid() or self._size < threads:
            old = self._pool if self._pid == os.getpid() else None
            self._pool = ThreadPoolExecutor(threads, thread_name_prefix='infonet_rows')
            self._size, self._pid = threads, os.getpid()
            if old is not None:
                old.shutdown(wait=False)  # work already submitted still runs, then it exits
        return self._pool

    def close(self) -> None:
        """Stop the pool threads (a later split starts new ones)."""
        with self._lock:
            if self._pool is not None and self._pid == os.getpid():
                self._pool.shutdown(wait=True)
            self._pool, self._size = None, 0


def _one_thread(fn, *args):
    """Call ``fn`` with torch on one intra-op thread in this thread, then restore it."""
    # torch.set_num_threads acts on the calling thread (its OpenMP settings) and also sets
    # the default of threads that start using torch later: restore both afterwards, so the
    # caller and threads started later see what they saw before.
    before = torch.get_num_threads()
    if before == 1:
        return fn(*args)
    torch.set_num_threads(1)
    try:
        return fn(*args)
    finally:
        torch.set_num_threads(before)
