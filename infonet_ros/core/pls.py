# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The leading-pair slice of two vector signals (partial least squares), and its MI.

Our addition, not the InfoNet authors': one slice instead of many random ones
(:mod:`infonet_ros.core.sliced`), along the leading pair of singular vectors of the
cross-correlation matrix of the standardized sides. When X and Y share a linear(-ish)
component spread over many coordinates, random slices see ~1/d of it and this slice sees most
of it; when the dependence is purely nonlinear (zero cross-correlation) the pair is fitted to
noise and random slices are the better statistic. The directions are fitted to the data, so
the value over-reads dependence (most when N is not well above dx + dy); the permutation test
(:func:`infonet_ros.core.independence.independence_test` with ``statistic='pls'``) refits
them on every permuted data set, which keeps it exact. When N < dx + dy the pair is fitted
out of fold: on one half of the rows, projecting the other half, averaged over
``PLS_SPLITS`` random splits.
"""

from __future__ import annotations

import contextlib
import functools

import numpy as np
try:
    from threadpoolctl import ThreadpoolController
except ImportError:  # optional (scikit-learn, a dependency, brings it): a speed-up only
    ThreadpoolController = None

from infonet_ros.core.estimator import default_estimator, InfoNetEstimator
from infonet_ros.core.sliced import DEFAULT_SEED, standardized_sides

# Random half-splits averaged by the out-of-fold leading-pair statistic (N < dx + dy).
PLS_SPLITS = 8

# Power iterations for the leading singular pair, from one fixed random start for every data
# set (the same procedure for the data and each permutation keeps the test exact). Each
# matrix stops once its direction moves less than the tolerance; a shared component
# converges in a few steps even from a random start. Under independence there is no gap and
# the cap ends it: the statistic is then the pair after PLS_MAX_ITER steps, which is as valid
# for the test and cheaper than running to convergence.
PLS_MAX_ITER = 10
PLS_TOL = 1e-6
# Seed of that start direction (fixed: the statistic does not depend on a caller's seed).
PLS_START_SEED = 0


def _start_direction(dy: int) -> np.ndarray:
    """Return the power iteration's start: a fixed random unit vector of R^dy."""
    v = np.random.default_rng([PLS_START_SEED, 4]).standard_normal(dy)
    return v / np.linalg.norm(v)


def _normalize_rows(m: np.ndarray) -> np.ndarray:
    """Each row to unit length in place (an all-zero row stays zero); returns ``m``."""
    m /= np.maximum(np.linalg.norm(m, axis=1, keepdims=True), np.finfo(m.dtype).tiny)
    return m


def _power_iterate(step, r: int, dy: int, dtype=np.float64) -> np.ndarray:
    """
    Right singular vectors (R, dy) by power iteration; ``step(active, v)`` is C^T C v.

    Each matrix stops on its own, so its result does not depend on the others in the batch.
    """
    v = np.tile(_start_direction(dy).astype(dtype), (r, 1))  # (R, dy)
    active = np.arange(r)
    for _ in range(PLS_MAX_ITER):
        v_new = _normalize_rows(step(active, v[active]))  # (A, dy)
        moving = np.max(np.abs(v_new - v[active]), axis=1) >= PLS_TOL  # (A,)
        v[active] = v_new
        active = active[moving]
        if not len(active):
            break
    return v


