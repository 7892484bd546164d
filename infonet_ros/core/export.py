# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The network and its readout as files for other runtimes: ONNX graphs and TorchScript traces.

What is exported is :class:`infonet_ros.core.readout.ModelReadout`: copula ranks
``ranks`` float32 (batch, 2, N), row 0 of x and row 1 of y, -> ``mi`` float32 (batch,)
nats. The batch is a dynamic dimension; N is fixed per file:

- ``onnx_model`` / ``write_onnx``: one ONNX graph (opset ``ONNX_OPSET``) per N;
- ``torchscript_module`` / ``write_torchscript``: one frozen TorchScript trace per N, the
  trace that ``InfoNetEstimator(jit=True)`` runs (:mod:`infonet_ros.core.tracing`).

Why one graph per N: N enters the network as a number, not as a tensor: the log N feature
and the 1 / N density scale of :func:`infonet_ros.core.model.cell_density`, the encoder's
strided subset of the 'fast' model and the cross-fitting split of the 'fine' model (a
random permutation drawn per N, :func:`infonet_ros.core.readout.crossfit_indices`). Both
exporters turn these into constants of the graph (``torch.export`` with a dynamic N refuses:
it specializes N), so a graph with a dynamic N would give wrong estimates for every N but
the traced one. :func:`export_files` writes one self-describing file per N instead
(``export_path``: ``model.onnx`` -> ``model_n256.onnx``), each loadable alone by
onnxruntime, TensorRT (``trtexec --onnx``) or ``torch.jit.load``.

Why the ranks stay outside: ranking is a sort with ties broken in a fixed pseudo-random
order (:func:`infonet_ros.core.copula.pair_ranks`, numpy), and sorts export poorly (TopK
over the whole series, no stable tie order in ONNX; slow or unsupported in TensorRT). A
consumer ranks in numpy, or in any language with the same rule, and feeds the graph.

Metadata (ONNX ``metadata_props``; TorchScript: the extra file ``METADATA_FILE``, JSON),
all strings: ``format``, ``weights`` and ``weights_sha256`` (the checkpoint's content hash,
:mod:`infonet_ros.core.content_hash`; '' if the file has none), ``n``, ``input``,
``output``, ``units`` ('nats'), ``readout``, ``integral``, ``split_seed``, ``max_set_size``
(series longer than it are read as subsets by the estimator,
:mod:`infonet_ros.core.long_series`), ``ranks`` (the rule the input follows) and
``producer``. :func:`read_metadata` reads either format back.

The ONNX exporter is torch's TorchScript-based one (as quick as a jit trace); where a torch
release no longer has it, ``torch.export`` (the dynamo exporter, several times slower, needs
onnxscript) runs instead. Both trace with autograd on, so the readout's integral is the
branch-per-gap variant (:func:`infonet_ros.core.readout.log_mean_exp_bilinear`): ONNX has no
``expm1`` for the other one; the two agree to float rounding. Exporting needs the ``onnx``
package (``pip install onnx``) for the metadata; TorchScript needs torch only.
"""

from __future__ import annotations

import copy
import io
import json
import os
import warnings

import torch

from infonet_ros.core.limits import MIN_SAMPLES
from infonet_ros.core.long_series import interleaved_subsets, max_set_size_of
from infonet_ros.core.model import load_checkpoint
from infonet_ros.core.readout import crossfit_indices, ModelReadout

EXPORT_FORMATS = ('onnx', 'torchscript')
EXPORTERS = ('auto', 'torchscript', 'dynamo')
# Window lengths exported when none are named: the node's usual windows up to the largest
# set of the shipped models' training.
DEFAULT_EXPORT_NS = (64, 128, 256, 512, 1000, 2048)
FORMAT = 'infonet_ros.export/1'
INPUT_NAME, OUTPUT_NAME = 'ranks', 'mi'
# 17: LayerNormalization (17) and GridSample (16) as single operators, not decomposed.
ONNX_OPSET = 17
METADATA_FILE = 'infonet_ros_export.json'
SUFFIXES = {'onnx': '.onnx', 'torchscript': '.pt'}
RANKS_RULE = ('infonet_ros.core.copula.pair_ranks: rank / N per row in (0, 1], ties in a '
              'fixed pseudo-random order; computed outside the graph')


def check_n(n, max_set_size: int = 0) -> int:
    """
    Return a window length to export; ValueError naming the problem.

    At least ``MIN_SAMPLES``; at most ``max_set_size`` (0: no limit), because the estimator
    reads longer series as interleaved subsets, whose lengths are then the ones to export.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < MIN_SAMPLES:
        raise ValueError(f'N must be an integer >= {MIN_SAMPLES}, got {n!r}')
    if max_set_size and n > max_set_size:
        lengths = sorted({idx.shape[1] for idx in interleaved_subsets(n, max_set_size)})
        raise ValueError(f'N={n} is longer than the largest set of the model '
                         f'({max_set_size}): the estimator reads such a series as interleaved '
                         f'subsets of {" and ".join(map(str, lengths))} samples '
                         '(infonet_ros.core.long_series); export those lengths instead')
    return n


