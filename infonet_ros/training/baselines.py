# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Baseline mutual-information estimator for the evaluation: MINE.

KSG, the other baseline, is :mod:`infonet_ros.core.ksg` (the bag analysis uses it too).

- :class:`MineEstimator` / :func:`mine_mi`: MINE (Belghazi et al., 2018), the test-time
  optimization InfoNet avoids. A small MLP critic T(x, y) is trained on the very sample by
  Adam on the Donsker-Varadhan bound, with the paper's bias-corrected gradient: the gradient
  of log E_marg[e^T] is replaced by E_marg[grad T e^T] / m, where m is a moving average of
  E_marg[e^T] over the steps.

Choices for MINE (fixed, not tuned per distribution): both variables z-scored; critic
2 -> 64 -> 64 -> 1 with ELU; full batch (all N joint pairs) per step, product-of-marginal
samples by a fresh random permutation of y per step; Adam lr 1e-3; ``steps`` = 1000 by
default; moving-average rate 0.01. The estimate is the DV bound of the final critic on all N
joint pairs against ``n_eval_shuffles`` = 10 permutations of y (no hold-out: like KSG and
InfoNet, MINE sees exactly the N given pairs). The result is clipped at 0 from below.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn


class _Critic(nn.Module):

    def __init__(self, hidden: int):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(2, hidden), nn.ELU(), nn.Linear(hidden, hidden),
                                 nn.ELU(), nn.Linear(hidden, 1))

    def forward(self, x, y):
        return self.net(torch.stack([x, y], dim=-1)).squeeze(-1)  # (M,)


class MineEstimator:
    """
    MINE with the moving-average gradient correction (test-time optimization).

    :param steps: Adam steps per estimate.
    :param lr: Adam learning rate.
    :param hidden: width of the two hidden layers of the critic.
    :param ma_rate: rate of the moving average of E_marg[e^T] used in the corrected gradient.
    :param n_eval_shuffles: permutations of y for the final product-of-marginals term.
    :param seed: seeds the critic initialization and the permutations.
    """

    def __init__(self, steps: int = 1000, lr: float = 1e-3, hidden: int = 64,
                 ma_rate: float = 0.01, n_eval_shuffles: int = 10, seed: int = 0):
        self.steps, self.lr, self.hidden = steps, lr, hidden
        self.ma_rate, self.n_eval_shuffles, self.seed = ma_rate, n_eval_shuffles, seed
        self.trajectory: list[float] = []  # DV bound (plain, full batch) at each step

    def estimate(self, x, y) -> float:
        """MI in nats of two paired 1-D series, after ``steps`` Adam steps on this sample."""
        x = np.asarray(x, dtype=np.float64).ravel()
        y = np.asarray(y, dtype=np.float64).ravel()
        if x.shape != y.shape or x.size < 2:
            raise ValueError('x and y must be 1-D series of equal length >= 2')
        # z-score so one learning rate fits every scale; MI is unchanged.
        xs = torch.from_numpy((x - x.mean()) / max(x.std(), 1e-12)).float()
        ys = torch.from_numpy((y - y.mean()) / max(y.std(), 1e-12)).float()
        n = xs.shape[0]
        torch.manual_seed(self.seed)  # critic init
        gen = torch.Generator().manual_seed(self.seed)
        critic = _Critic(self.hidden)
        opt = torch.optim.Adam(critic.parameters(), lr=self.lr)
        ma = None
        self.trajectory = []
        for _ in range(self.steps):
            perm = torch.randperm(n, generator=gen)
            t_joint = critic(xs, ys).mean()
            t_marg = critic(xs, ys[perm])
            # Stable mean of e^T: exp(logsumexp - log n).
            log_mean_e = torch.logsumexp(t_marg, 0) - math.log(n)
            mean_e = log_mean_e.exp()
            ma = mean_e.detach() if ma is None else (
                (1 - self.ma_rate) * ma + self.ma_rate * mean_e.detach())
            # d/dtheta of mean_e / ma = E[grad T e^T] / ma: the bias-corrected gradient of
            # log E[e^T]; the value of the loss is not the bound, only its gradient is.
            loss = -(t_joint - mean_e / ma)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            self.trajectory.append(float(t_joint.detach() - log_mean_e.detach()))
        return self._final_bound(critic, xs, ys, gen)

    @torch.no_grad()
    def _final_bound(self, critic, xs, ys, gen) -> float:
        n = xs.shape[0]
        t_joint = critic(xs, ys).mean()
        t_marg = torch.cat([critic(xs, ys[torch.randperm(n, generator=gen)])
                            for _ in range(self.n_eval_shuffles)])
        dv = t_joint - (torch.logsumexp(t_marg, 0) - math.log(t_marg.shape[0]))
        return max(0.0, float(dv))


def mine_mi(x, y, steps: int = 1000, seed: int = 0, **kwargs) -> float:
    """MINE estimate in nats (see :class:`MineEstimator` for the fixed choices)."""
    return MineEstimator(steps=steps, seed=seed, **kwargs).estimate(x, y)
