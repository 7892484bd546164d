# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The evaluation's ablations: the shuffled marginal term and averaged ranks of ties."""

import math

from copula_tables import gaussian_copula_log_density, gaussian_copula_points
import numpy as np
import pytest
import torch

from infonet_ros.core.estimator import InfoNetEstimator
from infonet_ros.core.model import SHIPPED_WEIGHTS
from infonet_ros.core.readout import crossfit_mi, dv_exact, set_mi
from infonet_ros.training.ablations import AblatedEstimator, dv_shuffle, shuffled_set_mi
from infonet_ros.training.groundtruth import quantized_gaussian_case

N = 1000


@pytest.fixture(scope='module', params=sorted(SHIPPED_WEIGHTS))
def est(request):
    return InfoNetEstimator.from_pretrained(request.param, device='cpu')


class FixedTableModel(torch.nn.Module):
    """A critic network stand-in that returns one known table."""

    def __init__(self, table):
        super().__init__()
        self.table = table

    def forward(self, uv):
        return self.table.expand(uv.shape[0], -1, -1)


# ---- the shuffled marginal term ----------------------------------------------------------

@pytest.mark.parametrize('rho', [0.0, 0.5, 0.8])
def test_shuffle_and_exact_readouts_agree(rho):
    table = gaussian_copula_log_density(64, rho)
    uv = gaussian_copula_points(50_000, rho, seed=1)
    g = torch.Generator().manual_seed(0)
    exact = dv_exact(table, uv).item()
    shuffle = dv_shuffle(table, uv, n_shuffles=5, generator=g).item()
    assert shuffle == pytest.approx(exact, abs=0.01)


def test_dv_shuffle_is_reproducible_with_a_generator():
    table = gaussian_copula_log_density(32, 0.6)
    uv = gaussian_copula_points(2000, 0.6)
    a = dv_shuffle(table, uv, generator=torch.Generator().manual_seed(3))
    b = dv_shuffle(table, uv, generator=torch.Generator().manual_seed(3))
    assert torch.equal(a, b)


@pytest.mark.parametrize('readout', ['crossfit', 'insample'])
def test_shuffled_set_mi_is_close_to_the_exact_readout(readout):
    table = gaussian_copula_log_density(64, 0.5)
    uv = torch.cat([gaussian_copula_points(4000, 0.5, seed=s) for s in range(2)])
    model = FixedTableModel(table)
    exact = set_mi(model, uv, readout)
    shuffle = shuffled_set_mi(model, uv, readout, seed=2)
    np.testing.assert_allclose(shuffle.numpy(), exact.numpy(), atol=0.03)
    assert torch.equal(shuffle, shuffled_set_mi(model, uv, readout, seed=2))  # seeded
    if readout == 'crossfit':
        assert torch.equal(exact, crossfit_mi(model, uv))


def test_shuffle_readout_of_a_shipped_model_is_close_to_exact(est):
    rng = np.random.default_rng(14)
    x = rng.standard_normal((4, N))
    y = 0.75 * x + math.sqrt(1 - 0.75 ** 2) * rng.standard_normal((4, N))
    shuffle = AblatedEstimator(est, marginal='shuffle')
    np.testing.assert_allclose(shuffle.estimate_batch(x, y), est.estimate_batch(x, y),
                               atol=0.1)
    # Everything but the readout is the estimator's: long series, constant rows.
    assert shuffle.max_set_size == est.max_set_size
    assert shuffle.estimate(np.ones(200), x[0, :200]) == 0.0


# ---- averaged ranks of ties ---------------------------------------------------------------

def test_averaged_ranks_of_ties_break_the_estimate(est):
    # The failure that breaking ties in a fixed order avoids (infonet_ros.core.copula).
    x, y = quantized_gaussian_case(0.0, 0.5).sample(N, np.random.default_rng(2))
    averaged = AblatedEstimator(est, ties='average')
    # Far off either way: cross-fitted models read it far too low, in-sample ones too high.
    assert abs(averaged.estimate(x, y)) > 0.5
    assert est.estimate(x, y) == pytest.approx(0.0, abs=0.05)
    x2 = np.random.default_rng(3).standard_normal(N)  # no ties: both the same
    assert averaged.estimate(x2, x2 + np.cos(x2)) == est.estimate(x2, x2 + np.cos(x2))


@pytest.mark.parametrize('kwargs, match', [({'ties': 'random'}, 'ties'),
                                           ({'marginal': 'bogus'}, 'marginal')])
def test_unknown_ablations_are_refused(est, kwargs, match):
    with pytest.raises(ValueError, match=match):
        AblatedEstimator(est, **kwargs)
