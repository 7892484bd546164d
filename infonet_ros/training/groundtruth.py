# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Evaluation distributions with known mutual information (nats).

Each :class:`Case` draws paired samples ``(x, y)`` and carries its true MI: analytic where a
closed form exists, else 1-D quadrature or the Monte-Carlo mean of the exact log density
ratio log p(x, y) / (p(x) p(y)) over at least ``MC_SAMPLES`` fresh samples (its standard
error is kept in ``Case.truth_se``).

Families:
- ``gaussian``: bivariate standard Gaussian, I = -1/2 log(1 - rho^2);
- ``gmm``: random 2-D Gaussian mixtures drawn like the training family (K ~ U{1..20}), with
  :mod:`infonet_ros.training.simulate`'s sampler and exact log ratio; Monte-Carlo truth;
- families never used in training (see :mod:`infonet_ros.training.simulate`):
  ``uniform_noise`` y = x + U(-a, a) with x ~ U(0, 1) (closed form) or x ~ N(0, 1)
  (quadrature); ``student_t`` bivariate t (closed form from the t entropies);
  ``monotone`` Gaussian pairs seen through x^3 or asinh (the Gaussian MI);
  ``bimodal`` two-component mixtures of bivariate t (Monte-Carlo truth).
- ``shapes``: uniform distributions on shapes no training family draws (a triangle, rings):
  hard edges, slanted or curved, that neither the axis-aligned ``boxes`` nor the convex
  ``ellipses`` of training reproduce (closed form or 1-D quadrature); reported apart from
  the targets, as a check that training on hard-edged families did not only teach the
  evaluation's uniform-noise bands.
