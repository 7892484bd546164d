# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Baselines of the evaluation: KSG (scikit-learn) and MINE (test-time optimization)."""

import math

import numpy as np
import pytest

from infonet_ros.core.ksg import ksg_mi
from infonet_ros.training.baselines import mine_mi, MineEstimator


def gaussian(rng, rho, n):
    x = rng.standard_normal(n)
    return x, rho * x + math.sqrt(1 - rho ** 2) * rng.standard_normal(n)


@pytest.mark.parametrize('rho', [0.0, 0.5, 0.9])
def test_ksg_is_close_to_the_gaussian_mi(rho):
    x, y = gaussian(np.random.default_rng(0), rho, 3000)
    assert ksg_mi(x, y) == pytest.approx(-0.5 * math.log(1 - rho ** 2), abs=0.03)


def test_ksg_is_reproducible_and_accepts_lists():
    x, y = gaussian(np.random.default_rng(1), 0.7, 500)
    assert ksg_mi(x, y) == ksg_mi(list(x), list(y))


def test_mine_learns_a_dependent_gaussian():
    x, y = gaussian(np.random.default_rng(2), 0.9, 1000)
    m = MineEstimator(steps=400, seed=0)
    value = m.estimate(x, y)
    assert len(m.trajectory) == 400
    # DV lower bound after a short optimization: below the truth (0.83) but well above 0.
    assert 0.5 < value < 0.95
    assert np.mean(m.trajectory[-50:]) > np.mean(m.trajectory[:50])


def test_mine_on_independent_data_is_near_zero_and_non_negative():
    rng = np.random.default_rng(3)
    value = mine_mi(rng.standard_normal(1000), rng.standard_normal(1000), steps=200, seed=1)
    assert 0.0 <= value < 0.05


def test_mine_is_deterministic_given_the_seed():
    x, y = gaussian(np.random.default_rng(4), 0.5, 300)
    assert mine_mi(x, y, steps=50, seed=2) == mine_mi(x, y, steps=50, seed=2)


def test_mine_rejects_mismatched_input():
    with pytest.raises(ValueError, match='equal length'):
        mine_mi(np.zeros(10), np.zeros(11), steps=1)
