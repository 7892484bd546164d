# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Sliced mutual information of vector signals, and a permutation test of independence.

InfoNet reads scalar pairs. For vectors X in R^dx and Y in R^dy (a 6-axis IMU against 7 joint
positions) this module estimates the *sliced* mutual information

    SI(X; Y) = E_{theta, phi} [ I(theta^T X; phi^T Y) ],

theta and phi uniform on the unit spheres of R^dx and R^dy (Goldfeld & Greenewald, 2021), by
a Monte-Carlo mean over ``n_slices`` random direction pairs; every slice is one scalar pair
for the estimator and all slices go through it in batched forward passes.

What sliced MI is not: it is not I(X; Y). Each slice is a data-processed view of (X, Y), so
SI(X; Y) <= I(X; Y), and usually far below it. SI is zero if and only if X and Y are
independent (if every pair of 1-D projections is independent, the joint characteristic
function factorizes), but that holds for the mean over *all* directions. A finite number of
random slices can read near zero when the dependence lives in a few rare directions, e.g.
through one coordinate of a 128-D vector, whose share of a random projection is ~1/128.
It is a summary for detection and ranking, in nats, not comparable to the MI of the vectors.

Preprocessing: each column is standardized (mean 0, standard deviation 1) before projecting,
so the result does not depend on the units or offsets of the columns (a gyroscope in rad/s
beside an accelerometer in m/s^2). The estimator is rank-based, so scaling a whole side does
not matter either. A side of dimension 1 is projected on a random sign, +1 or -1: the
estimate of (-x, y) is close to, but not bit-equal with, that of (x, y).

Constant columns (a joint that does not move during the window) carry no information: they
are set to zero after centering, so they take no part in any projection. If every column of
one side is constant, every slice is constant and the sliced MI is exactly 0.0 (p-value 1.0),
as for a constant scalar series in :class:`~infonet_ros.core.estimator.InfoNetEstimator`.

