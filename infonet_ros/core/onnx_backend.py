# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Exported InfoNet graphs run by onnxruntime: files, and the estimator's 'onnxruntime' backend.

- :class:`OnnxSession`: one exported graph (a file of ``infonet-ros export``, or bytes)
  in an onnxruntime session: ``run(ranks (B, 2, N) float32) -> (B,) float32`` nats.
- :class:`OnnxReadout`: what ``InfoNetEstimator(backend='onnxruntime')`` runs in place of
  the torch module: each series length is exported at its first use (in memory, nothing is
  written) and kept loaded (least recently used out, as the traces of
  :mod:`infonet_ros.core.tracing`). Ranks, long series, constant sides and the NaN guard
  stay the estimator's.
- :func:`select_providers`: the execution providers of a device, from those this
  onnxruntime build has (``onnxruntime.get_available_providers()``): 'cpu'; 'cuda[:k]'
  (CUDA, CPU fallback for operators it lacks); 'tensorrt[:k]' (TensorRT, then CUDA and CPU;
  engines cached in ``engine_cache_dir()``); 'auto' (CUDA where present, else the CPU).
- :func:`autocast_float16`: matrix products and convolutions of a graph in float16, the
  rest in float32, as torch's autocast does; for the CUDA provider.

onnxruntime and onnx are optional: without them the backend raises ImportError naming
``pip install onnx onnxruntime`` (``onnxruntime-gpu`` for CUDA). Sessions use
``torch.get_num_threads()`` intra-op threads unless told otherwise.
"""

from __future__ import annotations

from collections import OrderedDict
import os
import threading

import numpy as np
import torch

from infonet_ros.core.export import import_onnx, INPUT_NAME, onnx_model, OUTPUT_NAME
from infonet_ros.core.readout import ModelReadout
from infonet_ros.core.tracing import JIT_CACHE_SIZE

BACKENDS = ('torch', 'onnxruntime')
INSTALL = 'pip install onnx onnxruntime (onnxruntime-gpu for CUDA)'
# Operators that autocast_float16 runs in float16 (the ones torch's autocast does).
FLOAT16_OPS = ('MatMul', 'Gemm', 'Conv')


def check_backend(backend) -> str:
    """Return ``backend`` if it is one of ``BACKENDS``; ValueError naming them otherwise."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(map(repr, BACKENDS))}, "
                         f'got {backend!r}')
    return backend


def import_onnxruntime():
    """Return the onnxruntime module; ImportError naming the install command if missing."""
    try:
        import onnx  # noqa: F401  (the export of each series length writes through it)
        import onnxruntime
    except ImportError as exc:
        raise ImportError(f"the 'onnxruntime' backend needs {exc.name or 'onnxruntime'}, "
                          f'which is not installed: {INSTALL}') from exc
    return onnxruntime


def engine_cache_dir() -> str:
    """Return the folder of cached TensorRT engines (in the user's cache, made on use)."""
    root = os.environ.get('XDG_CACHE_HOME') or os.path.join(os.path.expanduser('~'), '.cache')
    return os.path.join(root, 'infonet_ros', 'tensorrt')


def select_providers(device='auto', available=None) -> list:
    """
    Return the onnxruntime providers (names, or (name, options)) of a device, best first.

    :param device: 'auto', 'cpu', 'cuda[:k]' or 'tensorrt[:k]' (a torch.device too).
    :param available: provider names of this onnxruntime build (None: ask it).
    :raises ValueError: an unknown device, or one whose provider this build lacks.
    """
    if available is None:
        available = import_onnxruntime().get_available_providers()
    kind, _, index = str(device).partition(':')
    if kind == 'auto':
        kind = 'cuda' if 'CUDAExecutionProvider' in available else 'cpu'
    if kind == 'cpu':
        return ['CPUExecutionProvider']
    chain = {'cuda': ['CUDAExecutionProvider'],
             'tensorrt': ['TensorrtExecutionProvider', 'CUDAExecutionProvider']}.get(kind)
    if chain is None or not (index or '0').isdigit():
        raise ValueError(f"unknown onnxruntime device {str(device)!r}: use 'auto', 'cpu', "
                         "'cuda[:k]' or 'tensorrt[:k]'")
    if chain[0] not in available:
        raise ValueError(f'device {str(device)!r}: this onnxruntime has no {chain[0]} '
                         f'(it has {", ".join(available)}); install the onnxruntime-gpu '
                         'build for this CUDA (on a Jetson, the one for its JetPack)')
    providers = []
    for name in chain:
        if name not in available:
            continue
        options = {'device_id': int(index or 0)}
        if name == 'TensorrtExecutionProvider':
            # An engine takes minutes to build on a Jetson: keep it across processes.
            options.update(trt_engine_cache_enable=True,
                           trt_engine_cache_path=engine_cache_dir())
        providers.append((name, options))
    return providers + ['CPUExecutionProvider']


