# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Readouts of a critic table: bilinear lookup, DV bounds, cross-fitting."""

import math
import warnings

from copula_tables import cell_centres, gaussian_copula_log_density, gaussian_copula_points
import numpy as np
import pytest
from scipy import integrate
import torch

from infonet_ros.core.readout import (_bilinear_autograd, _bilinear_inference, crossfit_indices,
                                      crossfit_mi, dv_exact, log_integral, log_mean_exp_bilinear,
                                      log_mean_exp_table, lookup, ModelReadout, set_mi)

# The two implementations of the bilinear integral (with and without autograd): every
# property of the rule is asserted of both.
BILINEAR = pytest.mark.parametrize('bilinear', [_bilinear_autograd, _bilinear_inference],
                                   ids=['autograd', 'inference'])


def linear_table(g, a=0.3, b=2.0, c=-5.0):
    """Table of T(u, v) = a + b u + c v at the cell centres; rows index v, columns u."""
    cc = cell_centres(g)
    vv, uu = torch.meshgrid(cc, cc, indexing='ij')
    return (a + b * uu + c * vv)[None]  # (1, G, G)


# ---- lookup ------------------------------------------------------------------------------

def test_lookup_reads_cell_centres_exactly():
    g = 16
    table = torch.randn(2, g, g, dtype=torch.float64)
    cc = cell_centres(g)
    i, j = torch.meshgrid(torch.arange(g), torch.arange(g), indexing='ij')
    # point (u, v) = (centre of column j, centre of row i) must read table[b, i, j]
    uv = torch.stack([cc[j.flatten()], cc[i.flatten()]], -1).expand(2, -1, -1)
    np.testing.assert_allclose(lookup(table, uv).numpy(), table.flatten(1).numpy(),
                               rtol=1e-12, atol=1e-12)


def test_lookup_of_a_linear_table_is_exact_between_centres():
    g = 32
    table = linear_table(g)
    rng = np.random.default_rng(0)
    lo, hi = 0.5 / g, 1 - 0.5 / g  # inside the hull of the cell centres
    uv = torch.from_numpy(rng.uniform(lo, hi, (1, 500, 2)))
    expected = 0.3 + 2.0 * uv[..., 0] - 5.0 * uv[..., 1]
    np.testing.assert_allclose(lookup(table, uv).numpy(), expected.numpy(), atol=1e-10)


def test_lookup_clamps_to_the_border_outside_the_centres():
    g = 8
    table = linear_table(g)
    uv = torch.tensor([[[0.0, 0.0], [1.0, 1.0], [0.01, 0.5]]], dtype=torch.float64)
    c0, c1 = 0.5 / g, 1 - 0.5 / g
    expected = [0.3 + 2 * c0 - 5 * c0, 0.3 + 2 * c1 - 5 * c1, 0.3 + 2 * c0 - 5 * 0.5]
    np.testing.assert_allclose(lookup(table, uv)[0].numpy(), expected, atol=1e-10)


# ---- DV bounds ---------------------------------------------------------------------------

def test_log_mean_exp_table_is_the_midpoint_integral():
    table = torch.log(torch.tensor([[[1.0, 2.0], [3.0, 6.0]]], dtype=torch.float64))
    assert log_mean_exp_table(table).item() == pytest.approx(math.log(3.0))
    assert log_mean_exp_table(torch.zeros(1, 16, 16)).item() == pytest.approx(0.0, abs=1e-6)


def brute_force_log_integral(table, k=1200):
    """Log of the integral of e^T for the critic that lookup reads, on a k x k point grid."""
    c = (torch.arange(k, dtype=table.dtype) + 0.5) / k
    vv, uu = torch.meshgrid(c, c, indexing='ij')
    uv = torch.stack([uu, vv], -1).reshape(1, -1, 2).expand(table.shape[0], -1, -1)
    return torch.logsumexp(lookup(table, uv), dim=1) - math.log(k * k)


def band_table(g, diagonal):
    """Build a sharp-edged critic: 2 nats inside a band, -6 outside (diagonal or along u)."""
    cc = cell_centres(g)
    vv, uu = torch.meshgrid(cc, cc, indexing='ij')
    dist = (vv - uu) if diagonal else (vv - 0.5)
    return torch.where(dist.abs() < 0.15, 2.0, -6.0).double()[None]


