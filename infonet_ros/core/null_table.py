# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Null distribution of a model's estimate on independent i.i.d. samples, tabulated per N.

The estimate is a function of the copula ranks alone, and for independent i.i.d. samples of
continuous variables the ranks of x and of y are two independent uniform random permutations:
the estimate's null distribution depends only on N and the model (distribution-free). It is
tabulated once per shipped model by Monte Carlo (x and y both random permutations: the
cross-fitting split and the long-series subsets are fixed positions, so x may not be the
identity) and shipped beside the weights as ``weights/infonet_<name>.null.json``; a p-value
is then a table look-up, with no extra forward pass.

Precision: with ``draws`` Monte Carlo draws per N (20,000 for the shipped tables), a
tabulated tail probability p has a standard error sqrt(p (1 - p) / draws): 0.0015 at
p = 0.05, 0.0007 at p = 0.01; the smallest p-value the table gives is 1 / (draws + 1).
Between tabulated N (about 12 % apart) the quantiles are interpolated linearly in log N
(``quantiles_at``), which adds an error: the null is not smooth in N (how evenly N ranks fill
the columns of the model's cell grid changes with N mod the grid). The type-I error at
alpha = 0.05 measured at an untabulated N is in benchmarks/results/uncertainty_calibration.md;
a fixed window length not in the table can be drawn exactly once with :func:`extend_table`.
Ties (quantized data) make the null distribution depend on the data: the table is exact for
continuous samples and an approximation for tied ones.

Series longer than the estimator's ``max_set_size`` are estimated as the length-weighted mean
of interleaved subsets (:mod:`infonet_ros.core.long_series`). Disjoint subsets of i.i.d. samples
are independent, so that mean's null distribution is the one of a weighted sum of independent
draws from the tabulated null of each subset length: composed here by Monte Carlo from the
table (``COMPOSE_DRAWS`` draws, no forward pass), for any N. The only N without a null: a
single set longer than the largest tabulated N (``max_set_size=0`` or larger than 2048).

The table belongs to one checkpoint: it records the SHA-256 of the model's parameters and
config (:func:`model_fingerprint`) and the cross-fitting seed; :func:`table_for` refuses a
table of another model with :class:`NullTableError` (no silent recomputation, which takes
minutes): build one with

    python -m infonet_ros.core.null_table --weights NAME_OR_PATH [--draws 10000] [--out FILE]
"""

from __future__ import annotations

import argparse
import dataclasses
from dataclasses import asdict, dataclass, field
import functools
import glob
import hashlib
import json
import math
import os
import sys
import time
import weakref

import numpy as np

from infonet_ros.core.estimator import estimate_rows, InfoNetEstimator
from infonet_ros.core.limits import MIN_SAMPLES
from infonet_ros.core.long_series import interleaved_subsets
from infonet_ros.core.model import resolve_weights, WEIGHTS_DIR, WeightsError

TABLE_FORMAT = 'infonet_ros.null_table/1'
# Tabulated N, about 12 % apart: the null's quantiles are not smooth enough in N for wider
# steps (between 512 and 768, linear interpolation put the 95th percentile at N = 600 6 %
# low, a type-I error of 0.059 at alpha = 0.05); the common window of 1000 itself.
TABLE_NS = (32, 40, 48, 56, 64, 72, 80, 96, 112, 128, 144, 160, 192, 224, 256, 288, 320, 384,
            448, 512, 576, 640, 704, 768, 896, 1000, 1024, 1152, 1280, 1408, 1536, 1792, 2048)
DEFAULT_DRAWS = 10_000
DEFAULT_SEED = 0
# Monte Carlo draws of the composed null of a long series (subset means), fixed seed.
COMPOSE_DRAWS = 20_000
# Quantile levels stored per N: the bulk evenly, both tails on a log scale down to 1e-4 (the
# upper tail is where p-values are read); 0 and 1 hold the smallest and largest draw.
LEVELS = np.unique(np.concatenate([
    [0.0], np.logspace(-4, -2, 9), np.linspace(0.01, 0.99, 99),
    1.0 - np.logspace(-2, -4, 25), [1.0]]))


class NullTableError(ValueError):
    """No null table for this estimator's model (missing, another checkpoint, bad file)."""


_FINGERPRINTS = weakref.WeakKeyDictionary()  # estimator -> fingerprint of its model


def model_fingerprint(estimator: InfoNetEstimator) -> str:
    """
    SHA-256 (hex) of the model's config and parameters: which network the table is of.

    Computed once per estimator (its weights are fixed at inference).
    """
    if estimator not in _FINGERPRINTS:
        _FINGERPRINTS[estimator] = _hash_model(estimator.model)
    return _FINGERPRINTS[estimator]


def _hash_model(model) -> str:
    h = hashlib.sha256(json.dumps(asdict(model.cfg), sort_keys=True).encode())
    for key, value in sorted(model.state_dict().items()):
        arr = value.detach().cpu().contiguous().numpy()
        h.update(f'{key}:{arr.dtype}:{arr.shape}'.encode())
        h.update(arr.tobytes())
    return h.hexdigest()


@dataclass
class NullTable:
    """
    Quantiles of a model's null estimates (nats) at ``levels`` for each N in ``ns``.

    ``quantiles``: (len(ns), len(levels)); ``draws`` Monte Carlo draws per N.
    """

    ns: np.ndarray
    levels: np.ndarray
    quantiles: np.ndarray
    draws: int
    fingerprint: str
    split_seed: int
    readout: str
    meta: dict = field(default_factory=dict)
    _composed: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def min_p(self) -> float:
        """Smallest p-value the table resolves: 1 / (draws + 1)."""
        return 1.0 / (self.draws + 1)

    def quantiles_at(self, n: int, max_set_size: int = 0) -> np.ndarray | None:
        """
        Null quantiles (at ``levels``) of an estimate from n samples; None if not covered.

        ``max_set_size``: the estimator's (0: one set at any N); N above it is composed from
        its subsets' nulls.
        """
        if n < self.ns[0]:
            return None
        if max_set_size and n > max_set_size:
            key = (int(n), int(max_set_size))
            if key not in self._composed:
                self._composed[key] = self._compose(n, max_set_size)
            return self._composed[key]
        if n > self.ns[-1]:
            return None
        return self._direct(n)

    def _direct(self, n: int) -> np.ndarray:
        """Quantiles at a single set's n, linear in log N between tabulated N."""
        j = int(np.searchsorted(self.ns, n))
        if self.ns[j] == n:
            return self.quantiles[j]
        lo, hi = self.ns[j - 1], self.ns[j]
        w = (math.log(n) - math.log(lo)) / (math.log(hi) - math.log(lo))
        return (1.0 - w) * self.quantiles[j - 1] + w * self.quantiles[j]

    def _compose(self, n: int, max_set_size: int) -> np.ndarray | None:
        """Quantiles of the length-weighted mean of independent subset nulls (module doc)."""
        rng = np.random.default_rng([DEFAULT_SEED, n, max_set_size])
        total = np.zeros(COMPOSE_DRAWS)
        for idx in interleaved_subsets(n, max_set_size):
            count, length = idx.shape
            if length > self.ns[-1] or length < self.ns[0]:
                return None
            q = self._direct(length)
            u = rng.random((COMPOSE_DRAWS, count))
            total += np.interp(u, self.levels, q).sum(axis=1) * (length / n)
        return np.quantile(total, self.levels)

    def p_value(self, mi: float, n: int, max_set_size: int = 0) -> float:
        """P(null estimate >= mi) at n, floored at ``min_p``; NaN if n is not covered."""
        q = self.quantiles_at(n, max_set_size)
        if q is None or not math.isfinite(mi):
            return float('nan')
        return max(self.min_p, 1.0 - _cdf(q, self.levels, mi))

    def noise_floor(self, n: int, max_set_size: int = 0, level: float = 0.95) -> float:
        """Return the ``level`` null quantile at n (nats): estimates below it are noise."""
        q = self.quantiles_at(n, max_set_size)
        return float('nan') if q is None else float(np.interp(level, self.levels, q))

    def to_json(self) -> dict:
        def rounded(a):
            return [float(f'{v:.7g}') for v in np.ravel(a)]
        return {'format': TABLE_FORMAT, **self.meta, 'model_sha256': self.fingerprint,
                'split_seed': self.split_seed, 'readout': self.readout, 'draws': self.draws,
                'n': [int(v) for v in self.ns], 'levels': rounded(self.levels),
                'quantiles': [rounded(row) for row in self.quantiles]}

    @classmethod
    def from_json(cls, d: dict, source: str = 'table') -> 'NullTable':
        if not isinstance(d, dict) or d.get('format') != TABLE_FORMAT:
            raise NullTableError(f'{source} is not a null table (format {TABLE_FORMAT!r})')
        try:
            meta = {k: v for k, v in d.items() if k in ('weights', 'seed', 'command')}
            return cls(np.asarray(d['n'], dtype=np.int64), np.asarray(d['levels'], float),
                       np.asarray(d['quantiles'], float), int(d['draws']),
                       str(d['model_sha256']), int(d['split_seed']), str(d['readout']), meta)
        except (KeyError, TypeError, ValueError) as exc:
            raise NullTableError(f'{source} is not a valid null table: {exc}') from exc


def _cdf(quantiles: np.ndarray, levels: np.ndarray, value: float) -> float:
    """Null CDF at ``value`` from quantiles at levels (upper end of a flat run of values)."""
    if value < quantiles[0]:
        return 0.0
    if value >= quantiles[-1]:
        return 1.0
    j = int(np.searchsorted(quantiles, value, side='right'))  # quantiles[j-1] <= v < q[j]
    lo, hi = quantiles[j - 1], quantiles[j]
    w = (value - lo) / (hi - lo) if hi > lo else 1.0
    return float(levels[j - 1] + w * (levels[j] - levels[j - 1]))


def null_draws(estimator: InfoNetEstimator, n: int, draws: int, seed: int = DEFAULT_SEED,
               chunk: int = 256) -> np.ndarray:
    """``draws`` estimates of n independent ranks (x, y: random permutations) -> (draws,)."""
    rng = np.random.default_rng([seed, n])
    out = np.empty(draws)
    base = np.arange(n, dtype=np.float64)
    for start in range(0, draws, chunk):
        rows = min(chunk, draws - start)
        x = rng.permuted(np.tile(base, (rows, 1)), axis=1)  # (rows, n)
        y = rng.permuted(np.tile(base, (rows, 1)), axis=1)
        out[start:start + rows] = estimate_rows(estimator, x, y)
    return out


def tabulate(estimator: InfoNetEstimator, ns=TABLE_NS, draws: int = DEFAULT_DRAWS,
             seed: int = DEFAULT_SEED, log=None, reuse: NullTable | None = None) -> NullTable:
    """
    Monte Carlo null table of ``estimator``: ``draws`` estimates of independent ranks per N.

    Each N is read as one set (the estimator's long-series split is applied at look-up);
    reproducible from ``seed``: each N has its own stream, so the row of an N does not depend
    on the other N, and ``reuse`` (a table of the same model, draws and seed) supplies the
    rows it has instead of drawing them again. Cost: draws x len(ns) estimates (~15 min on
    one core for the default model with 20,000 draws).
    """
    whole = InfoNetEstimator(estimator.model, estimator.device, estimator.provenance,
                             split_seed=estimator.split_seed, max_set_size=0)
    known = {}
    if reuse is not None and (check_table(reuse, estimator).draws, reuse.meta.get('seed')) \
            == (draws, seed) and np.allclose(reuse.levels, LEVELS, rtol=1e-6, atol=0):
        known = dict(zip(reuse.ns.tolist(), reuse.quantiles))
    rows = []
    for n in ns:
        if int(n) in known:
            rows.append(known[int(n)])
            continue
        t0 = time.perf_counter()
        null = null_draws(whole, int(n), draws, seed)  # (draws,)
        rows.append(np.quantile(null, LEVELS))
        if log:
            log(f'N={n}: 95th percentile {rows[-1][np.searchsorted(LEVELS, 0.95)]:.5f} nats '
                f'({time.perf_counter() - t0:.0f} s)')
    return NullTable(np.asarray(ns, dtype=np.int64), LEVELS.copy(), np.stack(rows), draws,
                     model_fingerprint(estimator), estimator.split_seed,
                     estimator.model.cfg.readout, {'seed': seed})


def extend_table(table: NullTable, estimator: InfoNetEstimator, ns) -> NullTable:
    """
    Return ``table`` with rows drawn for the N in ``ns`` it lacks (same draws and seed).

    The null's quantiles depend on N in steps that interpolation cannot follow (N mod the
    model's cell grid changes how evenly the ranks fill the grid's columns); a node or an
    analysis with one fixed window length can draw that N exactly once at start: ~10-60 s
    per N on one core with 20,000 draws. The rows are those the CLI would tabulate.
    """
    missing = sorted({int(n) for n in ns} - set(table.ns.tolist()))
    if not missing:
        return table
    check_table(table, estimator)
    seed = int(table.meta.get('seed', DEFAULT_SEED))
    extra = tabulate(estimator, missing, table.draws, seed)
    ns_all = np.concatenate([table.ns, extra.ns])
    order = np.argsort(ns_all)
    q = np.concatenate([table.quantiles, np.stack([np.interp(table.levels, LEVELS, row)
                                                   for row in extra.quantiles])])
    return dataclasses.replace(table, ns=ns_all[order], quantiles=q[order], _composed={})


def table_path(weights) -> str:
    """Return the table file beside a checkpoint: ``<weights without .pt>.null.json``."""
    path = resolve_weights(weights)
    return (path[:-3] if path.endswith('.pt') else path) + '.null.json'


def load_table(path: str) -> NullTable:
    """Read a table file; NullTableError naming the path if it is missing or malformed."""
    try:
        with open(path, encoding='utf-8') as f:
            data = json.load(f)
    except (OSError, ValueError) as exc:
        raise NullTableError(f'cannot read null table {path}: {exc}') from exc
    return NullTable.from_json(data, path)


@functools.lru_cache(maxsize=None)
def _shipped_tables() -> tuple[NullTable, ...]:
    return tuple(load_table(p) for p in sorted(glob.glob(os.path.join(WEIGHTS_DIR,
                                                                      '*.null.json'))))


_TABLES = weakref.WeakKeyDictionary()  # estimator -> its NullTable (fingerprint computed once)


def check_table(table: NullTable, estimator: InfoNetEstimator) -> NullTable:
    """Return ``table`` if it is of ``estimator``'s model and split, else NullTableError."""
    if table.fingerprint != model_fingerprint(estimator):
        raise NullTableError(
            'the null table is of another model (its model_sha256 differs from this '
            "estimator's): build one with python -m infonet_ros.core.null_table --weights "
            'WEIGHTS')
    if table.readout == 'crossfit' and table.split_seed != estimator.split_seed:
        raise NullTableError(f'the null table was drawn with split_seed {table.split_seed}, '
                             f'the estimator uses {estimator.split_seed}')
    return table


def table_for(estimator: InfoNetEstimator, table: NullTable | str | None = None) -> NullTable:
    """
    Return the null table of ``estimator``: ``table`` (a NullTable or a file) or the shipped one.

    :raises NullTableError: no shipped table matches the model, or ``table`` is of another.
    """
    if table is not None:
        return check_table(load_table(table) if isinstance(table, str) else table, estimator)
    if estimator in _TABLES:
        return _TABLES[estimator]
    fingerprint = model_fingerprint(estimator)
    for candidate in _shipped_tables():
        if candidate.fingerprint == fingerprint and (
                candidate.readout != 'crossfit' or candidate.split_seed == estimator.split_seed):
            _TABLES[estimator] = candidate
            return candidate
    raise NullTableError(
        'no shipped null table matches this model (a checkpoint of your own, or a '
        "split_seed other than the table's): build one with python -m "
        'infonet_ros.core.null_table --weights WEIGHTS --out FILE and pass null_table=FILE; '
        "or use null='shift'")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description='Tabulate the i.i.d. null distribution of a '
                                 "model's estimate per N (writes <weights>.null.json).")
    ap.add_argument('--weights', default='default', help='shipped name or checkpoint file')
    ap.add_argument('--draws', type=int, default=DEFAULT_DRAWS)
    ap.add_argument('--seed', type=int, default=DEFAULT_SEED)
    ap.add_argument('--n', type=int, nargs='+', default=list(TABLE_NS))
    ap.add_argument('--out', default=None, help='output file (default beside the weights)')
    ap.add_argument('--reuse', default=None,
                    help='a table of the same model, draws and seed whose rows are kept')
    args = ap.parse_args(argv)
    if args.draws < 100 or min(args.n) < MIN_SAMPLES:
        print(f'error: --draws must be >= 100 and every --n >= {MIN_SAMPLES}', file=sys.stderr)
        return 2
    import torch
    torch.set_num_threads(1)
    try:
        est = InfoNetEstimator.from_pretrained(args.weights, device='cpu', workers=1)
        reuse = load_table(args.reuse) if args.reuse else None
        if reuse is not None:
            check_table(reuse, est)
    except (WeightsError, ValueError) as exc:  # NullTableError is a ValueError
        print(f'error: {exc}', file=sys.stderr)
        return 2
    table = tabulate(est, sorted(set(args.n)), args.draws, args.seed,
                     log=lambda s: print(s, flush=True), reuse=reuse)
    out = args.out or table_path(args.weights)
    # The command that reproduces the table (--reuse only saves time: the same rows).
    words = list(argv if argv is not None else sys.argv[1:])
    if '--reuse' in words:
        del words[words.index('--reuse'):words.index('--reuse') + 2]
    command = 'python -m infonet_ros.core.null_table ' + ' '.join(words)
    table.meta.update({'weights': os.path.basename(resolve_weights(args.weights)),
                       'command': command.strip()})
    with open(out, 'w', encoding='utf-8') as f:
        json.dump(table.to_json(), f, separators=(',', ':'))
        f.write('\n')
    print(f'wrote {out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
