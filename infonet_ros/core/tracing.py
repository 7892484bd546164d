# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The traced forward pass: a module run as TorchScript traces, one per input shape.

With ``jit=True`` the estimator runs the network and its readout
(:class:`infonet_ros.core.readout.ModelReadout`) through :class:`TracedNetwork`: the same
numbers as the eager module, in less time on a CPU, and one call into TorchScript per pass,
so a busy Python thread beside it (a ROS executor taking thousands of messages a second)
cannot hold it up between operations.
"""

from __future__ import annotations

from collections import OrderedDict
import threading
import warnings

import torch

# Traces kept per TracedNetwork, one per set size (least recently used out).
JIT_CACHE_SIZE = 8


class TracedNetwork:
    """
    A module traced and frozen with TorchScript, one trace per input shape but the batch.

    Same numbers as the eager module (a trace records the very operations), in less time on
    a CPU: the frozen graph runs without Python between operations, which also keeps it from
    waiting on the GIL while another thread (a ROS executor) holds it. A trace bakes in the
    set size (log N is an input feature), so each new size is traced once (~0.5-2 s); the
    batch size may vary. If tracing fails, the eager module runs (``failure`` says why).
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