class OnnxSession:
    """One exported InfoNet graph in an onnxruntime session."""

    def __init__(self, model: bytes | str | os.PathLike, device='auto',
                 threads: int | None = None, providers: list | None = None):
        """
        Open a graph (a file or serialized bytes) on a device.

        :param device: see :func:`select_providers`; ignored if ``providers`` is given.
        :param threads: intra-op threads (None: ``torch.get_num_threads()``).
        """
        ort = import_onnxruntime()
        providers = providers or select_providers(device, ort.get_available_providers())
        if any((p[0] if isinstance(p, tuple) else p) == 'TensorrtExecutionProvider'
               for p in providers):
            os.makedirs(engine_cache_dir(), exist_ok=True)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or torch.get_num_threads()
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # errors: not the notes on nodes placed on the CPU
        source = model if isinstance(model, bytes) else os.fspath(model)
        self.session = ort.InferenceSession(source, options, providers=providers)
        shape = self.session.get_inputs()[0].shape  # ['batch', 2, N]
        self.n = shape[-1] if isinstance(shape[-1], int) else None

    @property
    def providers(self) -> list[str]:
        """Return the providers the session runs on, best first."""
        return self.session.get_providers()

    @property
    def metadata(self) -> dict[str, str]:
        """Return the graph's metadata_props (:func:`infonet_ros.core.export.metadata`)."""
        return dict(self.session.get_modelmeta().custom_metadata_map)

    def run(self, ranks: np.ndarray) -> np.ndarray:
        """Return the MI in nats of copula ranks: (B, 2, N) -> (B,) float32."""
        feed = {INPUT_NAME: np.ascontiguousarray(ranks, dtype=np.float32)}
        return self.session.run([OUTPUT_NAME], feed)[0]


class OnnxReadout:
    """
    A :class:`~infonet_ros.core.readout.ModelReadout` run by onnxruntime: ranks -> nats.

    Called as the module is (a (B, 2, N) float32 tensor -> (B,) tensor on the same device);
    each N is exported at its first call (in memory; about as long as a jit trace) and kept
    loaded, one graph per N.
    """

    def __init__(self, readout: ModelReadout, device='auto', threads: int | None = None,
                 cache_size: int = JIT_CACHE_SIZE):
        import_onnxruntime()  # fail here, at construction, with the install command
        self.readout = readout
        self.device = str(device)
        self.threads = threads
        self.cache_size = cache_size
        self._sessions: OrderedDict[int, OnnxSession] = OrderedDict()
        self._lock = threading.Lock()  # row workers may ask for an unseen length at once

    def __call__(self, ranks: torch.Tensor) -> torch.Tensor:
        """Return the MI in nats of ranks (B, 2, N) -> (B,) float32 on ranks' device."""
        out = self.graph(ranks.shape[-1]).run(ranks.detach().cpu().numpy())  # (B,)
        return torch.from_numpy(out).to(ranks.device)

    def graph(self, n: int) -> OnnxSession:
        """Return the loaded graph of window length n, exporting it at its first use."""
        with self._lock:
            found = self._sessions.get(n)
            if found is None:
                found = OnnxSession(onnx_model(self.readout, n), self.device, self.threads)
                self._sessions[n] = found
                while len(self._sessions) > self.cache_size:
                    self._sessions.popitem(last=False)
            self._sessions.move_to_end(n)
            return found

    def lengths(self) -> list[int]:
        """Return the window lengths with a loaded graph (most recently used last)."""
        return list(self._sessions)


def autocast_float16(data: bytes) -> bytes:
    """
    Return a serialized graph whose ``FLOAT16_OPS`` run in float16, the rest in float32.

    Inputs of those operators are cast to float16 (their weights converted once, when no
    other operator reads them) and outputs back to float32, as torch's autocast does: the
    densities, logarithms and sums of the readout keep float32. Input and output stay
    float32. For the CUDA provider; the CPU provider runs it, not faster.
    """
    onnx = import_onnx()
    model = onnx.load_from_string(data)
    graph = model.graph
    weights = {t.name: t for t in graph.initializer}
    readers: dict[str, list] = {}
    for node in graph.node:
        for name in node.input:
            readers.setdefault(name, []).append(node.op_type)
    fp16, fp32 = onnx.TensorProto.FLOAT16, onnx.TensorProto.FLOAT
    nodes, halved = [], set()
    for node in graph.node:
        if node.op_type not in FLOAT16_OPS:
            nodes.append(node)
            continue
        for i, name in enumerate(node.input):
            if not name:
                continue
            if name in weights and set(readers[name]) <= set(FLOAT16_OPS):
                if name not in halved:
                    array = onnx.numpy_helper.to_array(weights[name]).astype(np.float16)
                    weights[name].CopyFrom(onnx.numpy_helper.from_array(array, name))
                    halved.add(name)
                continue
            cast = f'{node.name}/{name}/float16'
            nodes.append(onnx.helper.make_node('Cast', [name], [cast], to=fp16, name=cast))
            node.input[i] = cast
        out = node.output[0]
        node.output[0] = f'{out}/float16'
        nodes += [node, onnx.helper.make_node('Cast', [node.output[0]], [out], to=fp32,
                                              name=f'{out}/float32')]
    del graph.node[:]
    graph.node.extend(nodes)
    del graph.value_info[:]  # shapes inferred for float32 tensors: stale
    return model.SerializeToString()
