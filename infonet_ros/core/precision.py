# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Reduced-precision inference: which stages of InfoNet run in bfloat16 or float16, and when.

:func:`with_precision` returns a copy of a model whose stages run in a reduced precision,
except :func:`float32_modules`: the last convolution writes the critic table, whose
values enter the estimate directly (an error of 2^-9 of a table value of 3 is 0.006 nats),
so it stays float32; the readout (mean of T, log of the integral of e^T) is always float32.
Features (Fourier, cell counts) are computed in float32 and cast at each stage
(:meth:`infonet_ros.core.model.InfoNet.forward`).

Precisions (the estimator's ``precision`` argument):

- 'fp32': everything float32 (the reference).
- 'bf16': bfloat16 stages. On a CPU with AVX512-BF16 or AMX (``cpu_has_bf16``) oneDNN runs
  their matrix products and convolutions at about twice the float32 rate; elsewhere it is
  emulated and slower.
- 'fp16': float16 stages, for CUDA (on a CPU it runs, slowly: for measuring its accuracy).
- 'auto': 'bf16' on a CPU with bf16 instructions when the model's accuracy cost in bf16 was
  measured below ``MAX_ACCURACY_COST`` nats of MAE in every family of the evaluation sets
  (``MEASURED_COST``, from ``benchmarks/precision_accuracy.py``); else 'fp32'. On CUDA
  'auto' is 'fp32' (no CUDA measurement here; 'fp16' is a choice to measure on the robot).
"""

from __future__ import annotations

import copy
import json
import os

import torch

PRECISIONS = ('auto', 'fp32', 'bf16', 'fp16')
DTYPES = {'fp32': torch.float32, 'bf16': torch.bfloat16, 'fp16': torch.float16}
# /proc/cpuinfo flags of bfloat16 dot products: x86 AVX512-BF16 and AMX, Arm BF16.
BF16_FLAGS = frozenset({'avx512_bf16', 'amx_bf16', 'bf16'})
# Largest increase of MAE against the truth (nats), in any family of the evaluation sets,
# at which 'auto' picks bf16.
MAX_ACCURACY_COST = 0.002
# The measured accuracy cost of each precision per model (by checkpoint content hash),
# written by benchmarks/precision_accuracy.py --update-package.
MEASURED_COST = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'weights',
                             'precision_cost.json')


def check_precision(precision) -> str:
    """Return ``precision`` if it is one of ``PRECISIONS``; ValueError naming them otherwise."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(map(repr, PRECISIONS))}, "
                         f'got {precision!r}')
    return precision


def cpu_has_bf16(cpuinfo: str = '/proc/cpuinfo') -> bool:
    """Return True if the CPU has bfloat16 dot products (AVX512-BF16, AMX, Arm BF16)."""
    try:
        with open(cpuinfo) as f:
            flags = set()
            for line in f:
                if line.startswith(('flags', 'Features')):  # x86, Arm
                    flags.update(line.split(':', 1)[1].split())
    except OSError:  # not Linux: ask torch, whose check is private and may be absent
        probe = getattr(getattr(torch._C, '_cpu', None), '_is_avx512_bf16_supported', None)
        return bool(probe and probe())
    return bool(flags & BF16_FLAGS)


def measured_cost(content_hash: str | None, precision: str,
                  path: str = MEASURED_COST) -> float | None:
    """Return the largest per-family MAE increase measured for a checkpoint and precision."""
    if not content_hash or not os.path.isfile(path):
        return None
    with open(path) as f:
        table = json.load(f)
    return table.get(content_hash, {}).get(precision)


def resolve_precision(precision: str, device: torch.device, content_hash: str | None = None,
                      costs: str = MEASURED_COST) -> str:
    """'auto' -> 'bf16' or 'fp32' for this device and model (see the module doc); else as is."""
    check_precision(precision)
    if precision != 'auto':
        return precision
    if device.type != 'cpu' or not cpu_has_bf16():
        return 'fp32'
    cost = measured_cost(content_hash, 'bf16', costs)
    return 'bf16' if cost is not None and cost < MAX_ACCURACY_COST else 'fp32'


def with_precision(model: torch.nn.Module, precision: str) -> torch.nn.Module:
    """``model`` itself for 'fp32', else a copy whose stages run in that precision."""
    if check_precision(precision) == 'auto':
        raise ValueError("with_precision needs a resolved precision (resolve_precision('auto'))")
    if precision == 'fp32':
        return model
    out = copy.deepcopy(model)
    keep = float32_modules(out)
    for name, module in out.named_modules():
        if name in keep:
            continue
        # Parameters only: buffers (the query grid) keep their exact float32 values.
        for param in module.parameters(recurse=False):
            if param.is_floating_point():
                param.data = param.data.to(DTYPES[precision])
    return out.eval()


def float32_modules(model: torch.nn.Module) -> set:
    """
    Return the names of the modules a reduced-precision copy keeps float32: the table layer.

    The table layer is the model's last convolution (it writes the critic table, whose
    values enter the estimate directly; see the module doc).
    """
    convs = [name for name, m in model.named_modules() if isinstance(m, torch.nn.Conv2d)]
    return set(convs[-1:])
