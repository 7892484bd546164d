# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
r"""
``infonet-ros imu-to-bag``: Xsens MT Manager text exports -> rosbag2 of sensor_msgs/Imu.

    infonet-ros imu-to-bag /thigh/imu=walking_xsens_upperLeg.txt \\
        /shank/imu=walking_xsens_lowerLeg.txt -o walking_bag [--storage mcap|sqlite3]

The conversion (input format, units, stamps) is :mod:`infonet_ros.offline.imu_bag`.
"""

from __future__ import annotations

import argparse
from pathlib import Path
import sys

from infonet_ros.cli.errors import print_error
from infonet_ros.offline.imu_bag import (ACC_UNITS, check_start_time, check_units,
                                         DEFAULT_START_TIME, default_topic, GYRO_UNITS,
                                         read_xsens, STORAGES, write_imu_bag)

PROG = 'infonet-ros imu-to-bag'


def build_parser() -> argparse.ArgumentParser:
    """Command-line options of ``infonet-ros imu-to-bag``."""
    p = argparse.ArgumentParser(
        prog=PROG,
        description='Convert Xsens MT Manager text exports into a rosbag2 of '
                    'sensor_msgs/msg/Imu, one topic per file, stamped at the recorded times.')
    p.add_argument('inputs', nargs='+', metavar='[TOPIC=]FILE',
                   help='recording, optionally with its topic (default /<file stem>/imu)')
    p.add_argument('-o', '--output', required=True, help='bag directory to create')
    p.add_argument('--storage', choices=STORAGES, default='mcap',
                   help='rosbag2 storage plugin (default: mcap)')
    p.add_argument('--start-time', type=float, default=DEFAULT_START_TIME,
                   help=f'stamp of the first sample [s], > 0 (default {DEFAULT_START_TIME})')
    p.add_argument('--acc-unit', choices=list(ACC_UNITS), default='m/s^2',
                   help='unit of the Acc_* columns (MT Manager default: m/s^2)')
    p.add_argument('--gyro-unit', choices=list(GYRO_UNITS), default='rad/s',
                   help='unit of the Gyr_* columns (MT Manager default: rad/s)')
    p.add_argument('--overwrite', action='store_true', help='replace an existing output')
    return p


def parse_input(spec: str) -> tuple[str, Path]:
    """``TOPIC=FILE`` or ``FILE`` (topic :func:`~infonet_ros.offline.imu_bag.default_topic`)."""
    # A topic starts with '/', so a file name that contains '=' is still read as a file.
    if '=' in spec and spec.split('=', 1)[0].startswith('/'):
        topic, path = spec.split('=', 1)
        return topic, Path(path)
    return default_topic(spec), Path(spec)


def main(argv=None) -> int:
    """Entry point of ``infonet-ros imu-to-bag``; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        check_start_time(args.start_time)  # before reading: the recordings' length comes later
        inputs = [(topic, read_xsens(path, args.acc_unit, args.gyro_unit))
                  for topic, path in map(parse_input, args.inputs)]
        for _, rec in inputs:
            for w in check_units(rec):
                print(f'warning: {w}', file=sys.stderr)
        counts = write_imu_bag(args.output, inputs, args.storage, args.start_time,
                               args.overwrite)
    except (OSError, ValueError) as exc:
        return print_error(PROG, exc)
    rate = inputs[0][1].rate_hz
    for topic, rec in inputs:
        print(f'{topic}: {counts[topic]} sensor_msgs/msg/Imu at {rate:g} Hz '
              f'({len(rec.counter) / rate:.2f} s) from {rec.path.name}')
    print(f'wrote {args.output} ({args.storage})')
    return 0


if __name__ == '__main__':
    sys.exit(main())
