# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Uncertainty of every estimate (core.uncertainty, core.null_table, core.resampling)."""

import dataclasses
import json
import math

import numpy as np
import pytest
from scipy import stats
from scipy.signal import lfilter

from infonet_ros.core.estimator import InfoNetEstimator
from infonet_ros.core.model import InfoNet, InfoNetConfig, SHIPPED_WEIGHTS
from infonet_ros.core.null_table import (extend_table, load_table, main, model_fingerprint,
                                         null_draws, NullTableError, table_for, table_path)
from infonet_ros.core.resampling import dependence_length, half_samples, shift_lags
from infonet_ros.core.uncertainty import (estimate_batch_with_uncertainty,
                                          estimate_with_uncertainty, MIEstimate)


@pytest.fixture(scope='module')
def est():
    return InfoNetEstimator.from_pretrained(device='cpu')


def ar1_pairs(seed, b, n, phi=0.9):
    """(b, n) x and y: independent stationary AR(1) series."""
    rng = np.random.default_rng(seed)
    e = rng.standard_normal((2, b, n + 300))
    z = lfilter([math.sqrt(1 - phi * phi)], [1.0, -phi], e, axis=-1)[..., 300:]
    return z[0], z[1]


def test_iid_p_values_are_uniform_on_independent_data(est):
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((2, 300, 64))
    res = estimate_batch_with_uncertainty(est, x, y, null='iid', n_halves=0)
    p = np.array([r.p_value for r in res])
    assert stats.kstest(p, 'uniform').pvalue > 0.001
    assert all(r.n_null == table_for(est).draws for r in res)
    # A few i.i.d. windows look autocorrelated by chance (the check's noise level).
    assert sum(r.reason != '' for r in res) <= 9


def test_noise_floor_is_the_tabulated_95th_percentile(est):
    table = table_for(est)
    j = list(table.ns).index(256)
    r = estimate_with_uncertainty(est, *np.random.default_rng(2).standard_normal((2, 256)),
                                  n_halves=0)
    assert r.noise_floor == pytest.approx(np.interp(0.95, table.levels, table.quantiles[j]))
    # Between tabulated N the floor lies between its neighbours'.
    floors = [table.noise_floor(n) for n in (192, 200, 256)]
    assert floors[0] >= floors[1] >= floors[2]


def test_strong_gaussian_dependence(est):
    rng = np.random.default_rng(3)
    x = rng.standard_normal(1000)
    y = 0.9 * x + math.sqrt(1 - 0.81) * rng.standard_normal(1000)
    r = estimate_with_uncertainty(est, x, y, level=0.99)
    truth = -0.5 * math.log(1 - 0.81)
    assert isinstance(r, MIEstimate) and r.null == 'iid' and r.n == 1000
    assert r.p_value <= 1e-3 and r.is_dependent(0.01)
    assert r.lower <= truth <= r.upper and r.lower > r.noise_floor
    assert r.upper - r.lower < 0.2 and r.level == 0.99
    assert r.mi == pytest.approx(est.estimate(x, y), abs=1e-5)


def test_shift_null_rejects_less_than_iid_on_autocorrelated_independent_pairs(est):
    x, y = ar1_pairs(4, 24, 600)
    shift = estimate_batch_with_uncertainty(est, x, y, null='shift', n_halves=0)
    iid = estimate_batch_with_uncertainty(est, x, y, null='iid', n_halves=0)
    rej_shift = sum(r.is_dependent(0.05) for r in shift)
    rej_iid = sum(r.is_dependent(0.05) for r in iid)
    assert rej_shift < rej_iid and rej_iid >= 8
    for r in shift:  # a permutation p-value on the grid of its shifts
        k = r.n_null
        assert 19 <= k <= 39 and r.dependence_length > 10
        assert r.p_value * (k + 1) == pytest.approx(round(r.p_value * (k + 1)))
    assert all('anti-conservative' in r.reason for r in iid)


def test_block_interval_and_short_windows(est):
    x, y = ar1_pairs(5, 2, 1000)
    r = estimate_with_uncertainty(est, x[0], y[0], null='shift')
    assert r.n_halves == 16 and 0.0 <= r.lower <= r.upper
    # A short autocorrelated window: fewer shifts (coarser p), no block interval; says why.
    short = estimate_with_uncertainty(est, x[1, :64], y[1, :64], null='shift')
    assert short.n_null == 19 and short.p_value >= 1.0 / 20
    assert '19 of 39 shifts' in short.reason and 'closer than the dependence length' \
        in short.reason and 'no interval' in short.reason
    assert math.isnan(short.lower) and short.n_halves == 0


def test_constant_series_has_p_one(est):
    r = estimate_with_uncertainty(est, np.ones(100), np.arange(100.0))
    assert r.mi == 0.0 and r.p_value == 1.0 and r.lower == r.upper == 0.0


def test_long_series_null_is_composed_from_subsets(est):
    table = table_for(est)
    rng = np.random.default_rng(6)
    n = 4096  # 2 subsets of 2048
    floor = table.noise_floor(n, est.max_set_size)
    assert 0.0 < floor < table.noise_floor(2048)
    x, y = rng.standard_normal((2, 200, n))
    mi = est.estimate_batch(x, y)
    assert 0.01 <= np.mean(mi > floor) <= 0.12
    # One set longer than the table (never split): not covered, said so.
    whole = InfoNetEstimator(est.model, 'cpu', est.provenance, max_set_size=0)
    r = estimate_with_uncertainty(whole, x[0, :2100], y[0, :2100], n_halves=0)
    assert math.isnan(r.p_value) and 'not covered' in r.reason


