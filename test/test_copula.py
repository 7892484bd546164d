# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Copula transforms: hard ranks (ties averaged) and the differentiable soft rank."""

import numpy as np
import pytest
from scipy import stats
import torch

from infonet_ros.copula import rank_normalize, rank_normalize_numpy, soft_rank_normalize


def test_ranks_of_distinct_values_are_k_over_n():
    x = torch.tensor([3.0, -1.0, 10.0, 0.5])
    assert rank_normalize(x).tolist() == pytest.approx([0.75, 0.25, 1.0, 0.5])


def test_ranks_lie_in_half_open_unit_interval_and_match_scipy():
    rng = np.random.default_rng(0)
    x = torch.from_numpy(rng.standard_normal((3, 257)))
    u = rank_normalize(x)
    assert u.shape == x.shape
    assert float(u.min()) > 0.0 and float(u.max()) == 1.0
    for row, urow in zip(x.numpy(), u.numpy()):
        np.testing.assert_allclose(urow, stats.rankdata(row) / row.size)


def test_ties_share_the_mean_rank():
    x = torch.tensor([2.0, 1.0, 2.0, 2.0, 5.0, 1.0])
    # sorted: 1 1 2 2 2 5 -> ranks (1+2)/2 = 1.5 for the 1s, (3+4+5)/3 = 4 for the 2s, 6
    expected = np.array([4, 1.5, 4, 4, 6, 1.5]) / 6
    np.testing.assert_allclose(rank_normalize(x).numpy(), expected)
    np.testing.assert_allclose(rank_normalize(x).numpy(), stats.rankdata(x.numpy()) / 6)


@pytest.mark.parametrize('n_values', [1, 2, 5, 50])
def test_random_ties_match_scipy_in_every_row(n_values):
    # Few distinct values: long runs of ties, at the ends of the sorted row too.
    rng = np.random.default_rng(n_values)
    for n in (1, 2, 7, 64, 333):
        x = rng.integers(0, n_values, size=(4, n)).astype(np.float64)
        np.testing.assert_allclose(rank_normalize(torch.from_numpy(x)).numpy(),
                                   stats.rankdata(x, axis=-1) / n)


@pytest.mark.parametrize('n_values', [None, 1, 3, 40])
@pytest.mark.parametrize('shape', [(1,), (7,), (2, 1000), (3, 2, 257)])
def test_numpy_ranks_equal_torch_ranks_bit_for_bit(n_values, shape):
    # The estimator ranks in numpy; training and mi_torch rank in torch: they must agree.
    rng = np.random.default_rng(len(shape))
    x = rng.standard_normal(shape) if n_values is None \
        else rng.integers(0, n_values, size=shape).astype(np.float64)
    got = rank_normalize_numpy(x)
    assert got.dtype == np.float64 and got.shape == x.shape
    np.testing.assert_array_equal(got, rank_normalize(torch.from_numpy(x)).numpy())


def test_numpy_ranks_with_ties_in_one_row_only():
    # One row tied, the other distinct: the tie path must not disturb the distinct row.
    x = np.array([[0.3, -1.0, 2.0, 0.7], [1.0, 1.0, 0.0, 1.0]])
    np.testing.assert_array_equal(rank_normalize_numpy(x),
                                  [[0.5, 0.25, 1.0, 0.75], [0.75, 0.75, 0.25, 0.75]])


def test_constant_row_maps_to_the_middle():
    u = rank_normalize(torch.full((5,), 7.0))
    np.testing.assert_allclose(u.numpy(), np.full(5, 0.6))  # mean rank 3 of 5


def test_integer_input_gives_float_ranks():
    u = rank_normalize(torch.tensor([3, 1, 2]))
    assert u.is_floating_point()
    assert u.tolist() == pytest.approx([1.0, 1 / 3, 2 / 3])


def test_ranks_are_invariant_under_monotone_maps():
    rng = np.random.default_rng(1)
    x = torch.from_numpy(rng.standard_normal(500))
    for f in (torch.exp, lambda t: t ** 3, lambda t: 5 * t - 2, torch.arcsinh):
        assert torch.equal(rank_normalize(f(x)), rank_normalize(x))


@pytest.mark.parametrize('tau', [0.05, 0.01, 0.001])
def test_soft_rank_tends_to_hard_rank(tau):
    rng = np.random.default_rng(2)
    x = torch.from_numpy(rng.standard_normal((2, 300)))
    err = (soft_rank_normalize(x, tau) - rank_normalize(x)).abs()
    # A point errs by about (neighbours within a few tau * std) / (2N): small on average,
    # at most a few 1/N for the closest pairs.
    assert err.mean().item() < {0.05: 0.006, 0.01: 0.003, 0.001: 0.0008}[tau]
    assert err.max().item() < 0.03


def test_soft_rank_error_shrinks_with_tau():
    rng = np.random.default_rng(3)
    x = torch.from_numpy(rng.standard_normal(400))
    errs = [(soft_rank_normalize(x, t) - rank_normalize(x)).abs().mean().item()
            for t in (0.1, 0.01, 1e-4)]
    assert errs[0] > errs[1] > errs[2]
    assert errs[2] < 1e-3


def test_soft_rank_of_ties_tends_to_averaged_rank():
    x = torch.tensor([2.0, 1.0, 2.0, 2.0, 5.0, 1.0])
    np.testing.assert_allclose(soft_rank_normalize(x, 1e-6).numpy(),
                               rank_normalize(x).numpy(), atol=1e-9)


def test_soft_rank_gradients_are_finite_and_nonzero():
    rng = np.random.default_rng(4)
    x = torch.tensor(rng.standard_normal(64), requires_grad=True)
    weights = torch.from_numpy(rng.standard_normal(64))
    (soft_rank_normalize(x) * weights).sum().backward()
    assert torch.isfinite(x.grad).all()
    assert x.grad.abs().sum() > 0


def test_soft_rank_gradient_matches_finite_differences():
    rng = np.random.default_rng(5)
    x0 = rng.standard_normal(20)
    weights = rng.standard_normal(20)
    tau = 0.3
    x = torch.tensor(x0, requires_grad=True)
    (soft_rank_normalize(x, tau) * torch.from_numpy(weights)).sum().backward()
    # The temperature's scale tau * std(x) is detached by design, so hold it fixed here.
    scale = tau * x0.std(ddof=1)

    def f(v):
        return float(weights @ ((0.5 + (1 / (1 + np.exp(-(v[:, None] - v[None, :]) / scale)))
                                 .sum(1)) / v.size))
    eps = 1e-6
    numeric = np.array([(f(x0 + eps * e) - f(x0 - eps * e)) / (2 * eps)
                        for e in np.eye(20)])
    np.testing.assert_allclose(x.grad.numpy(), numeric, rtol=1e-5, atol=1e-7)


def test_soft_rank_increases_with_the_value():
    x = torch.linspace(-2, 2, 50, dtype=torch.float64)
    u = soft_rank_normalize(x, 0.05)
    assert bool((u[1:] > u[:-1]).all())
    assert float(u.min()) > 0 and float(u.max()) < 1
