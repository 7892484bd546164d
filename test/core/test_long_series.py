# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Series longer than the training sets: split into interleaved subsets, averaged."""

import math

import numpy as np
import pytest
import torch

from infonet_ros.core.estimator import InfoNetEstimator
from infonet_ros.core.limits import MIN_SAMPLES
from infonet_ros.core.long_series import DEFAULT_MAX_SET_SIZE, interleaved_subsets
from infonet_ros.core.model import SHIPPED_WEIGHTS


@pytest.fixture(scope='module', params=sorted(SHIPPED_WEIGHTS))
def est(request):
    return InfoNetEstimator.from_pretrained(request.param, device='cpu')


def gaussian(rng, rho, shape):
    x = rng.standard_normal(shape)
    return x, rho * x + math.sqrt(1 - rho ** 2) * rng.standard_normal(shape)


@pytest.mark.parametrize('n, max_size, subsets, groups', [
    (100, 100, 1, 1), (101, 100, 2, 2), (4096, 2048, 2, 1), (5000, 2048, 4, 1),
    (100000, 2048, 50, 1), (4099, 2048, 3, 2), (2049, 2048, 3, 1), (100003, 2048, 49, 2)])
def test_interleaved_subsets_cover_every_sample_once(n, max_size, subsets, groups):
    parts = interleaved_subsets(n, max_size)
    flat = np.concatenate([g.ravel() for g in parts])
    np.testing.assert_array_equal(np.sort(flat), np.arange(n))
    lengths = {g.shape[1] for g in parts}
    assert max(lengths) <= max_size and max(lengths) - min(lengths) <= 1
    # As few subsets as fit, or up to twice that many when that gives them one length
    # (one forward pass); otherwise two groups of lengths m + 1 and m.
    assert sum(g.shape[0] for g in parts) == subsets and len(parts) == groups
    for g in parts:  # each subset strides through the whole series
        assert np.all(np.diff(g, axis=1) == subsets)


def test_max_set_size_comes_from_the_training_range(est):
    assert est.max_set_size == est.provenance['n_range'][1]
    no_range = {k: v for k, v in est.provenance.items() if k != 'n_range'}
    assert InfoNetEstimator(est.model, 'cpu', no_range).max_set_size == DEFAULT_MAX_SET_SIZE
    assert InfoNetEstimator(est.model, 'cpu', max_set_size=0).max_set_size == 0


@pytest.mark.parametrize('value', [MIN_SAMPLES, -5, 1.5, '2048', True])
def test_bad_max_set_size_raises_value_error(est, value):
    with pytest.raises(ValueError, match='max_set_size'):
        InfoNetEstimator(est.model, 'cpu', est.provenance, max_set_size=value)


@pytest.mark.parametrize('rho', [0.0, 0.5, 0.8, 0.95])
def test_long_gaussian_series_match_the_analytic_value(est, rho):
    # N = 30,000, 15 sets of 2,000: averaging leaves little sampling noise, so the tolerance
    # is the model's bias at the sets' size (the network alone read 5-10 % low here).
    rng = np.random.default_rng(int(rho * 100) + 1)
    x, y = gaussian(rng, rho, 30000)
    truth = -0.5 * math.log(1 - rho ** 2)
    assert est.estimate(x, y) == pytest.approx(truth, rel=0.05, abs=0.015)


def test_long_series_estimate_is_the_length_weighted_mean_of_its_subsets(est):
    rng = np.random.default_rng(3)
    n = 5001  # three subsets: lengths 1667, 1667, 1667
    x, y = gaussian(rng, 0.7, n)
    x[::7] = 0.0  # ties too: each subset ranks its own
    whole = InfoNetEstimator(est.model, 'cpu', est.provenance, max_set_size=0)
    parts = [(len(i), whole.estimate(x[i], y[i])) for g in interleaved_subsets(n, 2048)
             for i in g]
    expected = sum(m * v for m, v in parts) / n
    assert est.estimate(x, y) == pytest.approx(expected, abs=1e-6)
    # A row in a batch is split the same way, and short rows are not split at all.
    xb, yb = np.stack([x, x[::-1]]), np.stack([y, y[::-1]])
    np.testing.assert_allclose(est.estimate_batch(xb, yb)[0], expected, atol=1e-6)
    assert est.estimate(x[:2048], y[:2048]) == whole.estimate(x[:2048], y[:2048])


def test_sparse_long_series_with_constant_subsets_count_them_as_zero(est):
    # Every fourth sample nonzero: with 4 interleaved subsets of 1,000, three are constant
    # (no information, 0) and one holds all the dependence.
    rng = np.random.default_rng(4)
    n = 4000
    x, y = np.zeros(n), np.zeros(n)
    x[::4], y[::4] = gaussian(rng, 0.9, n // 4)
    small = InfoNetEstimator(est.model, 'cpu', est.provenance, max_set_size=1000)
    got = small.estimate(x, y)
    assert math.isfinite(got)
    assert got == pytest.approx(small.estimate(x[::4], y[::4]) / 4, abs=1e-6)


def test_mi_torch_splits_long_series_like_estimate(est):
    rng = np.random.default_rng(5)
    x, y = gaussian(rng, 0.8, 6000)
    hard = est.mi_torch(torch.from_numpy(x), torch.from_numpy(y), soft=False)
    # mi_torch runs float32 whatever precision the numpy API runs.
    fp32 = InfoNetEstimator(est.model, est.device, est.provenance, precision='fp32')
    assert hard.item() == pytest.approx(fp32.estimate(x, y), abs=1e-5)
    xt = torch.tensor(x, requires_grad=True)
    soft = est.mi_torch(xt, torch.from_numpy(y))
    assert soft.item() == pytest.approx(hard.item(), abs=0.05)
    soft.backward()
    assert torch.isfinite(xt.grad).all() and xt.grad.abs().sum() > 0
    batch = est.mi_torch(torch.from_numpy(np.stack([x, y])), torch.from_numpy(np.stack([y, x])),
                         soft=False)
    assert batch.shape == (2,) and batch[0].item() == pytest.approx(hard.item(), abs=1e-5)


def test_jit_splits_long_series_like_the_eager_model(est):
    jit = InfoNetEstimator(est.model, 'cpu', est.provenance, jit=True)
    rng = np.random.default_rng(6)
    x, y = gaussian(rng, 0.6, (2, 4099))  # a prime: subsets of 1367, 1366 and 1366
    np.testing.assert_allclose(jit.estimate_batch(x, y), est.estimate_batch(x, y), atol=1e-6)
    assert sorted(jit._traced.shapes()) == [(2, 1366), (2, 1367)]