def _leading_pairs(xh: np.ndarray, y: np.ndarray, rows: np.ndarray, wide: bool | None = None
                   ) -> tuple[np.ndarray, np.ndarray]:
    """
    Leading left/right singular vectors of C_r = xh^T y[rows[r]] for every r.

    xh: (m, dx); y: (n, dy); rows: (R, m) row indices of y, distinct within a row (a
    permutation, or part of one). -> u (R, dx), v (R, dy), unit length (zero where C_r is).

    Two ways to the same iteration, whichever costs fewer operations (``wide`` None; True or
    False forces one): with small sides the R matrices C_r (dx x dy) are formed once and
    iterated on; with wide sides forming them costs m * dx * dy per data set, more than
    iterating on the data (2 * m * (dx + dy) per step), where C_r v = xh^T (y v)[rows_r] and
    C_r^T u scatters xh u back to rows_r.
    """
    (m, dx), (n, dy), r = xh.shape, y.shape, len(rows)
    if wide is None:
        wide = dx * dy > 2 * PLS_MAX_ITER * (dx + dy)
    if not wide:
        # All R products as one (dx, m) @ (m, R * dy) product: far faster than numpy's
        # batched matmul, which runs one small product per matrix.
        yr = y[rows.T].reshape(m, r * dy)  # (m, R * dy), gathered in this layout
        c = (xh.T @ yr).reshape(dx, r, dy)  # (dx, R, dy)
        c = np.ascontiguousarray(c.transpose(1, 0, 2))  # (R, dx, dy)

        def cv(ca, va):  # C_r v for each matrix: (A, dx, dy), (A, dy) -> (A, dx)
            return np.matmul(ca, va[:, :, None])[:, :, 0]

        def step(active, va):
            ca = c[active]  # (A, dx, dy)
            u = _normalize_rows(cv(ca, va))  # (A, dx)
            return np.matmul(u[:, None, :], ca)[:, 0, :]  # (A, dy)
        v = _power_iterate(step, r, dy)
        return _normalize_rows(cv(c, v)), v

    # In float32: these products are most of the cost, and single precision halves it; the
    # directions only choose the slice (its projections are computed in float64).
    xh, y = xh.astype(np.float32), y.astype(np.float32)
    flat = {}  # rows of the active data sets as indices into a flattened (A, n) array

    def flat_rows(active):
        key = len(active)  # the active set only shrinks: its size identifies it
        if key not in flat:
            flat.clear()
            flat[key] = (rows[active] + n * np.arange(key)[:, None]).ravel()  # (A * m,)
        return flat[key]

    def cv(v, idx):  # C_r v for each row of v: (A, dy) -> (A, dx)
        return (v @ y.T).ravel()[idx].reshape(len(v), m) @ xh  # (A, m) @ (m, dx)

    def step(active, va):
        idx = flat_rows(active)
        u = _normalize_rows(cv(va, idx))  # (A, dx)
        s = np.zeros(len(active) * n, dtype=np.float32)
        s[idx] = (u @ xh.T).ravel()  # xh u, placed at y's rows (distinct within a set)
        return s.reshape(len(active), n) @ y  # (A, dy)
    v = _power_iterate(step, r, dy, np.float32)
    u = _normalize_rows(cv(v, flat_rows(np.arange(r))))
    return u.astype(np.float64), v.astype(np.float64)


def leading_pair_slices(xs: np.ndarray, ys: np.ndarray, perms: np.ndarray | None = None,
                        crossfit: bool | None = None, seed: int = DEFAULT_SEED, split: int = 0
                        ) -> tuple[np.ndarray, np.ndarray]:
    """
    Project standardized sides on the leading singular pair of their cross-correlation.

    :param xs: (N, dx) standardized x (constant columns all zero).
    :param ys: (N, dy) standardized y.
    :param perms: (P, N) row permutations of y; None means the data as paired.
    :param crossfit: fit the pair on one half of the rows and project the other half with
        it (and the reverse), so that no row is projected on directions fitted to itself.
        None (default): only when N < dx + dy, where an in-sample pair can be fitted to
        noise (docs/sliced_mi.md). The choice depends on (N, dx, dy) only, so it is the same
        for every permutation and the permutation test stays exact.
    :param seed: seed of the split into halves (crossfit only).
    :param split: which split of that seed (crossfit only; :func:`pls_mi` averages
        ``PLS_SPLITS`` of them).

    :return: (a, b), both (R, N) with R = 1 (no perms) or P: row r is (u_r^T x_i, v_r^T y_i)
        for the leading pair (u_r, v_r) of x^T y[perm_r], signs fixed so that the largest
        component of u_r is positive (cross-fitted: of the first half's u_r, the second
        half's pair aligned to it). A side with no live column gives all-zero rows.
    """
    rows = row_sets(xs.shape[0], perms)
    return _project_on_pairs(xs, ys, rows, pls_crossfits(crossfit, xs.shape, ys.shape), seed,
                             split)


def row_sets(n: int, perms: np.ndarray | None) -> np.ndarray:
    """Rows of y paired with x's rows 0..n-1 in each data set: (R, N) (the identity if None)."""
    return np.arange(n)[None] if perms is None else np.asarray(perms)


