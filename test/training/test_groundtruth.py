# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Ground truths of the evaluation families, each checked by an independent computation."""

import math

import numpy as np
import pytest
from scipy import stats

from infonet_ros.training import groundtruth as gt
from infonet_ros.training import simulate, triplets
from infonet_ros.training.groundtruth import _trapezoid


@pytest.mark.parametrize('nu', [1.0, 3.0, 30.0])
@pytest.mark.parametrize('rho', [0.0, 0.5, 0.9])
def test_student_t_closed_form_matches_monte_carlo_of_scipy_densities(nu, rho):
    rng = np.random.default_rng(0)
    x, y = gt._t_pair(200_000, rng, rho, nu)
    mvt = stats.multivariate_t(loc=[0, 0], shape=[[1, rho], [rho, 1]], df=nu)
    lr = mvt.logpdf(np.c_[x, y]) - stats.t.logpdf(x, nu) - stats.t.logpdf(y, nu)
    se = lr.std() / math.sqrt(lr.size)
    assert gt.student_t_mi(rho, nu) == pytest.approx(lr.mean(), abs=4 * se + 1e-4)
    np.testing.assert_allclose(gt.student_t_logratio(x[:1000], y[:1000], rho, nu),
                               lr[:1000], atol=1e-9)


def test_student_t_mi_limits():
    # rho = 0 still shares the scale: positive MI; nu -> inf gives the Gaussian value.
    assert gt.student_t_mi(0.0, 1.0) > 0.2
    assert gt.student_t_mi(0.7, 1e6) == pytest.approx(gt.gaussian_mi(0.7), abs=1e-5)


@pytest.mark.parametrize('c', [0.1, 0.3, 1.0, 3.0])
def test_uniform_noise_closed_form_matches_numerical_entropy(c):
    # Density of U(0, 1) + U(0, c): a trapezoid; I = h(X + W) - log c.
    t = np.linspace(0, 1 + c, 2_000_001)
    p = np.clip(np.minimum(np.minimum(t, c), np.minimum(1.0, 1 + c - t)), 0, None) / c
    h = -_trapezoid(np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0), t)
    assert gt.uniform_noise_mi(c) == pytest.approx(h - math.log(c), abs=1e-6)


@pytest.mark.parametrize('a', [0.25, 1.0, 3.0])
def test_gaussian_uniform_noise_quadrature_matches_monte_carlo(a):
    rng = np.random.default_rng(1)
    x = rng.standard_normal(200_000)
    y = x + rng.uniform(-a, a, x.size)
    py = (stats.norm.cdf(y + a) - stats.norm.cdf(y - a)) / (2 * a)
    lr = -np.log(2 * a) - np.log(py)  # log p(y | x) - log p(y), p(y | x) = 1 / 2a
    se = lr.std() / math.sqrt(lr.size)
    assert gt.gaussian_uniform_noise_mi(a) == pytest.approx(lr.mean(), abs=4 * se)


def test_monotone_cases_keep_the_gaussian_ranks():
    case = gt.monotone_case(0.9, 'asinh')
    base = gt.gaussian_case(0.9)
    x, y = case.sample(500, np.random.default_rng(3))
    x0, y0 = base.sample(500, np.random.default_rng(3))
    assert case.truth == base.truth
    np.testing.assert_array_equal(stats.rankdata(x), stats.rankdata(x0))
    np.testing.assert_array_equal(stats.rankdata(y), stats.rankdata(y0))


def test_bimodal_truth_has_a_small_monte_carlo_error_and_is_reproducible():
    a = gt.bimodal_case(2.0, 0.5)
    b = gt.bimodal_case(2.0, 0.5)
    assert a.truth == b.truth
    assert 0 < a.truth_se < 0.01
    # An independent Monte-Carlo run with another seed agrees within the error.
    c = gt.bimodal_case(2.0, 0.5, seed=1)
    assert c.truth == pytest.approx(a.truth, abs=5 * math.hypot(a.truth_se, c.truth_se))


