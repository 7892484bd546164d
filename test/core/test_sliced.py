# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Sliced MI of vector signals and the permutation independence test (infonet_ros.core.sliced)."""

import numpy as np
import pytest

from infonet_ros.core.estimator import InfoNetEstimator, MIN_SAMPLES
from infonet_ros.core.sliced import (_leading_pairs, _one_blas_thread, _validated_sides,
                                     DEFAULT_N_PERMUTATIONS, DEFAULT_N_SLICES, independence_test,
                                     IndependenceTestResult, leading_pair_slices,
                                     permutation_indices, pls_mi, pls_rows, PLS_SPLITS,
                                     project_slices, random_directions, sliced_mi)


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


@pytest.mark.parametrize('n_permutations', [-1, 1.5, 'ten'])
def test_bad_n_permutations(n_permutations, est):
    x = np.random.default_rng(7).standard_normal((40, 2))
    with pytest.raises(ValueError, match='n_permutations'):
        independence_test(x, x, 2, n_permutations, estimator=est)


def test_bad_batch_rows(est):
    x = np.random.default_rng(8).standard_normal((40, 2))
    with pytest.raises(ValueError, match='batch_rows'):
        sliced_mi(x, x, 2, estimator=est, batch_rows=0)


def test_all_constant_side_gives_zero_and_p_one(est):
    rng = np.random.default_rng(9)
    x = rng.standard_normal((64, 3))
    y = np.ones((64, 2)) * [4.0, -1.0]
    assert sliced_mi(x, y, 4, estimator=est) == 0.0
    r = independence_test(x, y, n_slices=2, n_permutations=4, estimator=est)
    assert r.statistic == 0.0 and r.p_value == 1.0


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


# ---- independence test ------------------------------------------------------------------

def test_defaults_are_explicit():
    assert DEFAULT_N_SLICES >= 1 and DEFAULT_N_PERMUTATIONS >= 1


def test_strong_dependence_gets_smallest_p(est):
    rng = np.random.default_rng(15)
    x, y, _ = gaussian_vectors(rng, 200, 6, 7, coupling=3.0)
    r = independence_test(x, y, n_slices=8, n_permutations=19, seed=1, estimator=est)
    assert isinstance(r, IndependenceTestResult)
    assert (r.n_permutations, r.n_slices) == (19, 8)
    assert r.p_value == pytest.approx(1 / 20)
    assert r.statistic > r.null_statistics.max()


def test_null_statistics_are_sliced_mi_of_permuted_y(est):
    rng = np.random.default_rng(16)
    x, y, _ = gaussian_vectors(rng, 64, 3, 2, coupling=0.5)
    r = independence_test(x, y, n_slices=3, n_permutations=5, seed=4, estimator=est,
                          batch_rows=7)  # passes split permutations unevenly
    assert r.statistic == pytest.approx(sliced_mi(x, y, 3, seed=4, estimator=est), abs=1e-9)
    perms = permutation_indices(64, 5, seed=4)
    want = [sliced_mi(x, y[p], 3, seed=4, estimator=est) for p in perms]
    np.testing.assert_allclose(r.null_statistics, want, atol=1e-5)
    assert r.p_value == (1 + np.sum(r.null_statistics >= r.statistic)) / 6
    # Same data, one big pass: the same result.
    big = independence_test(x, y, n_slices=3, n_permutations=5, seed=4, estimator=est)
    np.testing.assert_allclose(big.null_statistics, r.null_statistics, atol=1e-5)


def test_zero_permutations_gives_p_one(est):
    x = np.random.default_rng(17).standard_normal((40, 2))
    r = independence_test(x, x, n_slices=2, n_permutations=0, estimator=est)
    assert r.p_value == 1.0 and r.null_statistics.shape == (0,)


def run_null_trials(est, trials, n, n_slices, n_permutations, seed, statistic='sliced'):
    rng = np.random.default_rng(seed)
    pvals = []
    for t in range(trials):
        x = rng.standard_normal((n, 3)) @ rng.standard_normal((3, 3))
        y = np.column_stack([rng.exponential(size=n), rng.standard_t(3, n)])
        pvals.append(independence_test(x, y, n_slices, n_permutations, seed=t,
                                       estimator=est, statistic=statistic).p_value)
    return np.asarray(pvals)


@pytest.mark.parametrize('statistic', ['sliced', 'pls'])
def test_p_values_roughly_uniform_under_independence(est, statistic):
    # P = 9: p takes the values 0.1 .. 1.0, each with probability 0.1 under H0.
    p = run_null_trials(est, trials=30, n=64, n_slices=2, n_permutations=9, seed=18,
                        statistic=statistic)
    assert 0.35 <= p.mean() <= 0.75  # expected 0.55, sd ~0.05
    assert np.mean(p <= 0.1) <= 0.3  # expected 0.1
    assert np.mean(p >= 0.6) >= 0.25  # expected 0.5


@pytest.mark.slow
def test_type1_error_many_trials(est):
    p = run_null_trials(est, trials=300, n=64, n_slices=4, n_permutations=19, seed=19)
    assert 0.02 <= np.mean(p <= 0.05) <= 0.09  # expected 0.05, sd ~0.013
    assert 0.45 <= p.mean() <= 0.60  # expected 0.525


# ---- leading-pair (PLS) statistic ---------------------------------------------------------

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
        est.estimate_batch(*pls_rows(*_validated_sides(x, y), seed=5)[:2]).mean(), abs=1e-9)
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
