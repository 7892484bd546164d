# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The analysis run on real bags: batched estimates equal the estimator's, matrices, figures."""

import numpy as np
import pytest
from synthetic_imu_bags import (channel, copy_default_weights, make_signals, PAIR_DEP, PAIR_IND,
                                window_slice, write_bag)

from infonet_ros.core.estimator import InfoNetEstimator
from infonet_ros.offline.figures import write_figures
from infonet_ros.offline.params import AnalysisError
from infonet_ros.offline.report import mean_matrix
from infonet_ros.offline.run import run_analysis, UpdatePolicy
from infonet_ros.streams.mi_matrix import parse_matrix

pytest.importorskip('rosbags')


@pytest.fixture(scope='module')
def estimator(tmp_path_factory):
    weights = copy_default_weights(tmp_path_factory.mktemp('weights'))
    return InfoNetEstimator.from_pretrained(weights, device='cpu')


def test_batch_rows_chosen_by_timing_give_the_same_estimates(tmp_path, estimator):
    sig = make_signals()
    bag = write_bag(tmp_path / 'bag', sig)
    params = {'pairs': [PAIR_DEP, PAIR_IND], 'window': 32, 'sync_mode': 'interpolate'}
    policy = UpdatePolicy('every', every=2)
    auto = run_analysis(bag, params=params, policy=policy, estimator=estimator,
                        shuffle_control=True)
    fixed = run_analysis(bag, params=params, policy=policy, estimator=estimator,
                         batch_rows=3, shuffle_control=True)
    assert auto.options['batch_rows'].startswith('auto (')
    assert len(auto.options['batch_ms_per_row']) >= 2  # the search timed several sizes
    assert len(auto.records) == len(fixed.records) > 200
    # Estimates and the shuffled control do not depend on how windows were batched.
    np.testing.assert_allclose([r.estimate.mi for r in auto.records],
                               [r.estimate.mi for r in fixed.records], atol=1e-6)
    np.testing.assert_allclose([r.mi_shuffled for r in auto.records],
                               [r.mi_shuffled for r in fixed.records], atol=1e-6)
    with pytest.raises(AnalysisError, match='batch rows'):
        run_analysis(bag, params=params, estimator=estimator, batch_rows=-1)


def test_matrix_batched_equals_per_pair(tmp_path, estimator):
    sig = make_signals()
    bag = write_bag(tmp_path / 'bag', sig)
    spec = parse_matrix('/a/imu:linear_acceleration.x,angular_velocity.z,linear_acceleration.y'
                        ' ~ /b/imu:linear_acceleration.x,angular_velocity.x', 'legs')
    tri = parse_matrix('tri=/a/imu:linear_acceleration.x,linear_acceleration.y,'
                       'angular_velocity.x')
    pairs, names = spec.pair_strings()
    tp, tn = tri.pair_strings()
    assert len(pairs) == 6 and len(tp) == 3
    result = run_analysis(
        bag, params={'pairs': pairs + tp, 'pair_names': names + tn, 'window': 64,
                     'sync_mode': 'approximate'},
        matrices=[spec, tri], policy=UpdatePolicy('every', every=50),
        estimator=estimator, batch_rows=10_000)
    recs = result.records
    assert len(recs) == 9 * len({r.update for r in recs})
    for r in recs:
        e = r.estimate
        idx = window_slice(e.window_start, e.window_end)
        x = channel(sig, e.pair.x.source)[idx]
        y = channel(sig, e.pair.y.source)[idx]
        assert e.mi == pytest.approx(estimator.estimate(x, y), abs=1e-5)
    m = mean_matrix(result, spec)
    assert m.shape == (3, 2) and np.isfinite(m).all()
    assert m[0, 0] == max(m.ravel())  # the one dependent cell: a.acc.x ~ b.acc.x
    t3 = mean_matrix(result, tri)
    assert np.isnan(np.diag(t3)).all() and np.allclose(t3, t3.T, equal_nan=True)
    files = write_figures(result, tmp_path / 'fig', matrix_times=[4.0])
    names = sorted(f.name for f in files)
    assert names == ['matrix_legs.png', 'matrix_tri.png', 'mi_timeseries.png']
    for f in files:
        assert f.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n' and f.stat().st_size > 10_000


