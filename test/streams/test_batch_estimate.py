# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Batched estimation of ready windows: one forward pass, same numbers as the library."""

import math

import numpy as np
import pytest

from infonet_ros import sliced_mi
from infonet_ros.core.estimator import InfoNetEstimator
from infonet_ros.core.uncertainty import (estimate_batch_with_uncertainty,
                                          estimate_with_uncertainty, interval)
from infonet_ros.streams.batch_estimate import estimate_windows, Uncertainty, window_rows
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


def ar1(n, phi, rng, dims=1):
    out = np.empty((n, dims))
    out[0] = rng.standard_normal(dims)
    for t in range(1, n):
        out[t] = phi * out[t - 1] + math.sqrt(1 - phi * phi) * rng.standard_normal(dims)
    return out


def test_uncertainty_of_scalar_pairs_is_the_librarys(estimator):
    rng = np.random.default_rng(4)
    p = specs('/a:x ~ /b:x', '/a:y ~ /b:y')
    data = [gaussian(300, 0.9, rng), (ar1(300, 0.9, rng), ar1(300, 0.9, rng))]
    windows = [make_window(spec, x, y) for spec, (x, y) in zip(p, data)]
    opts = Uncertainty(null='shift', level=0.9, null_draws=19, n_halves=8)
    ests, _ = estimate_windows(estimator, windows, uncertainty=opts)
    # Both windows and their 19 shifts in one pass, no separate plain pass; 8 half-samples
    # each: of single samples (150) and of blocks of the slow pair's dependence length.
    assert sorted(estimator.passes) == [(8, 144), (8, 150), (40, 300)]
    for e, (x, y) in zip(ests, data):
        r = estimate_with_uncertainty(estimator, x[:, 0], y[:, 0], level=0.9, null='shift',
                                      n_shifts=19, n_halves=8, seed=0)
        assert (e.mi, e.p_value, e.noise_floor) == pytest.approx((r.mi, r.p_value,
                                                                 r.noise_floor), abs=1e-9)
        assert (e.mi_lower, e.mi_upper) == pytest.approx((r.lower, r.upper), abs=1e-9)
        assert e.null == 'shift' and e.mi_lower <= e.mi <= e.mi_upper
    dep, slow = ests
    assert dep.p_value == pytest.approx(1 / 20)  # beats every shift
    assert slow.p_value > 0.05 and slow.mi < slow.noise_floor  # independent slow signals


def test_sliced_pairs_test_their_first_projections(estimator):
    rng = np.random.default_rng(7)  # fixed data: the independent pair's p-value is 0.15
    (p,) = specs('/a:x,y ~ /b:x,y')
    xv, yv = gaussian(300, 0.8, rng, dims=2)
    ind_x, ind_y = ar1(300, 0.9, rng, dims=2), ar1(300, 0.9, rng, dims=2)
    windows = [make_window(p, xv, yv), make_window(p, ind_x, ind_y)]
    opts = Uncertainty(null='shift', slices=4, n_halves=8)
    ests, _ = estimate_windows(estimator, windows, n_slices=16, seed=3, uncertainty=opts)
    for e, w in zip(ests, windows):
        assert e.mi == pytest.approx(sliced_mi(w.x, w.y, n_slices=16, seed=3,
                                               estimator=estimator), abs=1e-6)
        xr, yr = window_rows(w, 16, 3)
        (r,) = estimate_batch_with_uncertainty(estimator, xr[None, :4], yr[None, :4],
                                               null='shift', n_shifts=19, n_halves=8, seed=3)
        assert e.p_value == r.p_value and e.noise_floor == pytest.approx(r.noise_floor)
        # The spread of the first 4 projections, centred on the mean over all 16.
        lower, upper, _ = interval(e.mi, r.sd, 0.9, 8)
        assert (e.mi_lower, e.mi_upper) == pytest.approx((lower, upper))
    assert ests[0].p_value == pytest.approx(1 / 20) and ests[1].p_value > 0.05


def test_iid_null_reads_the_table_for_scalar_pairs_and_permutes_sliced_ones(estimator):
    rng = np.random.default_rng(6)
    p = specs('/a:x ~ /b:x', '/a:x,y ~ /b:x,y')
    x, y = gaussian(256, 0.0, rng)
    xv, yv = gaussian(256, 0.0, rng, dims=2)
    opts = Uncertainty(null='iid', null_draws=9, n_halves=0, slices=2)
    scalar, sliced = estimate_windows(estimator, [make_window(p[0], x, y),
                                                  make_window(p[1], xv, yv)],
                                      n_slices=4, uncertainty=opts)[0]
    # Scalar: its row alone (the table costs nothing); sliced: 4 rows, 2 x (1 + 9) more.
    assert sorted(estimator.passes) == [(1, 256), (4, 256), (20, 256)]
    r = estimate_with_uncertainty(estimator, x[:, 0], y[:, 0], null='iid', n_halves=0)
    assert (scalar.p_value, scalar.noise_floor) == (r.p_value, r.noise_floor)
    assert math.isnan(scalar.mi_lower) and math.isnan(sliced.mi_upper)  # n_halves 0
    assert sliced.p_value in [k / 10 for k in range(1, 11)]  # 9 permutations


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


def test_constant_window_has_no_information_and_no_spread(estimator):
    rng = np.random.default_rng(8)
    (p,) = specs('/a:x ~ /b:x')
    (e,), _ = estimate_windows(estimator, [make_window(p, np.ones(100),
                                                       rng.standard_normal(100))],
                               uncertainty=Uncertainty())
    assert (e.mi, e.mi_lower, e.mi_upper, e.p_value) == (0.0, 0.0, 0.0, 1.0)