def test_gmm_k1_monte_carlo_truth_is_the_analytic_value():
    import torch
    g = torch.Generator().manual_seed(0)
    w, mu, cov = simulate.random_gmm_params(6, g, k_max=1)
    mean, se = gt.mc_logratio_mean(w, mu, cov, g)
    rho = (cov[:, 0, 0, 1] / (cov[:, 0, 0, 0] * cov[:, 0, 1, 1]).sqrt()).double().numpy()
    np.testing.assert_allclose(mean, -0.5 * np.log(1 - rho ** 2), atol=5 * se.max())
    assert se.max() < 0.01


def test_gmm_cases_sample_and_have_precise_truths():
    cases = gt.gmm_cases(3, seed=5)
    assert len(cases) == 3
    for c in cases:
        x, y = c.sample(300, np.random.default_rng(0))
        assert x.shape == y.shape == (300,)
        assert c.truth > 0 and c.truth_se < 0.01


def test_triplet_truths():
    tr = triplets.gaussian_triplets(5, 200, seed=1)
    assert tr.x.shape == (5, 200)
    # Analytic truths from the sample correlations of a large draw agree.
    big = triplets.gaussian_triplets(5, 200_000, seed=1)
    for i in range(5):
        r = np.corrcoef(big.x[i], big.y[i])[0, 1]
        assert big.i_xy[i] == pytest.approx(gt.gaussian_mi(r), abs=0.01)
    np.testing.assert_array_equal(tr.i_xy, big.i_xy)
    g = triplets.gmm_triplets(4, 300, seed=2)
    assert g.x.shape == (4, 300) and np.all(g.se_xy < 0.01) and np.all(g.i_xz > 0)
    assert g.head(100).x.shape == (4, 100)


def test_gaussian_logratio_is_the_density_ratio():
    stats = pytest.importorskip('scipy.stats')
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((2, 50)) * 2
    for rho in (-0.9, 0.0, 0.6):
        joint = stats.multivariate_normal([0, 0], [[1, rho], [rho, 1]]).logpdf(
            np.stack([x, y], -1))
        want = joint - stats.norm.logpdf(x) - stats.norm.logpdf(y)
        np.testing.assert_allclose(triplets.gaussian_logratio(x, y, rho), want, atol=1e-10)


@pytest.mark.parametrize('make', [triplets.gaussian_triplets, triplets.gmm_triplets])
def test_triplet_oracle_converges_to_the_truths(make):
    # The oracle averages the true log ratio over the sample: for a large sample it lands
    # on the analytic or Monte-Carlo truth within its own standard error.
    tr = make(6, 20_000, seed=4)
    assert tr.pmi_xy.shape == tr.pmi_xz.shape == (6, 20_000)
    o_xy, o_xz = tr.oracle()
    for o, pmi, truth, se in ((o_xy, tr.pmi_xy, tr.i_xy, tr.se_xy),
                              (o_xz, tr.pmi_xz, tr.i_xz, tr.se_xz)):
        tol = 5 * np.hypot(pmi.std(1) / np.sqrt(pmi.shape[1]), se) + 1e-9
        assert np.all(np.abs(o - truth) <= tol)
    # head(n) keeps the log ratios of the first n points, so its oracle reads them alone.
    h = tr.head(100)
    np.testing.assert_allclose(h.oracle()[0], tr.pmi_xy[:, :100].mean(1))


def test_unseen_cases_span_a_range_of_mi():
    cases = gt.unseen_cases()
    fams = {c.family for c in cases}
    assert fams == {'uniform_noise', 'student_t', 'monotone', 'bimodal'}
    truths = [c.truth for c in cases]
    assert min(truths) < 0.1 and max(truths) > 2.0
    for c in cases:
        x, y = c.sample(100, np.random.default_rng(0))
        assert x.shape == y.shape == (100,) and np.isfinite(x).all() and np.isfinite(y).all()


