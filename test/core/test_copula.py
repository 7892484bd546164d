# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Copula transforms: hard ranks (ties averaged or broken) and the differentiable soft rank."""

import numpy as np
import pytest
from scipy import stats
import torch

from infonet_ros.core.copula import (pair_ranks, rank_normalize, soft_pair_ranks, SOFT_RANK_BLOCK,
                                     soft_rank_normalize)


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


@pytest.mark.parametrize('shape', [(1, 2, 40), (3, 2, 257), (2, 2, 1000)])
def test_pair_ranks_without_ties_equal_rank_normalize_bit_for_bit(shape):
    xy = np.random.default_rng(shape[-1]).standard_normal(shape)
    got = pair_ranks(xy)
    assert got.dtype == np.float64 and got.shape == xy.shape
    np.testing.assert_array_equal(got, rank_normalize(torch.from_numpy(xy)).numpy())


@pytest.mark.parametrize('n_values', [1, 2, 5, 50])
def test_pair_ranks_break_ties_into_a_permutation_in_value_order(n_values):
    rng = np.random.default_rng(n_values)
    xy = rng.integers(0, n_values, size=(4, 2, 301)).astype(np.float64)
    r = pair_ranks(xy)
    n = xy.shape[-1]
    for row, rrow in zip(xy.reshape(-1, n), r.reshape(-1, n)):
        # Uniform marginal: every rank k / n exactly once.
        np.testing.assert_array_equal(np.sort(rrow), (np.arange(n) + 1.0) / n)
        # Still ranks: a smaller value never gets a larger rank.
        order = np.argsort(rrow)
        assert np.all(np.diff(row[order]) >= 0)


def test_pair_ranks_are_deterministic_and_do_not_depend_on_the_batch():
    rng = np.random.default_rng(3)
    xy = np.round(rng.standard_normal((5, 2, 200)))
    whole = pair_ranks(xy)
    np.testing.assert_array_equal(whole, pair_ranks(xy.copy()))
    for b in range(5):
        np.testing.assert_array_equal(whole[b], pair_ranks(xy[b:b + 1])[0])


def test_pair_ranks_order_ties_of_x_and_y_differently():
    # Samples tied on both sides must not be ranked alike on both (a spurious dependence).
    xy = np.zeros((1, 2, 500))
    r = pair_ranks(xy)
    assert abs(np.corrcoef(r[0, 0], r[0, 1])[0, 1]) < 0.15


def test_pair_ranks_leave_untied_rows_alone_next_to_tied_ones():
    xy = np.array([[[0.3, -1.0, 2.0, 0.7], [5.0, 6.0, 7.0, 8.0]],
                   [[1.0, 1.0, 1.0, 1.0], [0.0, 2.0, 1.0, 3.0]]])
    r = pair_ranks(xy)
    np.testing.assert_array_equal(r[0], [[0.5, 0.25, 1.0, 0.75], [0.25, 0.5, 0.75, 1.0]])
    np.testing.assert_array_equal(r[1, 1], [0.25, 0.75, 0.5, 1.0])
    np.testing.assert_array_equal(np.sort(r[1, 0]), [0.25, 0.5, 0.75, 1.0])


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


@pytest.mark.parametrize('block', [SOFT_RANK_BLOCK, 5])
def test_soft_rank_gradient_matches_finite_differences(block):
    rng = np.random.default_rng(5)
    x0 = rng.standard_normal(20)
    weights = rng.standard_normal(20)
    tau = 0.3
    x = torch.tensor(x0, requires_grad=True)
    (soft_rank_normalize(x, tau, block) * torch.from_numpy(weights)).sum().backward()
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


def plain_soft_rank(x, tau):
    """Compute the soft rank's formula with all N x N comparisons at once (autograd)."""
    scale = x.detach().std(dim=-1, keepdim=True) * tau
    diff = (x.unsqueeze(-1) - x.unsqueeze(-2)) / scale.unsqueeze(-1)
    return (0.5 + torch.sigmoid(diff).sum(dim=-1)) / x.shape[-1]


@pytest.mark.parametrize('block', [1, 7, 300, 5000, SOFT_RANK_BLOCK])
def test_soft_rank_blocks_give_the_values_and_gradients_of_all_comparisons_at_once(block):
    # block 1 and 7: parts of one row per block; 300: one row at most; 5000: several rows.
    rng = np.random.default_rng(6)
    x0 = torch.from_numpy(rng.standard_normal((3, 2, 40)))
    weights = torch.from_numpy(rng.standard_normal((3, 2, 40)))
    x, ref = x0.clone().requires_grad_(), x0.clone().requires_grad_()
    u = soft_rank_normalize(x, 0.1, block=block)
    expected = plain_soft_rank(ref, 0.1)
    assert torch.equal(u, expected)
    (u * weights).sum().backward()
    (expected * weights).sum().backward()
    torch.testing.assert_close(x.grad, ref.grad, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize('factor', [2.0 ** 900, 2.0 ** -1000, 1e300, 1e-300])
@pytest.mark.parametrize('dtype', [torch.float64, torch.float32])
def test_soft_rank_is_scale_free_at_any_magnitude(factor, dtype):
    # The standard deviation of values near 1e300 overflows and near 1e-300 underflows
    # unless the row is rescaled first; by a power of two the soft ranks are bit-equal.
    info = torch.finfo(dtype)
    if not info.tiny <= factor <= info.max / 10:
        factor = 2.0 ** 100 if factor > 1 else 2.0 ** -120
    x = torch.from_numpy(np.random.default_rng(9).standard_normal((2, 200))).to(dtype)
    scaled = soft_rank_normalize(x * factor)
    if np.log2(factor) == round(np.log2(factor)):
        assert torch.equal(scaled, soft_rank_normalize(x))
    else:
        torch.testing.assert_close(scaled, soft_rank_normalize(x), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize('tau', [0, -0.1, float('nan'), float('inf'), True, '0.05', None])
def test_soft_rank_refuses_a_temperature_that_is_not_positive(tau):
    with pytest.raises(ValueError, match='tau must be a positive finite number'):
        soft_rank_normalize(torch.randn(50), tau)


def test_soft_pair_ranks_break_ties_as_pair_ranks_does():
    rng = np.random.default_rng(10)
    tied = np.stack([rng.integers(0, 2, 300), np.round(rng.standard_normal(300))])  # (2, N)
    untied = rng.standard_normal((2, 300))
    xy = torch.from_numpy(np.stack([tied, untied]).astype(np.float64))  # (2, 2, N)
    soft = soft_pair_ranks(xy, 1e-4)
    # Tied values no longer share a rank: as tau -> 0 the soft ranks are pair_ranks'.
    np.testing.assert_allclose(soft[0].numpy(), pair_ranks(xy.numpy())[0], atol=1e-9)
    assert torch.equal(soft[1], soft_rank_normalize(xy[1], 1e-4))
    averaged = soft_rank_normalize(xy[0], 1e-4)
    assert (averaged - soft[0]).abs().max() > 0.2  # one shared rank per binary level


def test_soft_pair_ranks_of_ties_keep_their_gradient():
    x = torch.tensor(np.round(np.random.default_rng(11).standard_normal((1, 2, 100))),
                     requires_grad=True)
    (soft_pair_ranks(x) * torch.linspace(-1, 1, 100, dtype=torch.float64)).sum().backward()
    assert torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0
