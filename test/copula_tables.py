# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Critic tables and copula samples with a known answer, for the readout and ablation tests."""

import math

import numpy as np
from scipy import stats
import torch


def cell_centres(g):
    """Return the G cell centres of the unit interval: (G,) float64."""
    return (torch.arange(g, dtype=torch.float64) + 0.5) / g


def gaussian_copula_log_density(g, rho):
    """Compute log c(u, v) of the Gaussian copula at the cell centres: (1, G, G)."""
    z = torch.from_numpy(stats.norm.ppf(cell_centres(g).numpy()))
    zv, zu = torch.meshgrid(z, z, indexing='ij')
    return (-0.5 * math.log(1 - rho ** 2)
            - (rho ** 2 * (zu ** 2 + zv ** 2) - 2 * rho * zu * zv) / (2 * (1 - rho ** 2)))[None]


def gaussian_copula_points(n, rho, seed=0):
    """Draw n points of the Gaussian copula with correlation rho: (1, n, 2) float64."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(n)
    y = rho * x + math.sqrt(1 - rho ** 2) * rng.standard_normal(n)
    return torch.from_numpy(np.stack([stats.norm.cdf(x), stats.norm.cdf(y)], -1))[None]
