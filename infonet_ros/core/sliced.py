# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Sliced mutual information of vector signals.

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
The leading-pair slice (:mod:`infonet_ros.core.pls`) sees such shared linear components, and
:mod:`infonet_ros.core.independence` turns either statistic into a permutation test.

Preprocessing: each column is standardized (mean 0, standard deviation 1) before projecting,
so the result does not depend on the units or offsets of the columns (a gyroscope in rad/s
beside an accelerometer in m/s^2), nor on their magnitude anywhere in float64's range (a
column of 1e300s or of 1e-310s reads as the same column near 1). The estimator is
rank-based, so scaling a whole side does not matter either. A side of dimension 1 is
projected on a random sign, +1 or -1: the estimate of (-x, y) is close to, but not
bit-equal with, that of (x, y).

Constant columns (a joint that does not move during the window) carry no information: they
are set to zero after centering, so they take no part in any projection. If every column of
one side is constant, every slice is constant and the sliced MI is exactly 0.0 (p-value 1.0),
as for a constant scalar series in :class:`~infonet_ros.core.estimator.InfoNetEstimator`.
"""

from __future__ import annotations

import numpy as np

from infonet_ros.core.checks import as_float64
from infonet_ros.core.estimator import (default_estimator, DEFAULT_ROWS_PER_PASS, estimate_rows,
                                        InfoNetEstimator)
from infonet_ros.core.limits import MIN_SAMPLES

# Random direction pairs per estimate (the ROS node's default too). The Monte-Carlo error of
# the mean falls as 1/sqrt(n_slices); 64 keeps one window of a vector pair well under a second
# on a CPU. Weak dependence spread over many dimensions needs more (docs/sliced_mi.md).
DEFAULT_N_SLICES = 64
# Seed of the slice directions (and, offset, of the permutations and the leading pair's
# splits): fixed by default, so the same data give the same number in the ROS node and in
# the library.
DEFAULT_SEED = 0


def _as_matrix(a, name: str) -> np.ndarray:
    """Convert one side to float64 (N, d), 1-D meaning d = 1; ValueError naming the problem."""
    m = as_float64(a, name)
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
    # Each column is first scaled by a power of two that brings its largest |value| near 1:
    # exact in binary floating point, so the result is that of the plain formula wherever
    # that one is finite, while squares of values near 1e300 (inf) or 1e-310 (0) would make
    # the deviation inf or 0 and the column all zero or inf.
    m = np.ldexp(m, -np.frexp(np.max(np.abs(m), axis=0))[1])
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
    xm, ym = standardized_sides(x, y)
    theta, phi = random_directions(n_slices, xm.shape[1], ym.shape[1], seed)
    xs = theta @ xm.T  # (S, N)
    ys = phi @ ym.T  # (S, N)
    return xs, ys


def standardized_sides(x, y) -> tuple[np.ndarray, np.ndarray]:
    """
    Validate two paired sides and standardize their columns: (N, dx), (N, dy) float64.

    Constant columns become all zero. ValueError as :func:`project_slices`.
    """
    xm, ym = _as_matrix(x, 'x'), _as_matrix(y, 'y')
    if xm.shape[0] != ym.shape[0]:
        raise ValueError(f'x and y must have the same number of samples (rows), got '
                         f'{xm.shape[0]} and {ym.shape[0]}')
    if xm.shape[0] < MIN_SAMPLES:
        raise ValueError(f'need at least {MIN_SAMPLES} samples, got {xm.shape[0]}')
    return _standardize(xm), _standardize(ym)


def sliced_mi(x, y, n_slices: int = DEFAULT_N_SLICES, seed: int = DEFAULT_SEED,
              estimator: InfoNetEstimator | None = None,
              batch_rows: int = DEFAULT_ROWS_PER_PASS) -> float:
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
