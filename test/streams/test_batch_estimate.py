# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Batched estimation of ready windows: one forward pass, same numbers as the library."""

import inspect
import math

import numpy as np
import pytest

from infonet_ros import independence_test, sliced_mi
from infonet_ros.core.estimator import InfoNetEstimator
from infonet_ros.streams.batch_estimate import estimate_windows, window_rows
from infonet_ros.streams.node_config import NodeConfig
from infonet_ros.streams.pairs import parse_pairs
from infonet_ros.streams.window_engine import Window

TOPICS = ['/a=test_msgs/msg/A', '/b=test_msgs/msg/B']


class CountingEstimator(InfoNetEstimator):
    """The real estimator, recording the shape of every batched forward pass."""

    def __init__(self, base):
        super().__init__(base.model, base.device, base.provenance)
        self.passes = []

    def estimate_batch(self, x, y):
        self.passes.append(np.shape(x))
        return super().estimate_batch(x, y)


@pytest.fixture(scope='module')
def base_estimator():
    return InfoNetEstimator.from_pretrained(device='cpu')


@pytest.fixture
def estimator(base_estimator):
    return CountingEstimator(base_estimator)


def gaussian(n, rho, rng, dims=1):
    x = rng.standard_normal((n, dims))
    y = rho * x + math.sqrt(1 - rho * rho) * rng.standard_normal((n, dims))
    return x, y


def make_window(spec, x, y, t0=100.0):
    n = len(x)
    return Window(spec, t0 + 0.01 * np.arange(n), np.asarray(x).reshape(n, -1),
                  np.asarray(y).reshape(n, -1))


def specs(*pairs):
    return parse_pairs(TOPICS, list(pairs))


def test_scalar_windows_share_one_pass_and_equal_single_estimates(estimator):
    rng = np.random.default_rng(0)
    p = specs('/a:x ~ /b:x', '/a:y ~ /b:y', '/a:z ~ /a:x')
    data = [gaussian(1000, r, rng) for r in (0.9, 0.0, 0.6)]
    windows = [make_window(s, *d) for s, d in zip(p, data)]
    ests, latency = estimate_windows(estimator, windows)
    assert estimator.passes == [(3, 1000)]
    assert latency > 0
    for e, (x, y), w in zip(ests, data, windows):
        assert e.mi == pytest.approx(estimator.estimate(x[:, 0], y[:, 0]), abs=1e-6)
        assert (e.window_start, e.window_end, e.sample_count) == (w.start, w.end, 1000)
        assert e.n_slices == 0 and e.method == 'infonet' and math.isnan(e.p_value)
        assert e.inference_latency == latency


def test_dependent_clearly_above_independent(estimator):
    rng = np.random.default_rng(1)
    p = specs('/a:x ~ /b:x', '/a:y ~ /b:y')
    (dep, ind), _ = estimate_windows(estimator, [make_window(p[0], *gaussian(1000, 0.9, rng)),
                                                 make_window(p[1], *gaussian(1000, 0.0, rng))])
    truth = -0.5 * math.log(1 - 0.81)  # 0.830 nats
    assert dep.mi == pytest.approx(truth, abs=0.15)
    assert abs(ind.mi) < 0.1
    assert dep.mi > ind.mi + 0.5


def test_windows_of_different_lengths_get_one_pass_per_length(estimator):
    rng = np.random.default_rng(2)
    p = specs('/a:x ~ /b:x', '/a:y ~ /b:y', '/a:z ~ /b:z')
    windows = [make_window(p[0], *gaussian(200, 0.8, rng)),
               make_window(p[1], *gaussian(500, 0.8, rng)),
               make_window(p[2], *gaussian(200, 0.0, rng))]
    ests, _ = estimate_windows(estimator, windows)
    assert sorted(estimator.passes) == [(1, 500), (2, 200)]
    for e, w in zip(ests, windows):
        assert e.mi == pytest.approx(estimator.estimate(w.x[:, 0], w.y[:, 0]), abs=1e-6)


