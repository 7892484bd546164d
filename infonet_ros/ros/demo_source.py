# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
``demo_source``: two simulated IMUs whose coupling rises and falls over time.

Publishes sensor_msgs/Imu on ``imu_a`` (``rate_a`` Hz) and ``imu_b`` (``rate_b``
Hz). Each axis of IMU A follows a smooth random process (first-order autoregressive, time
constant ``tau``); IMU B reads the same axis mixed with its own independent process::

    b = c(t) * a + sqrt(1 - c(t)^2) * own,    c(t) = rho_max * (1 - cos(2 pi t / period)) / 2

so the correlation of the two IMUs cycles between 0 and ``rho_max`` every ``period`` seconds
(Gaussian MI -0.5 log(1 - c^2): 0 to 1.16 nats for rho_max 0.95). Within IMU A, the pair
``linear_acceleration.y`` / ``angular_velocity.x`` is coupled in antiphase
(``rho_max - c(t)``), so a same-topic pair falls while the cross-IMU pairs rise.

The simulation is pure numpy (:class:`CoupledImuSimulator`), seeded, and tested without ROS.
"""

from __future__ import annotations

import math

import numpy as np
from rcl_interfaces.msg import FloatingPointRange, ParameterDescriptor
import rclpy
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import Imu

from infonet_ros.ros.process_exit import ignore_interrupts

AXES = ('acc_x', 'acc_y', 'acc_z', 'gyro_x', 'gyro_y', 'gyro_z')


def coupling(t: float, period: float, rho_max: float) -> float:
    """Correlation between the IMUs at time t (0 at t = 0, rho_max at period / 2)."""
    return rho_max * 0.5 * (1.0 - math.cos(2.0 * math.pi * t / period))


class _Ar1:
    """
    Unit-variance first-order autoregressive processes sampled at increasing times.

    A time earlier than the last one (two timers firing out of order) reads the last value.
    """

    def __init__(self, n: int, tau: float, rng: np.random.Generator):
        self.tau, self.rng = tau, rng
        self.value = rng.standard_normal(n)
        self.t = None

    def at(self, t: float) -> np.ndarray:
        if self.t is not None and t > self.t:
            a = math.exp(-(t - self.t) / self.tau)
            noise = self.rng.standard_normal(self.value.shape)
            self.value = a * self.value + math.sqrt(1.0 - a * a) * noise
        self.t = t if self.t is None else max(t, self.t)
        return self.value


class CoupledImuSimulator:
    """Six axes per IMU; IMU B mixes A's axes with its own by coupling(t)."""

    def __init__(self, period: float = 60.0, rho_max: float = 0.95, tau: float = 0.2,
                 seed: int = 0):
        rng = np.random.default_rng(seed)
        self.period, self.rho_max = period, rho_max
        self._a = _Ar1(len(AXES), tau, rng)
        self._b = _Ar1(len(AXES), tau, rng)
        # Antiphase partner of A's acc_y (index 1) for its gyro_x (index 3).
        self._a_gyro_x = _Ar1(1, tau, rng)

    def imu_a(self, t: float) -> np.ndarray:
        """Six axis values of IMU A at time t [s since start]."""
        v = self._a.at(t).copy()
        c2 = self.rho_max - coupling(t, self.period, self.rho_max)
        v[3] = c2 * v[1] + math.sqrt(1.0 - c2 * c2) * self._a_gyro_x.at(t)[0]
        return v

    def imu_b(self, t: float) -> np.ndarray:
        """Six axis values of IMU B at time t: A's values at t mixed with B's own."""
        c = coupling(t, self.period, self.rho_max)
        return c * self.imu_a(t) + math.sqrt(1.0 - c * c) * self._b.at(t)


def _fill_imu(msg, v: np.ndarray, stamp, frame_id: str):
    msg.header.stamp = stamp
    msg.header.frame_id = frame_id
    msg.orientation_covariance[0] = -1.0  # orientation not provided
    acc, gyro = msg.linear_acceleration, msg.angular_velocity
    acc.x, acc.y, acc.z = float(v[0]), float(v[1]), float(v[2]) + 9.81
    gyro.x, gyro.y, gyro.z = float(v[3]), float(v[4]), float(v[5])
    return msg


class DemoSource(Node):
    """Publishes the two simulated IMUs."""

    def __init__(self):
        super().__init__('demo_source')

        def rng(lo, hi, text):
            return ParameterDescriptor(description=text, read_only=True,
                                       floating_point_range=[FloatingPointRange(
                                           from_value=lo, to_value=hi, step=0.0)])
        p = {n: self.declare_parameter(n, d, rng(lo, hi, text)).value
             for n, d, lo, hi, text in (
                 ('rate_a', 100.0, 0.1, 10000.0, 'Rate of imu_a [Hz].'),
                 ('rate_b', 50.0, 0.1, 10000.0, 'Rate of imu_b [Hz].'),
                 ('period', 60.0, 1.0, 1e6, 'Period of the coupling cycle [s].'),
                 ('rho_max', 0.95, 0.0, 0.999, 'Largest correlation of the cycle.'),
                 ('tau', 0.2, 0.001, 1e3, 'Time constant of the signals [s].'))}
        seed = self.declare_parameter('seed', 0, ParameterDescriptor(
            description='Seed of the simulation.', read_only=True)).value
        self.sim = CoupledImuSimulator(p['period'], p['rho_max'], p['tau'], seed)
        self.t0 = self.get_clock().now()
        # Relative names: a namespace (launch argument) moves them with the MI node's inputs.
        self.pub_a = self.create_publisher(Imu, 'imu_a', qos_profile_sensor_data)
        self.pub_b = self.create_publisher(Imu, 'imu_b', qos_profile_sensor_data)
        self.create_timer(1.0 / p['rate_a'], self.tick_a)
        self.create_timer(1.0 / p['rate_b'], self.tick_b)
        self.get_logger().info(
            f"publishing {self.pub_a.topic_name} at {p['rate_a']:g} Hz and "
            f"{self.pub_b.topic_name} at {p['rate_b']:g} Hz; coupling cycle "
            f"{p['period']:g} s")

    def _tick(self, pub, values_at, frame):
        now = self.get_clock().now()
        t = (now - self.t0).nanoseconds * 1e-9
        pub.publish(_fill_imu(Imu(), values_at(t), now.to_msg(), frame))

    def tick_a(self):
        self._tick(self.pub_a, self.sim.imu_a, 'imu_a')

    def tick_b(self):
        self._tick(self.pub_b, self.sim.imu_b, 'imu_b')


def main(args=None):
    """Run the demo publisher until Ctrl-C."""
    rclpy.init(args=args)
    node = None
    try:
        node = DemoSource()
        rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        ignore_interrupts()  # a second Ctrl-C (terminal and launch) must not end in a trace
        if node is not None:
            node.destroy_node()
        rclpy.try_shutdown()


if __name__ == '__main__':
    main()
