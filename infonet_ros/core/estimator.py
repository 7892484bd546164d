# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
InfoNetEstimator: mutual information of scalar pairs from one forward pass.

    >>> from infonet_ros import InfoNetEstimator
    >>> est = InfoNetEstimator.from_pretrained()          # shipped weights, no network
    >>> est.estimate(x, y)                                # x, y: (N,) -> float, nats
    >>> est.estimate_batch(xb, yb)                        # (B, N) -> (B,), one forward pass
    >>> est.mi_torch(xt, yt)                              # differentiable torch scalar

Input rules (``ValueError`` naming the problem otherwise): real, finite, equal lengths, at
least ``MIN_SAMPLES`` samples, 1-D for ``estimate`` and 2-D for ``estimate_batch``. A constant
series carries no information: its estimate is exactly 0.0 (no network call for that row).
Tied values (quantized sensors, integer fields) are ranked in a fixed pseudo-random order
(``infonet_ros.core.copula.pair_ranks``): the estimate is then that of the quantized variables.
Estimates of independent data scatter around 0 and can be slightly negative (no clipping).
A series longer than the largest set the model was trained on (``max_set_size``: 2048 for the
shipped models) is split into interleaved subsets of at most that size (samples i, i + k,
i + 2k, ...), each estimated in the same batch and averaged, weighted by length: a network
fed sets far larger than any it saw reads low (5-10 % at N = 30,000-100,000 on Gaussians).
How the network's critic table becomes an estimate (cross-fitted or in-sample) is a field
of each model's config (:func:`infonet_ros.core.readout.set_mi`, docs/model_card.md).
"""

from __future__ import annotations

from collections import OrderedDict
import functools
import threading
import warnings

import numpy as np
import torch

from infonet_ros.core.copula import (DEFAULT_SOFT_RANK_TAU, pair_ranks, rank_normalize,
                                     soft_rank_normalize)
from infonet_ros.core.limits import MIN_SAMPLES
from infonet_ros.core.model import InfoNet, load_checkpoint
from infonet_ros.core.readout import crossfit_indices, set_mi
from infonet_ros.core.row_pool import check_workers, RowPool

# 'auto' picks CUDA when torch sees a GPU, else the CPU.
DEFAULT_DEVICE = 'auto'
# Seed of the deterministic cross-fitting split (an estimate never depends on its batch).
DEFAULT_SPLIT_SEED = 0
# Tied values: 'break' ranks them in a fixed pseudo-random order (uniform marginals, as the
# readout assumes); 'average' gives them their mean rank (the textbook copula transform).
TIES = ('break', 'average')
DEFAULT_TIES = 'break'
# Traced networks kept by an estimator with jit=True, one per set size (least recent out).
JIT_CACHE_SIZE = 8
# CPU threads that share the rows of a batch ('auto': with jit, torch.get_num_threads() of the
# calling thread at each call, i.e. the cores torch would use anyway; else 1. See
# infonet_ros.core.row_pool).
DEFAULT_WORKERS = 'auto'
# Longest set one forward pass reads when a checkpoint does not say which N it was trained on
# (its provenance's n_range); longer series are split (see the module docstring).
DEFAULT_MAX_SET_SIZE = 2048


def resolve_device(device: str | torch.device = DEFAULT_DEVICE) -> torch.device:
    """'auto' -> cuda if available else cpu; 'cuda' without a GPU -> ValueError."""
    if isinstance(device, torch.device):
        return device
    if device == 'auto':
        return torch.device('cuda' if torch.cuda.is_available() else 'cpu')
    if device.startswith('cuda') and not torch.cuda.is_available():
        raise ValueError(f'device {device!r} requested but torch sees no CUDA GPU '
                         "(use device='cpu' or 'auto')")
    try:
        return torch.device(device)
    except RuntimeError as exc:
        raise ValueError(f"unknown device {device!r}: use 'auto', 'cpu' or 'cuda'") from exc


def validate_pairs(x, y, ndim: int) -> tuple[np.ndarray, np.ndarray]:
    """
    Check and convert paired samples to float64 arrays of shape (B, N).

    Raises ValueError saying which rule is broken: dimensionality, unequal shapes, fewer than
    MIN_SAMPLES samples, non-numeric values, NaN or inf (with the first bad index).
    """
    arrs = []
    for name, a in (('x', x), ('y', y)):
        if isinstance(a, torch.Tensor):
            a = a.detach().cpu().numpy()
        try:
            a = np.asarray(a, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(f'{name} must be numeric: {exc}') from exc
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


class TracedNetwork:
    """
    A module traced and frozen with TorchScript, one trace per input shape but the batch.

    Same numbers as the eager module (a trace records the very operations), in less time on
    a CPU: the frozen graph runs without Python between operations, which also keeps it from
    waiting on the GIL while another thread (a ROS executor) holds it. A trace bakes in the
    set size (log N is an input feature), so each new size is traced once (~0.5-2 s); the
    batch size may vary.
    """

    def __init__(self, model: torch.nn.Module, cache_size: int = JIT_CACHE_SIZE,
                 prepare=None):
        self.model = model
        self.cache_size = cache_size
        # Called with the example input before each trace: computes outside the trace what
        # must become a constant of it (a tracer records every torch operation it sees).
        self.prepare = prepare
        self._traced: OrderedDict = OrderedDict()
        self._lock = threading.Lock()  # row workers may ask for a new trace at once
        self.failure = ''  # why tracing failed, if it did: then the eager model runs

    def __call__(self, uv: torch.Tensor) -> torch.Tensor:
        """``model(uv)`` for a batch (B, ...): traced once per shape of the rest."""
        fn = self._get(uv)
        return self.model(uv) if fn is None else fn(uv)

    def _get(self, uv: torch.Tensor):
        """Return the trace for this input's shape (tracing it now if new), None: eager."""
        with self._lock:
            if self.failure:
                return None
            key = (tuple(uv.shape[1:]), uv.device, uv.dtype)
            fn = self._traced.get(key)
            if fn is None:
                try:
                    fn = self._trace(uv[:1])
                except Exception as exc:  # TorchScript is deprecated: a future torch may refuse
                    self.failure = f'{type(exc).__name__}: {exc}'
                    warnings.warn(f'TorchScript tracing failed, running the eager model (same '
                                  f'estimates, slower): {self.failure}', RuntimeWarning)
                    return None
                self._traced[key] = fn
                while len(self._traced) > self.cache_size:
                    self._traced.popitem(last=False)
            self._traced.move_to_end(key)
            return fn

    def _trace(self, example: torch.Tensor):
        if self.prepare is not None:
            self.prepare(example)
        with warnings.catch_warnings():
            # The tracer warns that N becomes a constant (hence one trace per N); torch >= 2.10
            # also flags TorchScript as deprecated, which the eager fallback above covers.
            warnings.simplefilter('ignore', torch.jit.TracerWarning)
            warnings.simplefilter('ignore', DeprecationWarning)
            with torch.no_grad():
                return torch.jit.freeze(torch.jit.trace(self.model, example))

    def shapes(self) -> list[tuple]:
        """Input shapes but the batch dimension traced so far (most recently used last)."""
        return [k[0] for k in self._traced]