def log_integral_1d(values):
    """Log of the integral over [0, 1] of e^T, T read like lookup along one axis (quadrature)."""
    cc = cell_centres(len(values)).numpy()
    f = lambda x: math.exp(np.interp(x, cc, values))  # noqa: E731 (np.interp clamps: border)
    return math.log(integrate.quad(f, 0.0, 1.0, points=cc, limit=400, epsabs=0)[0])


@BILINEAR
@pytest.mark.parametrize('g, a, b, c', [(16, 0.3, 2.0, -5.0), (8, 1.0, -7.0, 4.0)])
def test_bilinear_integral_is_exact_for_a_linear_table(g, a, b, c, bilinear):
    # T = a + b u + c v (clamped at the border) factorizes: the integral is a product of
    # 1-D integrals. No patch has a twist, so the readout's rule is exact there.
    cc = cell_centres(g).numpy()
    expected = a + log_integral_1d(b * cc) + log_integral_1d(c * cc)
    assert bilinear(linear_table(g, a, b, c)).item() == pytest.approx(expected, abs=1e-9)


@BILINEAR
def test_bilinear_integral_is_exact_along_one_axis(bilinear):
    table = band_table(32, diagonal=False)  # jumps of 8 nats between rows, flat along u
    assert bilinear(table).item() == pytest.approx(
        log_integral_1d(table[0, :, 0].numpy()), abs=1e-9)


@BILINEAR
@pytest.mark.parametrize('scale', [0.3, 1.0, 3.0])
def test_bilinear_integral_lies_between_the_exact_one_and_the_midpoint_rule(scale, bilinear):
    table = scale * torch.randn(3, 16, 16, dtype=torch.float64,
                                generator=torch.Generator().manual_seed(1))
    exact = brute_force_log_integral(table, k=1600)
    bilinear, midpoint = bilinear(table), log_mean_exp_table(table)
    # Never below the critic's own integral (the readout stays a bound), far closer to it
    # than the midpoint rule, which integrates the interpolated e^T (Jensen).
    assert torch.all(bilinear >= exact - 1e-6)
    assert torch.all(bilinear - exact <= 0.15 * (midpoint - exact))
    assert torch.all(midpoint > exact)


@BILINEAR
def test_bilinear_integral_across_a_sharp_diagonal_edge(bilinear):
    table = band_table(32, diagonal=True)
    exact = brute_force_log_integral(table).item()
    bilinear, midpoint = bilinear(table).item(), log_mean_exp_table(table).item()
    # Midpoint: 0.14 nats above the critic's integral, so its DV readout is 0.14 nats low.
    assert midpoint - exact > 0.1
    assert 0 <= bilinear - exact < 0.25 * (midpoint - exact)


@BILINEAR
def test_bilinear_integral_of_flat_tables(bilinear):
    # Every segment has equal ends: the 0 / 0 that both implementations must avoid.
    for dtype in (torch.float32, torch.float64):
        assert bilinear(torch.full((2, 8, 8), 1.7, dtype=dtype)).tolist() == pytest.approx(
            [1.7, 1.7], abs=1e-6)


@pytest.mark.parametrize('scale', [1e-4, 0.05, 1.0, 8.0])
def test_the_two_bilinear_implementations_agree(scale):
    # Gaps from 1e-4 (the polynomial branch of the autograd one) to tens of nats, mixed with
    # exactly equal neighbours (flat blocks), in float32 as estimates run.
    gen = torch.Generator().manual_seed(3)
    table = scale * torch.randn(6, 32, 32, generator=gen)
    table[1, :, :16] = 0.5
    table[2, 8:20] = table[2, 8]
    table[3] = table[3].round()  # many equal neighbours, integer steps
    reference = _bilinear_autograd(table.double())
    np.testing.assert_allclose(_bilinear_inference(table).numpy(), reference.numpy(),
                               rtol=0, atol=2e-6)
    np.testing.assert_allclose(_bilinear_autograd(table).numpy(), reference.numpy(),
                               rtol=0, atol=2e-6)


def test_inference_bilinear_integral_stays_exact_across_huge_steps():
    # Steps of ~100 nats between neighbours: e^T of the lower end underflows in float32,
    # which the autograd form feels (its row means read 0); the log-space form does not.
    table = 60.0 * torch.randn(2, 16, 16, generator=torch.Generator().manual_seed(4))
    reference = _bilinear_autograd(table.double())
    np.testing.assert_allclose(_bilinear_inference(table).numpy(), reference.numpy(),
                               rtol=1e-6)


