# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
A bag replayed into the running mi_node over DDS gives the numbers of the offline analysis.

The walking recording (shipped, real IMU data) is converted to a bag; this test plays it like
``ros2 bag play --clock``: the recorded CDR bytes are published with rclpy on their topics, in
recorded order, and /clock carries the recorded time, faster than real time. The node runs in a
subprocess with ``use_sim_time`` and the parameter YAML that the offline analysis reads too.
Every estimate the node publishes is compared with the offline estimate of the same window
(``offline.run.windows_at``: same pair, same end stamp), and the node's final windows with the
last rows of ``offline.run.run_analysis``.
"""

import os
from pathlib import Path
import shutil
import sys

import numpy as np
import pytest

rclpy = pytest.importorskip('rclpy')
pytest.importorskip('rosbags')

from rclpy.executors import SingleThreadedExecutor  # noqa: E402
from rclpy.qos import QoSHistoryPolicy, QoSProfile, QoSReliabilityPolicy  # noqa: E402
from rclpy.serialization import deserialize_message  # noqa: E402
from rosgraph_msgs.msg import Clock  # noqa: E402
from sensor_msgs.msg import Imu  # noqa: E402
import yaml  # noqa: E402

from infonet_ros.core.estimator import InfoNetEstimator  # noqa: E402
from infonet_ros.core.model import DEFAULT_WEIGHTS  # noqa: E402
from infonet_ros.msg import MutualInformationArray  # noqa: E402
from infonet_ros.offline import imu_bag  # noqa: E402
from infonet_ros.offline.run import run_analysis, windows_at  # noqa: E402
from infonet_ros.streams.batch_estimate import estimate_windows  # noqa: E402
from infonet_ros.streams.node_config import NodeConfig  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / 'data' / 'xsens_walking'
SAMPLES = 1200  # 10 s of the recording at 120 Hz: standing, then walking
PERIOD_S = 0.25  # update period of the node [s of recorded time]
UPDATE_WAIT_S = 20.0  # wait for the node's estimate of one update (bounds a stall)
TOLERANCE = 1e-5  # nats
DISCOVERY_S = 120.0  # bound on start-up + discovery (torch import under load); not a speed test
RELIABLE_DEEP = QoSProfile(depth=10000, history=QoSHistoryPolicy.KEEP_LAST,
                           reliability=QoSReliabilityPolicy.RELIABLE)
ACC = 'linear_acceleration.x,linear_acceleration.y,linear_acceleration.z'
PAIRS = {
    'gyro_z': '/thigh/imu:angular_velocity.z ~ /shank/imu:angular_velocity.z',
    'acc_x': '/thigh/imu:linear_acceleration.x ~ /shank/imu:linear_acceleration.x',
    'thigh_acc_gyro': '/thigh/imu:linear_acceleration.x ~ /thigh/imu:angular_velocity.y',
    'acc_xyz': f'/thigh/imu:{ACC} ~ /shank/imu:{ACC}',
}


def secs(t):
    return t.sec + t.nanosec * 1e-9


@pytest.fixture
def walking_bag(tmp_path):
    recs = []
    for topic, name in (('/thigh/imu', 'upperLeg'), ('/shank/imu', 'lowerLeg')):
        r = imu_bag.read_xsens(DATA / f'walking_xsens_{name}.txt')
        r.counter, r.acc, r.gyro = r.counter[:SAMPLES], r.acc[:SAMPLES], r.gyro[:SAMPLES]
        recs.append((topic, r))
    path = tmp_path / 'walking'
    imu_bag.write_imu_bag(path, recs, 'mcap', start_time=100.0)
    return path


def play(bag_path, publishers, clock_pub, wait_update, period_s, warmup_s):
    """
    Publish the bag's CDR bytes in recorded order, /clock at the recorded time.

    Messages go out in chunks of one update period of recorded time; after each chunk /clock
    moves to the chunk's end (the node's timer fires) and, once windows can be full
    (``warmup_s`` after the first message), the player waits for the node's estimate of that
    update before going on: faster than real time, without skipping updates for a busy node.
    Returns the last receive time [ns].
    """
    from rosbags.rosbag2 import Reader
    period_ns = int(period_s * 1e9)
    with Reader(bag_path) as reader:
        msgs = [(c.topic, ns, bytes(raw)) for c, ns, raw in reader.messages()]
    t_first = msgs[0][1]
    clock_pub.publish(Clock(clock=_time(t_first)))
    i = 0
    chunk_end = t_first + period_ns
    while i < len(msgs):
        while i < len(msgs) and msgs[i][1] <= chunk_end:
            topic, _, raw = msgs[i]
            publishers[topic].publish(raw)
            i += 1
        clock_pub.publish(Clock(clock=_time(chunk_end)))
        if chunk_end - t_first >= warmup_s * 1e9:
            wait_update()
        chunk_end += period_ns
    return msgs[-1][1]


def with_output(input_bag, path, arrays):
    """Write a bag of ``input_bag``'s messages and ``arrays`` on /infonet/mi (as recorded)."""
    from rclpy.serialization import serialize_message
    from rosbags.rosbag2 import Reader, Writer
    from rosbags.typesys import get_types_from_msg, get_typestore, Stores
    store = get_typestore(Stores.ROS2_KILTED)
    msg_dir = Path(__file__).resolve().parents[2] / 'msg'
    for name in ('MutualInformation', 'MutualInformationArray'):
        store.register(get_types_from_msg((msg_dir / f'{name}.msg').read_text(),
                                          f'infonet_ros/msg/{name}'))
    with Reader(input_bag) as reader, Writer(path, version=8) as writer:
        conns = {c.topic: writer.add_connection(c.topic, c.msgtype, typestore=store)
                 for c in reader.connections}
        out = writer.add_connection('/infonet/mi', 'infonet_ros/msg/MutualInformationArray',
                                    typestore=store)
        events = [(ns, conns[c.topic], bytes(raw)) for c, ns, raw in reader.messages()]
        last = max(ns for ns, _, _ in events)
        events += [(last + k, out, bytes(serialize_message(a))) for k, a in enumerate(arrays)]
        for ns, conn, raw in sorted(events, key=lambda e: e[0]):
            writer.write(conn, ns, raw)
    return path


