# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
A permutation test of independence of two vector signals.

The statistic is the sliced MI (:mod:`infonet_ros.core.sliced`) or the MI of the leading-pair
slice (:mod:`infonet_ros.core.pls`); its null distribution comes from ``n_permutations``
random permutations of the rows of y, evaluated with the *same* slice directions (the leading
pair is refitted on each), and p = (1 + #{permuted statistic >= observed}) / (1 +
n_permutations). The test is exact (level alpha for any sample size) because, under
independence, the observed and the permuted data sets are exchangeable. Cost is (1 +
n_permutations) * n_slices estimator rows; see :func:`independence_test` for the
speed/resolution trade-off.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from infonet_ros.core.estimator import (check_batch_rows, default_estimator,
                                        DEFAULT_ROWS_PER_PASS, estimate_rows, InfoNetEstimator)
from infonet_ros.core.limits import DEFAULT_N_PERMUTATIONS
from infonet_ros.core.pls import pls_crossfits, pls_rows, pls_splits, row_sets
from infonet_ros.core.sliced import (DEFAULT_N_SLICES, DEFAULT_SEED, project_slices,
                                     standardized_sides)

# Statistics of independence_test: the mean over random slices, or the leading-pair slice.
STATISTICS = ('sliced', 'pls')
DEFAULT_STATISTIC = 'sliced'


@dataclass(frozen=True)
class IndependenceTestResult:
    """
    Outcome of :func:`independence_test`.

    Attributes
    ----------
        statistic: sliced MI of the data (nats), or the leading-pair MI for 'pls'.
        p_value: (1 + #{null statistic >= statistic}) / (1 + n_permutations).
        n_permutations: permutations of y used for the null distribution.
        n_slices: estimator rows per statistic: random direction pairs, or for 'pls' 1
            (in-sample) or ``PLS_SPLITS`` (out of fold).
        null_statistics: (n_permutations,) the statistic of each permuted data set.
        kind: 'sliced' or 'pls' (see :data:`STATISTICS`).

    """

    statistic: float
    p_value: float
    n_permutations: int
    n_slices: int
    null_statistics: np.ndarray = field(repr=False, compare=False,
                                        default_factory=lambda: np.empty(0))
    kind: str = DEFAULT_STATISTIC


def permutation_indices(n_samples: int, n_permutations: int, seed: int = DEFAULT_SEED
                        ) -> np.ndarray:
    """
    Return the row permutations of y used by :func:`independence_test`: (P, N) ints.

    Drawn from a stream separate from the slice directions, so the directions of a test
    equal those of :func:`~infonet_ros.core.sliced.sliced_mi` with the same seed.
    """
    rng = np.random.default_rng([seed, 2])
    return np.stack([rng.permutation(n_samples) for _ in range(n_permutations)]) \
        if n_permutations else np.empty((0, n_samples), dtype=np.int64)


