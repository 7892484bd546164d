# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The leading-pair (PLS) slice, its MI and its permutation test (infonet_ros.core.pls)."""

import numpy as np
import pytest

from infonet_ros.core.estimator import InfoNetEstimator
from infonet_ros.core.independence import independence_test, permutation_indices
from infonet_ros.core.pls import (_leading_pairs, _one_blas_thread, leading_pair_slices, pls_mi,
                                  pls_rows, PLS_SPLITS)
from infonet_ros.core.sliced import sliced_mi, standardized_sides


@pytest.fixture(scope='module')
def est():
    return InfoNetEstimator.from_pretrained(device='cpu')


def shared_component(rng, n, d):
    """Draw the InfoNet authors' high-dimensional case: Y = (1^T X / sqrt(d) 1 + Z) / sqrt(2)."""
    x, z = rng.standard_normal((2, n, d))
    return x, (x.sum(axis=1, keepdims=True) / np.sqrt(d) + z) / np.sqrt(2.0)


@pytest.mark.parametrize('dx, dy', [(3, 5), (40, 24)])
@pytest.mark.parametrize('half', [False, True])
def test_leading_pairs_equal_the_svd_on_both_paths(dx, dy, half):
    # Each data set pairs x's rows with its own rows of y (a permutation, or part of one for
    # a cross-fitting half); with a clear gap the power iteration finds the top singular
    # pair of x^T y[rows], by the matrices or on the data alike.
    rng = np.random.default_rng(36)
    n = 120
    y = rng.standard_normal((n, dy))
    perms = np.stack([np.arange(n)] + [rng.permutation(n) for _ in range(4)])  # (5, n)
    rows = perms[:, :n // 2] if half else perms
    m = rows.shape[1]
    # x shares a strong component with y's rows of data set r, a different one for each r.
    x_of = [np.outer(y[rows[r]] @ rng.standard_normal(dy), rng.standard_normal(dx)) +
            0.3 * rng.standard_normal((m, dx)) for r in range(len(rows))]
    for r, xh in enumerate(x_of):
        want_u, _, want_vt = np.linalg.svd(xh.T @ y[rows[r]])
        for wide in (False, True):
            u, v = _leading_pairs(xh, y, rows[r:r + 1], wide=wide)
            assert abs(u[0] @ want_u[:, 0]) == pytest.approx(1.0, abs=1e-6)
            assert abs(v[0] @ want_vt[0]) == pytest.approx(1.0, abs=1e-6)
            assert np.linalg.norm(u[0]) == pytest.approx(1.0)
    # In one batch, each data set gets its own pair (the batch does not mix them).
    u_batch, _ = _leading_pairs(x_of[2], y, rows)
    u_alone, _ = _leading_pairs(x_of[2], y, rows[2:3])
    np.testing.assert_allclose(u_batch[2], u_alone[0], atol=1e-6)


def test_leading_pair_products_run_on_one_blas_thread():
    threadpoolctl = pytest.importorskip('threadpoolctl')

    def blas_threads():
        return [i['num_threads'] for i in threadpoolctl.threadpool_info()
                if i['user_api'] == 'blas']
    before = blas_threads()
    with _one_blas_thread():
        inside = blas_threads()
    assert inside and all(t == 1 for t in inside)
    assert blas_threads() == before


def test_leading_pairs_of_a_zero_side_are_zero():
    rows = np.arange(30)[None]
    u, v = _leading_pairs(np.zeros((30, 40)), np.ones((30, 24)), rows, wide=True)
    assert not u.any() and not v.any()
    u, v = _leading_pairs(np.zeros((30, 3)), np.ones((30, 2)), rows, wide=False)
    assert not u.any() and np.isfinite(v).all()


def test_leading_pair_finds_a_shared_component_that_random_slices_dilute(est):
    rng = np.random.default_rng(30)
    x, y = shared_component(rng, 400, 32)
    a, b = leading_pair_slices(x - x.mean(0), y - y.mean(0))
    # The leading pair is close to the all-ones directions (the shared component).
    ones = np.ones(32) / np.sqrt(32)
    u = np.linalg.lstsq(x - x.mean(0), a[0], rcond=None)[0]
    assert abs(u @ ones) / np.linalg.norm(u) > 0.8
    # True MI of that slice: corr(1^T X / sqrt(d), mean of Y) -> -1/2 log(1 - 1/2) = 0.35.
    assert pls_mi(x, y, estimator=est) > 0.2
    assert sliced_mi(x, y, 16, estimator=est) < 0.1


def test_pls_test_rejects_a_shared_component_and_null_is_refitted(est):
    rng = np.random.default_rng(31)
    x, y = shared_component(rng, 200, 16)
    r = independence_test(x, y, n_permutations=19, estimator=est, statistic='pls', seed=2,
                          batch_rows=7)
    assert (r.kind, r.n_slices, r.n_permutations) == ('pls', 1, 19)
    # The observed pair runs as a row of a 7-row pass here and alone in pls_mi: float32
    # matmuls of different batch shapes may round differently (as in the batch-vs-loop tests).
    assert r.statistic == pytest.approx(pls_mi(x, y, estimator=est), abs=1e-5)
    assert r.p_value == pytest.approx(1 / 20)
    perms = permutation_indices(200, 19, seed=2)
    want = [pls_mi(x, y[p], estimator=est) for p in perms[:3]]
    np.testing.assert_allclose(r.null_statistics[:3], want, atol=1e-5)
    r0 = independence_test(x, y, n_permutations=0, estimator=est, statistic='pls', seed=2)
    assert (r0.p_value, r0.n_permutations) == (1.0, 0)
    assert r0.statistic == pytest.approx(r.statistic, abs=1e-5)


def test_pls_of_a_constant_side_is_zero_with_p_one(est):
    rng = np.random.default_rng(32)
    x = rng.standard_normal((50, 3))
    y = np.ones((50, 2))
    assert pls_mi(x, y, estimator=est) == 0.0
    r = independence_test(x, y, n_permutations=9, estimator=est, statistic='pls')
    assert r.statistic == 0.0 and r.p_value == 1.0


def test_pls_accepts_scalar_sides_and_rejects_bad_input(est):
    rng = np.random.default_rng(33)
    x = rng.standard_normal(100)
    y = x + 0.5 * rng.standard_normal(100)
    # One column per side: the slice is the pair itself (sign fixed positive).
    assert pls_mi(x, y, estimator=est) == pytest.approx(est.estimate(x, y), abs=1e-9)
    with pytest.raises(ValueError, match='same number of samples'):
        pls_mi(x, y[:-1], estimator=est)
    with pytest.raises(ValueError, match='statistic must be one of'):
        independence_test(x, y, estimator=est, statistic='max')


def test_pls_fits_out_of_fold_when_samples_are_fewer_than_dimensions(est):
    # N = 100 < dx + dy = 128: an in-sample pair is fitted to noise and reads independent
    # data as strongly dependent; fitted on the other half, it reads them as ~independent
    # and still sees the shared component. Means over 5 data sets.
    rng = np.random.default_rng(34)
    reads = {'in_sample': [], 'out_of_fold': [], 'dependent': []}
    for _ in range(5):
        x, y = shared_component(rng, 100, 64)
        y_ind = rng.standard_normal((100, 64))
        reads['in_sample'].append(pls_mi(x, y_ind, estimator=est, crossfit=False))
        reads['out_of_fold'].append(pls_mi(x, y_ind, estimator=est))  # None cross-fits here
        reads['dependent'].append(pls_mi(x, y, estimator=est))
    m = {k: float(np.mean(v)) for k, v in reads.items()}
    assert m['in_sample'] > 0.4 and abs(m['out_of_fold']) < 0.15, m
    assert m['dependent'] > m['out_of_fold'] + 0.1, m
    assert pls_mi(x, y_ind, estimator=est, crossfit=True) == reads['out_of_fold'][-1]
    # Every row is projected on directions fitted to the other half: within a half, the
    # projections are one linear map of x (then standardized).
    xs, ys = x - x.mean(0), y - y.mean(0)
    a, b = leading_pair_slices(xs, ys, seed=5)
    half = np.random.default_rng([5, 3]).permutation(100)[:50]
    design = np.c_[xs[half], np.ones(50)]
    fit = design @ np.linalg.lstsq(design, a[0, half], rcond=None)[0]
    np.testing.assert_allclose(fit, a[0, half], atol=1e-8)
    assert a[0, half].std() == pytest.approx(1.0)
    # pls_mi is the mean over PLS_SPLITS such splits.
    a, b, k = pls_rows(xs, ys, seed=5)
    assert k == PLS_SPLITS and a.shape == (PLS_SPLITS, 100)
    np.testing.assert_allclose(a[0], leading_pair_slices(xs, ys, seed=5)[0][0])
    np.testing.assert_allclose(b[3], leading_pair_slices(xs, ys, seed=5, split=3)[1][0])
    assert pls_mi(x, y, estimator=est, seed=5) == pytest.approx(
        est.estimate_batch(*pls_rows(*standardized_sides(x, y), seed=5)[:2]).mean(), abs=1e-9)
    # The test refits out of fold on every permutation, with the test's seed; batch_rows
    # smaller than the splits of one permutation still passes whole permutations.
    r = independence_test(x, y, n_permutations=9, estimator=est, statistic='pls', seed=5,
                          batch_rows=3)
    assert r.n_slices == PLS_SPLITS
    assert r.statistic == pytest.approx(pls_mi(x, y, estimator=est, seed=5), abs=1e-9)
    perms = permutation_indices(100, 9, seed=5)
    np.testing.assert_allclose(r.null_statistics[:2],
                               [pls_mi(x, y[p], estimator=est, seed=5) for p in perms[:2]],
                               atol=1e-5)
