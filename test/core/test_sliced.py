# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Sliced MI of vector signals: projections, input checks, estimates (infonet_ros.core.sliced)."""

from broken_models import nan_model
import numpy as np
import pytest

from infonet_ros.core.checks import NonFiniteEstimateError
from infonet_ros.core.estimator import InfoNetEstimator
from infonet_ros.core.independence import independence_test
from infonet_ros.core.limits import MIN_SAMPLES
from infonet_ros.core.pls import pls_mi
from infonet_ros.core.sliced import project_slices, random_directions, sliced_mi


@pytest.fixture(scope='module')
def est():
    return InfoNetEstimator.from_pretrained(device='cpu')


def gaussian_vectors(rng, n, dx, dy, coupling):
    """
    Draw Gaussian X (n, dx), Y (n, dy) with Y = coupling * A X + noise.

    Also returns the correlation blocks (Cx, Cy, Cxy) of the standardized columns.
    """
    a = rng.standard_normal((dy, dx)) / np.sqrt(dx)
    x = rng.standard_normal((n, dx))
    y = coupling * x @ a.T + rng.standard_normal((n, dy))
    cov_y = coupling ** 2 * a @ a.T + np.eye(dy)
    sx, sy = np.ones(dx), np.sqrt(np.diag(cov_y))
    return x, y, (np.eye(dx), cov_y / np.outer(sy, sy), coupling * a.T / np.outer(sx, sy))


def true_sliced_mi(blocks, theta, phi):
    """Mean over the given direction pairs of the exact MI of Gaussian projections."""
    cx, cy, cxy = blocks
    cov = np.einsum('si,ij,sj->s', theta, cxy, phi)
    var_x = np.einsum('si,ij,sj->s', theta, cx, theta)
    var_y = np.einsum('si,ij,sj->s', phi, cy, phi)
    rho2 = cov ** 2 / (var_x * var_y)
    return float(np.mean(-0.5 * np.log1p(-rho2)))


# ---- projections ------------------------------------------------------------------------

def test_project_slices_shapes_and_definition():
    rng = np.random.default_rng(1)
    x, y = rng.normal(3.0, 2.0, (100, 4)), rng.normal(-1.0, 5.0, (100, 3))
    xs, ys = project_slices(x, y, n_slices=10, seed=5)
    assert xs.shape == ys.shape == (10, 100)
    theta, phi = random_directions(10, 4, 3, seed=5)
    np.testing.assert_allclose(np.linalg.norm(theta, axis=1), 1.0)
    np.testing.assert_allclose(np.linalg.norm(phi, axis=1), 1.0)
    xz = (x - x.mean(0)) / x.std(0)
    yz = (y - y.mean(0)) / y.std(0)
    np.testing.assert_allclose(xs, theta @ xz.T, atol=1e-12)
    np.testing.assert_allclose(ys, phi @ yz.T, atol=1e-12)


def test_more_slices_extend_the_same_directions():
    # The first k slices do not depend on n_slices: sliced MI with more slices refines the
    # same Monte-Carlo mean.
    rng = np.random.default_rng(20)
    x, y = rng.standard_normal((40, 5)), rng.standard_normal((40, 2))
    few, many = project_slices(x, y, 4, seed=9), project_slices(x, y, 11, seed=9)
    np.testing.assert_array_equal(few[0], many[0][:4])
    np.testing.assert_array_equal(few[1], many[1][:4])


def test_project_slices_1d_is_one_column():
    rng = np.random.default_rng(2)
    x, y = rng.standard_normal(64), rng.standard_normal((64, 2))
    a = project_slices(x, y, n_slices=6, seed=0)
    b = project_slices(x[:, None], y, n_slices=6, seed=0)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    # A 1-D side is projected on random signs: every row is +-(standardized x).
    xz = (x - x.mean()) / x.std()
    assert all(np.allclose(r, xz) or np.allclose(r, -xz) for r in a[0])


def test_project_slices_deterministic_by_seed():
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((50, 3)), rng.standard_normal((50, 3))
    a, b, c = (project_slices(x, y, 8, s) for s in (7, 7, 8))
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.allclose(a[0], c[0])