def _time(ns):
    from builtin_interfaces.msg import Time
    return Time(sec=int(ns // 1_000_000_000), nanosec=int(ns % 1_000_000_000))


def test_replayed_bag_matches_offline_analysis(tmp_path, walking_bag, rclpy_context,
                                               spin_until, node_process):
    assert os.path.isfile(DEFAULT_WEIGHTS), f'shipped weights missing: {DEFAULT_WEIGHTS}'
    weights = tmp_path / 'weights.pt'
    shutil.copyfile(DEFAULT_WEIGHTS, weights)
    params_file = tmp_path / 'mi.yaml'
    params_file.write_text(yaml.safe_dump({'/**': {'ros__parameters': {
        'topics': ['/thigh/imu=sensor_msgs/msg/Imu', '/shank/imu=sensor_msgs/msg/Imu'],
        'pairs': list(PAIRS.values()), 'pair_names': list(PAIRS), 'window': 128,
        'update_rate': 1.0 / PERIOD_S, 'sync_mode': 'interpolate', 'n_slices': 16, 'slice_seed': 0,
        'weights': str(weights), 'device': 'cpu', 'qos_reliability': 'reliable',
        'qos_depth': 10000}}}))

    node = rclpy.create_node('replay_player', context=rclpy_context)
    executor = SingleThreadedExecutor(context=rclpy_context)
    executor.add_node(node)
    arrays = []
    node.create_subscription(MutualInformationArray, '/infonet/mi', arrays.append,
                             QoSProfile(depth=1000, reliability=QoSReliabilityPolicy.RELIABLE))
    pubs = {t: node.create_publisher(Imu, t, RELIABLE_DEEP) for t in ('/thigh/imu',
                                                                      '/shank/imu')}
    clock_pub = node.create_publisher(Clock, '/clock', 10)
    proc = node_process([sys.executable, '-m', 'infonet_ros.ros.mi_node', '--ros-args',
                         '--params-file', str(params_file), '-p', 'use_sim_time:=true'])
    connected = spin_until(executor, lambda: not proc.alive() or (
        all(p.get_subscription_count() > 0 for p in pubs.values())
        and clock_pub.get_subscription_count() > 0
        and node.count_publishers('/infonet/mi') > 0), DISCOVERY_S)
    assert proc.alive(), f'mi_node exited early:\n{proc.output()}'
    assert connected, f'mi_node did not connect within {DISCOVERY_S} s:\n{proc.output()}'

    def estimates():
        return [e for a in arrays for e in a.estimates]

    def wait_update():
        # The node's executor may run the timer before it took the chunk's messages, so an
        # update can find no new full window and publish nothing: wait, but not forever.
        n = len(arrays)
        spin_until(executor, lambda: len(arrays) > n or not proc.alive(), UPDATE_WAIT_S)
        assert proc.alive(), f'mi_node exited:\n{proc.output()}'

    # Windows of 128 samples at 120 Hz are full 1.07 s after the first message.
    last_ns = play(walking_bag, pubs, clock_pub, wait_update, PERIOD_S, warmup_s=1.2)
    last_s = last_ns * 1e-9

    def final_seen():
        return {e.pair_name for e in estimates() if abs(secs(e.window_end) - last_s) < 1e-6}

    # The node's executor may run the timer before it took every message of the last chunk:
    # step the clock on until each pair's final window (ending at the last sample) came.
    t_ns = last_ns
    for _ in range(5):
        if final_seen() == set(PAIRS):
            break
        t_ns += int(PERIOD_S * 1e9)
        clock_pub.publish(Clock(clock=_time(t_ns)))
        n = len(arrays)
        spin_until(executor, lambda: len(arrays) > n, 20.0)
    assert final_seen() == set(PAIRS), f'final windows missing:\n{proc.output()}'

    received = estimates()
    by_pair = {p: [e for e in received if e.pair_name == p] for p in PAIRS}
    # About one estimate per pair and update period once windows are full (~35).
    n_updates = len(arrays)
    assert n_updates >= 10, n_updates
    assert all(len(v) == n_updates for v in by_pair.values())

    # Offline, from the same YAML and the same bag: the window of each published estimate.
    cfg = NodeConfig.from_yaml(params_file)
    wins = windows_at(walking_bag, cfg, [(e.pair_name, secs(e.window_end)) for e in received])
    assert all(w is not None for w in wins)
    est = InfoNetEstimator.from_pretrained(str(weights), device='cpu')
    offline, _ = estimate_windows(est, wins, cfg.n_slices, cfg.slice_seed)
    for e, w, o in zip(received, wins, offline):
        assert w.n == e.sample_count == 128
        assert w.start == pytest.approx(secs(e.window_start), abs=1e-6)
        assert e.method == o.method and e.n_slices == o.n_slices
        assert e.mi == pytest.approx(o.mi, abs=TOLERANCE), e.pair_name
    assert by_pair['acc_xyz'][0].method == 'infonet-sliced'

    # The analysis CLI path (rate updates from the YAML) ends with the same final windows.
    result = run_analysis(walking_bag, cfg, estimator=est, keep_signals=False)
    for p in PAIRS:
        last_offline = [r.estimate for r in result.records if r.estimate.pair.name == p][-1]
        last_node = by_pair[p][-1]
        assert last_offline.window_end == pytest.approx(last_s, abs=1e-6)
        assert last_offline.mi == pytest.approx(last_node.mi, abs=TOLERANCE)
    # The user's recipe: input and the node's output in one bag, then --windows-from-topic
    # estimates exactly the published windows offline and reports the largest difference.
    combined = with_output(walking_bag, tmp_path / 'replay_record', arrays)
    import csv
    from infonet_ros.cli.analyze import main as analyze
    out_dir = tmp_path / 'compared'
    assert analyze([str(combined), '--params', str(params_file), '-o', str(out_dir),
                    '--windows-from-topic', '/infonet/mi', '--no-progress']) == 0
    with open(out_dir / 'published_windows.csv', newline='') as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == len(received) and all(r['matched'] == 'True' for r in rows)
    for field in ('mi', 'p_value', 'mi_lower', 'mi_upper'):
        diffs = [abs(float(r[f'{field}_node']) - float(r[f'{field}_offline'])) for r in rows]
        assert max(diffs) < TOLERANCE, field
    # rclpy decodes the bytes that the offline reader decodes: the same values.
    from rosbags.rosbag2 import Reader
    from infonet_ros.offline.bag_reader import BagSource
    with Reader(walking_bag) as reader:
        raws = [(c.topic, bytes(r)) for c, _, r in reader.messages()][:10]
    with BagSource(walking_bag) as bag:
        decoded = [m for _, _, m in bag.messages(['/thigh/imu', '/shank/imu'])][:10]
    for (_, raw), m in zip(raws, decoded):
        r = deserialize_message(raw, Imu)
        assert np.array_equal([r.linear_acceleration.x, r.angular_velocity.z],
                              [m.linear_acceleration.x, m.angular_velocity.z])
