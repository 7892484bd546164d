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

from infonet_ros.core.checks import as_float64, check_batch_rows, validate_pairs
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
        sd: half-sampling standard deviation of the estimate (nats; NaN without interval):
            ``lower`` and ``upper`` are mi -/+ t sd (:func:`interval`).

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
    sd: float = math.nan

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

    :param x: (B, N) windows, one per row; ``y`` paired with it row by row. Or (B, R, N):
        R scalar rows per window whose statistic is their mean, such as the R projections of
        a sliced pair (:func:`infonet_ros.core.sliced.project_slices`); the null and the
        halves then act on the samples of all R rows at once.
    :param level: coverage of the interval, in (0, 1).
    :param null: 'iid' or 'shift' (stationary series). 'iid' reads the model's table for
        windows of one row; the table does not hold the mean of R > 1 rows, so such windows
        get ``n_shifts`` random permutations of y instead (K extra rows each, like 'shift').
    :param n_shifts: null draws per window: shifts of y for 'shift' (fewer if the window is
        short), permutations for 'iid' windows of several rows.
    :param n_halves: half-samples per window for the interval (0: none; else even, >= 4).
    :param seed: seeds the half-sample splits and permutations (deterministic given it).
    :param null_table: the 'iid' table (a NullTable or a file); None: the shipped table
        of the estimator's model.
    :param batch_rows: rows per forward pass (results do not depend on it).

    :raises ValueError: bad input or options (one line naming the problem).
    :raises infonet_ros.core.null_table.NullTableError: null='iid', windows of one row, and
        no table of this model.
    """
    check_options(level, null, n_shifts, n_halves)
    if null == 'iid' and np.ndim(x) == 3 and np.shape(x)[1] > 1 and n_shifts < 1:
        raise ValueError("null='iid' on windows of several rows needs n_shifts >= 1 "
                         '(permutations)')
    batch_rows = check_batch_rows(batch_rows)
    x3, y3 = _row_sets(x, y)
    b, r, n = x3.shape
    use_table = null == 'iid' and r == 1
    table = table_for(estimator, null_table) if use_table else None
    # (B,): the longest dependence length over a window's rows.
    lengths = dependence_length(x3.reshape(-1, n), y3.reshape(-1, n)).reshape(b, r).max(axis=1)
    live = (np.ptp(x3, axis=2) > 0).any(axis=1) & (np.ptp(y3, axis=2) > 0).any(axis=1)
    # Permutations and half-sample splits depend on (seed, N, block length) only, not on the
    # other windows of the call: a window gets the same numbers in any batch (the node's
    # updates and the offline analysis batch windows differently).
    perms = (_permutations(n, n_shifts, seed) if null == 'iid' and not use_table else [])
    draws = [perms if null == 'iid' else _shift_draws(n, n_shifts, int(lengths[i]))
             for i in range(b)]
    blocks = lengths if null == 'shift' else np.ones(b, dtype=np.int64)
    halves = _half_plans(n, n_halves // 2, blocks, seed)

    # Rows of length N: per window its R rows, then R rows per null draw of y.
    blocks_n = ((x3[i], y3[i][:, idx]) for i in range(b)
                for idx in [slice(None)] + list(draws[i]))
    full = estimate_row_blocks(estimator, blocks_n, batch_rows)
    per_window = np.split(full, np.cumsum([(1 + len(d)) * r for d in draws])[:-1])
    stats = [p.reshape(-1, r).mean(axis=1) for p in per_window]  # (1 + K_i,) each
    spread = _half_spreads(estimator, x3, y3, blocks, halves, batch_rows)  # (B,)

    out = []
    for i in range(b):
        mi_i, null_i = float(stats[i][0]), stats[i][1:]
        if use_table:
            p, floor, n_null, note = _iid_null(table, mi_i, n, estimator.max_set_size)
        else:
            p, floor, n_null, note = _draws_null(mi_i, null_i, null, n_shifts, lengths[i], n)
        lower, upper, note_ci = interval(mi_i, spread[i], level, n_halves, blocks[i])
        notes = [s for s in (note, note_ci) if s]
        if null == 'iid' and lengths[i] > 1:
            notes.append(f'autocorrelated window (dependence length {lengths[i]}): the iid '
                         "null is anti-conservative, use null='shift'")
        sd = float(spread[i])
        if not live[i]:
            p, lower, upper, sd = 1.0, 0.0, 0.0, 0.0
            notes = ['a constant series: no information']
        out.append(MIEstimate(mi_i, lower, upper, float(p), float(floor), float(level),
                              null, n, int(n_null), int(lengths[i]),
                              n_halves if math.isfinite(lower) else 0, '; '.join(notes), sd))
    return out


def estimate_row_blocks(estimator: InfoNetEstimator, blocks, batch_rows: int) -> np.ndarray:
    """
    Estimates of the rows of ``blocks``, an iterable of (x, y) arrays of shape (k, N).

    Passes of ``batch_rows`` rows (the last one shorter): the rows are gathered as the
    passes need them, so memory holds about one pass, however many null draws a call asks.
    """
    out, xs, ys, pending = [], [], [], 0
    for bx, by in blocks:
        xs.append(bx)
        ys.append(by)
        pending += len(bx)
        if pending >= batch_rows:
            x_all, y_all = np.concatenate(xs), np.concatenate(ys)
            cut = pending - pending % batch_rows
            out.append(estimate_rows(estimator, x_all[:cut], y_all[:cut], batch_rows))
            xs, ys, pending = [x_all[cut:]], [y_all[cut:]], pending - cut
    if pending:
        out.append(estimate_rows(estimator, np.concatenate(xs), np.concatenate(ys),
                                 batch_rows))
    return np.concatenate(out) if out else np.empty(0)


def _row_sets(x, y) -> tuple[np.ndarray, np.ndarray]:
    """(B, N) or (B, R, N) windows, checked, as float64 (B, R, N); else one-line ValueError."""
    xa, ya = as_float64(x, 'x'), as_float64(y, 'y')
    if xa.ndim not in (2, 3):
        raise ValueError(f'x must be 2-D (B, N) or 3-D (B, R, N), got shape {xa.shape}')
    if ya.shape != xa.shape:
        raise ValueError(f'x and y must have the same shape, got {xa.shape} and {ya.shape}')
    if xa.ndim == 3 and 0 in xa.shape[:2]:
        raise ValueError(f'empty batch: (B, R, N) needs B, R >= 1, got {xa.shape}')
    rows, n = (xa.shape[1] if xa.ndim == 3 else 1), xa.shape[-1]
    x2, y2 = validate_pairs(xa.reshape(-1, n), ya.reshape(-1, n), ndim=2)
    return x2.reshape(-1, rows, n), y2.reshape(-1, rows, n)


def _shift_draws(n: int, k: int, length: int) -> list:
    """Index arrays of y shifted by the lags of the shift null (np.roll(y, s)[t] == y[t - s])."""
    return [(np.arange(n) - s) % n for s in shift_lags(n, k, length)]


def _permutations(n: int, k: int, seed: int) -> list:
    """K random permutations of N samples, the same for every window of length N."""
    rng = np.random.default_rng([seed, n, 1])
    return [rng.permutation(n) for _ in range(k)]


def _iid_null(table: NullTable, mi: float, n: int, max_set_size: int):
    """(p, noise floor, draws, note) from the table; NaN with a note where N is not covered."""
    p = table.p_value(mi, n, max_set_size)
    if math.isnan(p):
        return p, float('nan'), 0, (f'N = {n} is not covered by the null table (a single set '
                                    f'longer than {int(table.ns[-1])})')
    return p, table.noise_floor(n, max_set_size, NOISE_FLOOR_LEVEL), table.draws, ''


def _draws_null(mi: float, null: np.ndarray, kind: str, asked: int, length: int, n: int):
    """(p, noise floor, draws, note): the permutation p-value of the shifts or permutations."""
    k = len(null)  # >= 1: shift_lags gives at least min(asked, MIN_SHIFTS)
    p = (1.0 + np.count_nonzero(null >= mi)) / (k + 1.0)
    if kind != 'shift':
        return p, float(np.quantile(null, NOISE_FLOOR_LEVEL)), k, ''
    note = '' if k == asked else (f'{k} of {asked} shifts (dependence length {length}): '
                                  f'p >= {1.0 / (k + 1):.3g}')
    if (k + 1) * length > n:
        note += '; shifts closer than the dependence length (valid, less power)'
    return p, float(np.quantile(null, NOISE_FLOOR_LEVEL)), k, note


def _half_plans(n: int, splits: int, blocks: np.ndarray, seed: int) -> dict:
    """Half-sample index sets per distinct block length: {block: (2 splits, m) or None}."""
    if splits == 0:
        return {}
    return {int(blk): half_samples(n, splits, int(blk), np.random.default_rng([seed, n]))
            for blk in np.unique(blocks)}


def _half_spreads(estimator, x3, y3, blocks, plans, batch_rows) -> np.ndarray:
    """
    Half-sampling standard deviation of each window's estimate: (B,), NaN without a plan.

    ``x3``, ``y3``: (B, R, N); a half's estimate is the mean over the R rows. Windows whose
    plans have one half length share a call of ``estimate_rows``.
    """
    b, r, _ = x3.shape
    out = np.full(b, np.nan)
    by_length: dict[int, list[tuple[int, np.ndarray]]] = {}
    for i in range(b):
        idx = plans.get(int(blocks[i]))
        if idx is not None and idx.shape[1] >= MIN_SAMPLES:
            by_length.setdefault(idx.shape[1], []).append((i, idx))
    for group in by_length.values():
        # (R, 2S, m) per window -> rows ordered (window, half, row)
        xs = np.concatenate([x3[i][:, idx].transpose(1, 0, 2).reshape(-1, idx.shape[1])
                             for i, idx in group])  # (G * 2S * R, m)
        ys = np.concatenate([y3[i][:, idx].transpose(1, 0, 2).reshape(-1, idx.shape[1])
                             for i, idx in group])
        est = estimate_rows(estimator, xs, ys, batch_rows).reshape(len(group), -1, r)
        est = est.mean(axis=2).reshape(len(group), -1, 2)  # (G, S, 2)
        half_diff = (est[..., 0] - est[..., 1]) / 2.0  # (G, S)
        out[[i for i, _ in group]] = np.sqrt(np.mean(half_diff ** 2, axis=1))
    return out


@functools.lru_cache(maxsize=256)
def _student_quantile(prob: float, dof: int) -> float:
    from scipy import stats  # a dependency of the package; imported when first needed
    return float(stats.t.ppf(prob, dof))


def interval(mi: float, sd: float, level: float, n_halves: int, block: int = 1):
    """
    (lower, upper, note): mi -/+ t sd, intersected with MI >= 0; NaN with a note if none.

    ``sd``: the half-sampling standard deviation (``MIEstimate.sd``) of ``n_halves`` halves;
    t: the Student quantile at ``level`` with n_halves / 2 degrees of freedom. Also centres
    the interval of a statistic on another estimate of the same spread (the node's sliced
    pairs: the spread of a subset of the projections around the mean of all).
    """
    if n_halves == 0:
        return float('nan'), float('nan'), ''
    if not math.isfinite(sd):
        return float('nan'), float('nan'), (f'no interval: halves of fewer than {MIN_SAMPLES} '
                                            f'samples or 4 blocks of {block}')
    t = _student_quantile(0.5 + level / 2.0, n_halves // 2)
    return float(max(0.0, mi - t * sd)), float(max(0.0, mi + t * sd)), ''
