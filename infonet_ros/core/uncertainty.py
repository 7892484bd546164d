# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Every estimate with its uncertainty: a p-value of independence, a noise floor, an interval.

    >>> from infonet_ros.core.uncertainty import estimate_with_uncertainty
    >>> r = estimate_with_uncertainty(est, x, y, level=0.9, null='iid')
    >>> r.mi, r.lower, r.upper, r.p_value, r.noise_floor      # nats, nats, nats, -, nats
    >>> r.is_dependent(alpha=0.05)                            # p_value <= alpha

Two nulls (H0: x and y independent):

- ``'iid'``: the samples of a window are i.i.d. The estimate's null distribution then
  depends only on N and the model and is read from the model's shipped table
  (:mod:`infonet_ros.core.null_table`): no extra forward pass. Anti-conservative on
  autocorrelated windows (any sensor stream sampled faster than it decorrelates): an AR(1)
  pair with coefficient 0.9 is declared dependent far more often than alpha
  (benchmarks/results/uncertainty_calibration.md).
- ``'shift'``: stationary time series. y is rotated by ``n_shifts`` lags evenly spaced
  around the window, at least the window's dependence length apart
  (:mod:`infonet_ros.core.resampling`), and estimated in the same passes as the window:
  p = (1 + #{shifted >= observed}) / (K + 1). Costs K extra rows per window; a window shorter
  than (K + 1) dependence lengths gets fewer shifts, at least 19, then closer than the
  dependence length (valid, less powerful; ``n_null``, ``reason``).

Interval (``lower``, ``upper`` at ``level``): half-sampling (:mod:`infonet_ros.core.resampling`),
``n_halves`` extra rows of N/2 samples per window: mi -/+ t * sd with sd^2 the mean of
((T_A - T_B) / 2)^2 over the splits and t the Student quantile with ``n_halves / 2`` degrees
of freedom, intersected with MI >= 0. With null='shift' the halves are made of contiguous
blocks of the dependence length (autocorrelation counted); with 'iid' of single samples
(it does not account for autocorrelation). The interval covers the sampling spread of the
estimate, not the model's bias on a given distribution (measured per family in
benchmarks/results/uncertainty_calibration.md). ``n_halves=0``: no interval, no extra rows.

All windows of a call share passes: rows of one length go through
:func:`infonet_ros.core.estimator.estimate_rows` together (passes of at most ``batch_rows``
rows): one call for length N (windows and shifts), one per half length (N // 2; block halves
of windows with different dependence lengths can differ by a few samples).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
import functools
import math

import numpy as np

from infonet_ros.core.checks import check_batch_rows, validate_pairs
from infonet_ros.core.estimator import DEFAULT_ROWS_PER_PASS, estimate_rows, InfoNetEstimator
from infonet_ros.core.limits import MIN_SAMPLES
from infonet_ros.core.null_table import NullTable, table_for
from infonet_ros.core.resampling import dependence_length, half_samples, shift_lags

NULLS = ('iid', 'shift')
DEFAULT_NULL = 'iid'
DEFAULT_LEVEL = 0.9
# Shifts of the shift null: p-values on a grid of 1/40, so p <= 0.05 needs 1 of 39 at most.
DEFAULT_N_SHIFTS = 39
# Half-samples per interval (8 splits: 8 degrees of freedom of the spread).
DEFAULT_N_HALVES = 16
# Null quantile reported as the noise floor.
NOISE_FLOOR_LEVEL = 0.95
DEFAULT_SEED = 0


@dataclass(frozen=True)
class MIEstimate:
    """
    One estimate with its uncertainty. NaN fields say why in ``reason``.

    Attributes
    ----------
        mi: the estimate (nats), as ``InfoNetEstimator.estimate`` gives it.
        lower: lower end of the interval at ``level`` (nats, >= 0).
        upper: upper end of the interval at ``level`` (nats).
        p_value: probability under independence of an estimate >= ``mi`` (dimensionless,
            in [1 / (n_null + 1), 1]); threshold it at alpha to decide dependence.
        noise_floor: the 95th percentile of the estimate under independence at this N
            (nats): an estimate below it is within the noise of the window.
        level: the interval's coverage probability (0 < level < 1).
        null: 'iid' (table) or 'shift' (time shifts of y).
        n: samples in the window.
        n_null: null draws behind ``p_value``: the table's draws per N ('iid') or the
            shifts used ('shift'); ``p_value`` cannot go below 1 / (n_null + 1).
        dependence_length: samples after which both series' autocorrelations fall below
            max(0.1, 3 / sqrt(N)) (1 for uncorrelated samples): the shift spacing and block
            length; above 1 the 'iid' null is not valid for this window.
        n_halves: half-samples behind the interval (0: no interval).
        reason: '' when every field is computed and valid; else why a field is NaN, or a
            caveat (fewer shifts than asked, an autocorrelated window under 'iid').

    """

    mi: float
    lower: float
    upper: float
    p_value: float
    noise_floor: float
    level: float
    null: str
    n: int
    n_null: int
    dependence_length: int
    n_halves: int
    reason: str = ''

    def is_dependent(self, alpha: float = 0.05) -> bool:
        """Return True when the p-value is at most ``alpha`` (False when it is NaN)."""
        return bool(self.p_value <= alpha)

    def to_dict(self) -> dict:
        return asdict(self)