@pytest.mark.parametrize('rho', [0.0, 0.5, 0.9])
def test_quantized_gaussian_mi_matches_the_plug_in_of_a_large_sample(rho):
    # Plug-in MI of a million quantized samples: its bias, (cells - 1)^2 / (2 n), is ~1e-4.
    case = gt.quantized_gaussian_case(rho, 0.5)
    x, y = case.sample(1_000_000, np.random.default_rng(7))
    _, xi = np.unique(x, return_inverse=True)
    _, yi = np.unique(y, return_inverse=True)
    p = np.zeros((xi.max() + 1, yi.max() + 1))
    np.add.at(p, (xi, yi), 1.0)
    p /= p.sum()
    outer = np.outer(p.sum(axis=1), p.sum(axis=0))
    m = p > 0
    plug_in = float(np.sum(p[m] * np.log(p[m] / outer[m])))
    assert case.truth == pytest.approx(plug_in, abs=3e-3)


def test_quantized_gaussian_mi_limits():
    assert gt.quantized_gaussian_mi(0.0, 0.5) == pytest.approx(0.0, abs=1e-9)
    # A fine step approaches the continuous MI from below (data processing).
    fine = gt.quantized_gaussian_mi(0.9, 0.05)
    assert fine < gt.gaussian_mi(0.9)
    assert fine == pytest.approx(gt.gaussian_mi(0.9), abs=0.01)
    assert gt.quantized_gaussian_mi(0.9, 1.0) < gt.quantized_gaussian_mi(0.9, 0.5) < fine
    with pytest.raises(ValueError, match='step'):
        gt.quantized_gaussian_mi(0.5, 0.0)
    with pytest.raises(ValueError, match='rho'):
        gt.quantized_gaussian_mi(1.0, 0.5)


def test_triangle_truth_matches_monte_carlo_of_its_log_ratio():
    case = gt.triangle_case()
    x, y = case.sample(400_000, np.random.default_rng(5))
    assert np.all(x < y) and x.min() >= 0 and y.max() <= 1
    lr = np.log(2.0) - np.log(2.0 * (1.0 - x)) - np.log(2.0 * y)  # p = 2 on x < y
    se = lr.std() / math.sqrt(lr.size)
    assert case.truth == pytest.approx(lr.mean(), abs=4 * se)


@pytest.mark.parametrize('r_in', gt.RING_RADII)
def test_ring_quadrature_matches_monte_carlo_and_samples_lie_in_the_ring(r_in):
    case = gt.ring_case(r_in)
    x, y = case.sample(400_000, np.random.default_rng(6))
    r = np.hypot(x, y)
    assert r.min() >= r_in - 1e-12 and r.max() <= 1 + 1e-12
    # The marginal is a density (integrates to 1) and the samples follow it.
    t = np.linspace(-1, 1, 200_001)
    assert _trapezoid(gt.ring_marginal(t, r_in), t) == pytest.approx(1.0, abs=1e-4)
    cdf = np.cumsum(gt.ring_marginal(t, r_in)) * (t[1] - t[0])
    assert stats.kstest(x[:5000], lambda v: np.interp(v, t, cdf)).pvalue > 0.01
    joint = -math.log(math.pi * (1 - r_in ** 2))
    lr = joint - np.log(gt.ring_marginal(x, r_in)) - np.log(gt.ring_marginal(y, r_in))
    se = lr.std() / math.sqrt(lr.size)
    assert case.truth == pytest.approx(lr.mean(), abs=4 * se)


def test_shape_cases_are_dependent_uncorrelated_or_not():
    cases = gt.shape_cases()
    assert {c.family for c in cases} == {'shapes'}
    assert all(0.2 < c.truth < 2.0 for c in cases)
    x, y = cases[1].sample(20_000, np.random.default_rng(7))  # a ring: dependent,
    assert abs(np.corrcoef(x, y)[0, 1]) < 0.05  # yet uncorrelated