def independence_test(x, y, n_slices: int = DEFAULT_N_SLICES,
                      n_permutations: int = DEFAULT_N_PERMUTATIONS,
                      seed: int = DEFAULT_SEED, estimator: InfoNetEstimator | None = None,
                      batch_rows: int = DEFAULT_ROWS_PER_PASS,
                      statistic: str = DEFAULT_STATISTIC) -> IndependenceTestResult:
    """
    Permutation test of H0: X and Y independent, with the sliced MI as statistic.

    Every permuted data set is sliced with the same directions as the data, and all
    (1 + n_permutations) * n_slices scalar pairs go through the estimator in forward passes
    of ``batch_rows`` rows, so memory stays bounded for any number of permutations.

    Trading accuracy for speed: the cost is proportional to (1 + n_permutations) * n_slices.
    The p-value can only take the values k / (1 + n_permutations), k = 1..1 + n_permutations,
    so its resolution is 1 / (1 + n_permutations): 19 permutations suffice to reject at
    alpha = 0.05 (p = 0.05 when the data beat every permutation), 99 give steps of 0.01 and
    999 are needed for p-values near 0.001. The level stays exact for any choice; fewer
    permutations only coarsen p (and lose a little power). Fewer slices make each statistic
    noisier, which also costs power but never validity. For a quick screen use e.g.
    ``n_slices=32, n_permutations=19`` (640 rows).

    ``statistic='pls'`` replaces the random slices by the leading-pair slice, refitted on
    every permuted data set: 1 + n_permutations rows in all, or ``PLS_SPLITS`` times that
    when N < dx + dy (out-of-fold fits, :mod:`infonet_ros.core.pls`; n_slices is not used).
    Far more powerful for dependence through a shared linear component of many coordinates, and
    cheaper; blind to purely nonlinear dependence (module docstring, docs/sliced_mi.md).

    :param x: (N, dx) samples, or (N,) for dx = 1.
    :param y: (N, dy) samples paired row by row with ``x``.
    :param n_slices: random direction pairs per statistic.
    :param n_permutations: permutations of the rows of y (>= 0; 0 gives p = 1.0).
    :param seed: seeds the directions (as in :func:`~infonet_ros.core.sliced.sliced_mi`) and
        the permutations.
    :param estimator: an :class:`InfoNetEstimator`; None loads the shipped weights once.
    :param batch_rows: estimator rows per forward pass (results do not depend on it).
    :param statistic: 'sliced' (mean over random slices) or 'pls' (leading-pair slice).

    :return: An :class:`IndependenceTestResult`.

    :raises ValueError: as :func:`~infonet_ros.core.sliced.project_slices`, a negative or
        non-integer n_permutations, or an unknown statistic.
    """
    if isinstance(n_permutations, bool) or not isinstance(n_permutations, (int, np.integer)) \
            or n_permutations < 0:
        raise ValueError(f'n_permutations must be a non-negative integer, got '
                         f'{n_permutations!r}')
    batch_rows = check_batch_rows(batch_rows)
    if statistic not in STATISTICS:
        raise ValueError(f'statistic must be one of {STATISTICS}, got {statistic!r}')
    if statistic == 'pls':
        return _pls_test(x, y, int(n_permutations), seed, estimator, batch_rows)
    xs, ys = project_slices(x, y, n_slices, seed)
    est = estimator or default_estimator()
    s, n = xs.shape

    def rows_of(chunk):  # (C, N) permutations -> (C * S, N) rows each
        return np.tile(xs, (len(chunk), 1)), ys[:, chunk].transpose(1, 0, 2).reshape(-1, n)
    stats = _data_set_statistics(est, _with_identity(n, n_permutations, seed), s, rows_of,
                                 batch_rows)
    return _test_result(stats[0], stats[1:], n_slices=s, kind='sliced')


def _pls_test(x, y, n_permutations, seed, estimator, batch_rows) -> IndependenceTestResult:
    xm, ym = standardized_sides(x, y)
    est = estimator or default_estimator()
    k = pls_splits(pls_crossfits(None, xm.shape, ym.shape))
    stats = _data_set_statistics(est, _with_identity(xm.shape[0], n_permutations, seed), k,
                                 lambda chunk: pls_rows(xm, ym, chunk, seed=seed)[:2],
                                 batch_rows)
    return _test_result(stats[0], stats[1:], n_slices=k, kind='pls')


def _with_identity(n: int, n_permutations: int, seed: int) -> np.ndarray:
    """Return the data's row order (the identity), then the test's permutations: (1 + P, N)."""
    return np.vstack([row_sets(n, None), permutation_indices(n, int(n_permutations), seed)])


def _data_set_statistics(est, orders, k, rows_of, batch_rows) -> np.ndarray:
    """
    Statistic of each data set (y's rows in each order): the mean estimate over its k rows.

    ``rows_of(chunk)`` gives the (C * k, N) x and y rows of C orders. Whole data sets per
    pass (at least one), so each pass stays near ``batch_rows`` rows. The data and the
    permuted sets share the passes: one pass fewer, and the same arithmetic for all.
    """
    out = np.empty(len(orders))
    per_pass = max(1, batch_rows // k)
    for start in range(0, len(orders), per_pass):
        chunk = orders[start:start + per_pass]  # (C, N)
        a, b = rows_of(chunk)
        rows = estimate_rows(est, a, b, batch_rows)  # (C * k,)
        out[start:start + len(chunk)] = rows.reshape(len(chunk), k).mean(axis=1)
    return out


def _test_result(statistic: float, null: np.ndarray, n_slices: int, kind: str
                 ) -> IndependenceTestResult:
    """Permutation p-value (1 + #{null >= statistic}) / (1 + P), packed with the inputs."""
    statistic = float(statistic)
    p_value = (1.0 + np.count_nonzero(null >= statistic)) / (1.0 + len(null))
    return IndependenceTestResult(statistic=statistic, p_value=float(p_value),
                                  n_permutations=len(null), n_slices=n_slices,
                                  null_statistics=null, kind=kind)