- ``quantized``: Gaussian pairs rounded to a step (many ties, as from a sensor's ADC); the
  MI of the discrete pair, exact by quadrature.

Triplets (X, Y, Z) with known I(X;Y) and I(X;Z), for the order-preservation test, are in
:mod:`infonet_ros.training.triplets`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
import math
from typing import Callable

import numpy as np
from scipy import special
import torch

from infonet_ros.training import simulate

MC_SAMPLES = 100_000
# numpy >= 2.0 names it trapezoid; Humble's and Jazzy's system numpy (1.21, 1.26) trapz.
_trapezoid = getattr(np, 'trapezoid', None) or np.trapz


@dataclass
class Case:
    """One distribution: ``sample(n, rng) -> (x, y)`` of shape (n,), true MI in nats."""

    family: str
    label: str
    truth: float
    sample: Callable[[int, np.random.Generator], tuple[np.ndarray, np.ndarray]]
    truth_se: float = 0.0  # Monte-Carlo standard error of ``truth`` (0 when exact)
    params: dict = field(default_factory=dict)


# ---- Gaussian and monotone transforms ----------------------------------------------------

def gaussian_mi(rho: float) -> float:
    """I = -1/2 log(1 - rho^2) of a bivariate Gaussian with correlation rho."""
    return -0.5 * math.log1p(-rho * rho)


def _gaussian_pair(n, rng, rho):
    x = rng.standard_normal(n)
    y = rho * x + math.sqrt(1.0 - rho * rho) * rng.standard_normal(n)
    return x, y


def gaussian_case(rho: float) -> Case:
    """Bivariate standard Gaussian with correlation rho."""
    return Case('gaussian', f'rho={rho:g}', gaussian_mi(rho),
                lambda n, rng: _gaussian_pair(n, rng, rho), params={'rho': rho})


MONOTONE = {
    'cube': lambda z: z ** 3,
    # asinh(20 z) is linear within |z| < 0.05 and logarithmic beyond: a strong squashing.
    'asinh': lambda z: np.arcsinh(20.0 * z),
}


def monotone_case(rho: float, transform: str) -> Case:
    """Map both coordinates of a Gaussian pair by one strictly increasing function."""
    f = MONOTONE[transform]

    def sample(n, rng):
        x, y = _gaussian_pair(n, rng, rho)
        return f(x), f(y)
    return Case('monotone', f'{transform}, rho={rho:g}', gaussian_mi(rho), sample,
                params={'rho': rho, 'transform': transform})


# ---- quantized (tied) samples -------------------------------------------------------------

def quantized_gaussian_mi(rho: float, step: float) -> float:
    """
    I(round(X / step); round(Y / step)) of a standard bivariate Gaussian, exactly.

    The pair is discrete: I = sum p_ij log(p_ij / (p_i p_j)) over the cells. p_ij integrates
    the density of X over cell i (16-point Gauss-Legendre per cell, |x| <= 9) times
    P(Y in cell j | X = x), a difference of normal CDFs. step -> 0 gives the Gaussian MI.
    """
    if step <= 0:
        raise ValueError(f'step must be positive, got {step}')
    if not -1.0 < rho < 1.0:
        raise ValueError(f'rho must be in (-1, 1), got {rho}')
    k = int(math.ceil(9.0 / step)) + 1
    inner = (np.arange(-k, k + 1) + 0.5) * step
    inner = inner[np.abs(inner) < 9.0]  # (K - 1,) finite cell edges
    x_edges = np.concatenate([[-9.0], inner, [9.0]])  # (K + 1,) x integration bounds
    y_edges = np.concatenate([[-np.inf], inner, [np.inf]])  # (K + 1,)
    nodes, weights = np.polynomial.legendre.leggauss(16)
    mid, half = (x_edges[1:] + x_edges[:-1]) / 2, (x_edges[1:] - x_edges[:-1]) / 2
    xs = mid[:, None] + half[:, None] * nodes  # (K, 16)
    w = half[:, None] * weights * np.exp(-0.5 * xs * xs) / math.sqrt(2.0 * math.pi)  # (K, 16)
    cdf = special.ndtr((y_edges - rho * xs[..., None]) / math.sqrt(1.0 - rho * rho))
    p = np.einsum('kq,kqj->kj', w, np.diff(cdf, axis=-1))  # (K, K)
    p /= p.sum()
    outer = np.outer(p.sum(axis=1), p.sum(axis=0))
    m = p > 0
    return float(np.sum(p[m] * np.log(p[m] / outer[m])))


def quantized_gaussian_case(rho: float, step: float) -> Case:
    """Bivariate standard Gaussian with correlation rho, both sides rounded to ``step``."""
    def sample(n, rng):
        x, y = _gaussian_pair(n, rng, rho)
        return np.round(x / step) * step, np.round(y / step) * step
    return Case('quantized', f'rho={rho:g}, step={step:g}', quantized_gaussian_mi(rho, step),
                sample, params={'rho': rho, 'step': step})


# ---- additive uniform noise --------------------------------------------------------------

def uniform_noise_mi(c: float) -> float:
    """
    I(X; X + W) for X ~ U(0, 1), W ~ U(0, c) (noise width c).

    The density of X + W is a trapezoid; its entropy is c/2 for c <= 1 and
    log c + 1/(2c) for c >= 1, and h(W) = log c.
    """
    return c / 2.0 - math.log(c) if c <= 1.0 else 1.0 / (2.0 * c)


def _entropy_1d(p: np.ndarray, t: np.ndarray) -> float:
    """Differential entropy of a density ``p`` tabulated on the grid ``t`` (0 log 0 = 0)."""
    plogp = np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0)
    return float(-_trapezoid(plogp, t))


def gaussian_uniform_noise_mi(a: float, n_grid: int = 200_001) -> float:
    """I(X; X + W) for X ~ N(0, 1), W ~ U(-a, a), by quadrature of h(X + W) - log 2a."""
    y = np.linspace(-a - 10.0, a + 10.0, n_grid)
    p = (special.ndtr(y + a) - special.ndtr(y - a)) / (2.0 * a)
    return _entropy_1d(p, y) - math.log(2.0 * a)


