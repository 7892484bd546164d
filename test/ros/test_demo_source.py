# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The demo source: a coupling that cycles, and two IMU topics over DDS."""

import math
import sys

import numpy as np
import pytest

from infonet_ros.ros.demo_source import AXES, CoupledImuSimulator, coupling


def test_coupling_cycle():
    assert coupling(0.0, 60.0, 0.95) == 0.0
    assert coupling(30.0, 60.0, 0.95) == pytest.approx(0.95)
    assert coupling(60.0, 60.0, 0.95) == pytest.approx(0.0, abs=1e-12)
    assert coupling(15.0, 60.0, 0.95) == pytest.approx(0.475)


def _sample(sim, times):
    # Both IMUs at each time, in time order, as the node's timers call them.
    rows = [(sim.imu_a(t), sim.imu_b(t)) for t in times]
    return np.array([r[0] for r in rows]), np.array([r[1] for r in rows])


def test_correlation_follows_the_cycle_across_and_within_imus():
    # A long period and a short time constant: coupling ~constant over the sample, samples
    # ~independent, so the sample correlation estimates c(t).
    period = 1e5
    sim = CoupledImuSimulator(period=period, rho_max=0.9, tau=1e-4, seed=1)
    start = np.arange(3000) * 0.01
    a, b = _sample(sim, start)
    mid = period / 2 + np.arange(3000) * 0.01
    a2, b2 = _sample(sim, mid)
    for k in range(len(AXES)):
        assert abs(np.corrcoef(a[:, k], b[:, k])[0, 1]) < 0.08  # c ~ 0 at the start
        assert np.corrcoef(a2[:, k], b2[:, k])[0, 1] == pytest.approx(0.9, abs=0.03)
    # Within IMU A, acc_y / gyro_x run in antiphase: strong at the start, ~0 mid-cycle.
    assert np.corrcoef(a[:, 1], a[:, 3])[0, 1] == pytest.approx(0.9, abs=0.03)
    assert abs(np.corrcoef(a2[:, 1], a2[:, 3])[0, 1]) < 0.08


def test_signals_are_smooth_and_seeded():
    t = np.arange(500) * 0.01
    a1, _ = _sample(CoupledImuSimulator(tau=0.2, seed=3), t)
    a2, _ = _sample(CoupledImuSimulator(tau=0.2, seed=3), t)
    np.testing.assert_array_equal(a1, a2)
    lag1 = np.corrcoef(a1[:-1, 0], a1[1:, 0])[0, 1]
    assert lag1 == pytest.approx(math.exp(-0.01 / 0.2), abs=0.05)


def test_demo_source_publishes_both_imus(rclpy_context, spin_until, node_process):
    rclpy = pytest.importorskip('rclpy')
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.qos import qos_profile_sensor_data
    from sensor_msgs.msg import Imu
    node = rclpy.create_node('demo_probe', context=rclpy_context)
    executor = SingleThreadedExecutor(context=rclpy_context)
    executor.add_node(node)
    got = {'/demo/imu_a': [], '/demo/imu_b': []}
    for topic, lst in got.items():
        node.create_subscription(Imu, topic, lst.append, qos_profile_sensor_data)
    # Relative topic names: the namespace moves them (two demos in two namespaces are apart).
    proc = node_process([sys.executable, '-m', 'infonet_ros.ros.demo_source', '--ros-args',
                         '-r', '__ns:=/demo', '-p', 'rate_a:=50.0', '-p', 'rate_b:=25.0'])
    # The bound covers start-up and discovery on a loaded machine; it is not a speed test.
    assert spin_until(executor, lambda: all(len(v) >= 5 for v in got.values()), 120.0), \
        proc.output()
    assert proc.alive()
    for topic, msgs in got.items():
        stamps = [m.header.stamp.sec + m.header.stamp.nanosec * 1e-9 for m in msgs]
        assert all(s1 > s0 for s0, s1 in zip(stamps, stamps[1:])), topic
        assert msgs[0].header.frame_id == topic.rsplit('/', 1)[1]
        assert all(abs(m.linear_acceleration.z - 9.81) < 10 for m in msgs)
        assert msgs[0].orientation_covariance[0] == -1.0
