# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The node's parameters, its YAML files and the checked configuration (no ROS needed)."""

import os

import pytest

from infonet_ros.core.limits import MIN_SAMPLES
from infonet_ros.streams.node_config import (ConfigError, effective_executor, effective_sync_mode,
                                             load_params_yaml, NodeConfig, PARAMS,
                                             rows_per_update, unknown_parameter_warnings,
                                             update_cost_error)

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# The demo's inputs (config/mi.yaml); every other parameter at its built-in default.
DEMO_INPUTS = {k: v for k, v in load_params_yaml(os.path.join(REPO, 'config', 'mi.yaml')).items()
               if k in ('topics', 'pairs', 'pair_names')}


def demo_config(params):
    """Return the NodeConfig of the demo's inputs with ``params`` (the rest: defaults)."""
    return NodeConfig.from_params({**DEMO_INPUTS, **params})


def test_load_params_yaml_wildcard_named_and_nested(tmp_path):
    f = tmp_path / 'p.yaml'
    f.write_text('/**:\n  ros__parameters:\n    window: 100\n    qos: {depth: 7}\n'
                 'mi_node:\n  ros__parameters:\n    window: 200\n'
                 '/robot/mi_node:\n  ros__parameters:\n    update_rate: 3.0\n'
                 'other_node:\n  ros__parameters:\n    window: 5\n')
    assert load_params_yaml(f) == {'window': 100, 'qos.depth': 7}
    assert load_params_yaml(f, 'mi_node') == {'window': 200, 'qos.depth': 7}
    assert load_params_yaml(f, '/robot/mi_node') == {'window': 200, 'qos.depth': 7,
                                                     'update_rate': 3.0}
    assert load_params_yaml(f, 'other_node')['window'] == 5


def test_load_params_yaml_errors(tmp_path):
    f = tmp_path / 'p.yaml'
    f.write_text('a_node:\n  ros__parameters:\n    window: 100\n'
                 'b_node:\n  ros__parameters:\n    window: 200\n')
    with pytest.raises(ValueError, match="no ros__parameters for '/\\*\\*'"):
        load_params_yaml(f)
    assert load_params_yaml(f, 'b_node') == {'window': 200}
    f.write_text('- just\n- a list\n')
    with pytest.raises(ValueError, match='not a ROS 2 parameters file'):
        load_params_yaml(f)
    f.write_text('a: [unclosed\n')
    with pytest.raises(ValueError, match='not valid YAML'):
        load_params_yaml(f)
    with pytest.raises(OSError):
        load_params_yaml(tmp_path / 'missing.yaml')


@pytest.mark.parametrize('body', ['[window, 100]', '300', "'window: 100'"])
def test_ros_parameters_that_is_not_a_mapping_is_a_one_line_error(tmp_path, body):
    f = tmp_path / 'p.yaml'
    f.write_text(f'/**:\n  ros__parameters: {body}\n')
    with pytest.raises(ValueError, match='ros__parameters .* must be a mapping') as info:
        load_params_yaml(f)
    assert '\n' not in str(info.value)


def test_shipped_config_is_valid_and_watches_the_demo():
    path = os.path.join(REPO, 'config', 'mi.yaml')
    params = load_params_yaml(path, 'mi_node')
    cfg = NodeConfig.from_params(params)
    assert NodeConfig.from_yaml(path, 'mi_node') == cfg
    names = [p.name for p in cfg.pairs]
    assert names == ['acc_x_ab', 'gyro_z_ab', 'a_acc_y_gyro_x', 'acc_xyz_ab']
    assert any(p.same_topic for p in cfg.pairs)
    assert any(not p.same_topic and not p.sliced for p in cfg.pairs)
    assert cfg.pairs[3].sliced and cfg.pairs[3].x.dim == 3
    # Relative names: they resolve in the node's namespace.
    assert {p.x.topic for p in cfg.pairs} == {'imu_a'}
    # Everything an offline replay needs to reproduce the node's windows is in the file.
    for key in ('window', 'update_rate', 'sync_mode', 'max_gap', 'slop', 'queue_size'):
        assert key in params
    assert cfg.update_period == pytest.approx(1.0 / params['update_rate'])
    assert cfg.engine_kwargs()['window'] == params['window']