def uniform_noise_case(width: float, base: str = 'uniform') -> Case:
    """Draw y = x + U(-width/2, width/2), x ~ U(0, 1) ('uniform') or N(0, 1) ('gaussian')."""
    half = width / 2.0
    if base == 'uniform':
        truth = uniform_noise_mi(width)
    else:
        truth = gaussian_uniform_noise_mi(half)

    def sample(n, rng):
        x = rng.uniform(0.0, 1.0, n) if base == 'uniform' else rng.standard_normal(n)
        return x, x + rng.uniform(-half, half, n)
    return Case('uniform_noise', f'x~{"U" if base == "uniform" else "N"}, width={width:g}',
                truth, sample, params={'width': width, 'base': base})


# ---- uniform distributions on shapes (hard edges) ---------------------------------------

def triangle_case() -> Case:
    """
    Uniform on the triangle 0 < x < y < 1: p = 2, p(x) = 2 (1 - x), p(y) = 2 y.

    I = log 2 - E log 2(1 - X) - E log 2Y = 1 - log 2 (E log of a Beta(1, 2) variable is
    -1/2).
    """
    def sample(n, rng):
        u = rng.uniform(0.0, 1.0, (2, n))
        return u.min(axis=0), u.max(axis=0)
    return Case('shapes', 'triangle x<y', 1.0 - math.log(2.0), sample)


def ring_marginal(t: np.ndarray, r_in: float) -> np.ndarray:
    """Density of one coordinate of the uniform ring r_in <= r <= 1."""
    chord = 2.0 * np.sqrt(np.clip(1.0 - t ** 2, 0.0, None))
    chord -= 2.0 * np.sqrt(np.clip(r_in ** 2 - t ** 2, 0.0, None))
    return chord / (math.pi * (1.0 - r_in ** 2))


def ring_mi(r_in: float, n_grid: int = 2_000_001) -> float:
    """I(X; Y) of the uniform ring: 2 h(X) - log(area), h(X) by quadrature."""
    t = np.linspace(-1.0, 1.0, n_grid)
    return 2.0 * _entropy_1d(ring_marginal(t, r_in), t) - math.log(math.pi * (1.0 - r_in ** 2))


def ring_case(r_in: float) -> Case:
    """Uniform on the ring r_in <= r <= 1: dependent but uncorrelated, curved edges."""
    def sample(n, rng):
        r = np.sqrt(rng.uniform(r_in ** 2, 1.0, n))
        phi = rng.uniform(0.0, 2.0 * math.pi, n)
        return r * np.cos(phi), r * np.sin(phi)
    return Case('shapes', f'ring r_in={r_in:g}', ring_mi(r_in), sample, params={'r_in': r_in})


# ---- Student-t ---------------------------------------------------------------------------

def t_entropy(nu: float, d: int, logdet: float = 0.0) -> float:
    """
    Differential entropy of the d-dimensional t distribution with scale matrix S.

    h = log G(nu/2) - log G((nu+d)/2) + d/2 log(nu pi) + 1/2 log|S|
        + (nu+d)/2 [psi((nu+d)/2) - psi(nu/2)].
    """
    return float(special.gammaln(nu / 2) - special.gammaln((nu + d) / 2)
                 + d / 2 * math.log(nu * math.pi) + 0.5 * logdet
                 + (nu + d) / 2 * (special.digamma((nu + d) / 2) - special.digamma(nu / 2)))


def student_t_mi(rho: float, nu: float) -> float:
    """
    MI of a bivariate t with correlation rho and nu degrees of freedom: 2 h_1 - h_2.

    Equals -1/2 log(1 - rho^2) plus a positive nu-dependent term (the t's shared scale
    couples x and y even at rho = 0); it tends to the Gaussian value as nu -> inf.
    """
    return 2 * t_entropy(nu, 1) - t_entropy(nu, 2, math.log1p(-rho * rho))


