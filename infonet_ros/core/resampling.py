# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Index plans for the uncertainty of an estimate: time shifts of y and half-samples.

- Dependence length: the first lag at which the autocorrelations of both series fall below
  ``ACF_THRESHOLD`` (or 3 / sqrt(N), three standard errors of a sample autocorrelation of
  i.i.d. data, if larger): samples that far apart are treated as unrelated
  (:func:`dependence_length`); i.i.d. windows get 1 except ~0.5 % of them (2 or more).
- Shift null: y rotated by K lags evenly spaced around the window, k N / (K + 1) for
  k = 1..K (:func:`shift_lags`). Under independence of stationary series, rotating y by these
  lags leaves the joint law of the window (nearly) unchanged (exactly for a circular-stationary
  y), so the observed and the K shifted statistics are exchangeable and
  p = (1 + #{shifted >= observed}) / (K + 1) is valid for any K and autocorrelation.
  Validity does not need the shifts to be far apart (exchangeability holds for any spacing),
  power does: a y shifted by less than the dependence length still carries part of the
  pairing, so dependent data look more like their shifts. K is therefore reduced to
  N // length - 1 when the window is too short for the requested K, but not below
  ``MIN_SHIFTS`` (19: p = 0.05 stays reachable); those shifts are closer than the dependence
  length (measured type-I error 0.063 at N = 64 and 256 on AR(1) 0.9 pairs, 600 trials).
- Half-samples for intervals (:func:`half_samples`): K/2 random splits of the window into two
  halves; each split gives two estimates T_A, T_B from N/2 samples, and for an asymptotically
  linear estimator Var(T_N) ~ E[(T_A - T_B)^2] / 4 (the variance of a half-sample mean about
  the full mean is that of the full mean). i.i.d.: halves of single samples. Time series:
  halves of contiguous blocks of the dependence length (block half-sampling), so the
  within-block dependence counts in the spread.
"""

from __future__ import annotations

import numpy as np

# Autocorrelation below which samples count as unrelated (dependence_length).
ACF_THRESHOLD = 0.1
# Fewest blocks a window needs for block half-samples (fewer: no interval).
MIN_BLOCKS = 4
# Fewest shifts of the shift null, however short the window (p can reach 1 / 20 = 0.05).
MIN_SHIFTS = 19


def autocorrelation(x: np.ndarray, max_lag: int) -> np.ndarray:
    """Sample autocorrelation of each row of (B, N) ``x`` at lags 0..max_lag -> (B, max_lag+1)."""
    n = x.shape[-1]
    z = x - x.mean(axis=-1, keepdims=True)
    size = 1 << int(2 * n - 1).bit_length()  # zero padding: no circular wrap
    f = np.fft.rfft(z, size, axis=-1)
    acov = np.fft.irfft(f * np.conj(f), size, axis=-1)[..., :max_lag + 1]
    var = acov[..., :1]
    with np.errstate(invalid='ignore', divide='ignore'):
        return np.where(var > 0, acov / np.where(var > 0, var, 1.0), 0.0)


def dependence_length(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """
    First lag where |ACF| of both x and y is below the threshold, per row: (B, N) -> (B,).

    Threshold: max(ACF_THRESHOLD, 3 / sqrt(N)). At least 1 (i.i.d.: 1); N // 2 + 1 when
    the series do not decorrelate within half the window.
    """
    n = x.shape[-1]
    max_lag = n // 2
    thr = max(ACF_THRESHOLD, 3.0 / np.sqrt(n))
    big = np.maximum(np.abs(autocorrelation(x, max_lag)), np.abs(autocorrelation(y, max_lag)))
    below = big[:, 1:] < thr  # (B, max_lag), lag 1..max_lag
    first = np.where(below.any(axis=1), below.argmax(axis=1) + 1, max_lag + 1)
    return first.astype(np.int64)


def shift_lags(n: int, n_shifts: int, length: int) -> np.ndarray:
    """
    Lags of the shift null: round(k n / (K + 1)), k = 1..K, spaced ``length`` if they fit.

    K = min(n_shifts, max(n // length - 1, MIN_SHIFTS)) (module doc).
    """
    k = min(int(n_shifts), max(n // max(int(length), 1) - 1, MIN_SHIFTS), n - 1)
    if k < 1:
        return np.empty(0, dtype=np.int64)
    return np.round(np.arange(1, k + 1) * n / (k + 1)).astype(np.int64)


def half_samples(n: int, n_splits: int, block: int, rng: np.random.Generator
                 ) -> np.ndarray | None:
    """
    Index sets of ``n_splits`` random splits into halves: (2 * n_splits, m), rows A0 B0 A1 ..

    ``block`` 1: halves of single samples (m = n // 2). Otherwise the first
    ``blocks * size`` samples form ``blocks = n // block`` contiguous blocks of
    ``size = n // blocks`` samples, and each half holds blocks // 2 whole blocks. None when
    there are fewer than ``MIN_BLOCKS`` blocks.
    """
    blocks = n // max(int(block), 1)
    if blocks < MIN_BLOCKS:
        return None
    size = n // blocks
    half = blocks // 2
    starts = np.arange(blocks) * size  # (blocks,)
    out = []
    for _ in range(n_splits):
        order = rng.permutation(blocks)
        for part in (order[:half], order[half:2 * half]):
            idx = (starts[np.sort(part)][:, None] + np.arange(size)).ravel()  # (half * size,)
            out.append(idx)
    return np.stack(out)