def test_bilinear_integral_uses_the_differentiable_form_only_under_autograd():
    table = torch.randn(2, 16, 16, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        assert torch.equal(log_mean_exp_bilinear(table.requires_grad_()),
                           _bilinear_inference(table))
    assert torch.equal(log_mean_exp_bilinear(table.detach()), _bilinear_inference(table))
    out = log_mean_exp_bilinear(table)
    assert out.requires_grad and torch.equal(out, _bilinear_autograd(table))


def test_a_trace_of_the_integral_serves_every_batch_size():
    # The estimator traces whole estimates at batch 1 (under no_grad: the inference form)
    # and reuses the trace for any batch.
    gen = torch.Generator().manual_seed(7)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter('ignore')
        traced = torch.jit.trace(log_mean_exp_bilinear, torch.randn(1, 64, 64, generator=gen))
        for b in (1, 5, 300):
            table = 2.0 * torch.randn(b, 64, 64, generator=gen)
            np.testing.assert_allclose(traced(table).numpy(),
                                       _bilinear_autograd(table.double()).numpy(),
                                       rtol=0, atol=2e-6)


def test_bilinear_integral_gradient_of_a_flat_table():
    table = torch.zeros(1, 16, 16, requires_grad=True)  # every segment hits the d = 0 branch
    log_mean_exp_bilinear(table).sum().backward()
    grad = table.grad[0]
    # d log integral / d T = each centre's share of the area, 1 / G^2 for a flat table (as
    # for the midpoint rule: bilinear weights sum to one cell per centre).
    assert torch.isfinite(grad).all()
    np.testing.assert_allclose(grad.numpy(), 1.0 / 256, rtol=1e-5)


def test_log_integral_names():
    table = torch.randn(2, 8, 8)
    assert torch.equal(log_integral(table, 'midpoint'), log_mean_exp_table(table))
    assert torch.equal(log_integral(table, 'bilinear'), log_mean_exp_bilinear(table))
    with pytest.raises(ValueError, match='integral must be one of'):
        log_integral(table, 'simpson')


def test_constant_table_gives_zero_bound():
    uv = gaussian_copula_points(1000, 0.9)
    table = torch.full((1, 32, 32), 1.7, dtype=torch.float64)
    assert dv_exact(table, uv).item() == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize('rho', [0.5, 0.8])
def test_dv_exact_of_true_log_copula_density_is_the_mi(rho):
    g = 128
    table = gaussian_copula_log_density(g, rho)
    uv = gaussian_copula_points(200_000, rho)
    truth = -0.5 * math.log(1 - rho ** 2)
    # The optimal critic attains the MI (up to table resolution and sampling error), and
    # the midpoint integral of the true density is ~1, so the log partition term is ~0.
    assert log_mean_exp_table(table).item() == pytest.approx(0.0, abs=2e-3)
    assert dv_exact(table, uv, 'midpoint').item() == pytest.approx(truth, abs=0.01)
    assert dv_exact(table, uv, 'bilinear').item() == pytest.approx(truth, abs=0.01)
    assert torch.equal(dv_exact(table, uv), dv_exact(table, uv, 'bilinear'))  # the default


def test_dv_exact_is_a_lower_bound_for_a_worse_critic():
    rho = 0.8
    table = gaussian_copula_log_density(128, rho)
    uv = gaussian_copula_points(200_000, rho)
    best = dv_exact(table, uv).item()
    for scale in (0.5, 1.5):
        assert dv_exact(scale * table, uv).item() < best - 0.01


# ---- cross-fitting -----------------------------------------------------------------------

@pytest.mark.parametrize('n', [32, 33, 1000, 1001])
def test_crossfit_indices_partition(n):
    build_a, score_a, build_b, score_b = crossfit_indices(n, seed=0)
    m = n // 2
    everything = set(range(n))
    assert len(build_a) == len(build_b) == m
    assert len(score_a) == len(score_b) == n - m
    for build, score in ((build_a, score_a), (build_b, score_b)):
        assert set(build.tolist()).isdisjoint(score.tolist())
        assert set(build.tolist()) | set(score.tolist()) == everything
    assert set(build_a.tolist()).isdisjoint(build_b.tolist())


def test_crossfit_indices_are_deterministic_and_seeded():
    a = crossfit_indices(500, seed=0)
    b = crossfit_indices(500, seed=0)
    c = crossfit_indices(500, seed=1)
    assert all(torch.equal(p, q) for p, q in zip(a, b))
    assert not torch.equal(a[0], c[0])


class FixedTableModel(torch.nn.Module):
    """A critic network stand-in that returns one known table and records its inputs."""

    def __init__(self, table):
        super().__init__()
        self.table = table
        self.inputs = []

    def forward(self, uv):
        self.inputs.append(uv)
        return self.table.expand(uv.shape[0], -1, -1)


def test_crossfit_mi_scores_each_half_critic_on_the_other_half():
    rho = 0.8
    table = gaussian_copula_log_density(64, rho)
    uv = torch.cat([gaussian_copula_points(1001, rho, seed=s) for s in range(3)])  # (3, N, 2)
    model = FixedTableModel(table)
    mi = crossfit_mi(model, uv, seed=0)
    assert mi.shape == (3,)
    build_a, score_a, build_b, score_b = crossfit_indices(1001, seed=0)
    # One forward pass over the 2B half sets, in the documented order.
    (seen,) = model.inputs
    assert torch.equal(seen, torch.cat([uv[:, build_a], uv[:, build_b]]))
    expected = 0.5 * (dv_exact(table.expand(3, -1, -1), uv[:, score_a])
                      + dv_exact(table.expand(3, -1, -1), uv[:, score_b]))
    np.testing.assert_allclose(mi.numpy(), expected.numpy(), rtol=1e-12)
    # With the optimal critic the cross-fitted readout is close to the true MI.
    assert mi.mean().item() == pytest.approx(-0.5 * math.log(1 - rho ** 2), abs=0.05)


# ---- set_mi: the model's readout ---------------------------------------------------------

def test_insample_readout_scores_one_table_on_the_points_it_was_built_from():
    rho = 0.8
    table = gaussian_copula_log_density(64, rho)
    uv = torch.cat([gaussian_copula_points(1000, rho, seed=s) for s in range(3)])  # (3, N, 2)
    model = FixedTableModel(table)
    mi = set_mi(model, uv, 'insample')
    (seen,) = model.inputs  # one pass over the whole sets, not over halves
    assert torch.equal(seen, uv)
    np.testing.assert_allclose(mi.numpy(), dv_exact(table.expand(3, -1, -1), uv).numpy(),
                               rtol=1e-12)
    assert mi.mean().item() == pytest.approx(-0.5 * math.log(1 - rho ** 2), abs=0.05)


def test_set_mi_crossfit_is_the_cross_fitted_readout():
    table = gaussian_copula_log_density(64, 0.5)
    uv = gaussian_copula_points(999, 0.5)
    got = set_mi(FixedTableModel(table), uv, 'crossfit', seed=3)
    assert torch.equal(got, crossfit_mi(FixedTableModel(table), uv, seed=3))


def test_set_mi_rejects_unknown_readouts():
    with pytest.raises(ValueError, match='readout'):
        set_mi(FixedTableModel(torch.zeros(1, 8, 8)), torch.rand(1, 64, 2), 'halves')


class ConfiguredTableModel(FixedTableModel):
    """FixedTableModel with the config fields a readout reads."""

    def __init__(self, table, readout, integral):
        super().__init__(table)
        self.cfg = type('Cfg', (), {'readout': readout, 'integral': integral})()


@pytest.mark.parametrize('readout', ['crossfit', 'insample'])
@pytest.mark.parametrize('integral', ['bilinear', 'midpoint'])
def test_model_readout_applies_the_config_to_copula_ranks(readout, integral):
    table = gaussian_copula_log_density(32, 0.6)
    uv = torch.cat([gaussian_copula_points(501, 0.6, seed=s) for s in range(2)])  # (2, N, 2)
    model = ConfiguredTableModel(table, readout, integral)
    got = ModelReadout(model, seed=4)(uv.transpose(1, 2))  # ranks (B, 2, N)
    assert torch.equal(got, set_mi(model, uv, readout, seed=4, integral=integral))