def check_device(device) -> torch.device:
    """Return a torch device to trace on; ValueError if unknown or absent."""
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"unknown device {device!r}: use 'cpu' or 'cuda'") from exc
    if device.type == 'cuda' and not torch.cuda.is_available():
        raise ValueError(f'device {str(device)!r} requested but torch sees no CUDA GPU')
    return device


def export_path(path: str | os.PathLike, n: int, fmt: str = 'onnx') -> str:
    """Return the file of window length n: 'model.onnx' -> 'model_n256.onnx'."""
    stem, suffix = os.path.splitext(os.fspath(path))
    return f'{stem}_n{n}{suffix or SUFFIXES[fmt]}'


def example_ranks(n: int, batch: int = 2, seed: int = 0) -> torch.Tensor:
    """Return copula ranks of independent pairs: (batch, 2, n) float32 in (0, 1]."""
    g = torch.Generator().manual_seed(seed)
    perms = torch.stack([torch.randperm(n, generator=g) for _ in range(2 * batch)])
    return ((perms + 1).to(torch.float32) / n).view(batch, 2, n)  # (B, 2, N)


def metadata(readout: ModelReadout, n: int, weights: str = '', weights_sha256: str = '',
             provenance: dict | None = None) -> dict[str, str]:
    """Return the self-description of an export of ``readout`` at window length ``n``."""
    cfg = readout.model.cfg
    return {
        'format': FORMAT,
        'weights': str(weights),
        'weights_sha256': str(weights_sha256),
        'n': str(n),
        'input': f'{INPUT_NAME}: float32 [batch, 2, {n}], copula ranks of x (row 0) and y '
                 '(row 1)',
        'output': f'{OUTPUT_NAME}: float32 [batch], mutual information in nats',
        'units': 'nats',
        'readout': cfg.readout,
        'integral': cfg.integral,
        'split_seed': str(readout.seed),
        'max_set_size': str(max_set_size_of(None, dict(provenance or {}))),
        'ranks': RANKS_RULE,
        'producer': f'infonet_ros, torch {torch.__version__}',
    }


def _traceable(readout: ModelReadout, n: int, device='cpu') -> ModelReadout:
    """Return a copy of ``readout`` on ``device`` whose constants of length n are drawn."""
    module = copy.deepcopy(readout).to(device).eval()
    if module.model.cfg.readout == 'crossfit':
        # Drawn (and cached) outside the trace: a tracer would record the generator's draws.
        crossfit_indices(n, module.seed)
    return module


def torchscript_module(readout: ModelReadout, n: int, device='cpu') -> torch.jit.ScriptModule:
    """
    Trace and freeze ``readout`` for window length n on ``device`` (any batch size).

    The trace holds its device (tensors created in the forward pass are placed on it): load
    it on the device it was traced on.
    """
    module = _traceable(readout, n, device)
    with warnings.catch_warnings():
        # N becomes a constant (hence one trace per N); torch >= 2.10 flags TorchScript as
        # deprecated.
        warnings.simplefilter('ignore', torch.jit.TracerWarning)
        warnings.simplefilter('ignore', DeprecationWarning)
        with torch.no_grad():
            return torch.jit.freeze(torch.jit.trace(module, example_ranks(n).to(device)))


def write_torchscript(module: torch.jit.ScriptModule, path: str, meta: dict) -> None:
    """Save a trace with its metadata (extra file ``METADATA_FILE``), atomically."""
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', DeprecationWarning)  # TorchScript, torch >= 2.10
        _write_atomic(path, lambda f: torch.jit.save(
            module, f, _extra_files={METADATA_FILE: json.dumps(meta, sort_keys=True)}))


def load_torchscript(path, map_location='cpu', extra: dict | None = None):
    """Return a saved trace (``torch.jit.load``); ``extra``: its extra files, filled in."""
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', DeprecationWarning)  # TorchScript, torch >= 2.10
        return torch.jit.load(path, map_location=map_location,
                              _extra_files={} if extra is None else extra)


def import_onnx():
    """Return the onnx module; ImportError with the install command if it is missing."""
    try:
        import onnx
    except ImportError as exc:
        raise ImportError('ONNX export needs the onnx package: pip install onnx') from exc
    return onnx