def test_built_in_defaults_watch_nothing():
    # Without a params file the node must not watch topics a robot may not have.
    with pytest.raises(ConfigError, match='no pairs to watch'):
        NodeConfig.from_params({})


def test_defaults_are_valid():
    cfg = demo_config({})
    assert cfg.window == 1000 and cfg.device == 'auto' and cfg.sync_mode == 'approximate'
    assert len({p.name for p in PARAMS}) == len(PARAMS)
    # Every estimate carries its uncertainty, with the null that is valid for sensor data.
    opts = cfg.uncertainty_options()
    assert (opts.null, opts.level, opts.null_draws, opts.n_halves) == ('shift', 0.9, 19, 8)
    assert demo_config({'uncertainty': 'off'}).uncertainty_options() is None


@pytest.mark.parametrize('params, match', [
    ({'window': MIN_SAMPLES - 1}, 'window'),
    ({'window': 1.5}, 'window must be of type int'),
    ({'device': 'tpu'}, 'device'),
    ({'sync_mode': 'nearest'}, 'sync_mode'),
    ({'update_rate': 0.0}, 'update_rate'),
    ({'qos_reliability': 'sometimes'}, 'qos_reliability'),
    ({'pairs': ['imu_a:x ~ /nowhere:y'], 'pair_names': []}, 'nowhere'),
    ({'topics': 'not a list'}, 'topics must be a list'),
])
def test_bad_config_values_raise_with_the_parameter_name(params, match):
    with pytest.raises(ConfigError, match=match):
        demo_config(params)


def test_device_index_and_int_for_float_are_accepted():
    cfg = demo_config({'device': 'cuda:1', 'update_rate': 20})
    assert cfg.device == 'cuda:1' and cfg.update_rate == 20.0


def test_effective_sync_mode():
    assert effective_sync_mode('approximate', True) == ('external', None)
    mode, note = effective_sync_mode('approximate', False)
    assert mode == 'approximate' and 'message_filters' in note
    assert effective_sync_mode('interpolate', True) == ('interpolate', None)


def test_effective_executor():
    assert effective_executor('auto', True) == 'events'
    assert effective_executor('auto', False) == 'single'
    assert effective_executor('single', True) == 'single'
    assert effective_executor('events', True) == 'events'
    with pytest.raises(ConfigError, match='EventsExecutor'):
        effective_executor('events', False)
    assert demo_config({}).executor == 'auto'
    with pytest.raises(ConfigError, match='executor'):
        demo_config({'executor': 'multi'})


@pytest.mark.parametrize('module', ['core.limits', 'streams.fields', 'streams.pairs',
                                    'streams.node_config', 'streams.ring_buffer',
                                    'streams.topic_input', 'streams.sync', 'streams.window_engine',
                                    'streams.feed', 'offline.bag_reader', 'offline.imu_bag',
                                    'offline.batch_tuner', 'streams.cdr_reader',
                                    'streams.raw_intake', 'ros.conversions', 'ros.diagnostics',
                                    'ros.input_health', 'ros.graph_checks',
                                    'ros.process_exit'])
def test_configuration_and_data_modules_import_without_torch(module):
    # The node checks its configuration and reads its input before it loads the model; a
    # decision node or a bag tool may use these modules where torch is not installed.
    import subprocess
    import sys
    if module.startswith('ros.'):  # they convert to ROS messages
        pytest.importorskip('diagnostic_msgs')
        pytest.importorskip('builtin_interfaces')
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    code = f"import sys; sys.modules['torch'] = None; import infonet_ros.{module}"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [repo] + [p for p in os.environ.get('PYTHONPATH', '').split(os.pathsep) if p]))
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr[-2000:]


def test_rows_per_update_counts_what_a_pass_estimates():
    # The demo: 3 scalar pairs, 1 sliced.
    off = demo_config({'uncertainty': 'off', 'n_slices': 64})
    assert rows_per_update(off) == 3 + 64
    # Shift null: per scalar pair 1 + 19 shifts + 8 halves; the sliced pair's uncertainty
    # acts on its first 8 projections.
    shift = demo_config({'n_slices': 64})
    assert rows_per_update(shift) == 3 * (1 + 19 + 8) + 64 + 8 * (1 + 19 + 8)
    # iid null: the table needs no extra row for a scalar pair; a sliced pair is permuted.
    iid = demo_config({'n_slices': 64, 'uncertainty': 'iid'})
    assert rows_per_update(iid) == 3 * (1 + 8) + 64 + 8 * (1 + 19 + 8)


