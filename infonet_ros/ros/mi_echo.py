# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
``mi_echo``: print each MutualInformationArray as one line per pair.

    mi_echo [--topic infonet/mi] [--count N] [--ros-args ...]

Line format, one per estimate::

    <stamp>  <pair>  MI <mi> [<mi_lower>, <mi_upper>] nats  p=<p_value>  (n=<N>[, sliced S])

(``nan`` where the node computed no uncertainty). Stops after ``--count`` estimates (0: run
until Ctrl-C).
"""

from __future__ import annotations

import argparse
import sys

import rclpy
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from rclpy.qos import QoSProfile, QoSReliabilityPolicy

from infonet_ros.msg import MutualInformationArray
from infonet_ros.ros.process_exit import ignore_interrupts


def format_array(arr) -> list[str]:
    """One text line per estimate of a MutualInformationArray."""
    lines = []
    for e in arr.estimates:
        stamp = e.header.stamp.sec + e.header.stamp.nanosec * 1e-9
        extra = f', sliced {e.n_slices}' if e.sliced else ''
        lines.append(f'{stamp:.3f}  {e.pair_name}  MI {e.mi:7.3f} [{e.mi_lower:.3f}, '
                     f'{e.mi_upper:.3f}] nats  p={e.p_value:.3g}  (n={e.sample_count}{extra})')
    return lines


class MiEcho(Node):
    """Subscribes to the MI array topic and prints it."""

    def __init__(self, topic: str, count: int):
        super().__init__('mi_echo')
        self.remaining = count
        self.done = False
        qos = QoSProfile(depth=10, reliability=QoSReliabilityPolicy.RELIABLE)
        self.create_subscription(MutualInformationArray, topic, self.on_array, qos)

    def on_array(self, arr):
        """Print the estimates of one array, up to the count."""
        lines = format_array(arr)
        if self.remaining > 0:
            lines = lines[:self.remaining]
            self.remaining -= len(lines)
            self.done = self.remaining == 0
        for line in lines:
            print(line, flush=True)


def main(args=None):
    """Run until Ctrl-C or --count arrays."""
    argv = sys.argv if args is None else args
    rclpy.init(args=argv)
    parser = argparse.ArgumentParser(prog='mi_echo', description=__doc__.strip().split('\n')[0])
    parser.add_argument('--topic', default='infonet/mi', help='MutualInformationArray topic')
    parser.add_argument('--count', type=int, default=0,
                        help='stop after N estimates (0: never)')
    opts = parser.parse_args(rclpy.utilities.remove_ros_args(argv)[1:])
    if opts.count < 0:
        parser.error('--count must be >= 0')
    node = None
    try:
        node = MiEcho(opts.topic, opts.count)
        while not node.done:
            rclpy.spin_once(node, timeout_sec=0.5)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        ignore_interrupts()  # a second Ctrl-C (terminal and launch) must not end in a trace
        if node is not None:
            node.destroy_node()
        rclpy.try_shutdown()


if __name__ == '__main__':
    main()