def _t_logpdf_1d(z, loc, scale, nu):
    r = (z - loc) / scale
    return (special.gammaln((nu + 1) / 2) - special.gammaln(nu / 2)
            - 0.5 * math.log(nu * math.pi) - np.log(scale)
            - (nu + 1) / 2 * np.log1p(r * r / nu))


def _t_logpdf_2d(x, y, loc, scale, rho, nu):
    """Bivariate t with location loc (2,), marginal scales scale (2,) and correlation rho."""
    u, v = (x - loc[0]) / scale[0], (y - loc[1]) / scale[1]
    q = (u * u - 2 * rho * u * v + v * v) / (1 - rho * rho)
    return (special.gammaln((nu + 2) / 2) - special.gammaln(nu / 2) - math.log(nu * math.pi)
            - math.log(scale[0] * scale[1]) - 0.5 * math.log1p(-rho * rho)
            - (nu + 2) / 2 * np.log1p(q / nu))


def _t_pair(n, rng, rho, nu):
    x, y = _gaussian_pair(n, rng, rho)
    w = np.sqrt(rng.chisquare(nu, n) / nu)
    return x / w, y / w


def student_t_case(rho: float, nu: float) -> Case:
    """Bivariate t with correlation rho and nu degrees of freedom (closed-form truth)."""
    return Case('student_t', f'nu={nu:g}, rho={rho:g}', student_t_mi(rho, nu),
                lambda n, rng: _t_pair(n, rng, rho, nu), params={'rho': rho, 'nu': nu})


def student_t_logratio(x, y, rho, nu):
    """Exact log p(x, y) / (p(x) p(y)) of the standard bivariate t (for checks)."""
    loc, scale = (0.0, 0.0), (1.0, 1.0)
    return (_t_logpdf_2d(x, y, loc, scale, rho, nu) - _t_logpdf_1d(x, 0.0, 1.0, nu)
            - _t_logpdf_1d(y, 0.0, 1.0, nu))


# ---- bimodal mixture of two bivariate t --------------------------------------------------

def _bimodal_sample(n, rng, comps, nu):
    k = rng.integers(0, 2, n)
    x, y = np.empty(n), np.empty(n)
    for i, (loc, scale, rho) in enumerate(comps):
        sel = k == i
        a, b = _t_pair(int(sel.sum()), rng, rho, nu)
        x[sel], y[sel] = loc[0] + scale[0] * a, loc[1] + scale[1] * b
    return x, y


def _bimodal_logratio(x, y, comps, nu):
    lw = math.log(0.5)
    joint = np.logaddexp(*[lw + _t_logpdf_2d(x, y, loc, sc, r, nu) for loc, sc, r in comps])
    px = np.logaddexp(*[lw + _t_logpdf_1d(x, loc[0], sc[0], nu) for loc, sc, r in comps])
    py = np.logaddexp(*[lw + _t_logpdf_1d(y, loc[1], sc[1], nu) for loc, sc, r in comps])
    return joint - px - py


def bimodal_case(sep: float, rho: float, nu: float = 4.0, seed: int = 0) -> Case:
    """
    Equal mixture of two bivariate t (nu dof) with Monte-Carlo truth.

    The components sit at (-sep, -sep) and (sep, sep) with correlations rho and -rho: a
    bimodal, X-shaped dependence.
    """
    comps = [((-sep, -sep), (1.0, 1.0), rho), ((sep, sep), (1.0, 1.0), -rho)]
    rng = np.random.default_rng([7001, seed])
    x, y = _bimodal_sample(MC_SAMPLES, rng, comps, nu)
    lr = _bimodal_logratio(x, y, comps, nu)
    return Case('bimodal', f'sep={sep:g}, rho={rho:g}, nu={nu:g}', float(lr.mean()),
                lambda n, r: _bimodal_sample(n, r, comps, nu),
                truth_se=float(lr.std() / math.sqrt(lr.size)),
                params={'sep': sep, 'rho': rho, 'nu': nu})


# ---- random Gaussian mixtures (the training family) ---------------------------------------