def interleaved_subsets(n: int, max_size: int) -> list[np.ndarray]:
    """
    Split positions 0..n-1 into k >= ceil(n / max_size) interleaved subsets, grouped by length.

    Subset i holds positions i, i + k, i + 2k, ... (every part of a time-ordered window, not
    one stretch of it); every position is in exactly one subset. k is the smallest count from
    ceil(n / max_size) to twice that which divides n, so that all subsets have one length and
    go through the network in one pass (5,000 -> 4 x 1,250; 100,000 -> 50 x 2,000); if none
    does, k = ceil(n / max_size) and the first n mod k subsets are one longer than the rest
    (two groups, two passes).

    :return: index arrays of shape (subsets, length); one (1, n) array when n <= max_size.
    """
    k = -(-n // max_size)
    k = next((j for j in range(k, 2 * k + 1) if n % j == 0), k)
    m, r = divmod(n, k)
    groups = []
    if r:
        groups.append(np.arange(r)[:, None] + k * np.arange(m + 1))  # (r, m + 1)
    groups.append(np.arange(r, k)[:, None] + k * np.arange(m))  # (k - r, m)
    return groups


def _rows_mi(network, ranks: torch.Tensor, seed: int, marginal: str, readout: str,
             integral: str) -> torch.Tensor:
    """MI of copula pairs: (B, 2, N) ranks in (0, 1], float32 -> (B,) nats."""
    uv = ranks.transpose(1, 2)  # (B, N, 2)
    return set_mi(network, uv, readout, seed=seed, marginal=marginal,
                  integral=integral)  # (B,)


class _RowsMI(torch.nn.Module):
    """The whole estimate as one module, so that a single trace covers it (see the estimator)."""

    def __init__(self, model: InfoNet, seed: int):
        super().__init__()
        self.model = model
        self.seed = seed

    def forward(self, ranks: torch.Tensor) -> torch.Tensor:
        cfg = self.model.cfg
        return _rows_mi(self.model, ranks, self.seed, 'exact', cfg.readout, cfg.integral)


class InfoNetEstimator:
    """Pretrained InfoNet mutual-information estimator (nats)."""

    def __init__(self, model: InfoNet, device: str | torch.device = DEFAULT_DEVICE,
                 provenance: dict | None = None, split_seed: int = DEFAULT_SPLIT_SEED,
                 marginal: str = 'exact', jit: bool = False, ties: str = DEFAULT_TIES,
                 workers: int | str = DEFAULT_WORKERS, max_set_size: int | None = None):
        """
        Wrap a model; ``from_pretrained`` is the usual way in.

        :param max_set_size: longest series one forward pass reads; longer ones are split into
            interleaved subsets estimated together and averaged (module docstring). None
            (default): the largest N of the model's training (provenance ``n_range``), else
            ``DEFAULT_MAX_SET_SIZE``; 0: never split (the network reads any N at once).

        :param workers: CPU threads that share the rows of a batch, each running its rows
            with one torch intra-op thread (:mod:`infonet_ros.core.row_pool`: 1.1-1.5x the
            throughput of torch's own threading for traced batches on 2 cores). 'auto'
            (default): with ``jit``, ``torch.get_num_threads()`` of the calling thread at each
            call, else 1 (eager passes hold the GIL between operations); 1: torch's own
            threading. Estimates do not depend on it; on a GPU it is ignored.

        :param ties: 'break' (default): tied values ranked in a fixed pseudo-random order
            (:func:`infonet_ros.core.copula.pair_ranks`); 'average': averaged ranks, which break
            the estimate on quantized data (kept for the evaluation's ablation).

        :param jit: run the numpy API's estimates (network and readout) as
            TorchScript traces (:class:`TracedNetwork`): same estimates, a single estimate
            about twice as fast on a CPU, but the first call for each series length traces
            (~0.5-2 s). For repeated calls with few distinct lengths (a ROS node, a bag
            analysis); ``mi_torch`` always runs the eager model (gradients).
        """
        self.device = resolve_device(device)
        self.model = model.to(self.device).eval()
        self.provenance = dict(provenance or {})
        self.split_seed = split_seed
        self.marginal = marginal
        self.jit = bool(jit)
        if ties not in TIES:
            raise ValueError(f'ties must be one of {TIES}, got {ties!r}')
        self.ties = ties
        self.workers = check_workers(workers)
        self.max_set_size = self._check_max_set_size(max_set_size)
        self._pool = RowPool()
        # With jit and the exact readout, network and readout are one trace: one call into
        # TorchScript per pass, so a busy Python thread beside it (a ROS executor taking
        # 4,000 messages/s) cannot hold it up between operations. The shuffle readout draws
        # permutations, which a trace would freeze: only its network is traced. Ranks are
        # computed before, in numpy (see _estimate_rows).
        self._traced = None
        if self.jit and marginal == 'exact':
            # A cross-fitted model's split of each length is drawn (and cached) before its
            # trace; an in-sample model has none.
            crossfit = self.model.cfg.readout == 'crossfit'
            self._traced = TracedNetwork(
                _RowsMI(self.model, split_seed).eval(),
                prepare=(lambda ranks: crossfit_indices(ranks.shape[-1], split_seed))
                if crossfit else None)
            self._rows = self._traced
        else:
            net = self.model
            if self.jit:
                self._traced = net = TracedNetwork(self.model)
            self._rows = functools.partial(_rows_mi, net, seed=split_seed, marginal=marginal,
                                           readout=self.model.cfg.readout,
                                           integral=self.model.cfg.integral)

    def _check_max_set_size(self, value) -> int:
        if value is None:
            n_range = self.provenance.get('n_range')
            try:
                value = int(n_range[1])
            except (TypeError, ValueError, IndexError):
                value = DEFAULT_MAX_SET_SIZE
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise ValueError(f'max_set_size must be an integer, got {value!r}')
        if value != 0 and value < 2 * MIN_SAMPLES:
            raise ValueError(f'max_set_size must be 0 (never split) or at least '
                             f'{2 * MIN_SAMPLES}, got {value}')
        return int(value)

    @classmethod
    def from_pretrained(cls, path=None, device: str | torch.device = DEFAULT_DEVICE,
                        **kwargs) -> 'InfoNetEstimator':
        """
        Load a checkpoint (the shipped default when ``path`` is None); never downloads.

        :raises infonet_ros.core.model.WeightsError: missing, corrupt or foreign file (names the
        path).
        :raises ValueError: an unavailable device.
        """
        dev = resolve_device(device)
        model, prov = load_checkpoint(path, map_location=dev)
        return cls(model, dev, prov, **kwargs)

    @property
    def jit_failure(self) -> str:
        """Why TorchScript tracing failed ('' if it did not, or jit is off)."""
        return self._traced.failure if self._traced is not None else ''

    def warm_up(self, n: int) -> None:
        """Run one estimate of length ``n`` (with jit: trace for that length now)."""
        rng = np.random.default_rng(0)
        self.estimate_batch(rng.standard_normal((1, n)), rng.standard_normal((1, n)))

    # ---- numpy API ---------------------------------------------------------------------

    def estimate(self, x, y) -> float:
        """
        MI in nats of two paired 1-D series.

        :param x: (N,) samples, N >= MIN_SAMPLES, finite.
        :param y: (N,) samples paired with ``x``.

        :return: The estimate as a float (0.0 exactly when either series is constant).
        """
        x2, y2 = validate_pairs(x, y, ndim=1)
        return float(self._estimate_rows(x2, y2)[0])

    def estimate_batch(self, x, y) -> np.ndarray:
        """
        MI in nats of B pairs of series in one forward pass.

        :param x: (B, N) array, one series per row.
        :param y: (B, N) array paired row by row with ``x``.

        :return: (B,) float64 array; row b equals ``estimate(x[b], y[b])``.
        """
        x2, y2 = validate_pairs(x, y, ndim=2)
        return self._estimate_rows(x2, y2)

    def estimate_many(self, pairs) -> np.ndarray:
        """
        Estimates for a list of (x, y) pairs of possibly different lengths.

        Pairs of equal length share one forward pass; returns (len(pairs),) float64.
        """
        out = np.zeros(len(pairs))
        groups: dict[int, list[int]] = {}
        checked = []
        for i, (x, y) in enumerate(pairs):
            x2, y2 = validate_pairs(x, y, ndim=1)
            checked.append((x2[0], y2[0]))
            groups.setdefault(x2.shape[1], []).append(i)
        for idx in groups.values():
            xs = np.stack([checked[i][0] for i in idx])
            ys = np.stack([checked[i][1] for i in idx])
            out[idx] = self._estimate_rows(xs, ys)
        return out

    def _estimate_rows(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        xy = np.stack([x, y], axis=-2)  # (B, 2, N)
        n = xy.shape[-1]
        groups = self._subsets(n)
        if groups is None:
            return self._sets_mi(xy)
        mi = np.zeros(xy.shape[0])
        for idx in groups:
            sub = xy[:, :, idx]  # (B, 2, S, M): S interleaved subsets of M samples
            sets = sub.transpose(0, 2, 1, 3).reshape(-1, 2, idx.shape[1])  # (B * S, 2, M)
            part = self._sets_mi(sets).reshape(xy.shape[0], -1)  # (B, S)
            mi += part.sum(1) * (idx.shape[1] / n)  # (B,)
        return mi

    def _sets_mi(self, xy: np.ndarray) -> np.ndarray:
        """(B, 2, N) float64 sets -> (B,) nats; a set with a constant side gives exactly 0."""
        # A constant side carries no information: exactly 0, and no network call (a subset of
        # a varying series can be constant too: sparse data).
        live = (np.ptp(xy[:, 0], axis=1) > 0) & (np.ptp(xy[:, 1], axis=1) > 0)
        # One worker (a GPU, eager passes): the rows run here, in one share.
        if live.all():  # the usual case: no copy of the rows
            return self._pool.map_rows(self._pairs_mi, self.worker_count(), xy)
        out = np.zeros(xy.shape[0])
        if live.any():
            out[live] = self._pool.map_rows(self._pairs_mi, self.worker_count(), xy[live])
        return out

    def _subsets(self, n: int) -> list[np.ndarray] | None:
        """Index groups of the subsets a series of length n is read as; None: read whole."""
        if self.max_set_size == 0 or n <= self.max_set_size:
            return None
        return interleaved_subsets(n, self.max_set_size)

    def worker_count(self) -> int:
        """Threads that share a batch's rows if this thread estimated now (see ``workers``)."""
        if self.device.type != 'cpu':
            return 1
        if self.workers != 'auto':
            return self.workers
        # Eager passes run Python between operations, which the threads would queue for on
        # the GIL (measured slower with 'fast'): share rows only when a pass is one trace.
        return max(1, torch.get_num_threads()) if self._traced is not None else 1

    def _pairs_mi(self, xy: np.ndarray) -> np.ndarray:
        """(B, 2, N) float64 pairs without constant rows -> (B,) float64 nats."""
        ranks = self._ranks(xy)  # (B, 2, N)
        with torch.no_grad():  # thread-local: set here, in the thread that runs the rows
            mi = self._rows(ranks.to(torch.float32).to(self.device))  # (B,)
        return mi.double().cpu().numpy()

    def _ranks(self, xy: np.ndarray) -> torch.Tensor:
        """(B, 2, N) float64 pairs -> (B, 2, N) float64 copula ranks, ties as configured."""
        if self.ties == 'break':
            return torch.from_numpy(pair_ranks(xy))  # numpy: a faster sort than torch's
        return rank_normalize(torch.from_numpy(xy))

    # ---- torch API ---------------------------------------------------------------------

    def mi_torch(self, x: torch.Tensor, y: torch.Tensor, soft: bool = True,
                 tau: float = DEFAULT_SOFT_RANK_TAU) -> torch.Tensor:
        """
        Differentiable MI estimate in nats.

        :param x: (N,) or (B, N) tensor; gradients flow to it through the soft rank.
        :param y: same shape as ``x``.
        :param soft: use the soft rank (differentiable); False uses the hard ranks of
            ``estimate`` (ties broken; no input gradients). Soft ranks of tied values are
            equal, so on quantized data use ``soft=False`` or the numpy API (soft ranks of
            tied values warn).
        :param tau: soft-rank temperature as a fraction of each series' standard deviation.

        :return: A scalar tensor for 1-D inputs, else (B,).
        """
        if x.shape != y.shape or x.dim() not in (1, 2):
            raise ValueError(f'x and y must share a (N,) or (B, N) shape, got '
                             f'{tuple(x.shape)} and {tuple(y.shape)}')
        if x.shape[-1] < MIN_SAMPLES:
            raise ValueError(f'need at least {MIN_SAMPLES} samples per series, got '
                             f'{x.shape[-1]}')
        if not (torch.isfinite(x).all() and torch.isfinite(y).all()):
            raise ValueError('x and y must be finite (no NaN or inf)')
        squeeze = x.dim() == 1
        xb, yb = (x[None], y[None]) if squeeze else (x, y)
        if soft and (_has_ties(xb) or _has_ties(yb)):
            warnings.warn('mi_torch(soft=True) on tied values (quantized data): soft ranks '
                          'give ties one rank and the estimate can be far too low; use '
                          'soft=False or estimate() for such data', RuntimeWarning,
                          stacklevel=2)
        n = xb.shape[-1]
        groups = self._subsets(n)
        if groups is None:
            mi = self._sets_mi_torch(xb, yb, soft, tau)  # (B,)
        else:
            mi = 0.0
            for idx in groups:
                # Ranks within each subset (uniform marginals per set, as the readout assumes).
                ix = torch.from_numpy(idx).to(xb.device)
                part = self._sets_mi_torch(xb[:, ix].flatten(0, 1), yb[:, ix].flatten(0, 1),
                                           soft, tau)  # (B * S,)
                mi = mi + part.view(xb.shape[0], -1).sum(1) * (idx.shape[1] / n)  # (B,)
        return mi[0] if squeeze else mi

    def _sets_mi_torch(self, x: torch.Tensor, y: torch.Tensor, soft: bool,
                       tau: float) -> torch.Tensor:
        """MI of sets (B, N) x (B, N) -> (B,), soft or hard ranks (see ``mi_torch``)."""
        if soft:
            uv = torch.stack([soft_rank_normalize(x, tau), soft_rank_normalize(y, tau)],
                             dim=-1)  # (B, N, 2)
        else:
            xy = torch.stack([x, y], dim=1).detach().cpu().double().numpy()  # (B, 2, N)
            uv = self._ranks(xy).transpose(1, 2)  # (B, N, 2)
        p = next(self.model.parameters())
        return set_mi(self.model, uv.to(p.device, p.dtype), self.model.cfg.readout,
                      seed=self.split_seed, marginal=self.marginal,
                      integral=self.model.cfg.integral)  # (B,)


def _has_ties(t: torch.Tensor) -> bool:
    """Tell whether some row of ``t`` (B, N) holds a value twice."""
    s = t.detach().sort(dim=-1).values
    return bool((s[..., 1:] == s[..., :-1]).any())


_DEFAULT: dict = {}


def estimate_mi(x, y, device: str = DEFAULT_DEVICE) -> float:
    """MI in nats of two 1-D series with the shipped weights (the model is cached)."""
    key = str(resolve_device(device))
    if key not in _DEFAULT:
        _DEFAULT[key] = InfoNetEstimator.from_pretrained(device=key)
    return _DEFAULT[key].estimate(x, y)