def test_constant_column_takes_no_part():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((80, 3))
    x[:, 1] = 2.5  # a joint that did not move in the window
    x2 = x.copy()
    x2[:, 1] = -40.0
    y = rng.standard_normal((80, 2))
    xs, _ = project_slices(x, y, 12, 0)
    xs2, _ = project_slices(x2, y, 12, 0)
    np.testing.assert_array_equal(xs, xs2)
    theta, _ = random_directions(12, 3, 2, 0)
    live = x[:, [0, 2]]
    np.testing.assert_allclose(xs, theta[:, [0, 2]] @ ((live - live.mean(0)) / live.std(0)).T,
                               atol=1e-12)


# ---- bad input --------------------------------------------------------------------------

@pytest.mark.parametrize('x, y, match', [
    (np.zeros((60, 2)) + np.arange(60)[:, None], np.ones((59, 2)), 'same number of samples'),
    (np.zeros((60, 0)), np.ones((60, 2)), 'x has no columns'),
    (np.random.default_rng(0).normal(size=(60, 2)), np.zeros((60, 0)), 'y has no columns'),
    (np.zeros((60, 2, 2)), np.ones((60, 2)), 'x must be 1-D'),
    (np.ones((MIN_SAMPLES - 1, 2)), np.ones((MIN_SAMPLES - 1, 2)),
     f'at least {MIN_SAMPLES} samples'),
    ([['a', 'b']] * 40, np.ones((40, 2)), 'x must be numeric'),
])
def test_bad_shapes(x, y, match):
    with pytest.raises(ValueError, match=match):
        project_slices(x, y, 4, 0)


@pytest.mark.parametrize('bad', [np.nan, np.inf, -np.inf])
def test_non_finite_names_row_and_column(bad):
    rng = np.random.default_rng(5)
    x, y = rng.standard_normal((60, 3)), rng.standard_normal((60, 2))
    y[17, 1] = bad
    with pytest.raises(ValueError, match=r'y contains NaN or inf \(first at row 17, column 1\)'):
        project_slices(x, y, 4, 0)
    with pytest.raises(ValueError, match='NaN or inf'):
        sliced_mi(y, x, 4, 0)


@pytest.mark.parametrize('n_slices', [0, -3, 2.5, True, None])
def test_bad_n_slices(n_slices):
    x = np.random.default_rng(6).standard_normal((40, 2))
    with pytest.raises(ValueError, match='n_slices'):
        project_slices(x, x, n_slices, 0)


@pytest.mark.parametrize('seed', [-1, 1.5, None])
def test_bad_seed(seed):
    x = np.random.default_rng(6).standard_normal((40, 2))
    with pytest.raises(ValueError, match='seed'):
        project_slices(x, x, 2, seed)


def test_bad_batch_rows(est):
    x = np.random.default_rng(8).standard_normal((40, 2))
    with pytest.raises(ValueError, match='batch_rows'):
        sliced_mi(x, x, 2, estimator=est, batch_rows=0)


# ---- estimates --------------------------------------------------------------------------

def test_dependent_vectors_clearly_above_independent(est):
    rng = np.random.default_rng(10)
    x, y, blocks = gaussian_vectors(rng, 800, 4, 3, coupling=3.0)
    y_ind = rng.standard_normal((800, 3))
    dep = sliced_mi(x, y, 32, estimator=est)
    ind = sliced_mi(x, y_ind, 32, estimator=est)
    theta, phi = random_directions(32, 4, 3, 0)
    truth = true_sliced_mi(blocks, theta, phi)
    # Random directions dilute the dependence (here I(X; Y) is ~2 nats): sliced MI ~0.17.
    assert truth > 0.12
    assert dep > ind + 0.08
    assert ind == pytest.approx(0.0, abs=0.05)
    # Same directions, Gaussian projections: each slice's MI is exact, so is their mean.
    assert dep == pytest.approx(truth, rel=0.25, abs=0.05)


