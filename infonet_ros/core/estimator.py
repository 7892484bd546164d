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
shipped models) is read as interleaved subsets of at most that size, estimated in the same
batch and averaged (:mod:`infonet_ros.core.long_series`). How the network's critic table
becomes an estimate (cross-fitted or in-sample) is a field of each model's config
(:func:`infonet_ros.core.readout.set_mi`, docs/model_card.md).

:func:`default_estimator` holds the shipped default model, loaded once per process and
device (:func:`estimate_mi`, sliced MI and the independence test use it when given no
estimator); :func:`estimate_rows` estimates many rows in forward passes of bounded size.
"""

from __future__ import annotations

import threading
import warnings

import numpy as np
import torch

from infonet_ros.core.copula import DEFAULT_SOFT_RANK_TAU, pair_ranks, soft_rank_normalize
from infonet_ros.core.limits import MIN_SAMPLES
from infonet_ros.core.long_series import max_set_size_of, subset_mean, subset_mean_torch
from infonet_ros.core.model import InfoNet, load_checkpoint
from infonet_ros.core.readout import crossfit_indices, ModelReadout, set_mi
from infonet_ros.core.row_pool import check_workers, RowPool
from infonet_ros.core.tracing import TracedNetwork

# 'auto' picks CUDA when torch sees a GPU, else the CPU.
DEFAULT_DEVICE = 'auto'
# Seed of the deterministic cross-fitting split (an estimate never depends on its batch).
DEFAULT_SPLIT_SEED = 0
# CPU threads that share the rows of a batch ('auto': with jit, torch.get_num_threads() of the
# calling thread at each call, i.e. the cores torch would use anyway; else 1. See
# infonet_ros.core.row_pool).
DEFAULT_WORKERS = 'auto'
# Estimator rows (scalar pairs) per forward pass when many rows are estimated in passes
# (estimate_rows: sliced MI, the independence test): bounds memory (~2 MB per row on a CPU)
# while keeping each pass large enough for efficient matrix products.
DEFAULT_ROWS_PER_PASS = 256


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


class InfoNetEstimator:
    """Pretrained InfoNet mutual-information estimator (nats)."""

    def __init__(self, model: InfoNet, device: str | torch.device = DEFAULT_DEVICE,
                 provenance: dict | None = None, *, split_seed: int = DEFAULT_SPLIT_SEED,
                 jit: bool = False, workers: int | str = DEFAULT_WORKERS,
                 max_set_size: int | None = None):
        """
        Wrap a model; ``from_pretrained`` is the usual way in.

        :param max_set_size: longest series one forward pass reads; longer ones are split into
            interleaved subsets estimated together and averaged
            (:mod:`infonet_ros.core.long_series`). None (default): the largest N of the
            model's training (provenance ``n_range``), else ``DEFAULT_MAX_SET_SIZE``; 0: never
            split (the network reads any N at once).

        :param workers: CPU threads that share the rows of a batch, each running its rows
            with one torch intra-op thread (:mod:`infonet_ros.core.row_pool`: 1.1-1.5x the
            throughput of torch's own threading for traced batches on 2 cores). 'auto'
            (default): with ``jit``, ``torch.get_num_threads()`` of the calling thread at each
            call, else 1 (eager passes hold the GIL between operations); 1: torch's own
            threading. Estimates do not depend on it; on a GPU it is ignored.

        :param jit: run the numpy API's estimates (network and readout) as
            TorchScript traces (:class:`~infonet_ros.core.tracing.TracedNetwork`): same
            estimates, a single estimate about twice as fast on a CPU, but the first call for
            each series length traces (~0.5-2 s). For repeated calls with few distinct lengths
            (a ROS node, a bag analysis); ``mi_torch`` always runs the eager model (gradients).
        """
        self.device = resolve_device(device)
        self.model = model.to(self.device).eval()
        self.provenance = dict(provenance or {})
        self.split_seed = split_seed
        self.jit = bool(jit)
        self.workers = check_workers(workers)
        self.max_set_size = max_set_size_of(max_set_size, self.provenance)
        self._pool = RowPool()
        # Network and readout as one module, copula ranks -> nats (ranks are computed before,
        # in numpy: _pairs_mi). With jit it is traced as a whole, one call into TorchScript
        # per pass.
        readout = ModelReadout(self.model, split_seed).eval()
        self._traced = None
        if self.jit:
            # A cross-fitted model's split of each length is drawn (and cached) before its
            # trace; an in-sample model has none.
            crossfit = self.model.cfg.readout == 'crossfit'
            self._traced = TracedNetwork(
                readout, prepare=(lambda ranks: crossfit_indices(ranks.shape[-1], split_seed))
                if crossfit else None)
        self._readout = readout if self._traced is None else self._traced

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
        return subset_mean(xy, self.max_set_size, self._sets_mi)  # (B,)

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
            mi = self._ranks_mi(ranks.to(torch.float32).to(self.device))  # (B,)
        return mi.double().cpu().numpy()

    # The two steps of an estimate, which the evaluation's ablations replace
    # (infonet_ros.training.ablations): the copula ranks, and the readout of the ranks.

    def _ranks(self, xy: np.ndarray) -> torch.Tensor:
        """(B, 2, N) float64 pairs -> (B, 2, N) float64 copula ranks, ties broken."""
        return torch.from_numpy(pair_ranks(xy))  # numpy: a faster sort than torch's

    def _ranks_mi(self, ranks: torch.Tensor) -> torch.Tensor:
        """(B, 2, N) float32 ranks on the model's device -> (B,) nats (traced with jit)."""
        return self._readout(ranks)

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
        # Long series: ranks within each subset (uniform marginals per set).
        mi = subset_mean_torch(xb, yb, self.max_set_size,
                               lambda a, b: self._sets_mi_torch(a, b, soft, tau))  # (B,)
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
                      seed=self.split_seed, integral=self.model.cfg.integral)  # (B,)


