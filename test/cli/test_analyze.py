# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""infonet-ros analyze on real bags: CSV against the estimator, matrices, config, bad input."""

import json
import math
import os
from pathlib import Path

import numpy as np
import pytest
from synthetic_imu_bags import (channel, copy_default_weights, make_signals, PAIR_DEP, PAIR_IND,
                                RATE, RHO, stamps, START, window_slice, write_bag)

from infonet_ros.cli.analyze import build_parser, main
from infonet_ros.core.estimator import InfoNetEstimator
from infonet_ros.offline.params import OVERRIDABLE
from infonet_ros.offline.report import CSV_NAME, PARTIAL_CSV_NAME, read_csv, SUMMARY_NAME
from infonet_ros.offline.window_batches import AUTO_BATCH_ROWS


pytest.importorskip('rosbags')


@pytest.fixture(scope='module')
def weights(tmp_path_factory):
    return copy_default_weights(tmp_path_factory.mktemp('weights'))


@pytest.fixture(scope='module')
def estimator(weights):
    return InfoNetEstimator.from_pretrained(weights, device='cpu')


def test_parser_leaves_node_parameters_to_the_yaml():
    # A node parameter not given on the command line is None: the YAML's value (or the
    # node's default) is kept; batch rows default to the automatic choice.
    args = build_parser().parse_args(['bag', '--pair', PAIR_DEP, '--window', '64',
                                      '--no-jit', '--update-every', '12'])
    assert args.window == 64 and args.jit is False and args.update_every == 12
    assert all(getattr(args, n) is None for n in OVERRIDABLE if n not in ('window', 'jit'))
    assert args.batch_rows == AUTO_BATCH_ROWS == 0
    assert args.pair == [PAIR_DEP] and args.matrix == [] and args.msg == []


@pytest.fixture
def run_cli(tmp_path, weights):
    """Return ``run(bag, *args, name='out') -> (exit code, output dir)`` of the CLI."""
    def run(bag, *extra, name='out'):
        out = tmp_path / name
        rc = main([str(bag), '-o', str(out), '--no-progress', '--weights', weights,
                   '--device', 'cpu', *extra])
        return rc, out
    return run


@pytest.mark.parametrize('storage, jit', [('mcap', '--jit'), ('sqlite3', '--no-jit')])
def test_csv_equals_estimator_on_the_same_windows(tmp_path, estimator, storage, jit, run_cli):
    # Traced (the default) or eager forward passes: the same numbers as the eager estimator.
    sig = make_signals()
    bag = write_bag(tmp_path / 'bag', sig, storage)
    rc, out = run_cli(bag, '--pair', PAIR_DEP, '--pair-name', 'dep', '--pair',
                      PAIR_IND, '--pair-name', 'ind', '--window', '64', '--update-every', '20',
                      '--sync-mode', 'interpolate', '--ksg', '--shuffle-control',
                      '--no-plots', jit)
    assert rc == 0
    rows = read_csv(out / CSV_NAME)
    # Updates after every 20 messages of /a/imu; windows end at sample 79, 99, ..., 299.
    ends = sorted({r['window_end'] for r in rows})
    np.testing.assert_allclose(ends, stamps()[np.arange(79, 300, 20)], atol=1e-9)
    assert len(rows) == 2 * len(ends)
    from infonet_ros.core.ksg import ksg_mi
    for r in rows:
        idx = window_slice(r['window_start'], r['window_end'])
        assert r['sample_count'] == 64 and len(idx) == 64
        x = channel(sig, r['x_source'])[idx]
        y = channel(sig, r['y_source'])[idx]
        assert r['mi'] == pytest.approx(estimator.estimate(x, y), abs=1e-5)
        assert r['mi_ksg'] == pytest.approx(ksg_mi(x, y, n_neighbors=3), abs=1e-12)
        assert math.isfinite(r['mi_shuffled'])
        assert r['method'] == 'infonet' and not r['sliced'] and r['n_slices'] == 0
        assert r['time'] >= r['window_end']
    dep = np.mean([r['mi'] for r in rows if r['pair'] == 'dep'])
    ind = np.mean([r['mi'] for r in rows if r['pair'] == 'ind'])
    ctrl = np.mean([r['mi_shuffled'] for r in rows if r['pair'] == 'dep'])
    true_mi = -0.5 * math.log(1 - RHO ** 2)  # 0.83 nats
    assert dep == pytest.approx(true_mi, abs=0.35)
    assert abs(ind) < 0.15 and abs(ctrl) < 0.15
    summary = json.loads((out / SUMMARY_NAME).read_text())
    assert summary['complete'] and summary['estimates'] == len(rows)
    assert summary['pairs']['dep']['estimates'] == len(ends)
    assert summary['ksg']['windows'] == len(rows)