Independence test: the statistic is the sliced MI; its null distribution comes from
``n_permutations`` random permutations of the rows of y, evaluated with the *same* slice
directions, and p = (1 + #{permuted statistic >= observed}) / (1 + n_permutations). The test
is exact (level alpha for any sample size) because, under independence, the observed and the
permuted data sets are exchangeable. Cost is (1 + n_permutations) * n_slices estimator rows;
see :func:`independence_test` for the speed/resolution trade-off.

Leading-pair statistic (``statistic='pls'``, our addition, not the InfoNet authors'): one
slice instead of many random ones, along the leading pair of singular vectors of the
cross-correlation matrix of the standardized sides (partial least squares). When X and Y
share a linear(-ish) component spread over many coordinates, random slices see ~1/d of it and
this slice sees most of it; when the dependence is purely nonlinear (zero cross-correlation)
the pair is fitted to noise and random slices are the better statistic. The directions are
fitted to the data, so the value over-reads dependence (most when N is not well above
dx + dy); the permutation test refits them on every permuted data set, which keeps it exact.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
import functools

import numpy as np
import torch
try:
    from threadpoolctl import ThreadpoolController
except ImportError:  # optional (scikit-learn, a dependency, brings it): a speed-up only
    ThreadpoolController = None

from infonet_ros.core.estimator import InfoNetEstimator, MIN_SAMPLES

# Random direction pairs per estimate (the ROS node's default too). The Monte-Carlo error of
# the mean falls as 1/sqrt(n_slices); 64 keeps one window of a vector pair well under a second
# on a CPU. Weak dependence spread over many dimensions needs more (docs/sliced_mi.md).
DEFAULT_N_SLICES = 64
# Permutations of the independence test: p-values resolve to 1/(1 + 99) = 0.01.
DEFAULT_N_PERMUTATIONS = 99
# Seed of the slice directions (and, offset, of the permutations): fixed by default, so the
# same data give the same number in the ROS node and in the library.
DEFAULT_SEED = 0
# Statistics of independence_test: the mean over random slices, or the leading-pair slice.
STATISTICS = ('sliced', 'pls')
DEFAULT_STATISTIC = 'sliced'
# Random half-splits averaged by the out-of-fold leading-pair statistic (N < dx + dy).
PLS_SPLITS = 8
# Estimator rows per forward pass: bounds memory (~2 MB per row on a CPU) while keeping
# the batch large enough for efficient matrix products.
DEFAULT_BATCH_ROWS = 256

_DEFAULT_ESTIMATORS: dict = {}


def _as_matrix(a, name: str) -> np.ndarray:
    """Convert one side to float64 (N, d), 1-D meaning d = 1; ValueError naming the problem."""
    if isinstance(a, torch.Tensor):
        a = a.detach().cpu().numpy()
    try:
        m = np.asarray(a, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f'{name} must be numeric: {exc}') from exc
    if m.ndim == 1:
        m = m[:, None]
    if m.ndim != 2:
        raise ValueError(f'{name} must be 1-D (N,) or 2-D (N, d), got shape {m.shape}')
    if m.shape[1] == 0:
        raise ValueError(f'{name} has no columns (shape {m.shape}): need at least one')
    bad = ~np.isfinite(m)
    if bad.any():
        row, col = (int(i) for i in np.argwhere(bad)[0])
        raise ValueError(f'{name} contains NaN or inf (first at row {row}, column {col})')
    return m


def _standardize(m: np.ndarray) -> np.ndarray:
    """Per-column (x - mean) / std; constant columns become all-zero (no information)."""
    centred = m - m.mean(axis=0)
    std = centred.std(axis=0)
    live = np.ptp(m, axis=0) > 0
    out = np.zeros_like(centred)
    out[:, live] = centred[:, live] / std[live]
    return out


def random_directions(n_slices: int, dx: int, dy: int, seed: int = DEFAULT_SEED
                      ) -> tuple[np.ndarray, np.ndarray]:
    """
    Draw unit directions uniform on the spheres: theta (S, dx), phi (S, dy), from ``seed``.

    ``seed`` must be a non-negative integer (ValueError otherwise).
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f'seed must be a non-negative integer, got {seed!r}')
    # One stream per side, filled row by row: the first k directions do not depend on
    # n_slices, so a larger n_slices refines the same estimate instead of drawing a new one.
    theta = np.random.default_rng([seed, 0]).standard_normal((n_slices, dx))
    phi = np.random.default_rng([seed, 1]).standard_normal((n_slices, dy))
    # A Gaussian vector is never exactly 0 in practice; the guard keeps the division finite.
    theta /= np.maximum(np.linalg.norm(theta, axis=1, keepdims=True), 1e-300)
    phi /= np.maximum(np.linalg.norm(phi, axis=1, keepdims=True), 1e-300)
    return theta, phi


def _check_n_slices(n_slices) -> int:
    if isinstance(n_slices, bool) or not isinstance(n_slices, (int, np.integer)) \
            or n_slices < 1:
        raise ValueError(f'n_slices must be a positive integer, got {n_slices!r}')
    return int(n_slices)


def project_slices(x, y, n_slices: int = DEFAULT_N_SLICES, seed: int = DEFAULT_SEED
                   ) -> tuple[np.ndarray, np.ndarray]:
    """
    Validate, standardize and project two vector signals onto random direction pairs.

    Row s of the outputs is the scalar pair (theta_s^T x_i, phi_s^T y_i), i = 1..N, that the
    estimator reads for slice s. The sliced MI is the mean of the estimates of the rows; the
    ROS node calls this function so that its numbers equal :func:`sliced_mi`'s.

    :param x: (N, dx) samples (a 1-D (N,) array means dx = 1), finite.
    :param y: (N, dy) samples paired row by row with ``x``.
    :param n_slices: number S of random direction pairs, >= 1.
    :param seed: seed of the directions (the data do not influence them).

    :return: (xs, ys), both float64 of shape (S, N).

    :raises ValueError: non-numeric, NaN or inf values (naming row and column), more than two
        dimensions, a side with no column, different N, N < MIN_SAMPLES, or a bad
        ``n_slices``. Constant columns are not an error (see the module docstring).
    """
    n_slices = _check_n_slices(n_slices)
    xm, ym = _validated_sides(x, y)
    theta, phi = random_directions(n_slices, xm.shape[1], ym.shape[1], seed)
    xs = theta @ xm.T  # (S, N)
    ys = phi @ ym.T  # (S, N)
    return xs, ys


def _validated_sides(x, y) -> tuple[np.ndarray, np.ndarray]:
    xm, ym = _as_matrix(x, 'x'), _as_matrix(y, 'y')
    if xm.shape[0] != ym.shape[0]:
        raise ValueError(f'x and y must have the same number of samples (rows), got '
                         f'{xm.shape[0]} and {ym.shape[0]}')
    if xm.shape[0] < MIN_SAMPLES:
        raise ValueError(f'need at least {MIN_SAMPLES} samples, got {xm.shape[0]}')
    return _standardize(xm), _standardize(ym)


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
    rows = _row_sets(xs.shape[0], perms)
    return _project_on_pairs(xs, ys, rows, pls_crossfits(crossfit, xs.shape, ys.shape), seed,
                             split)


def _row_sets(n: int, perms: np.ndarray | None) -> np.ndarray:
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


def _pls_splits(crossfit: bool) -> int:
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
    k = _pls_splits(crossfit)
    rows = _row_sets(xs.shape[0], perms)
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


def default_estimator() -> InfoNetEstimator:
    """Return the shipped-weights estimator, loaded once per process."""
    if 'default' not in _DEFAULT_ESTIMATORS:
        _DEFAULT_ESTIMATORS['default'] = InfoNetEstimator.from_pretrained()
    return _DEFAULT_ESTIMATORS['default']


def _check_batch_rows(batch_rows) -> int:
    if isinstance(batch_rows, bool) or not isinstance(batch_rows, (int, np.integer)) \
            or batch_rows < 1:
        raise ValueError(f'batch_rows must be a positive integer, got {batch_rows!r}')
    return int(batch_rows)


def estimate_rows(estimator: InfoNetEstimator, xs: np.ndarray, ys: np.ndarray,
                  batch_rows: int = DEFAULT_BATCH_ROWS) -> np.ndarray:
    """Estimates of the (R, N) scalar pairs row by row, ``batch_rows`` rows per pass -> (R,)."""
    batch_rows = _check_batch_rows(batch_rows)
    out = np.empty(xs.shape[0])
    for start in range(0, xs.shape[0], batch_rows):
        stop = start + batch_rows
        out[start:stop] = estimator.estimate_batch(xs[start:stop], ys[start:stop])
    return out


def sliced_mi(x, y, n_slices: int = DEFAULT_N_SLICES, seed: int = DEFAULT_SEED,
              estimator: InfoNetEstimator | None = None,
              batch_rows: int = DEFAULT_BATCH_ROWS) -> float:
    """
    Sliced mutual information (nats) of two paired vector signals.

    The mean over ``n_slices`` random direction pairs (theta, phi) of the InfoNet estimate of
    I(theta^T X; phi^T Y), columns standardized first. It is not I(X; Y): see the module
    docstring for what it measures. Near independence it scatters around 0 and can be
    slightly negative.

    :param x: (N, dx) samples, or (N,) for dx = 1.
    :param y: (N, dy) samples paired row by row with ``x``.
    :param n_slices: random direction pairs (Monte-Carlo error ~ 1/sqrt(n_slices)).
    :param seed: seed of the directions; equal seeds give equal results.
    :param estimator: an :class:`InfoNetEstimator`; None loads the shipped weights once.
    :param batch_rows: slices per forward pass (memory bound; the result does not depend on it).

    :return: The sliced MI estimate as a float.

    :raises ValueError: as :func:`project_slices`.
    """
    xs, ys = project_slices(x, y, n_slices, seed)
    est = estimator or default_estimator()
    return float(estimate_rows(est, xs, ys, batch_rows).mean())


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

    :raises ValueError: as :func:`project_slices`.
    """
    a, b, _ = pls_rows(*_validated_sides(x, y), crossfit=crossfit, seed=seed)
    est = estimator or default_estimator()
    return float(est.estimate_batch(a, b).mean())


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
    equal those of :func:`sliced_mi` with the same seed.
    """
    rng = np.random.default_rng([seed, 2])
    return np.stack([rng.permutation(n_samples) for _ in range(n_permutations)]) \
        if n_permutations else np.empty((0, n_samples), dtype=np.int64)


def independence_test(x, y, n_slices: int = DEFAULT_N_SLICES,
                      n_permutations: int = DEFAULT_N_PERMUTATIONS,
                      seed: int = DEFAULT_SEED, estimator: InfoNetEstimator | None = None,
                      batch_rows: int = DEFAULT_BATCH_ROWS,
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
    when N < dx + dy (out-of-fold fits; n_slices is not used). Far more
    powerful for dependence through a shared linear component of many coordinates, and
    cheaper; blind to purely nonlinear dependence (module docstring, docs/sliced_mi.md).

    :param x: (N, dx) samples, or (N,) for dx = 1.
    :param y: (N, dy) samples paired row by row with ``x``.
    :param n_slices: random direction pairs per statistic.
    :param n_permutations: permutations of the rows of y (>= 0; 0 gives p = 1.0).
    :param seed: seeds the directions (as in :func:`sliced_mi`) and the permutations.
    :param estimator: an :class:`InfoNetEstimator`; None loads the shipped weights once.
    :param batch_rows: estimator rows per forward pass (results do not depend on it).
    :param statistic: 'sliced' (mean over random slices) or 'pls' (leading-pair slice).

    :return: An :class:`IndependenceTestResult`.

    :raises ValueError: as :func:`project_slices`, a negative/non-integer n_permutations, or
        an unknown statistic.
    """
    if isinstance(n_permutations, bool) or not isinstance(n_permutations, (int, np.integer)) \
            or n_permutations < 0:
        raise ValueError(f'n_permutations must be a non-negative integer, got '
                         f'{n_permutations!r}')
    batch_rows = _check_batch_rows(batch_rows)
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
    xm, ym = _validated_sides(x, y)
    est = estimator or default_estimator()
    k = _pls_splits(pls_crossfits(None, xm.shape, ym.shape))
    stats = _data_set_statistics(est, _with_identity(xm.shape[0], n_permutations, seed), k,
                                 lambda chunk: pls_rows(xm, ym, chunk, seed=seed)[:2],
                                 batch_rows)
    return _test_result(stats[0], stats[1:], n_slices=k, kind='pls')


def _with_identity(n: int, n_permutations: int, seed: int) -> np.ndarray:
    """Return the data's row order (the identity), then the test's permutations: (1 + P, N)."""
    return np.vstack([_row_sets(n, None), permutation_indices(n, int(n_permutations), seed)])


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