def test_every_estimate_carries_its_uncertainty_into_the_csv(tmp_path, estimator):
    from infonet_ros.core.uncertainty import estimate_with_uncertainty
    from infonet_ros.offline.report import read_csv, write_csv
    sig = make_signals()
    bag = write_bag(tmp_path / 'bag', sig)
    params = {'pairs': [PAIR_DEP, PAIR_IND], 'pair_names': ['dep', 'ind'], 'window': 64,
              'sync_mode': 'interpolate'}  # uncertainty: the default, shift
    result = run_analysis(bag, params=params, policy=UpdatePolicy('every', every=10),
                          estimator=estimator)
    rows = read_csv(write_csv(result, tmp_path / 'mi.csv'))
    assert len(rows) == len(result.records) > 40
    for row, r in zip(rows, result.records):
        assert row['null_model'] == 'shift'
        # The interval is of the MI, >= 0: an estimate a little below 0 sits at its bottom.
        assert 0.0 <= row['mi_lower'] <= max(row['mi'], 0.0) <= row['mi_upper']
        assert 1 / 20 <= row['p_value'] <= 1.0 and row['noise_floor'] > 0.0
        if r.update % 5 == 0:  # the library's numbers on the same window
            e = r.estimate
            idx = window_slice(e.window_start, e.window_end)
            want = estimate_with_uncertainty(
                estimator, channel(sig, e.pair.x.source)[idx],
                channel(sig, e.pair.y.source)[idx], level=0.9, null='shift', n_shifts=19,
                n_halves=8, seed=0)
            assert (row['p_value'], row['mi_lower'], row['mi_upper']) == pytest.approx(
                (want.p_value, want.lower, want.upper), abs=1e-5)
    dep = [row for row in rows if row['pair'] == 'dep']
    ind = [row for row in rows if row['pair'] == 'ind']
    assert all(row['p_value'] == pytest.approx(1 / 20) for row in dep)  # rho 0.9
    # Independent noise: significant in about alpha of the windows (neighbours overlap).
    assert np.mean([row['p_value'] <= 0.05 for row in ind]) < 0.2
    off = run_analysis(bag, params=dict(params, uncertainty='off'),
                       policy=UpdatePolicy('every', every=10), estimator=estimator)
    assert all(np.isnan(r.estimate.p_value) and np.isnan(r.estimate.mi_lower)
               and r.estimate.null == '' for r in off.records)


def test_onnxruntime_backend_gives_the_torch_estimates(tmp_path, estimator):
    pytest.importorskip('onnxruntime')
    from infonet_ros.offline.run import load_estimator
    from infonet_ros.streams.node_config import NodeConfig
    sig = make_signals()
    bag = write_bag(tmp_path / 'bag', sig)
    params = {'pairs': [PAIR_DEP, PAIR_IND], 'window': 64, 'sync_mode': 'interpolate',
              'uncertainty': 'off', 'device': 'cpu'}
    policy = UpdatePolicy('every', every=25)
    # onnxruntime runs float32: compare with torch in float32.
    torch_run = run_analysis(bag, params={**params, 'precision': 'fp32'}, policy=policy)
    cfg = NodeConfig.from_params({**params, 'backend': 'onnxruntime',
                                  'topics': ['/a/imu=sensor_msgs/msg/Imu',
                                             '/b/imu=sensor_msgs/msg/Imu']})
    onnx_est = load_estimator(cfg, weights=None)
    assert onnx_est.backend == 'onnxruntime'
    onnx_run = run_analysis(bag, cfg, policy=policy, estimator=onnx_est)
    assert len(torch_run.records) == len(onnx_run.records) > 10
    np.testing.assert_allclose([r.estimate.mi for r in onnx_run.records],
                               [r.estimate.mi for r in torch_run.records], atol=1e-4)
