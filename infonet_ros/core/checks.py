# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Checks of what goes into the estimator and what comes out of it.

Inputs: :func:`validate_pairs` (the numpy API: real, finite, paired, long enough),
:func:`check_torch_pair` (``mi_torch``: float tensors as well), :func:`check_batch_rows`.
Each raises ValueError naming the rule that is broken. Outputs:
:func:`check_finite_estimates`, so that an estimate is never NaN or inf without an error
(:class:`NonFiniteEstimateError`).
"""

from __future__ import annotations

import numpy as np
import torch

from infonet_ros.core.limits import MIN_SAMPLES


def as_float64(a, name: str) -> np.ndarray:
    """Return array-like or tensor data as float64; ValueError naming a non-numeric side."""
    if isinstance(a, torch.Tensor):
        a = a.detach().cpu().numpy()
    try:
        return np.asarray(a, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f'{name} must be numeric: {exc}') from exc


def validate_pairs(x, y, ndim: int) -> tuple[np.ndarray, np.ndarray]:
    """
    Check and convert paired samples to float64 arrays of shape (B, N).

    Raises ValueError saying which rule is broken: dimensionality, unequal shapes, fewer than
    MIN_SAMPLES samples, non-numeric values, NaN or inf (with the first bad index).
    """
    arrs = []
    for name, a in (('x', x), ('y', y)):
        a = as_float64(a, name)
        if a.ndim != ndim:
            want = '1-D of shape (N,)' if ndim == 1 else '2-D of shape (B, N)'
            raise ValueError(f'{name} must be {want}, got shape {a.shape}')
        bad = ~np.isfinite(a)
        if bad.any():
            idx = tuple(int(i) for i in np.argwhere(bad)[0])
            raise ValueError(f'{name} contains NaN or inf (first at index '
                             f'{idx[0] if ndim == 1 else idx})')
        # Explicit row count: reshape(-1, 0) cannot infer it for an empty series.
        arrs.append(a.reshape(int(np.prod(a.shape[:-1])), a.shape[-1]))
    x2, y2 = arrs
    if x2.shape != y2.shape:
        raise ValueError(f'x and y must have the same shape, got {np.shape(x)} and '
                         f'{np.shape(y)}')
    if x2.shape[-1] < MIN_SAMPLES:
        raise ValueError(f'need at least {MIN_SAMPLES} samples per series, got '
                         f'{x2.shape[-1]}')
    if x2.shape[0] == 0:
        raise ValueError('empty batch: B must be at least 1')
    return x2, y2


def check_batch_rows(batch_rows) -> int:
    """Return ``batch_rows`` (rows per forward pass) as an int >= 1, else ValueError."""
    if isinstance(batch_rows, bool) or not isinstance(batch_rows, (int, np.integer)) \
            or batch_rows < 1:
        raise ValueError(f'batch_rows must be a positive integer, got {batch_rows!r}')
    return int(batch_rows)


class NonFiniteEstimateError(RuntimeError):
    """The model gave NaN or inf for valid input: its weights (or a readout overflow)."""


def check_finite_estimates(mi: np.ndarray) -> np.ndarray:
    """Return (B,) estimates if all are finite, else raise NonFiniteEstimateError."""
    bad = ~np.isfinite(mi)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise NonFiniteEstimateError(
            f'the model gave a non-finite estimate ({mi[row]}) for row {row} of {len(mi)} '
            'of valid input: its weights hold extreme or damaged values (load a checked '
            'checkpoint with from_pretrained)')
    return mi


# dtypes mi_torch reads: soft ranks of 2,048 samples need more than half precision.
TORCH_INPUT_DTYPES = (torch.float32, torch.float64)


def check_torch_pair(x, y) -> None:
    """Raise ValueError naming the first rule ``mi_torch``'s inputs break."""
    for name, t in (('x', x), ('y', y)):
        if not isinstance(t, torch.Tensor):
            raise ValueError(f'{name} must be a torch.Tensor, got {type(t).__name__} '
                             '(estimate() and estimate_batch() take arrays and lists)')
        if t.dtype not in TORCH_INPUT_DTYPES:
            raise ValueError(f'{name} must be float32 or float64, got {t.dtype} (convert '
                             'with .double() or .float(); soft ranks need that precision)')
    if x.shape != y.shape or x.dim() not in (1, 2):
        raise ValueError(f'x and y must share a (N,) or (B, N) shape, got '
                         f'{tuple(x.shape)} and {tuple(y.shape)}')
    if x.dim() == 2 and x.shape[0] == 0:
        raise ValueError('empty batch: B must be at least 1')
    if x.shape[-1] < MIN_SAMPLES:
        raise ValueError(f'need at least {MIN_SAMPLES} samples per series, got '
                         f'{x.shape[-1]}')
    if not (torch.isfinite(x).all() and torch.isfinite(y).all()):
        raise ValueError('x and y must be finite (no NaN or inf)')