def onnx_model(readout: ModelReadout, n: int, meta: dict | None = None,
               exporter: str = 'auto') -> bytes:
    """
    Export ``readout`` at window length n as a serialized ONNX model with a dynamic batch.

    :param meta: metadata_props to store (:func:`metadata`), or None.
    :param exporter: 'torchscript' (torch's TorchScript-based exporter), 'dynamo'
        (``torch.export``; needs onnxscript) or 'auto': the first, else the second where
        this torch has no TorchScript-based exporter.
    """
    if exporter not in EXPORTERS:
        raise ValueError(f'exporter must be one of {EXPORTERS}, got {exporter!r}')
    onnx = import_onnx()
    # On the CPU: an ONNX graph holds no device. Parameters that require gradients and
    # autograd on select the readout variant that ONNX operators express (module docstring).
    module = _traceable(readout, n).requires_grad_(True)
    example = example_ranks(n)
    if exporter in ('auto', 'torchscript'):
        try:
            data = _torchscript_onnx(module, example)
        except Exception as exc:
            if exporter == 'torchscript':
                raise
            warnings.warn(f'the TorchScript-based ONNX exporter failed ({type(exc).__name__}: '
                          f'{exc}); exporting with torch.export instead', RuntimeWarning)
            data = _dynamo_onnx(module, example)
    else:
        data = _dynamo_onnx(module, example)
    model = onnx.load_from_string(data)
    model.doc_string = ('InfoNet mutual information: copula ranks (batch, 2, N) -> nats '
                        '(batch,); see metadata_props')
    if meta:
        onnx.helper.set_model_props(model, {k: str(v) for k, v in meta.items()})
    return model.SerializeToString()


def _torchscript_onnx(module: torch.nn.Module, example: torch.Tensor) -> bytes:
    buf = io.BytesIO()
    with warnings.catch_warnings():
        for category in (torch.jit.TracerWarning, DeprecationWarning, FutureWarning):
            warnings.simplefilter('ignore', category)
        with torch.enable_grad():
            torch.onnx.export(module, (example,), buf, input_names=[INPUT_NAME],
                              output_names=[OUTPUT_NAME], opset_version=ONNX_OPSET,
                              dynamic_axes={INPUT_NAME: {0: 'batch'}, OUTPUT_NAME: {0: 'batch'}},
                              dynamo=False)
    return buf.getvalue()


def _dynamo_onnx(module: torch.nn.Module, example: torch.Tensor) -> bytes:
    # An example batch of 2: torch.export specializes a dimension of size 1.
    batch = torch.export.Dim('batch', min=1)
    with torch.enable_grad():
        program = torch.onnx.export(module, (example,), input_names=[INPUT_NAME],
                                    output_names=[OUTPUT_NAME], dynamic_shapes=({0: batch},),
                                    dynamo=True, optimize=True)
    return program.model_proto.SerializeToString()


def write_onnx(data: bytes, path: str) -> None:
    """Write a serialized ONNX model, atomically."""
    _write_atomic(path, lambda f: f.write(data))


def _write_atomic(path: str, write) -> None:
    """Write ``path`` through ``write(file)`` into a temporary file, then rename it."""
    tmp = path + '.tmp'
    try:
        try:
            f = open(tmp, 'wb')
        except OSError as exc:
            raise OSError(f'cannot write {path}: {exc.strerror or exc}') from exc
        with f:
            write(f)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def read_metadata(path: str) -> dict[str, str]:
    """Return the metadata of an exported file (ONNX or TorchScript, told by its content)."""
    with open(path, 'rb') as f:
        zipped = f.read(4) == b'PK\x03\x04'  # torch.jit.save writes a zip archive
    if zipped:
        extra = {METADATA_FILE: ''}
        load_torchscript(path, 'cpu', extra)
        return json.loads(extra[METADATA_FILE] or '{}')
    model = import_onnx().load(path)
    return {p.key: p.value for p in model.metadata_props}


def export_files(weights, fmt: str, path: str, ns=DEFAULT_EXPORT_NS, split_seed: int = 0,
                 device='cpu', exporter: str = 'auto') -> list[tuple[int, str, ModelReadout]]:
    """
    Export a checkpoint for each window length in ``ns``: one file per N (``export_path``).

    :param weights: a checkpoint file or a shipped name (None: the default).
    :param fmt: 'onnx' or 'torchscript'.
    :param device: where a TorchScript trace runs (ONNX graphs hold no device).
    :return: (n, file, the readout exported) per N, in the order of ``ns``.
    :raises ValueError: a bad format or N. :raises WeightsError: a bad checkpoint.
    :raises OSError: a file cannot be written.
    """
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f'format must be one of {", ".join(EXPORT_FORMATS)}, got {fmt!r}')
    device = check_device(device)
    model, provenance = load_checkpoint(weights, map_location=device)
    limit = max_set_size_of(None, provenance)
    ns = [check_n(n, limit) for n in dict.fromkeys(ns)]  # in order, once each
    if not ns:
        raise ValueError('no window length N to export')
    readout = ModelReadout(model, split_seed).eval()
    # The stored content hash, checked against the content by load_checkpoint.
    name, digest = str(weights or 'default'), model.content_hash or ''
    written = []
    for n in ns:
        meta = metadata(readout, n, name, digest, provenance)
        out = export_path(path, n, fmt)
        if fmt == 'onnx':
            write_onnx(onnx_model(readout, n, meta, exporter), out)
        else:
            write_torchscript(torchscript_module(readout, n, device), out,
                              {**meta, 'device': str(device)})
        written.append((n, out, readout))
    return written
