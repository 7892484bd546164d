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
Estimates of independent data scatter around 0 and can be slightly negative (no clipping),
and are never NaN: a model that gives NaN or inf raises ``NonFiniteEstimateError``
(:mod:`infonet_ros.core.checks`). ``mi_torch`` follows the same rules for constant and tied
series, and refuses tensors that are not float32 or float64. A series longer than the
largest set the model was trained on (``max_set_size``: 2048 for the shipped models) is read
as interleaved subsets of at most that size, estimated in the same batch and averaged
(:mod:`infonet_ros.core.long_series`). How the network's critic table becomes an estimate
(cross-fitted or in-sample) is a field of each model's config
(:func:`infonet_ros.core.readout.set_mi`, docs/model_card.md).

:func:`default_estimator` holds the shipped default model, loaded once per process and
device (:func:`estimate_mi`, sliced MI and the independence test use it when given no
estimator); :func:`estimate_rows` estimates many rows in forward passes of bounded size.
"""

from __future__ import annotations

import threading

import numpy as np
import torch

from infonet_ros.core.checks import (check_batch_rows, check_finite_estimates, check_torch_pair,
                                     validate_pairs)
from infonet_ros.core.copula import check_tau, DEFAULT_SOFT_RANK_TAU, pair_ranks, soft_pair_ranks
from infonet_ros.core.long_series import max_set_size_of, subset_mean, subset_mean_torch
from infonet_ros.core.model import InfoNet, load_checkpoint
from infonet_ros.core.onnx_backend import check_backend, OnnxReadout
from infonet_ros.core.precision import check_precision, resolve_precision, with_precision
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
# Dtype of the network's stages ('auto': bf16 where the CPU has bfloat16 instructions and the
# model's accuracy cost was measured below 0.002 nats; infonet_ros.core.precision).
DEFAULT_PRECISION = 'auto'


def _onnx_precision(precision) -> str:
    """Return 'fp32' for 'auto' and 'fp32' (onnxruntime runs float32); else ValueError."""
    if check_precision(precision) not in ('auto', 'fp32'):
        raise ValueError(f"the onnxruntime backend runs precision 'fp32' (got {precision!r}; "
                         'for float16 on CUDA see docs/jetson.md)')
    return 'fp32'


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


class InfoNetEstimator:
    """Pretrained InfoNet mutual-information estimator (nats)."""

    def __init__(self, model: InfoNet, device: str | torch.device = DEFAULT_DEVICE,
                 provenance: dict | None = None, *, split_seed: int = DEFAULT_SPLIT_SEED,
                 jit: bool = False, workers: int | str = DEFAULT_WORKERS,
                 max_set_size: int | None = None, backend: str = 'torch',
                 precision: str = DEFAULT_PRECISION):
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

        :param backend: 'torch' (default) or 'onnxruntime': the numpy API's network and
            readout run as ONNX graphs in onnxruntime on this device's provider, each series
            length exported at its first call (in memory, like a jit trace;
            :class:`~infonet_ros.core.onnx_backend.OnnxReadout`); ranks, long series and
            checks are unchanged, ``jit`` does not apply and ``mi_torch`` runs torch.
            ImportError naming ``pip install onnx onnxruntime`` if they are missing.

        :param precision: 'auto' (default), 'fp32', 'bf16' or 'fp16': the dtype of the
            network's stages in the numpy API (:mod:`infonet_ros.core.precision`; the last
            convolution and the readout stay float32). 'auto' is 'bf16' on a CPU with bfloat16
            instructions for a model whose measured accuracy cost in bf16 is below 0.002 nats
            of MAE in every evaluation family, else 'fp32'; ``precision`` holds the choice.
            ``mi_torch`` always runs float32 (gradients); the onnxruntime backend runs fp32.
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
        self.backend = check_backend(backend)
        self.precision = resolve_precision(
            check_precision(precision) if self.backend == 'torch' else
            _onnx_precision(precision), self.device, getattr(model, 'content_hash', None))
        readout = ModelReadout(with_precision(self.model, self.precision), split_seed).eval()
        self._traced = None
        if self.jit and self.backend == 'torch':
            # A cross-fitted model's split of each length is drawn (and cached) before its
            # trace; an in-sample model has none.
            crossfit = self.model.cfg.readout == 'crossfit'
            self._traced = TracedNetwork(
                readout, prepare=(lambda ranks: crossfit_indices(ranks.shape[-1], split_seed))
                if crossfit else None)
        self._readout = readout if self._traced is None else self._traced
        if self.backend == 'onnxruntime':
            self._readout = OnnxReadout(readout, self.device)

    @classmethod
    def from_pretrained(cls, path=None, device: str | torch.device = DEFAULT_DEVICE,
                        **kwargs) -> 'InfoNetEstimator':
        """
        Load a checkpoint (the shipped default when ``path`` is None); never downloads.

        :raises infonet_ros.core.model.WeightsError: missing, corrupt or foreign file (names the
        path).
        :raises ValueError: an unavailable device, an unknown ``backend`` or ``precision``, a
            precision the backend does not run.
        :raises ImportError: ``backend='onnxruntime'`` without onnx and onnxruntime installed.
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
        # Ranks in (0, 1] cannot make a sound model overflow: NaN or inf means bad weights,
        # and an estimate is never returned as NaN.
        return check_finite_estimates(subset_mean(xy, self.max_set_size, self._sets_mi))

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

    # ---- uncertainty (infonet_ros.core.uncertainty) ------------------------------------
    # Imported in the methods: uncertainty imports this module.

    def estimate_with_uncertainty(self, x, y, level: float = 0.9, null: str = 'iid',
                                  **kwargs):
        """
        MI of two 1-D series with its interval, p-value of independence and noise floor.

        :param level: coverage of the interval [lower, upper], in (0, 1).
        :param null: 'iid' (the model's shipped null table: i.i.d. samples, no extra pass)
            or 'shift' (circular shifts of y: autocorrelated series, extra rows).
        :param kwargs: n_shifts, n_halves, seed, null_table, batch_rows
            (:func:`infonet_ros.core.uncertainty.estimate_batch_with_uncertainty`).
        :return: :class:`infonet_ros.core.uncertainty.MIEstimate`.
        """
        from infonet_ros.core.uncertainty import estimate_with_uncertainty
        return estimate_with_uncertainty(self, x, y, level, null, **kwargs)

    def estimate_batch_with_uncertainty(self, x, y, level: float = 0.9, null: str = 'iid',
                                        **kwargs) -> list:
        """:meth:`estimate_with_uncertainty` of B windows (B, N), rows in shared passes."""
        from infonet_ros.core.uncertainty import estimate_batch_with_uncertainty
        return estimate_batch_with_uncertainty(self, x, y, level, null, **kwargs)

    # ---- torch API ---------------------------------------------------------------------

    def mi_torch(self, x: torch.Tensor, y: torch.Tensor, soft: bool = True,
                 tau: float = DEFAULT_SOFT_RANK_TAU) -> torch.Tensor:
        """
        Differentiable MI estimate in nats.

        Degenerate input reads as in ``estimate``: a set with a constant side is exactly 0.0
        (zero gradient, no network call), and tied values (quantized sensors, two-valued
        series) are ranked in the fixed order of ``estimate``
        (:func:`~infonet_ros.core.copula.soft_pair_ranks`), so the soft estimate of such data
        tends to the numpy one as ``tau`` shrinks. The soft ranks are computed in blocks of
        bounded size, forward and backward, so memory grows with N, not N^2. The network runs
        in the model's own dtype whatever ``precision`` is: with ``soft=False`` the result
        equals ``estimate`` of a 'fp32' estimator (a bf16 one differs by up to ~0.01 nats).

        :param x: (N,) or (B, N) float32 or float64 tensor, finite, N >= MIN_SAMPLES, B >= 1;
            gradients flow to it through the soft rank.
        :param y: same shape as ``x``.
        :param soft: use the soft rank (differentiable); False uses the hard ranks of
            ``estimate`` (no input gradients).
        :param tau: soft-rank temperature as a fraction of each series' standard deviation,
            > 0.

        :return: A scalar tensor for 1-D inputs, else (B,), in the model's dtype.

        :raises ValueError: naming the problem: not a tensor, an integer or half-precision
            dtype, unequal or wrong shapes, an empty batch, too few samples, NaN or inf, a
            bad ``tau``.
        :raises infonet_ros.core.checks.NonFiniteEstimateError: the model gave NaN or inf
            (its weights).
        """
        check_torch_pair(x, y)
        tau = check_tau(tau)
        squeeze = x.dim() == 1
        xb, yb = (x[None], y[None]) if squeeze else (x, y)
        # Long series: ranks within each subset (uniform marginals per set).
        mi = subset_mean_torch(xb, yb, self.max_set_size,
                               lambda a, b: self._sets_mi_torch(a, b, soft, tau))  # (B,)
        check_finite_estimates(mi.detach().cpu().numpy())
        return mi[0] if squeeze else mi

    def _sets_mi_torch(self, x: torch.Tensor, y: torch.Tensor, soft: bool,
                       tau: float) -> torch.Tensor:
        """MI of sets (B, N) x (B, N) -> (B,); exactly 0 for a set with a constant side."""
        live = (x.amax(-1) > x.amin(-1)) & (y.amax(-1) > y.amin(-1))  # (B,)
        if bool(live.all()):  # the usual case: no copy of the rows
            return self._live_sets_mi_torch(x, y, soft, tau)
        p = next(self.model.parameters())
        # 0 times a sample of each side: exactly 0 (finite inputs) with a zero gradient,
        # where a constant output would have none at all; 0.0 + (-0.0) keeps the sign +.
        out = torch.zeros(x.shape[0], dtype=p.dtype, device=p.device) + (
            x[:, 0] * 0.0 + y[:, 0] * 0.0).to(p.device, p.dtype)  # (B,)
        if bool(live.any()):
            idx = torch.nonzero(live).flatten()
            mi = self._live_sets_mi_torch(x[idx], y[idx], soft, tau)  # (L,)
            out = out.index_put((idx.to(p.device),), mi)
        return out

    def _live_sets_mi_torch(self, x: torch.Tensor, y: torch.Tensor, soft: bool,
                            tau: float) -> torch.Tensor:
        """MI of sets without a constant side, soft or hard ranks (see ``mi_torch``)."""
        xy = torch.stack([x, y], dim=1)  # (B, 2, N)
        if soft:
            ranks = soft_pair_ranks(xy, tau)  # (B, 2, N)
        else:
            ranks = self._ranks(xy.detach().cpu().double().numpy())  # (B, 2, N)
        p = next(self.model.parameters())
        return set_mi(self.model, ranks.transpose(1, 2).to(p.device, p.dtype),
                      self.model.cfg.readout, seed=self.split_seed,
                      integral=self.model.cfg.integral)  # (B,)


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


def estimate_rows(estimator: InfoNetEstimator, xs: np.ndarray, ys: np.ndarray,
                  batch_rows: int = DEFAULT_ROWS_PER_PASS) -> np.ndarray:
    """Estimates of the (R, N) scalar pairs row by row, ``batch_rows`` rows per pass -> (R,)."""
    batch_rows = check_batch_rows(batch_rows)
    out = np.empty(xs.shape[0])
    for start in range(0, xs.shape[0], batch_rows):
        stop = start + batch_rows
        out[start:stop] = estimator.estimate_batch(xs[start:stop], ys[start:stop])
    return out
