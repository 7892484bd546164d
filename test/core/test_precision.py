# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Reduced-precision inference: which stages change dtype, accuracy, and what 'auto' picks."""

import json
import math

import numpy as np
import pytest
import torch

from infonet_ros.core.estimator import InfoNetEstimator
from infonet_ros.core.model import InfoNet, InfoNetConfig, load_checkpoint, SHIPPED_WEIGHTS
from infonet_ros.core.precision import (check_precision, cpu_has_bf16, float32_modules,
                                        MAX_ACCURACY_COST, MEASURED_COST, measured_cost,
                                        resolve_precision, with_precision)

CPU = torch.device('cpu')


def gaussian_sets(rhos, n, per_rho, seed=0):
    """Return (x, y, true MI) of ``per_rho`` Gaussian sets of length n for each rho."""
    rng = np.random.default_rng(seed)
    xs, ys, mi = [], [], []
    for rho in rhos:
        x = rng.standard_normal((per_rho, n))
        xs.append(x)
        ys.append(rho * x + math.sqrt(1 - rho ** 2) * rng.standard_normal((per_rho, n)))
        mi += [-0.5 * math.log(1 - rho ** 2)] * per_rho
    return np.concatenate(xs), np.concatenate(ys), np.array(mi)


def test_fp32_is_the_model_itself_and_reduced_copies_keep_the_table_layer_float32():
    model, _ = load_checkpoint('default')
    assert with_precision(model, 'fp32') is model
    assert float32_modules(model) == {'upsample.4'}  # the last convolution: the table layer
    for precision, dtype in (('bf16', torch.bfloat16), ('fp16', torch.float16)):
        copy = with_precision(model, precision)
        assert copy is not model
        for name, param in copy.named_parameters():
            kept = name.rpartition('.')[0] in float32_modules(model)
            assert param.dtype == (torch.float32 if kept else dtype), name
        assert all(b.dtype == torch.float32 for b in copy.buffers())
    # The original is untouched: the copy owns its parameters.
    assert all(p.dtype == torch.float32 for p in model.parameters())


def test_buffers_keep_their_float32_values_whatever_the_grid():
    # A 12 x 12 query grid has cell centres bfloat16 cannot hold exactly.
    model = InfoNet(InfoNetConfig(coarse_grid=12, grid_size=48)).eval()
    copy = with_precision(model, 'bf16')
    assert torch.equal(copy.coarse_xy, model.coarse_xy)


@pytest.mark.parametrize('weights', sorted(SHIPPED_WEIGHTS))
@pytest.mark.parametrize('precision', ['bf16', 'fp16'])
def test_reduced_precision_keeps_the_accuracy_on_gaussians(weights, precision):
    x, y, truth = gaussian_sets((0.0, 0.5, 0.9), 500, 6)
    ref = InfoNetEstimator.from_pretrained(weights, CPU, precision='fp32')
    est = InfoNetEstimator.from_pretrained(weights, CPU, precision=precision)
    assert est.precision == precision
    a, b = ref.estimate_batch(x, y), est.estimate_batch(x, y)
    assert b.dtype == np.float64 and np.isfinite(b).all()
    # Close to float32, and as close to the truth (the table layer and readout are float32).
    assert np.abs(a - b).max() < 0.01
    assert abs(np.abs(b - truth).mean() - np.abs(a - truth).mean()) < MAX_ACCURACY_COST
    assert not np.array_equal(a, b)  # the reduced precision really ran


def test_traced_and_eager_reduced_precision_agree():
    x, y, _ = gaussian_sets((0.3, 0.8), 400, 3, seed=1)
    eager = InfoNetEstimator.from_pretrained('default', CPU, precision='bf16', jit=False)
    traced = InfoNetEstimator.from_pretrained('default', CPU, precision='bf16', jit=True)
    np.testing.assert_allclose(traced.estimate_batch(x, y), eager.estimate_batch(x, y),
                               atol=1e-3)


def test_gradients_stay_float32_under_reduced_precision():
    est = InfoNetEstimator.from_pretrained('default', CPU, precision='bf16')
    x, y, _ = gaussian_sets((0.7,), 300, 1, seed=2)
    xt = torch.tensor(x[0], dtype=torch.float32, requires_grad=True)
    mi = est.mi_torch(xt, torch.tensor(y[0], dtype=torch.float32))
    mi.backward()
    assert mi.dtype == torch.float32 and xt.grad is not None
    assert torch.isfinite(xt.grad).all()


def test_auto_picks_bf16_only_with_the_instructions_and_a_measured_small_cost(tmp_path):
    table = tmp_path / 'cost.json'
    table.write_text(json.dumps({'cheap': {'bf16': MAX_ACCURACY_COST / 2},
                                 'costly': {'bf16': MAX_ACCURACY_COST * 2}}))
    expect = 'bf16' if cpu_has_bf16() else 'fp32'
    assert resolve_precision('auto', CPU, 'cheap', str(table)) == expect
    assert resolve_precision('auto', CPU, 'costly', str(table)) == 'fp32'
    assert resolve_precision('auto', CPU, 'unmeasured', str(table)) == 'fp32'
    assert resolve_precision('auto', CPU, None, str(table)) == 'fp32'
    assert resolve_precision('auto', torch.device('cuda'), 'cheap', str(table)) == 'fp32'
    assert resolve_precision('fp16', CPU, 'costly', str(table)) == 'fp16'


def test_the_shipped_cost_table_covers_every_shipped_model():
    with open(MEASURED_COST) as f:
        table = json.load(f)
    for name in SHIPPED_WEIGHTS:
        model, _ = load_checkpoint(name)
        for precision in ('bf16', 'fp16'):
            cost = measured_cost(model.content_hash, precision)
            assert cost == table[model.content_hash][precision]
            assert math.isfinite(cost)


def test_auto_resolves_for_the_estimator_as_the_table_says():
    est = InfoNetEstimator.from_pretrained('default', CPU)
    cost = measured_cost(est.model.content_hash, 'bf16')
    expect = 'bf16' if cpu_has_bf16() and cost < MAX_ACCURACY_COST else 'fp32'
    assert est.precision == expect


@pytest.mark.parametrize('text, has', [
    ('flags\t\t: fpu avx2 avx512f avx512_bf16 avx512_vnni\n', True),
    ('flags\t\t: fpu avx2 amx_bf16 amx_tile\n', True),
    ('Features\t: fp asimd bf16 i8mm\n', True),
    ('flags\t\t: fpu sse2 avx avx2 fma f16c\n', False),
])
def test_cpu_bf16_flags_are_read_from_cpuinfo(tmp_path, text, has):
    info = tmp_path / 'cpuinfo'
    info.write_text('processor\t: 0\n' + text)
    assert cpu_has_bf16(str(info)) is has


def test_bad_precisions_are_refused_with_one_line():
    with pytest.raises(ValueError, match="precision must be one of 'auto'"):
        check_precision('float8')
    with pytest.raises(ValueError, match='resolved precision'):
        with_precision(load_checkpoint('default')[0], 'auto')
    with pytest.raises(ValueError, match='precision must be one of'):
        InfoNetEstimator.from_pretrained('default', CPU, precision='half')
    pytest.importorskip('onnxruntime')
    with pytest.raises(ValueError, match="onnxruntime backend runs precision 'fp32'"):
        InfoNetEstimator.from_pretrained('default', CPU, backend='onnxruntime',
                                         precision='bf16')
    assert InfoNetEstimator.from_pretrained('default', CPU, backend='onnxruntime').precision \
        == 'fp32'
