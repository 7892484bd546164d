# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
mi_node's names over real DDS.

Namespaces, remapping, diagnostics names, late subscribers, and two publishers on one
watched topic.
"""

import numpy as np
import pytest

rclpy = pytest.importorskip('rclpy')

from rclpy.qos import QoSDurabilityPolicy, QoSProfile, QoSReliabilityPolicy  # noqa: E402
from sensor_msgs.msg import Imu  # noqa: E402
from test_mi_node_dds import (Harness, imu, node_cmd, T0_NS,  # noqa: E402
                              weights, write_params)
from test_node_faults_dds import status, WARN  # noqa: E402

from infonet_ros.msg import MutualInformationArray  # noqa: E402

__all__ = ['weights']  # a fixture of test_mi_node_dds, used here
PAIR = 'imu_a:linear_acceleration.x ~ imu_b:linear_acceleration.x'
RELATIVE_IMUS = ['imu_a=sensor_msgs/msg/Imu', 'imu_b=sensor_msgs/msg/Imu']


def correlated(rng, n):
    a = rng.standard_normal(n)
    return a, 0.9 * a + np.sqrt(1 - 0.81) * rng.standard_normal(n)


def test_namespace_and_remapping_move_every_name(tmp_path, weights, rclpy_context, spin_until,
                                                 node_process):
    # Relative inputs in namespace /r1, imu_b remapped; transient_local output.
    from diagnostic_msgs.msg import DiagnosticArray
    params = write_params(tmp_path, topics=RELATIVE_IMUS, pairs=[PAIR], pair_names=['ab'],
                          window=64, update_rate=5.0, weights=weights, device='cpu',
                          jit=False, sync_mode='interpolate', qos_reliability='reliable',
                          qos_depth=1000, diagnostics_period=0.5,
                          output_durability='transient_local', uncertainty='off')
    h = Harness(rclpy_context, spin_until)
    arrays, diags = [], []
    reliable = QoSProfile(depth=10, reliability=QoSReliabilityPolicy.RELIABLE)
    h.node.create_subscription(MutualInformationArray, '/r1/infonet/mi', arrays.append,
                               reliable)
    h.node.create_subscription(DiagnosticArray, '/diagnostics', diags.append, 10)
    ours = [h.publisher(Imu, t) for t in ('/r1/imu_a', '/r1/other_b')]
    decoy = [h.publisher(Imu, t) for t in ('/imu_a', '/imu_b')]  # another robot's
    proc = node_process(node_cmd(params, '-r', '__ns:=/r1', '-r', 'imu_b:=other_b'))
    assert h.spin_until(lambda: not proc.alive() or (
        all(p.get_subscription_count() > 0 for p in ours)
        and h.node.count_publishers('/r1/infonet/mi') > 0)), proc.output()
    assert h.node.count_publishers('/infonet/mi') == 0  # nothing left in the root namespace
    assert all(p.get_subscription_count() == 0 for p in decoy)
    rng = np.random.default_rng(0)
    a, b = correlated(rng, 100)
    for k in range(100):
        ns = T0_NS + 10_000_000 * k
        ours[0].publish(imu(ns, a[k]))
        ours[1].publish(imu(ns, b[k]))
        decoy[0].publish(imu(ns, rng.standard_normal()))
        decoy[1].publish(imu(ns, rng.standard_normal()))
    assert h.spin_until(lambda: arrays and diags), proc.output()
    e = arrays[-1].estimates[0]
    # Sources as the node resolved them: namespace and remapping applied.
    assert (e.x_source, e.y_source) == ('/r1/imu_a:linear_acceleration.x',
                                        '/r1/other_b:linear_acceleration.x')
    assert e.mi > 0.5  # the correlated pair, not the decoys
    names = {s.name for arr in diags for s in arr.status}
    assert '/r1/mi_node: estimator' in names and '/r1/mi_node: input imu_a' in names, names
    assert all(s.hardware_id for arr in diags for s in arr.status)
    # A decision node that starts late asks for transient_local: the last array at once.
    late = []
    h.node.create_subscription(MutualInformationArray, '/r1/infonet/mi', late.append,
                               QoSProfile(depth=1, reliability=QoSReliabilityPolicy.RELIABLE,
                                          durability=QoSDurabilityPolicy.TRANSIENT_LOCAL))
    assert h.spin_until(lambda: late), 'no array kept for a late transient_local subscriber'
    assert late[0].estimates[0].window_end == arrays[-1].estimates[0].window_end
    assert proc.alive()


def test_two_publishers_on_a_watched_topic_withhold_its_pairs(tmp_path, weights, rclpy_context,
                                                              spin_until, node_process):
    params = write_params(tmp_path, topics=['/m/a=sensor_msgs/msg/Imu',
                                            '/m/b=sensor_msgs/msg/Imu'],
                          pairs=['/m/a:linear_acceleration.x ~ /m/b:linear_acceleration.x'],
                          pair_names=['ab'], window=64, update_rate=5.0, weights=weights,
                          device='cpu', jit=False, sync_mode='interpolate',
                          qos_reliability='reliable', qos_depth=1000, diagnostics_period=0.3,
                          uncertainty='off')
    h = Harness(rclpy_context, spin_until)
    pub_a, pub_b = h.publisher(Imu, '/m/a'), h.publisher(Imu, '/m/b')
    second_a = h.node.create_publisher(Imu, '/m/a', 10)  # a second sensor on the same topic
    proc = node_process(node_cmd(params))
    h.wait_connected([pub_a, pub_b], proc)
    assert h.spin_until(lambda: status(h, 'input /m/a')[0] == WARN
                        and '2 publishers' in status(h, 'input /m/a')[1]), proc.output()
    rng = np.random.default_rng(1)
    a, b = correlated(rng, 400)
    k = 0

    def feed(count):
        nonlocal k
        for _ in range(count):
            ns = T0_NS + 10_000_000 * k
            pub_a.publish(imu(ns, a[k % 400]))
            pub_b.publish(imu(ns, b[k % 400]))
            k += 1
    feed(100)
    assert h.spin_until(lambda: 'withheld' in status(h, 'pair ab')[1]), proc.output()
    assert not h.estimates('ab')  # a full window, but two streams: nothing published
    assert 'publishers on /m/a' in proc.output()
    h.node.destroy_publisher(second_a)  # one publisher again: the pair resumes

    def estimating():
        feed(5)
        return bool(h.estimates('ab'))
    assert h.spin_until(estimating), proc.output()
    assert h.estimates('ab')[-1].mi > 0.5
    assert h.spin_until(lambda: 'publishers' not in status(h, 'input /m/a')[1])
    assert proc.alive()
