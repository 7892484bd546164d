# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Triplets (X, Y, Z) with known I(X;Y) and I(X;Z), for the order-preservation test.

An estimator preserves the order of two dependences when its estimates of I(X;Y) and I(X;Z)
compare as the truths do. :func:`gmm_triplets` draws random 3-D Gaussian mixtures
(Monte-Carlo truths, :func:`infonet_ros.training.groundtruth.mc_logratio_mean`);
:func:`gaussian_triplets` random trivariate Gaussians (analytic truths). Each carries the
exact log density ratio at every sample, whose mean is the oracle estimate
(:meth:`Triplets.oracle`).
"""

from __future__ import annotations

from dataclasses import dataclass
import math

import numpy as np
import torch

from infonet_ros.training import simulate
from infonet_ros.training.groundtruth import gaussian_mi, mc_logratio_mean


@dataclass
class Triplets:
    """
    B triplets: x, y, z of shape (B, N) and the truths I(X;Y), I(X;Z) of shape (B,).

    The N points of each triplet are i.i.d., so ``head(n)`` (the first n) is a sample of
    size n of the same distributions.

    ``pmi_xy`` and ``pmi_xz`` (B, N) hold the exact log density ratio
    log p(x, y) / (p(x) p(y)) at each sample point. Their mean over a sample is the oracle
    estimate (:meth:`oracle`): unbiased, and its variance Var(log ratio) / n is the
    efficiency bound of MI estimation (the log ratio minus the MI is the efficient influence
    function), so it is the reference for how well any estimator can order close triplets
    from n points.
    """

    x: np.ndarray
    y: np.ndarray
    z: np.ndarray
    i_xy: np.ndarray
    i_xz: np.ndarray
    se_xy: np.ndarray
    se_xz: np.ndarray
    kind: str
    pmi_xy: np.ndarray
    pmi_xz: np.ndarray

    def head(self, n: int) -> 'Triplets':
        """Keep the first n points of every triplet."""
        return Triplets(self.x[:, :n], self.y[:, :n], self.z[:, :n], self.i_xy, self.i_xz,
                        self.se_xy, self.se_xz, self.kind, self.pmi_xy[:, :n],
                        self.pmi_xz[:, :n])

    def oracle(self) -> tuple[np.ndarray, np.ndarray]:
        """Oracle estimates of I(X;Y) and I(X;Z) from these samples: (B,), (B,)."""
        return self.pmi_xy.mean(1), self.pmi_xz.mean(1)


def _random_cov3(shape, gen, log_scale=(math.log(0.1), math.log(3.0))):
    """Random 3x3 covariances Q diag(s^2) Q^T, Q a random rotation: shape + (3, 3)."""
    lo, hi = log_scale
    s = torch.exp(lo + (hi - lo) * torch.rand(*shape, 3, generator=gen, dtype=torch.float64))
    q, r = torch.linalg.qr(torch.randn(*shape, 3, 3, generator=gen, dtype=torch.float64))
    q = q * torch.sign(torch.diagonal(r, dim1=-2, dim2=-1)).unsqueeze(-2)
    return q @ torch.diag_embed(s ** 2) @ q.transpose(-1, -2)


def gmm_triplets(b: int, n: int, seed: int = 0, k_max: int = 10) -> Triplets:
    """
    B random 3-D Gaussian mixtures with Monte-Carlo truths.

    K ~ U{1..k_max}, means U(-5, 5)^3, random full covariances. (X, Y) and (X, Z) are 2-D
    mixtures with exact log ratios, so both truths are Monte-Carlo means over
    ``MC_SAMPLES`` samples.
    """
    gen = torch.Generator().manual_seed(8_000_000 + seed)
    k = torch.randint(1, k_max + 1, (b,), generator=gen)
    w = simulate.dirichlet_weights(b, k_max, k, gen).double()
    mu = -5 + 10 * torch.rand(b, k_max, 3, generator=gen, dtype=torch.float64)
    cov = _random_cov3((b, k_max), gen)
    comp = torch.multinomial(w, n, replacement=True, generator=gen)  # (B, n)
    chol = torch.linalg.cholesky(cov)
    l_sel = torch.gather(chol, 1, comp[..., None, None].expand(-1, -1, 3, 3))
    m_sel = torch.gather(mu, 1, comp[..., None].expand(-1, -1, 3))
    pts = m_sel + (l_sel @ torch.randn(b, n, 3, 1, generator=gen,
                                       dtype=torch.float64)).squeeze(-1)  # (B, n, 3)
    truths, pmi = [], []
    for j in (1, 2):  # (X, Y) then (X, Z): marginal mixtures of coordinates 0 and j
        sub = [0, j]
        mu_j, cov_j = mu[..., sub], cov[..., sub, :][..., :, sub]
        truths.append(mc_logratio_mean(w, mu_j, cov_j, gen))
        pmi.append(np.concatenate([  # 64 mixtures at a time: (64, n, k_max) intermediates
            simulate.gmm2_logratio(pts[s, :, 0], pts[s, :, j], w[s], mu_j[s], cov_j[s]).numpy()
            for s in (slice(lo, lo + 64) for lo in range(0, b, 64))]))
    p = pts.numpy()
    return Triplets(p[..., 0], p[..., 1], p[..., 2], truths[0][0], truths[1][0],
                    truths[0][1], truths[1][1], 'gmm', pmi[0], pmi[1])


def gaussian_logratio(x: np.ndarray, y: np.ndarray, rho: float) -> np.ndarray:
    """Log density ratio of a standard bivariate Gaussian with correlation rho, pointwise."""
    q = (rho * rho * (x * x + y * y) - 2 * rho * x * y) / (2 * (1 - rho * rho))
    return gaussian_mi(rho) - q


def gaussian_triplets(b: int, n: int, seed: int = 0) -> Triplets:
    """B trivariate Gaussians with random correlation matrices; analytic truths."""
    rng = np.random.default_rng([8_100_000, seed])
    x, y, z = np.empty((b, n)), np.empty((b, n)), np.empty((b, n))
    i_xy, i_xz = np.empty(b), np.empty(b)
    corr = []
    for i in range(b):  # all distributions first: they do not depend on n
        a = rng.standard_normal((3, 3))
        c = a @ a.T + 0.05 * np.eye(3)
        d = np.sqrt(np.diag(c))
        corr.append(c / np.outer(d, d))
        i_xy[i], i_xz[i] = gaussian_mi(corr[i][0, 1]), gaussian_mi(corr[i][0, 2])
    for i, r in enumerate(corr):
        x[i], y[i], z[i] = (np.linalg.cholesky(r) @ rng.standard_normal((3, n)))
    pmi_xy = np.stack([gaussian_logratio(x[i], y[i], r[0, 1]) for i, r in enumerate(corr)])
    pmi_xz = np.stack([gaussian_logratio(x[i], z[i], r[0, 2]) for i, r in enumerate(corr)])
    zero = np.zeros(b)
    return Triplets(x, y, z, i_xy, i_xz, zero, zero.copy(), 'gaussian', pmi_xy, pmi_xz)