def mc_logratio_mean(w, mu, cov, gen, m=MC_SAMPLES, chunk=10_000):
    """
    Monte-Carlo mean and standard error of the exact GMM log ratio: (B,), (B,).

    Mixtures are grouped by their number of live components (weights past it are 0), so
    the cost follows the real K rather than k_max.
    """
    b = w.shape[0]
    live = (w > 0).sum(1)
    mean, se = np.zeros(b), np.zeros(b)
    for k in torch.unique(live).tolist():
        sel = torch.nonzero(live == k).flatten()
        wk, muk, covk = (t[sel][:, :k].float() for t in (w, mu, cov))
        s1 = torch.zeros(sel.numel(), dtype=torch.float64)
        s2 = torch.zeros_like(s1)
        done = 0
        while done < m:
            c = min(chunk, m - done)
            x, y = simulate.sample_gmm2(wk, muk, covk, c, gen)
            lr = simulate.gmm2_logratio(x, y, wk, muk, covk).double()  # (b_k, c)
            s1 += lr.sum(1)
            s2 += (lr * lr).sum(1)
            done += c
        mk = s1 / m
        mean[sel.numpy()] = mk.numpy()
        se[sel.numpy()] = ((s2 / m - mk ** 2).clamp_min(0).sqrt() / math.sqrt(m)).numpy()
    return mean, se


def gmm_cases(count: int, seed: int = 0) -> list[Case]:
    """``count`` random mixtures of the training family, Monte-Carlo truths."""
    gen = torch.Generator().manual_seed(9_000_000 + seed)
    w, mu, cov = simulate.random_gmm_params(count, gen)
    truth, se = mc_logratio_mean(w, mu, cov, gen)
    cases = []
    for i in range(count):
        wi, mui, covi = w[i:i + 1], mu[i:i + 1], cov[i:i + 1]

        def sample(n, rng, wi=wi, mui=mui, covi=covi):
            g = torch.Generator().manual_seed(int(rng.integers(2 ** 62)))
            x, y = simulate.sample_gmm2(wi, mui, covi, n, g)
            return x[0].numpy(), y[0].numpy()
        k = int((wi > 0).sum())
        cases.append(Case('gmm', f'gmm#{i} (K={k})', float(truth[i]), sample,
                          truth_se=float(se[i]), params={'index': i, 'K': k}))
    return cases


# ---- the standard evaluation sets --------------------------------------------------------

GAUSSIAN_RHOS = (0.0, 0.3, 0.5, 0.75, 0.9, 0.95, 0.99)


def unseen_cases() -> list[Case]:
    """Families kept out of training, with a spread of true MI (about 0.05 to 2.4 nats)."""
    cases = [uniform_noise_case(w) for w in (0.1, 0.3, 1.0, 3.0)]
    cases += [uniform_noise_case(w, 'gaussian') for w in (0.5, 2.0, 6.0)]
    cases += [student_t_case(r, nu) for nu in (1.0, 3.0) for r in (0.0, 0.5, 0.9)]
    cases += [monotone_case(r, t) for t in MONOTONE for r in (0.5, 0.9)]
    cases += [bimodal_case(s, r) for s, r in ((1.0, 0.9), (2.0, 0.5), (3.0, 0.95))]
    return cases


RING_RADII = (0.3, 0.6, 0.9)


def shape_cases() -> list[Case]:
    """Return uniform distributions on shapes outside the training families (0.26 to 1.7 nats)."""
    return [triangle_case()] + [ring_case(r) for r in RING_RADII]


QUANTIZED = tuple((rho, step) for rho in (0.0, 0.5, 0.9) for step in (2.0, 0.5, 0.2))


def quantized_cases() -> list[Case]:
    """Return rounded Gaussian pairs: 3 to 30 levels per side (heavy ties), 0 to 0.82 nats."""
    return [quantized_gaussian_case(rho, step) for rho, step in QUANTIZED]