def test_table_belongs_to_its_checkpoint(est, tmp_path):
    table = table_for(est)
    assert table.fingerprint == model_fingerprint(est)
    other = InfoNetEstimator(InfoNet(InfoNetConfig(d_model=16, n_heads=2, n_latents=4,
                                                   n_self_layers=1, grid_size=16)), 'cpu')
    x, y = np.random.default_rng(7).standard_normal((2, 64))
    with pytest.raises(NullTableError, match='no shipped null table'):
        estimate_with_uncertainty(other, x, y)
    with pytest.raises(NullTableError, match='another model'):
        estimate_with_uncertainty(other, x, y, null_table=table)
    # The shift null needs no table.
    assert math.isfinite(estimate_with_uncertainty(other, x, y, null='shift').mi)
    bad = tmp_path / 'bad.null.json'
    bad.write_text(json.dumps({'format': 'something else'}))
    with pytest.raises(NullTableError, match='not a null table'):
        estimate_with_uncertainty(est, x, y, null_table=str(bad))
    with pytest.raises(NullTableError, match='cannot read'):
        load_table(str(tmp_path / 'missing.json'))
    edited = dataclasses.replace(table, fingerprint='0' * 64)
    with pytest.raises(NullTableError):
        estimate_with_uncertainty(est, x, y, null_table=edited)


def test_extend_table_draws_a_missing_n_exactly(est):
    small = dataclasses.replace(table_for(est), draws=300, meta={'seed': 5}, _composed={})
    assert 600 not in small.ns
    grown = extend_table(small, est, [600, 1000])
    assert 600 in grown.ns and len(grown.ns) == len(small.ns) + 1
    assert np.all(np.diff(grown.ns) > 0)
    direct = np.quantile(null_draws(est, 600, 300, seed=5), 0.95)
    assert grown.noise_floor(600) == pytest.approx(direct, rel=1e-4)


@pytest.mark.parametrize('name', sorted(SHIPPED_WEIGHTS))
def test_every_shipped_model_has_its_table(name):
    table = load_table(table_path(name))
    assert table.fingerprint == model_fingerprint(InfoNetEstimator.from_pretrained(name, 'cpu'))
    assert table.draws >= 10_000 and np.all(np.diff(table.quantiles, axis=1) >= 0)


@pytest.mark.parametrize('kwargs, match', [
    ({'level': 0.0}, 'level'), ({'level': 1.0}, 'level'), ({'level': 1.5}, 'level'),
    ({'level': True}, 'level'), ({'level': '0.9'}, 'level'), ({'null': 'gauss'}, 'null'),
    ({'n_halves': 3}, 'n_halves'), ({'n_halves': -2}, 'n_halves'),
    ({'n_shifts': 0, 'null': 'shift'}, 'n_shifts'), ({'n_shifts': 1.5}, 'n_shifts')])
def test_bad_options(est, kwargs, match):
    x, y = np.random.default_rng(8).standard_normal((2, 64))
    with pytest.raises(ValueError, match=match):
        estimate_with_uncertainty(est, x, y, **kwargs)


def test_table_command_rejects_bad_arguments(tmp_path, capsys):
    assert main(['--weights', str(tmp_path / 'none.pt'), '--out', str(tmp_path / 't')]) == 2
    assert main(['--draws', '10', '--out', str(tmp_path / 't')]) == 2
    assert main(['--weights', 'fast', '--reuse', table_path('default'),
                 '--out', str(tmp_path / 't')]) == 2
    err = capsys.readouterr().err
    assert 'not found' in err and '--draws' in err and 'another model' in err
    assert not (tmp_path / 't').exists()


def test_bad_input(est):
    with pytest.raises(ValueError, match='same shape'):
        estimate_batch_with_uncertainty(est, np.zeros((2, 64)), np.zeros((2, 65)))
    with pytest.raises(ValueError, match='at least'):
        estimate_with_uncertainty(est, np.arange(10.0), np.arange(10.0))


def test_resampling_plans():
    rng = np.random.default_rng(9)
    x, y = rng.standard_normal((2, 3, 500))
    assert np.all(dependence_length(x, y) <= 3)
    ax, ay = ar1_pairs(10, 3, 2000)
    assert np.all(dependence_length(ax, ay) >= 15)
    lags = shift_lags(1000, 39, 20)
    assert len(lags) == 39 and np.all(np.diff(lags) >= 20) and lags[0] >= 20
    assert len(shift_lags(512, 39, 20)) == 24  # 512 // 20 - 1 fit 20 apart
    assert len(shift_lags(256, 39, 20)) == 19 and len(shift_lags(40, 39, 30)) == 19
    halves = half_samples(100, 3, 10, rng)  # 10 blocks of 10: halves of 5 blocks
    assert halves.shape == (6, 50)
    for a, b in zip(halves[::2], halves[1::2]):
        assert not set(a) & set(b) and np.all(np.diff(a.reshape(5, 10), axis=1) == 1)
    assert half_samples(30, 3, 10, rng) is None
