# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Ablations of the estimator for the evaluation: choices that no shipped model uses.

- ``marginal='shuffle'``: the InfoNet authors' product-of-marginals term, e^T averaged over
  ``SHUFFLES`` random permutations of v (:func:`dv_shuffle`), instead of the exact integral of
  e^T over the unit square that every model's readout uses
  (:func:`infonet_ros.core.readout.dv_exact`). Same network, noisier and slower.
- ``ties='average'``: tied values share their mean rank (the textbook copula transform,
  :func:`infonet_ros.core.copula.rank_normalize`) instead of being ranked in a fixed
  pseudo-random order (:func:`infonet_ros.core.copula.pair_ranks`). Tied samples then stack
  on one rank and the exact marginal term does not hold: on quantized data the estimate
  breaks (independent Gaussians rounded to a step of 0.5 read far from 0).

``infonet-ros evaluate`` reports both beside the estimator (methods 'InfoNet-shuffle' and
'InfoNet-avg-ties').
"""

from __future__ import annotations

import numpy as np
import torch

from infonet_ros.core.copula import rank_normalize
from infonet_ros.core.estimator import InfoNetEstimator
from infonet_ros.core.readout import crossfit_indices, lookup

MARGINALS = ('exact', 'shuffle')
TIES = ('break', 'average')
# Permutations of v whose e^T the shuffled marginal term averages (the authors' choice).
SHUFFLES = 5


def dv_shuffle(table: torch.Tensor, uv: torch.Tensor, n_shuffles: int = SHUFFLES,
               generator: torch.Generator | None = None) -> torch.Tensor:
    """DV bound with e^T averaged over ``n_shuffles`` permutations of v: -> (B,) nats."""
    b, n, _ = uv.shape
    joint = lookup(table, uv).mean(dim=1)  # (B,)
    terms = []
    for _ in range(n_shuffles):
        perm = torch.randperm(n, generator=generator).to(uv.device)
        shuffled = torch.stack([uv[..., 0], uv[:, perm, 1]], dim=-1)  # (B, N, 2)
        terms.append(lookup(table, shuffled))  # (B, N)
    t = torch.cat(terms, dim=1)  # (B, S*N)
    return joint - (torch.logsumexp(t, dim=1) - torch.log(torch.tensor(float(t.shape[1]))))


def shuffled_set_mi(model, uv: torch.Tensor, readout: str, seed: int = 0) -> torch.Tensor:
    """
    MI of each set by the model's readout with the shuffled marginal term: (B, N, 2) -> (B,).

    The permutations come from one generator seeded with ``seed`` (deterministic); a
    cross-fitted readout draws those of both halves from it, first half first.
    """
    generator = torch.Generator().manual_seed(seed)
    if readout == 'insample':
        return dv_shuffle(model(uv), uv, generator=generator)
    b, n, _ = uv.shape
    build_a, score_a, build_b, score_b = (i.to(uv.device) for i in crossfit_indices(n, seed))
    tables = model(torch.cat([uv[:, build_a], uv[:, build_b]], dim=0))  # (2B, G, G)
    return 0.5 * (dv_shuffle(tables[:b], uv[:, score_a], generator=generator)
                  + dv_shuffle(tables[b:], uv[:, score_b], generator=generator))  # (B,)


class AblatedEstimator(InfoNetEstimator):
    """
    An estimator's model, read with an ablated marginal term or ranking of ties.

    Everything else is the estimator's: validation, constant rows, long series, batching.
    Eager only (no jit); ``mi_torch`` is not ablated.
    """

    def __init__(self, estimator: InfoNetEstimator, marginal: str = 'exact',
                 ties: str = 'break'):
        if marginal not in MARGINALS:
            raise ValueError(f'marginal must be one of {MARGINALS}, got {marginal!r}')
        if ties not in TIES:
            raise ValueError(f'ties must be one of {TIES}, got {ties!r}')
        super().__init__(estimator.model, estimator.device, estimator.provenance,
                         split_seed=estimator.split_seed, max_set_size=estimator.max_set_size)
        self.marginal, self.ties = marginal, ties

    def _ranks(self, xy: np.ndarray) -> torch.Tensor:
        if self.ties == 'average':
            return rank_normalize(torch.from_numpy(xy))
        return super()._ranks(xy)

    def _ranks_mi(self, ranks: torch.Tensor) -> torch.Tensor:
        if self.marginal == 'shuffle':
            return shuffled_set_mi(self.model, ranks.transpose(1, 2), self.model.cfg.readout,
                                   self.split_seed)
        return super()._ranks_mi(ranks)