def test_sliced_pairs_join_the_same_pass_and_equal_sliced_mi(estimator):
    rng = np.random.default_rng(3)
    p = specs('/a:x ~ /b:x', '/a:x,y,z ~ /b:x,y')
    xs, ys = gaussian(600, 0.8, rng, dims=3)
    windows = [make_window(p[0], *gaussian(600, 0.5, rng)),
               make_window(p[1], xs, ys[:, :2])]
    ests, _ = estimate_windows(estimator, windows, n_slices=16, seed=7)
    assert estimator.passes == [(1 + 16, 600)]
    scalar, sliced = ests
    assert sliced.n_slices == 16 and sliced.method == 'infonet-sliced'
    assert scalar.n_slices == 0
    expected = sliced_mi(xs, ys[:, :2], n_slices=16, seed=7, estimator=estimator)
    assert sliced.mi == pytest.approx(expected, abs=1e-6)
    rows = window_rows(windows[1], 16, 7)
    assert rows[0].shape == (16, 600)


def test_p_value_for_sliced_pairs_only(estimator):
    rng = np.random.default_rng(4)
    p = specs('/a:x ~ /b:x', '/a:x,y ~ /b:x,y')
    xv, yv = gaussian(300, 0.9, rng, dims=2)
    windows = [make_window(p[0], *gaussian(300, 0.9, rng)), make_window(p[1], xv, yv)]
    ests, _ = estimate_windows(estimator, windows, n_slices=4, seed=1, p_value=True,
                               n_permutations=9)
    assert math.isnan(ests[0].p_value)
    expected = independence_test(xv, yv, n_slices=4, n_permutations=9, seed=1,
                                 estimator=estimator)
    assert ests[1].p_value == pytest.approx(expected.p_value)
    assert ests[1].p_value == pytest.approx(1 / 10)  # strong dependence beats every permutation


def test_non_finite_window_gets_nan_and_the_rest_still_estimates(estimator):
    rng = np.random.default_rng(5)
    p = specs('/a:x ~ /b:x', '/a:y ~ /b:y')
    x, y = gaussian(300, 0.9, rng)
    bad_x = x.copy()
    bad_x[10, 0] = np.nan
    ests, _ = estimate_windows(estimator, [make_window(p[0], bad_x, y),
                                           make_window(p[1], x, y)])
    assert math.isnan(ests[0].mi)
    assert ests[1].mi == pytest.approx(estimator.estimate(x[:, 0], y[:, 0]), abs=1e-6)


def test_bad_vector_and_short_windows_get_nan_and_the_rest_still_estimates(estimator):
    rng = np.random.default_rng(7)
    p = specs('/a:x,y ~ /b:x', '/a:x ~ /b:x', '/a:y ~ /b:y')
    xv, yv = gaussian(300, 0.9, rng, dims=2)
    bad = xv.copy()
    bad[3, 1] = np.inf
    xs, ys = gaussian(20, 0.9, rng)  # fewer than MIN_SAMPLES pairs
    good_x, good_y = gaussian(300, 0.9, rng)
    ests, _ = estimate_windows(estimator, [make_window(p[0], bad, yv[:, :1]),
                                           make_window(p[1], xs, ys),
                                           make_window(p[2], good_x, good_y)], n_slices=4)
    assert math.isnan(ests[0].mi) and ests[0].n_slices == 4
    assert math.isnan(ests[1].mi) and ests[1].sample_count == 20
    assert ests[2].mi == pytest.approx(estimator.estimate(good_x[:, 0], good_y[:, 0]),
                                       abs=1e-6)
    assert estimator.passes == [(1, 300)]


def test_constant_window_is_zero_and_nothing_to_do_is_free(estimator):
    rng = np.random.default_rng(6)
    (p,) = specs('/a:x ~ /b:x')
    x = np.ones(100)
    (e,), _ = estimate_windows(estimator, [make_window(p, x, rng.standard_normal(100))])
    assert e.mi == 0.0
    assert estimate_windows(estimator, []) == ([], 0.0)
    assert estimator.passes == [(1, 100)]


def test_permutation_default_is_the_librarys():
    # The node's p-value of a sliced pair is the library's independence test, same default.
    def default(fn):
        return inspect.signature(fn).parameters['n_permutations'].default

    assert default(estimate_windows) == default(independence_test)
    assert NodeConfig.from_params({}).n_permutations == default(independence_test)