def test_joint_state_matrix_and_dropped_messages(tmp_path, estimator, run_cli):
    from rosbags.rosbag2 import StoragePlugin, Writer
    from rosbags.typesys import get_typestore, Stores
    ts = get_typestore(Stores.ROS2_KILTED)
    t = ts.types
    rng = np.random.default_rng(2)
    n = 240
    q = rng.standard_normal((n, 4))
    q[:, 1] = np.sin(2 * q[:, 0]) + 0.1 * rng.standard_normal(n)  # joint 1 follows joint 0
    bag = tmp_path / 'joints'
    with Writer(bag, version=9, storage_plugin=StoragePlugin.SQLITE3) as wr:
        conn = wr.add_connection('/joint_states', 'sensor_msgs/msg/JointState', typestore=ts)
        for k in range(n):
            ns = 10**9 + k * 10**7
            # Message 100 lost a joint: position[3] is out of range there.
            pos = q[k, :3] if k == 100 else q[k]
            msg = t['sensor_msgs/msg/JointState'](
                header=t['std_msgs/msg/Header'](stamp=t['builtin_interfaces/msg/Time'](
                    sec=ns // 10**9, nanosec=ns % 10**9), frame_id=''),
                name=[f'j{i}' for i in range(len(pos))], position=np.array(pos),
                velocity=np.zeros(0), effort=np.zeros(0))
            wr.write(conn, ns, ts.serialize_cdr(msg, 'sensor_msgs/msg/JointState'))
    rc, out = run_cli(bag, '--matrix', 'arm=/joint_states:position[0:4]', '--window', '100',
                      '--update-every', '60')
    assert rc == 0
    rows = read_csv(out / CSV_NAME)
    assert {r['pair'] for r in rows} == {f'arm__joint_states_pos_{i}__joint_states_pos_{j}'
                                         for i in range(4) for j in range(i + 1, 4)}
    summary = json.loads((out / SUMMARY_NAME).read_text())
    topic = summary['topics']['/joint_states']
    assert topic['accepted'] == n - 1 and topic['dropped'] == {'missing_field': 1}
    mean = np.array(summary['matrices']['arm']['mean'], dtype=float)
    assert mean.shape == (4, 4) and np.isnan(np.diag(mean)).all()
    assert np.nanargmax(mean) in (1, 4)  # joints 0 and 1: the dependent pair
    assert (out / 'matrix_arm.png').stat().st_size > 10_000


def test_sliced_pair_matches_sliced_mi(tmp_path, estimator, run_cli):
    from infonet_ros.core.sliced import sliced_mi
    sig = make_signals()
    bag = write_bag(tmp_path / 'bag', sig)
    pair = ('/a/imu:linear_acceleration.x,linear_acceleration.y ~ '
            '/b/imu:linear_acceleration.x,angular_velocity.x')
    rc, out = run_cli(bag, '--pair', pair, '--window', '64', '--update-every', '100',
                      '--n-slices', '8', '--slice-seed', '3', '--sync-mode', 'interpolate',
                      '--no-plots')
    assert rc == 0
    rows = read_csv(out / CSV_NAME)
    assert rows and all(r['method'] == 'infonet-sliced' and r['n_slices'] == 8 for r in rows)
    for r in rows:
        idx = window_slice(r['window_start'], r['window_end'])
        x = np.column_stack([sig['/a/imu'][0][idx, 0], sig['/a/imu'][0][idx, 1]])
        y = np.column_stack([sig['/b/imu'][0][idx, 0], sig['/b/imu'][1][idx, 0]])
        want = sliced_mi(x, y, n_slices=8, seed=3, estimator=estimator)
        assert r['mi'] == pytest.approx(want, abs=1e-5)


def test_params_yaml_and_update_rate(tmp_path, estimator, run_cli):
    bag = write_bag(tmp_path / 'bag', make_signals())
    yaml_text = f"""/**:
  ros__parameters:
    topics: ['/a/imu=sensor_msgs/msg/Imu', '/b/imu=sensor_msgs/msg/Imu']
    pairs: ['{PAIR_DEP}']
    pair_names: [acc_x_ab]
    window: 64
    update_rate: 2.0
    sync_mode: interpolate
"""
    params = tmp_path / 'mi.yaml'
    params.write_text(yaml_text)
    rc, out = run_cli(bag, '--params', str(params), '--no-plots')
    assert rc == 0
    rows = read_csv(out / CSV_NAME)
    assert {r['pair'] for r in rows} == {'acc_x_ab'}
    # The node's timer: every 0.5 s of recorded time from the first message; a window ends at
    # the newest sample at or before each update.
    for r in rows[:-1]:
        k = round((r['time'] - START) / 0.5)
        assert r['time'] == pytest.approx(START + 0.5 * k)
        assert r['window_end'] == pytest.approx(START + math.floor(r['time'] * RATE - START
                                                                   * RATE + 1e-6) / RATE)
    # A flag overrides the YAML; a declared type that the bag contradicts is an error.
    rc, out2 = run_cli(bag, '--params', str(params), '--window', '100', '--no-plots',
                       name='o2')
    assert rc == 0
    assert {r['sample_count'] for r in read_csv(out2 / CSV_NAME)} == {100}
    params.write_text(yaml_text.replace("'/b/imu=sensor_msgs/msg/Imu'",
                                        "'/b/imu=sensor_msgs/msg/JointState'"))
    rc, out3 = run_cli(bag, '--params', str(params), name='o3')
    assert rc == 1 and not (out3 / CSV_NAME).exists()


def test_missing_topic_field_and_pairs_are_clear_errors(tmp_path, capsys, run_cli):
    bag = write_bag(tmp_path / 'bag', make_signals(n=80))
    rc, out = run_cli(bag, '--pair', '/nope:data ~ /a/imu:linear_acceleration.x')
    err = capsys.readouterr().err
    assert rc == 1 and "topic '/nope'" in err and '/a/imu' in err
    assert not (out / CSV_NAME).exists()
    rc, _ = run_cli(bag, '--pair', '/a/imu:linear_acceleration.w ~ '
                    '/b/imu:linear_acceleration.x')
    err = capsys.readouterr().err
    assert rc == 1 and 'linear_acceleration.w' in err and 'linear_acceleration.x' in err
    rc, _ = run_cli(bag)
    assert rc == 1 and 'no pairs' in capsys.readouterr().err
    rc, _ = run_cli(tmp_path / 'no_such_bag', '--pair', PAIR_DEP)
    assert rc == 1 and 'does not exist' in capsys.readouterr().err
    # A definition file whose path does not name its type: a one-line error.
    rc, _ = run_cli(bag, '--pair', PAIR_DEP, '--msg', str(tmp_path / 'Sample.msg'))
    err = capsys.readouterr().err
    assert rc == 1 and 'pkg/msg/Name=PATH' in err


def test_too_few_samples_is_a_documented_skip(tmp_path, capsys, run_cli):
    sig = make_signals()
    bag = write_bag(tmp_path / 'bag', sig, counts={'/b/imu': 50})
    rc, out = run_cli(bag, '--pair', PAIR_DEP, '--pair-name', 'short', '--pair',
                      '/a/imu:linear_acceleration.x ~ /a/imu:angular_velocity.x',
                      '--pair-name', 'own', '--window', '64', '--update-every', '50',
                      '--no-plots')
    assert rc == 0
    text = capsys.readouterr().out
    assert 'skipped pairs (1)' in text and 'short: window never filled: at most 50' in text
    rows = read_csv(out / CSV_NAME)
    assert rows and {r['pair'] for r in rows} == {'own'}
    summary = json.loads((out / SUMMARY_NAME).read_text())
    assert summary['pairs']['short']['estimates'] == 0
    assert 'window never filled' in summary['pairs']['short']['skipped']


def test_custom_message_type_needs_a_definition(tmp_path, capsys, run_cli):
    from rosbags.rosbag2 import StoragePlugin, Writer
    from rosbags.typesys import get_types_from_msg, get_typestore, Stores
    text = 'std_msgs/Header header\nfloat64 u\nfloat64[] w\n'
    ts = get_typestore(Stores.ROS2_KILTED)
    ts.register(get_types_from_msg(text, 'rig_msgs/msg/Pair'))
    t = ts.types
    rng = np.random.default_rng(1)
    u = rng.standard_normal(200)
    w = u ** 2 + 0.1 * rng.standard_normal(200)  # nonlinear, uncorrelated dependence
    bag = tmp_path / 'custom'
    with Writer(bag, version=9, storage_plugin=StoragePlugin.SQLITE3) as wr:
        conn = wr.add_connection('/rig', 'rig_msgs/msg/Pair', msgdef='',
                                 rihs01=ts.hash_rihs01('rig_msgs/msg/Pair'))
        for k in range(200):
            ns = 10**9 + k * 10**7
            msg = t['rig_msgs/msg/Pair'](
                header=t['std_msgs/msg/Header'](stamp=t['builtin_interfaces/msg/Time'](
                    sec=ns // 10**9, nanosec=ns % 10**9), frame_id=''),
                u=float(u[k]), w=np.array([0.0, w[k]]))
            wr.write(conn, ns, ts.serialize_cdr(msg, 'rig_msgs/msg/Pair'))
    args = ['--pair', '/rig:u ~ /rig:w[1]', '--window', '100', '--update-every', '50',
            '--no-ament', '--no-plots']
    rc, _ = run_cli(bag, *args)
    assert rc == 1 and 'no message definition for rig_msgs/msg/Pair' in capsys.readouterr().err
    msg_dir = tmp_path / 'src' / 'rig_msgs' / 'msg'
    msg_dir.mkdir(parents=True)
    (msg_dir / 'Pair.msg').write_text(text)
    rc, out = run_cli(bag, *args, '--msg-dir', str(tmp_path / 'src'))
    assert rc == 0
    rows = read_csv(out / CSV_NAME)
    assert len(rows) == 3 and all(r['mi'] > 0.3 for r in rows)
    rc, out = run_cli(bag, *args, '--msg', str(msg_dir / 'Pair.msg'), name='o2')
    assert rc == 0 and len(read_csv(out / CSV_NAME)) == 3


def test_corrupt_and_truncated_bags(tmp_path, capsys, run_cli):
    bag = write_bag(tmp_path / 'bag', make_signals())
    data = bag / 'bag.mcap'
    raw = bytearray(data.read_bytes())
    mid = len(raw) // 2
    raw[mid:mid + 3000] = bytes(3000)  # a zeroed stretch: chunks after it fail their CRC
    data.write_bytes(bytes(raw))
    args = ['--pair', PAIR_DEP, '--window', '40', '--update-every', '20', '--no-plots']
    rc, out = run_cli(bag, *args)
    captured = capsys.readouterr()
    assert rc == 1 and 'INCOMPLETE' in captured.out and 'no mi.csv written' in captured.err
    assert not (out / CSV_NAME).exists()
    assert not (out / PARTIAL_CSV_NAME).exists()
    summary = json.loads((out / SUMMARY_NAME).read_text())
    assert summary['complete'] is False and 'truncated' in summary['error']
    rc, out = run_cli(bag, *args, '--keep-partial', name='o2')
    assert rc == 1 and (out / PARTIAL_CSV_NAME).exists()
    assert not (out / CSV_NAME).exists()
    assert len(read_csv(out / PARTIAL_CSV_NAME)) > 0
    capsys.readouterr()
    # Cut off: the mcap footer is gone, the bag cannot be opened.
    trunc = write_bag(tmp_path / 'bag2', make_signals())
    with open(trunc / 'bag2.mcap', 'r+b') as fh:
        fh.truncate((trunc / 'bag2.mcap').stat().st_size // 2)
    rc, out = run_cli(trunc, *args, name='o3')
    err = capsys.readouterr().err
    assert rc == 1 and 'cannot open bag' in err and 'mcap recover' in err
    assert not (out / CSV_NAME).exists()


def test_stale_outputs_are_removed(tmp_path, run_cli):
    bag = write_bag(tmp_path / 'bag', make_signals(n=100))
    out = tmp_path / 'out'
    out.mkdir()
    (out / CSV_NAME).write_text('old\n')
    rc, _ = run_cli(bag, '--pair', '/nope:x ~ /a/imu:linear_acceleration.x', '--overwrite')
    assert rc == 1
    # An error before the analysis leaves the directory alone; a broken analysis would not.
    assert (out / CSV_NAME).read_text() == 'old\n'
    rc, _ = run_cli(bag, '--pair', PAIR_DEP, '--window', '40', '--update-every',
                    '30', '--no-plots', '--overwrite')
    assert rc == 0 and (out / CSV_NAME).read_text().startswith('update,time,pair')


def test_a_non_empty_output_directory_needs_overwrite(tmp_path, capsys, run_cli):
    bag = write_bag(tmp_path / 'bag', make_signals(n=100))
    args = ['--pair', PAIR_DEP, '--window', '40', '--update-every', '30']
    rc, out = run_cli(bag, *args, '--matrix', 'm=/a/imu:linear_acceleration.x,'
                      'angular_velocity.x')
    assert rc == 0
    first = sorted(p.name for p in out.iterdir())
    assert first == ['matrix_m.png', CSV_NAME, 'mi_timeseries.png', SUMMARY_NAME]
    (out / 'notes.txt').write_text('mine\n')
    capsys.readouterr()
    # A second run into it is refused before it starts, and changes nothing.
    rc, _ = run_cli(bag, *args, '--no-plots')
    err = capsys.readouterr().err
    assert rc == 1 and err.count('\n') == 1
    assert 'output directory' in err and 'not empty' in err and '--overwrite' in err
    assert sorted(p.name for p in out.iterdir()) == sorted(first + ['notes.txt'])
    # --overwrite: the first run's files that this run does not write are gone, other files
    # stay, and everything the summary lists was written by this run.
    rc, _ = run_cli(bag, *args, '--no-plots', '--overwrite')
    assert rc == 0
    assert sorted(p.name for p in out.iterdir()) == [CSV_NAME, 'notes.txt', SUMMARY_NAME]
    summary = json.loads((out / SUMMARY_NAME).read_text())
    assert sorted(Path(f).name for f in summary['files']) == [CSV_NAME, SUMMARY_NAME]


def test_output_directory_is_checked_before_the_analysis(tmp_path, capsys, monkeypatch):
    import infonet_ros.cli.analyze as analyze

    def must_not_run(*args, **kwargs):
        raise AssertionError('the analysis ran before the output directory was checked')
    monkeypatch.setattr(analyze, 'run_analysis', must_not_run)
    bag = write_bag(tmp_path / 'bag', make_signals(n=100))
    a_file = tmp_path / 'a_file'
    a_file.write_text('x\n')
    for target, words in ((a_file, 'is a file, not a directory'),
                          (a_file / 'sub', 'cannot create output directory')):
        rc = main([str(bag), '-o', str(target), '--pair', PAIR_DEP, '--no-progress'])
        err = capsys.readouterr().err
        assert rc == 1 and err.startswith('infonet-ros analyze: error:')
        assert words in err and err.count('\n') == 1
    assert a_file.read_text() == 'x\n'


@pytest.mark.skipif(os.geteuid() == 0, reason='root writes into read-only directories')
def test_unwritable_output_directory_is_refused_before_the_analysis(tmp_path, capsys):
    bag = write_bag(tmp_path / 'bag', make_signals(n=100))
    locked = tmp_path / 'locked'
    locked.mkdir()
    locked.chmod(0o500)
    try:
        rc = main([str(bag), '-o', str(locked / 'out'), '--pair', PAIR_DEP, '--no-progress'])
    finally:
        locked.chmod(0o700)
    err = capsys.readouterr().err
    assert rc == 1 and 'cannot create output directory' in err and err.count('\n') == 1


@pytest.mark.parametrize('extra, words', [
    (['--weights', 'no/such/weights.pt'], 'no/such/weights.pt'),
    (['--weights', '{corrupt}'], 'cannot read InfoNet weights file'),
    (['--params', '{list_params}'], 'must be a mapping'),
    (['--device', 'cuda'], 'CUDA'),
    (['--plot-pairs', 'nope'], "unknown pair(s) ['nope']"),
    (['--windows-from-topic', '/infonet/mi'], '/infonet/mi is not in the bag'),
    (['--windows-from-topic', '/a/imu'], 'not one of infonet_ros/msg/MutualInformationArray'),
])
def test_user_errors_are_one_line(tmp_path, capsys, run_cli, extra, words):
    if extra[-1] == 'cuda' and torch_has_cuda():
        pytest.skip('checks the error raised without a GPU')
    corrupt = tmp_path / 'corrupt.pt'
    corrupt.write_bytes(b'PK\x03\x04 not a checkpoint' * 10)
    list_params = tmp_path / 'list.yaml'
    list_params.write_text('/**:\n  ros__parameters: [window, 300]\n')
    extra = [e.format(corrupt=corrupt, list_params=list_params) for e in extra]
    bag = write_bag(tmp_path / 'bag', make_signals(n=100))
    rc, out = run_cli(bag, '--pair', PAIR_DEP, '--window', '40', *extra)
    err = capsys.readouterr().err
    assert rc == 1 and err.startswith('infonet-ros analyze: error:') and words in err
    assert err.count('\n') == 1  # one line, no traceback
    assert not out.exists()  # the directory made for the run is removed again


def torch_has_cuda() -> bool:
    import torch
    return torch.cuda.is_available()


def test_misspelled_parameter_is_named_with_the_nearest_one(tmp_path, capsys, run_cli):
    bag = write_bag(tmp_path / 'bag', make_signals(n=100))
    params = tmp_path / 'mi.yaml'
    params.write_text(f"""/**:
  ros__parameters:
    pairs: ['{PAIR_DEP}']
    window: 40
    windw: 300
    use_sim_time: true
""")
    rc, out = run_cli(bag, '--params', str(params), '--update-every', '30', '--no-plots')
    assert rc == 0
    err = capsys.readouterr().err
    assert err == (f"infonet-ros analyze: warning: {params}: unknown parameter 'windw' is "
                   "ignored; did you mean 'window'?\n")  # use_sim_time: every node has it
    summary = json.loads((out / SUMMARY_NAME).read_text())
    assert any("'windw'" in w and "'window'" in w for w in summary['warnings'])
    assert {r['sample_count'] for r in read_csv(out / CSV_NAME)} == {40}


def _damaged_imu_bag(path, signals, damaged):
    """Bag of write_bag's messages (mcap), the ``damaged`` {topic: indices} cut short."""
    from rosbags.rosbag2 import StoragePlugin, Writer
    from rosbags.typesys import get_typestore, Stores
    from infonet_ros.offline.imu_bag import imu_message, IMU_TYPE
    ts = get_typestore(Stores.ROS2_KILTED)
    t_ns = [int(round(s * 1e9)) for s in stamps()]
    with Writer(path, version=9, storage_plugin=StoragePlugin.MCAP) as wr:
        conns = {topic: wr.add_connection(topic, IMU_TYPE, typestore=ts) for topic in signals}
        for k, ns in enumerate(t_ns):
            for topic, (acc, gyro) in signals.items():
                raw = bytes(ts.serialize_cdr(imu_message(ts, ns, 'imu', acc[k], gyro[k]),
                                             IMU_TYPE))
                wr.write(conns[topic], ns, raw[:100] if k in damaged.get(topic, ()) else raw)
    return path


def test_undecodable_messages_are_skipped_counted_and_strict_fails(tmp_path, capsys, run_cli):
    sig = make_signals()
    bag = _damaged_imu_bag(tmp_path / 'bag', sig, {'/a/imu': {120}, '/b/imu': {7, 200}})
    args = ['--pair', PAIR_DEP, '--window', '40', '--update-every', '20', '--no-plots']
    rc, out = run_cli(bag, *args)
    captured = capsys.readouterr()
    assert rc == 0 and captured.err == ''
    assert '/a/imu [sensor_msgs/msg/Imu] 299/300 accepted' in captured.out
    assert 'undecodable, skipped: 1' in captured.out and 'undecodable, skipped: 2' in \
        captured.out
    assert 'warning: /b/imu: 2 undecodable message(s) skipped (first: cannot decode message 7' \
        in captured.out
    summary = json.loads((out / SUMMARY_NAME).read_text())
    assert summary['complete'] is True and summary['undecodable_messages'] == 3
    assert summary['topics']['/a/imu']['undecodable'] == 1
    assert summary['topics']['/b/imu']['undecodable'] == 2
    rows = read_csv(out / CSV_NAME)
    # The analysis went on past the damaged messages, to the end of the bag.
    assert max(r['window_end'] for r in rows) == pytest.approx(stamps()[-1])
    # --strict: the same outputs, exit 1 with one line saying why.
    rc, out2 = run_cli(bag, *args, '--strict', name='strict')
    err = capsys.readouterr().err
    assert rc == 1 and err == ('infonet-ros analyze: error: 3 undecodable message(s) were '
                               'skipped (--strict)\n')
    assert [r['mi'] for r in read_csv(out2 / CSV_NAME)] == [r['mi'] for r in rows]
    # A topic none of whose messages decodes is a definition problem: an error.
    bag = _damaged_imu_bag(tmp_path / 'bad', sig, {'/b/imu': set(range(300))})
    rc, out3 = run_cli(bag, *args, name='out_bad')
    err = capsys.readouterr().err
    assert rc == 1 and 'none of the first 10 messages of /b/imu could be decoded' in err
    assert err.count('\n') == 1 and not out3.exists()


def test_info_lists_topics(tmp_path, capsys):
    bag = write_bag(tmp_path / 'bag', make_signals(n=60), storage='sqlite3')
    assert main([str(bag), '--info']) == 0
    out = capsys.readouterr().out
    assert '/a/imu' in out and 'sensor_msgs/msg/Imu' in out and '60 msgs' in out
    assert 'stored definition' in out


def test_precision_flag_reaches_the_estimates_and_the_summary(tmp_path, estimator, run_cli):
    bag = write_bag(tmp_path / 'bag', make_signals())
    args = ('--pair', PAIR_DEP, '--pair-name', 'dep', '--window', '64', '--update-every', '40',
            '--sync-mode', 'interpolate', '--no-plots')
    runs = {}
    for precision in ('fp32', 'auto'):
        rc, out = run_cli(bag, *args, '--precision', precision, name=precision)
        assert rc == 0
        runs[precision] = (read_csv(out / CSV_NAME),
                           json.loads((out / SUMMARY_NAME).read_text())['settings'])
    assert runs['fp32'][1]['precision'] == 'fp32'
    # 'auto' says what it resolved to on this machine, as the estimator does.
    assert runs['auto'][1]['precision'] == estimator.precision in ('fp32', 'bf16')
    fp32, auto = ([r['mi'] for r in rows] for rows, _ in (runs['fp32'], runs['auto']))
    assert len(fp32) == len(auto) > 3
    np.testing.assert_allclose(auto, fp32, atol=0.02)
    assert (auto == fp32) == (estimator.precision == 'fp32')