def _has_ties(t: torch.Tensor) -> bool:
    """Tell whether some row of ``t`` (B, N) holds a value twice."""
    s = t.detach().sort(dim=-1).values
    return bool((s[..., 1:] == s[..., :-1]).any())


# One estimator of the shipped default model per device, shared by every caller that gives
# none (estimate_mi, sliced MI, the independence test): loaded once per process.
_DEFAULT_ESTIMATORS: dict[str, InfoNetEstimator] = {}
_DEFAULT_LOCK = threading.Lock()


def default_estimator(device: str | torch.device = DEFAULT_DEVICE) -> InfoNetEstimator:
    """Return the shipped default model's estimator on ``device`` (loaded at the first call)."""
    key = str(resolve_device(device))
    with _DEFAULT_LOCK:
        if key not in _DEFAULT_ESTIMATORS:
            _DEFAULT_ESTIMATORS[key] = InfoNetEstimator.from_pretrained(device=key)
        return _DEFAULT_ESTIMATORS[key]


def estimate_mi(x, y, device: str = DEFAULT_DEVICE) -> float:
    """MI in nats of two 1-D series with the shipped default model (loaded once)."""
    return default_estimator(device).estimate(x, y)


def check_batch_rows(batch_rows) -> int:
    """Return ``batch_rows`` (rows per forward pass) as an int >= 1, else ValueError."""
    if isinstance(batch_rows, bool) or not isinstance(batch_rows, (int, np.integer)) \
            or batch_rows < 1:
        raise ValueError(f'batch_rows must be a positive integer, got {batch_rows!r}')
    return int(batch_rows)


def estimate_rows(estimator: InfoNetEstimator, xs: np.ndarray, ys: np.ndarray,
                  batch_rows: int = DEFAULT_ROWS_PER_PASS) -> np.ndarray:
    """Estimates of the (R, N) scalar pairs row by row, ``batch_rows`` rows per pass -> (R,)."""
    batch_rows = check_batch_rows(batch_rows)
    out = np.empty(xs.shape[0])
    for start in range(0, xs.shape[0], batch_rows):
        stop = start + batch_rows
        out[start:stop] = estimator.estimate_batch(xs[start:stop], ys[start:stop])
    return out
