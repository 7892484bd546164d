# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Rows of a batch shared by threads: splits, order, torch threads, and equal estimates."""

import multiprocessing
import threading

import numpy as np
import pytest
import torch

from infonet_ros.core.estimator import InfoNetEstimator
from infonet_ros.core.row_pool import check_workers, MIN_ROWS_PER_WORKER, RowPool, split_counts


@pytest.mark.parametrize('n_rows, workers, expected', [
    (1, 4, [1]),
    (3, 2, [3]),  # 3 // MIN_ROWS_PER_WORKER = 1 chunk
    (4, 2, [2, 2]),
    (5, 2, [3, 2]),
    (16, 3, [6, 5, 5]),
    (7, 1, [7]),
    (9, 8, [3, 2, 2, 2]),
])
def test_split_counts(n_rows, workers, expected):
    assert MIN_ROWS_PER_WORKER == 2
    counts = split_counts(n_rows, workers)
    assert counts == expected and sum(counts) == n_rows


@pytest.mark.parametrize('bad', [0, -1, 1.5, True, '2', None])
def test_workers_must_be_auto_or_a_positive_integer(bad):
    with pytest.raises(ValueError, match='workers'):
        check_workers(bad)
    with pytest.raises(ValueError, match='workers'):
        InfoNetEstimator.from_pretrained('fast', device='cpu', workers=bad)


def test_map_rows_keeps_the_order_and_uses_the_threads():
    pool = RowPool()
    seen = []
    together = threading.Barrier(3, timeout=30)  # passes only if 3 shares run at once

    def fn(a, b):
        seen.append((threading.current_thread().name, torch.get_num_threads(), len(a)))
        together.wait()
        return a * 10 + b

    a, b = np.arange(10), np.arange(10) % 3
    try:
        out = pool.map_rows(fn, 3, a, b)
        np.testing.assert_array_equal(out, a * 10 + b)
        assert sorted(n for *_, n in seen) == [3, 3, 4]
        assert {t for _, t, _ in seen} == {1}  # one intra-op thread per share
        names = {name for name, *_ in seen}
        assert threading.current_thread().name in names  # the caller computes a share too
        assert sum(name.startswith('infonet_rows') for name in names) == 2
        seen.clear()
        t = pool.map_rows(lambda r: r.sum(1), 2, torch.ones(6, 4))  # torch results: cat
        assert torch.equal(t, torch.full((6,), 4.0))
    finally:
        pool.close()


def test_a_small_batch_runs_on_the_calling_thread_unchanged():
    pool = RowPool()
    before = torch.get_num_threads()
    seen = []
    out = pool.map_rows(lambda a: seen.append((threading.current_thread().name,
                                               torch.get_num_threads())) or a + 1,
                        8, np.zeros(1))
    assert out.tolist() == [1.0]
    assert seen == [(threading.current_thread().name, before)]
    assert pool._pool is None  # no thread started


def test_torch_threads_of_the_caller_and_of_later_threads_are_restored():
    before = torch.get_num_threads()
    if before < 2:
        torch.set_num_threads(2)
    try:
        want = torch.get_num_threads()
        pool = RowPool()
        pool.map_rows(lambda a: a, 2, np.zeros(8))
        assert torch.get_num_threads() == want
        later = []
        t = threading.Thread(target=lambda: later.append(torch.get_num_threads()))
        t.start()
        t.join()
        assert later == [want]  # a thread that starts using torch now gets the default
        pool.close()
    finally:
        torch.set_num_threads(before)


def test_an_exception_in_a_share_reaches_the_caller():
    pool = RowPool()

    def fn(a):
        if a[0] >= 4:
            raise ValueError('bad share')
        return a

    try:
        with pytest.raises(ValueError, match='bad share'):
            pool.map_rows(fn, 2, np.arange(8))
        np.testing.assert_array_equal(pool.map_rows(lambda a: a, 2, np.arange(8)),
                                      np.arange(8))
    finally:
        pool.close()


@pytest.fixture(scope='module')
def batch():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((13, 300))
    y = 0.6 * x + rng.standard_normal((13, 300))
    x[4] = 1.5  # a constant row: exactly 0, no network call
    y[7] = np.round(y[7])  # ties
    return x, y


@pytest.mark.parametrize('jit', [False, True])
def test_estimates_do_not_depend_on_the_workers(batch, jit):
    x, y = batch
    ref = InfoNetEstimator.from_pretrained('fast', device='cpu', jit=jit, workers=1)
    want = ref.estimate_batch(x, y)
    assert want[4] == 0.0 and np.all(want[[0, 1, 2, 3, 5]] > 0.05)
    for workers in (2, 3, 'auto'):
        est = InfoNetEstimator.from_pretrained('fast', device='cpu', jit=jit, workers=workers)
        np.testing.assert_allclose(est.estimate_batch(x, y), want, rtol=0, atol=1e-6)
        assert est.estimate(x[0], y[0]) == pytest.approx(want[0], abs=1e-6)


def test_auto_follows_the_torch_threads_of_the_calling_thread_when_traced():
    est = InfoNetEstimator.from_pretrained('fast', device='cpu', jit=True)
    eager = InfoNetEstimator.from_pretrained('fast', device='cpu')
    assert est.workers == eager.workers == 'auto'
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(3)
        assert est.worker_count() == 3
        assert eager.worker_count() == 1  # eager passes hold the GIL between operations
        torch.set_num_threads(1)
        assert est.worker_count() == 1
    finally:
        torch.set_num_threads(before)
    assert InfoNetEstimator.from_pretrained('fast', device='cpu', workers=5).worker_count() == 5


def _child_estimate(est, x, y, queue):
    queue.put(est.estimate_batch(x, y).tolist())


def test_a_forked_child_starts_its_own_threads(batch):
    x, y = batch
    est = InfoNetEstimator.from_pretrained('fast', device='cpu', workers=2)
    want = est.estimate_batch(x, y)  # the parent's pool threads now exist
    ctx = multiprocessing.get_context('fork')
    queue = ctx.Queue()
    child = ctx.Process(target=_child_estimate, args=(est, x, y, queue))
    child.start()
    got = queue.get(timeout=120)
    child.join(timeout=60)
    assert child.exitcode == 0
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-6)


def test_the_threads_end_with_the_estimator(batch):
    import gc
    import time

    def rows_threads():
        return [t for t in threading.enumerate() if t.name.startswith('infonet_rows')]
    gc.collect()  # pools of estimators of earlier tests end first
    time.sleep(0.2)
    before = len(rows_threads())
    est = InfoNetEstimator.from_pretrained('fast', device='cpu', jit=True, workers=3)
    est.estimate_batch(*batch)
    assert len(rows_threads()) == before + 2
    del est
    gc.collect()
    deadline = time.monotonic() + 10
    while len(rows_threads()) > before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(rows_threads()) <= before  # a node that swaps estimators leaks no threads