def test_invariant_to_column_scaling_and_offsets(est):
    rng = np.random.default_rng(11)
    x, y, _ = gaussian_vectors(rng, 300, 3, 2, coupling=1.5)
    xs = x * [1e-3, 1.0, 250.0] + [5.0, -3.0, 1e4]
    ys = y * [9.81, 0.01] - [0.0, 7.0]
    assert sliced_mi(xs, ys, 16, estimator=est) == pytest.approx(
        sliced_mi(x, y, 16, estimator=est), abs=1e-9)


@pytest.mark.parametrize('factor', [1e300, 1e-310])
def test_any_magnitude_a_float_holds_gives_the_unscaled_estimate(est, factor):
    # Squares of 1e300 overflow and of 1e-310 underflow: a plain standard deviation read
    # the first as independent (0.0, p = 1.0) and made the second NaN.
    rng = np.random.default_rng(12)
    x, y, _ = gaussian_vectors(rng, 300, 3, 2, coupling=1.5)
    scaled = x * factor
    assert sliced_mi(scaled, y, 16, estimator=est) == pytest.approx(
        sliced_mi(x, y, 16, estimator=est), abs=1e-9)
    assert pls_mi(scaled, y, estimator=est) == pytest.approx(pls_mi(x, y, estimator=est),
                                                             abs=1e-9)
    test, reference = (independence_test(a, y, 8, 19, estimator=est) for a in (scaled, x))
    assert (test.statistic, test.p_value) == pytest.approx(
        (reference.statistic, reference.p_value), abs=1e-9)
    assert reference.p_value == 0.05
    # Columns of very different magnitudes side by side, and a side far from 1 whole.
    mixed = x * [1e300, 1.0, 1e-300]
    assert sliced_mi(mixed, y * 1e-200, 16, estimator=est) == pytest.approx(
        sliced_mi(x, y, 16, estimator=est), abs=1e-9)


def test_sliced_statistics_are_never_nan_without_an_error():
    est = InfoNetEstimator(nan_model(), 'cpu')
    rng = np.random.default_rng(13)
    x, y, _ = gaussian_vectors(rng, 100, 3, 2, coupling=1.0)
    for call in (lambda: sliced_mi(x, y, 4, estimator=est),
                 lambda: pls_mi(x, y, estimator=est),
                 lambda: independence_test(x, y, 4, 3, estimator=est),
                 lambda: independence_test(x, y, 4, 3, estimator=est, statistic='pls')):
        with pytest.raises(NonFiniteEstimateError, match='non-finite estimate'):
            call()


def test_scalar_sides_average_sign_flips(est):
    # dx = dy = 1: directions are random signs, so the sliced MI is the mean of the scalar
    # estimates of (+-x, +-y). MI ignores the signs; InfoNet does only approximately.
    rng = np.random.default_rng(12)
    x = rng.standard_normal(1000)
    y = 0.8 * x + 0.6 * rng.standard_normal(1000)
    theta, phi = random_directions(8, 1, 1, seed=3)
    loop = np.mean([est.estimate(t[0] * x, p[0] * y) for t, p in zip(theta, phi)])
    got = sliced_mi(x, y, 8, seed=3, estimator=est)
    assert got == pytest.approx(loop, abs=1e-5)
    assert got == pytest.approx(est.estimate(x, y), abs=0.05)
    assert got == pytest.approx(-0.5 * np.log(1 - 0.8 ** 2), abs=0.1)


def test_batched_equals_loop(est):
    rng = np.random.default_rng(13)
    x, y, _ = gaussian_vectors(rng, 200, 4, 3, coupling=1.0)
    xs, ys = project_slices(x, y, 10, seed=2)
    loop = np.mean([est.estimate(a, b) for a, b in zip(xs, ys)])
    for rows in (1, 3, 256):
        assert sliced_mi(x, y, 10, seed=2, estimator=est, batch_rows=rows) == pytest.approx(
            loop, abs=1e-5)


def test_deterministic_by_seed(est):
    rng = np.random.default_rng(14)
    x, y, _ = gaussian_vectors(rng, 150, 5, 5, coupling=1.0)
    a = sliced_mi(x, y, 6, seed=21, estimator=est)
    assert sliced_mi(x, y, 6, seed=21, estimator=est) == a
    assert sliced_mi(x, y, 6, seed=22, estimator=est) != a
