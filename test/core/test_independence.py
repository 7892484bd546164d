# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The permutation test of independence (infonet_ros.core.independence)."""

import numpy as np
import pytest

from infonet_ros.core.estimator import InfoNetEstimator
from infonet_ros.core.independence import (independence_test, IndependenceTestResult,
                                           permutation_indices)
from infonet_ros.core.limits import DEFAULT_N_PERMUTATIONS
from infonet_ros.core.sliced import DEFAULT_N_SLICES, sliced_mi


@pytest.fixture(scope='module')
def est():
    return InfoNetEstimator.from_pretrained(device='cpu')


def gaussian_vectors(rng, n, dx, dy, coupling):
    """Draw Gaussian X (n, dx), Y (n, dy) with Y = coupling * A X + noise."""
    a = rng.standard_normal((dy, dx)) / np.sqrt(dx)
    x = rng.standard_normal((n, dx))
    return x, coupling * x @ a.T + rng.standard_normal((n, dy))


@pytest.mark.parametrize('n_permutations', [-1, 1.5, 'ten'])
def test_bad_n_permutations(n_permutations, est):
    x = np.random.default_rng(7).standard_normal((40, 2))
    with pytest.raises(ValueError, match='n_permutations'):
        independence_test(x, x, 2, n_permutations, estimator=est)


def test_all_constant_side_gives_zero_and_p_one(est):
    rng = np.random.default_rng(9)
    x = rng.standard_normal((64, 3))
    y = np.ones((64, 2)) * [4.0, -1.0]
    assert sliced_mi(x, y, 4, estimator=est) == 0.0
    r = independence_test(x, y, n_slices=2, n_permutations=4, estimator=est)
    assert r.statistic == 0.0 and r.p_value == 1.0


# ---- independence test ------------------------------------------------------------------

def test_defaults_are_explicit():
    # The permutation count is the one the node's configuration checks use (core.limits).
    assert DEFAULT_N_SLICES >= 1 and DEFAULT_N_PERMUTATIONS == 99
    assert independence_test.__defaults__[1] == DEFAULT_N_PERMUTATIONS


def test_strong_dependence_gets_smallest_p(est):
    rng = np.random.default_rng(15)
    x, y = gaussian_vectors(rng, 200, 6, 7, coupling=3.0)
    r = independence_test(x, y, n_slices=8, n_permutations=19, seed=1, estimator=est)
    assert isinstance(r, IndependenceTestResult)
    assert (r.n_permutations, r.n_slices) == (19, 8)
    assert r.p_value == pytest.approx(1 / 20)
    assert r.statistic > r.null_statistics.max()


def test_null_statistics_are_sliced_mi_of_permuted_y(est):
    rng = np.random.default_rng(16)
    x, y = gaussian_vectors(rng, 64, 3, 2, coupling=0.5)
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