@pytest.mark.parametrize('uncertainty', ['off', 'shift'])
def test_rows_per_update_matches_the_forward_passes_of_an_update(uncertainty):
    # Count the rows estimate_windows hands the estimator (uncertainty included). Needs the
    # estimator: skipped in the torch-free Python 3.10 check (scripts/check_py310.sh) only.
    pytest.importorskip('torch')
    import numpy as np
    from infonet_ros.core.estimator import InfoNetEstimator
    from infonet_ros.streams.batch_estimate import estimate_windows
    from infonet_ros.streams.window_engine import WindowEngine
    cfg = demo_config({'window': 80, 'sync_mode': 'interpolate', 'n_slices': 12,
                       'uncertainty': uncertainty})
    engine = WindowEngine(**cfg.engine_kwargs())
    rng = np.random.default_rng(0)
    for k in range(100):
        for topic in ('imu_a', 'imu_b'):
            engine.add_values(topic, 1.0 + 0.01 * k, list(rng.standard_normal(
                len(engine.topics[topic].fields))))
    windows = engine.ready_windows()
    assert len(windows) == 4
    rows = []

    class Counting(InfoNetEstimator):

        def estimate_batch(self, x, y, *args, **kwargs):
            rows.append(len(x))
            return rng.standard_normal(len(x))

    est = Counting.__new__(Counting)
    est.estimate_batch = Counting.estimate_batch.__get__(est)
    estimate_windows(est, windows, cfg.n_slices, 0, cfg.uncertainty_options())
    assert sum(rows) == rows_per_update(cfg), rows


def test_the_shipped_config_fits_the_default_cost_bound_and_abuse_does_not():
    cfg = NodeConfig.from_yaml(os.path.join(REPO, 'config', 'mi.yaml'), 'mi_node')
    assert update_cost_error(cfg) is None
    assert update_cost_error(demo_config({})) is None
    for abuse in ({'null_draws': 100_000}, {'n_slices': 4096, 'uncertainty_slices': 4096}):
        reason = update_cost_error(demo_config(abuse))
        assert 'max_rows_per_update' in reason and 'estimator rows' in reason, reason
    reason = update_cost_error(demo_config({'null_draws': 100_000}))
    # 3 scalar pairs x (1 + 100000 + 8) + 64 slices + 8 x (1 + 100000 + 8)
    assert '1,100,163 estimator rows' in reason, reason
    assert update_cost_error(demo_config(
        {'null_draws': 100_000, 'max_rows_per_update': 10_000_000})) is None
    assert update_cost_error(demo_config(
        {'null_draws': 100_000, 'uncertainty': 'off'})) is None


@pytest.mark.parametrize('value', [1, 2, 3, 7])
def test_n_halves_is_zero_or_even_from_four(value):
    with pytest.raises(ConfigError, match='n_halves must be 0'):
        demo_config({'n_halves': value})


def test_unknown_parameters_are_named_with_the_nearest_valid_key():
    warnings = unknown_parameter_warnings({'windw': 300, 'window': 100, 'use_sim_time': True,
                                           'qos_overrides./t/a.subscription.depth': 5,
                                           'update_rte': 2.0, 'zzzz': 1})
    assert warnings == [
        "unknown parameter 'update_rte' is ignored; did you mean 'update_rate'?",
        "unknown parameter 'windw' is ignored; did you mean 'window'?",
        "unknown parameter 'zzzz' is ignored"]
    assert unknown_parameter_warnings({p.name: p.default for p in PARAMS}) == []


def test_docs_parameter_table_lists_every_parameter():
    with open(os.path.join(REPO, 'docs', 'node.md')) as f:
        rows = {line.split('|')[1].strip().strip('`') for line in f if line.startswith('| `')}
    missing = [p.name for p in PARAMS if p.name not in rows]
    assert not missing, f'docs/node.md parameters table lacks {missing}'