def _project_on_pairs(xs: np.ndarray, ys: np.ndarray, rows: np.ndarray, crossfit: bool,
                      seed: int, split: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`leading_pair_slices` for (R, N) row sets of y and a resolved ``crossfit``."""
    n = xs.shape[0]
    if not crossfit:
        u, v = _signed_pair(xs, ys, rows)  # (R, dx), (R, dy)
        return u @ xs.T, np.take_along_axis(v @ ys.T, rows, axis=1)  # (R, N) each
    order = np.random.default_rng([seed, 3, split]).permutation(n)
    half_a, half_b = order[:n // 2], order[n // 2:]
    u_a, v_a = _signed_pair(xs[half_a], ys, rows[:, half_a])
    u_b, v_b = _signed_pair(xs[half_b], ys, rows[:, half_b])
    align = np.where(np.sum(u_a * u_b, axis=1) < 0, -1.0, 1.0)[:, None]  # (R, 1)
    u_b, v_b = u_b * align, v_b * align
    a, b = np.empty((len(rows), n)), np.empty((len(rows), n))
    for half, u, v in ((half_b, u_a, v_a), (half_a, u_b, v_b)):
        # Each half standardized on its own: the two halves are projected on different
        # directions, and a scale that differs by half would tie |a| to |b| through it.
        a[:, half] = _standardize_rows(u @ xs[half].T)  # (R, |half|)
        b[:, half] = _standardize_rows(np.take_along_axis(v @ ys.T, rows[:, half], axis=1))
    return a, b


def _standardize_rows(m: np.ndarray) -> np.ndarray:
    """Each row to mean 0 and standard deviation 1 (a constant row to 0)."""
    m = m - m.mean(axis=1, keepdims=True)
    sd = m.std(axis=1, keepdims=True)
    return np.divide(m, sd, out=np.zeros_like(m), where=sd > 0)


def pls_splits(crossfit: bool) -> int:
    """Estimator rows per leading-pair statistic: PLS_SPLITS out of fold, else 1."""
    return PLS_SPLITS if crossfit else 1


def pls_crossfits(crossfit: bool | None, x_shape, y_shape) -> bool:
    """Whether the leading pair is fitted out of fold: ``crossfit``, or for None N < dx + dy."""
    return bool(x_shape[0] < x_shape[1] + y_shape[1]) if crossfit is None else bool(crossfit)


def pls_rows(xs: np.ndarray, ys: np.ndarray, perms: np.ndarray | None = None,
             crossfit: bool | None = None, seed: int = DEFAULT_SEED
             ) -> tuple[np.ndarray, np.ndarray, int]:
    """
    Estimator rows of the leading-pair statistic: (a, b, K), a and b (R * K, N).

    K = 1 in-sample, else ``PLS_SPLITS`` out-of-fold projections of different random splits
    (row r * K + k: permutation r, split k); the statistic is the mean estimate over a
    permutation's K rows. One split leaves the statistic at the mercy of where the halves
    fall, which costs power at small N (docs/sliced_mi.md).
    """
    crossfit = pls_crossfits(crossfit, xs.shape, ys.shape)
    k = pls_splits(crossfit)
    rows = row_sets(xs.shape[0], perms)
    with _one_blas_thread():
        parts = [_project_on_pairs(xs, ys, rows, crossfit, seed, split) for split in range(k)]
    a = np.stack([p[0] for p in parts], axis=1)  # (R, K, N)
    b = np.stack([p[1] for p in parts], axis=1)  # (R, K, N)
    n = xs.shape[0]
    return a.reshape(-1, n), b.reshape(-1, n), k


@functools.lru_cache(maxsize=1)
def _blas_controller():
    """Return the threadpoolctl controller (it inspects the loaded libraries once)."""
    return ThreadpoolController()


def _one_blas_thread():
    """
    Return a context in which numpy's BLAS runs on the calling thread only.

    The leading pair's matrix products are small. Run on BLAS threads (OpenBLAS by default),
    they leave those threads spinning for a while after each product, on the cores where
    the estimator's row workers run next: the forward pass that follows took as long on
    two threads as on one. Without threadpoolctl, a no-op.
    """
    if ThreadpoolController is None:
        return contextlib.nullcontext()
    return _blas_controller().limit(limits=1, user_api='blas')


def _signed_pair(xh: np.ndarray, y: np.ndarray, rows: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_leading_pairs` with each u's largest |component| positive (sign fixed)."""
    u, v = _leading_pairs(xh, y, rows)  # (R, dx), (R, dy)
    sign = np.sign(u[np.arange(len(u)), np.abs(u).argmax(axis=1)])  # (R,)
    sign[sign == 0] = 1.0
    return u * sign[:, None], v * sign[:, None]


def pls_mi(x, y, estimator: InfoNetEstimator | None = None, crossfit: bool | None = None,
           seed: int = DEFAULT_SEED) -> float:
    """
    MI (nats) of the leading-pair slice: x and y projected on the leading singular pair.

    One scalar pair, (u^T x_i, v^T y_i), with (u, v) the leading singular vectors of the
    cross-correlation of the standardized sides; see the module docstring for when it beats
    random slices and why it over-reads dependence (use it through the permutation test:
    ``independence_test(..., statistic='pls')``).

    :param x: (N, dx) samples, or (N,) for dx = 1.
    :param y: (N, dy) samples paired row by row with ``x``.
    :param estimator: an :class:`InfoNetEstimator`; None loads the shipped weights once.
    :param crossfit: directions fitted out of fold; None: when N < dx + dy
        (:func:`leading_pair_slices`).
    :param seed: seed of the split into halves when cross-fitting.

    :return: The estimate as a float (0.0 when a side has no non-constant column).

    :raises ValueError: as :func:`infonet_ros.core.sliced.project_slices`.
    """
    a, b, _ = pls_rows(*standardized_sides(x, y), crossfit=crossfit, seed=seed)
    est = estimator or default_estimator()
    return float(est.estimate_batch(a, b).mean())