def check_options(level, null, n_shifts, n_halves) -> None:
    """Raise ValueError naming a bad option: level in (0, 1), a known null, counts >= 0 (even)."""
    if isinstance(level, bool) or not isinstance(level, (int, float, np.floating)) \
            or not 0.0 < level < 1.0:
        raise ValueError(f'level must be a number in (0, 1), got {level!r}')
    if null not in NULLS:
        raise ValueError(f'null must be one of {NULLS}, got {null!r}')
    for name, value in (('n_shifts', n_shifts), ('n_halves', n_halves)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
            raise ValueError(f'{name} must be a non-negative integer, got {value!r}')
    if n_halves % 2 or n_halves == 2:
        raise ValueError(f'n_halves must be 0 (no interval) or an even number >= 4, '
                         f'got {n_halves}')
    if null == 'shift' and n_shifts < 1:
        raise ValueError("null='shift' needs n_shifts >= 1")


def estimate_with_uncertainty(estimator: InfoNetEstimator, x, y, level: float = DEFAULT_LEVEL,
                              null: str = DEFAULT_NULL, **kwargs) -> MIEstimate:
    """
    MI of two paired 1-D series with interval, p-value and noise floor (see module doc).

    Keyword arguments as :func:`estimate_batch_with_uncertainty`.
    """
    x2, y2 = validate_pairs(x, y, ndim=1)
    return estimate_batch_with_uncertainty(estimator, x2, y2, level, null, **kwargs)[0]


def estimate_batch_with_uncertainty(
        estimator: InfoNetEstimator, x, y, level: float = DEFAULT_LEVEL,
        null: str = DEFAULT_NULL, n_shifts: int = DEFAULT_N_SHIFTS,
        n_halves: int = DEFAULT_N_HALVES, seed: int = DEFAULT_SEED,
        null_table: NullTable | str | None = None,
        batch_rows: int = DEFAULT_ROWS_PER_PASS) -> list[MIEstimate]:
    """
    :class:`MIEstimate` of each of B windows, all rows in shared forward passes.

    :param x: (B, N) windows, one per row; ``y`` paired with it row by row.
    :param level: coverage of the interval, in (0, 1).
    :param null: 'iid' (table: valid for i.i.d. samples) or 'shift' (stationary series).
    :param n_shifts: shifts of y per window for null='shift' (fewer if the window is short).
    :param n_halves: half-samples per window for the interval (0: none; else even, >= 4).
    :param seed: seeds the half-sample splits (results are deterministic given it).
    :param null_table: the 'iid' table (a NullTable or a file); None: the shipped table
        of the estimator's model.
    :param batch_rows: rows per forward pass (results do not depend on it).

    :raises ValueError: bad input or options (one line naming the problem).
    :raises infonet_ros.core.null_table.NullTableError: null='iid' and no table of this model.
    """
    check_options(level, null, n_shifts, n_halves)
    batch_rows = check_batch_rows(batch_rows)
    x2, y2 = validate_pairs(x, y, ndim=2)
    b, n = x2.shape
    table = table_for(estimator, null_table) if null == 'iid' else None
    lengths = dependence_length(x2, y2)  # (B,)
    live = (np.ptp(x2, axis=1) > 0) & (np.ptp(y2, axis=1) > 0)
    lags = [shift_lags(n, n_shifts, lengths[i]) if null == 'shift' else np.empty(0, int)
            for i in range(b)]
    rng = np.random.default_rng([seed, n])
    blocks = lengths if null == 'shift' else np.ones(b, dtype=np.int64)
    halves = _half_plans(n, n_halves // 2, blocks, rng)

    # Rows of length N: every window, then its shifted copies.
    full_x = [x2] + [np.repeat(x2[i:i + 1], len(lags[i]), axis=0) for i in range(b)]
    full_y = [y2] + [np.stack([np.roll(y2[i], s) for s in lags[i]]) for i in range(b)
                     if len(lags[i])]
    full = estimate_rows(estimator, np.concatenate(full_x), np.concatenate(full_y), batch_rows)
    mi, shifted = full[:b], np.split(full[b:], np.cumsum([len(s) for s in lags])[:-1])
    spread = _half_spreads(estimator, x2, y2, blocks, halves, batch_rows)  # (B,)

    out = []
    for i in range(b):
        p, floor, n_null, note = (_iid_null(table, mi[i], n, estimator.max_set_size)
                                  if null == 'iid' else
                                  _shift_null(mi[i], shifted[i], n_shifts, lengths[i], n))
        lower, upper, note_ci = _interval(mi[i], spread[i], level, n_halves, blocks[i])
        notes = [s for s in (note, note_ci) if s]
        if null == 'iid' and lengths[i] > 1:
            notes.append(f'autocorrelated window (dependence length {lengths[i]}): the iid '
                         "null is anti-conservative, use null='shift'")
        if not live[i]:
            p, lower, upper, notes = 1.0, 0.0, 0.0, ['a constant series: no information']
        out.append(MIEstimate(float(mi[i]), lower, upper, float(p), float(floor), float(level),
                              null, n, int(n_null), int(lengths[i]),
                              n_halves if math.isfinite(lower) else 0, '; '.join(notes)))
    return out


def _iid_null(table: NullTable, mi: float, n: int, max_set_size: int):
    """(p, noise floor, draws, note) from the table; NaN with a note where N is not covered."""
    p = table.p_value(mi, n, max_set_size)
    if math.isnan(p):
        return p, float('nan'), 0, (f'N = {n} is not covered by the null table (a single set '
                                    f'longer than {int(table.ns[-1])})')
    return p, table.noise_floor(n, max_set_size, NOISE_FLOOR_LEVEL), table.draws, ''


def _shift_null(mi: float, null: np.ndarray, asked: int, length: int, n: int):
    """(p, noise floor, shifts, note): the permutation p-value of the time shifts."""
    k = len(null)  # >= 1: shift_lags gives at least min(asked, MIN_SHIFTS)
    p = (1.0 + np.count_nonzero(null >= mi)) / (k + 1.0)
    note = '' if k == asked else (f'{k} of {asked} shifts (dependence length {length}): '
                                  f'p >= {1.0 / (k + 1):.3g}')
    if (k + 1) * length > n:
        note += '; shifts closer than the dependence length (valid, less power)'
    return p, float(np.quantile(null, NOISE_FLOOR_LEVEL)), k, note


def _half_plans(n: int, splits: int, blocks: np.ndarray, rng) -> dict:
    """Half-sample index sets per distinct block length: {block: (2 splits, m) or None}."""
    if splits == 0:
        return {}
    return {int(blk): half_samples(n, splits, int(blk), rng) for blk in np.unique(blocks)}


def _half_spreads(estimator, x2, y2, blocks, plans, batch_rows) -> np.ndarray:
    """
    Half-sampling standard deviation of each window's estimate: (B,), NaN without a plan.

    Windows whose plans have one half length share a call of ``estimate_rows``.
    """
    b = x2.shape[0]
    out = np.full(b, np.nan)
    by_length: dict[int, list[tuple[int, np.ndarray]]] = {}
    for i in range(b):
        idx = plans.get(int(blocks[i]))
        if idx is not None and idx.shape[1] >= MIN_SAMPLES:
            by_length.setdefault(idx.shape[1], []).append((i, idx))
    for group in by_length.values():
        xs = np.concatenate([x2[i][idx] for i, idx in group])  # (G * 2S, m)
        ys = np.concatenate([y2[i][idx] for i, idx in group])
        est = estimate_rows(estimator, xs, ys, batch_rows).reshape(len(group), -1, 2)
        half_diff = (est[..., 0] - est[..., 1]) / 2.0  # (G, S)
        out[[i for i, _ in group]] = np.sqrt(np.mean(half_diff ** 2, axis=1))
    return out


@functools.lru_cache(maxsize=256)
def _student_quantile(prob: float, dof: int) -> float:
    from scipy import stats  # a dependency of the package; imported when first needed
    return float(stats.t.ppf(prob, dof))


def _interval(mi: float, sd: float, level: float, n_halves: int, block: int):
    """(lower, upper, note): mi -/+ t sd, intersected with MI >= 0; NaN with a note if none."""
    if n_halves == 0:
        return float('nan'), float('nan'), ''
    if not math.isfinite(sd):
        return float('nan'), float('nan'), (f'no interval: halves of fewer than {MIN_SAMPLES} '
                                            f'samples or 4 blocks of {block}')
    t = _student_quantile(0.5 + level / 2.0, n_halves // 2)
    return float(max(0.0, mi - t * sd)), float(max(0.0, mi + t * sd)), ''
