# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""infonet-ros imu-to-bag: inputs, options and errors of the command."""

from pathlib import Path

import pytest

from infonet_ros.cli.imu_to_bag import build_parser, main, parse_input
from infonet_ros.offline.bag_reader import BagSource

pytest.importorskip('rosbags')

DATA = Path(__file__).resolve().parents[2] / 'data' / 'xsens_walking'
UPPER = DATA / 'walking_xsens_upperLeg.txt'
LOWER = DATA / 'walking_xsens_lowerLeg.txt'

HEADER = ('// Start Time: 0\n// Sample rate: 100.0Hz\n// Scenario: 1\n'
          'Counter\tAcc_X\tAcc_Y\tAcc_Z\tGyr_X\tGyr_Y\tGyr_Z\tMag_X\tMag_Y\tMag_Z\t\n')


def _write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


def _row(counter, acc, gyro):
    # One MT Manager data line (trailing tab included).
    return '\t'.join([str(counter)] + [f'{v:.6f}' for v in (*acc, *gyro, 0.1, 0.2, 0.3)]) + '\t\n'


def test_parser_defaults():
    args = build_parser().parse_args(['a.txt', '-o', 'bag'])
    assert args.inputs == ['a.txt'] and args.output == 'bag'
    assert (args.storage, args.start_time, args.acc_unit, args.gyro_unit) == (
        'mcap', 1.0, 'm/s^2', 'rad/s')
    assert not args.overwrite


def test_inputs_with_and_without_topic():
    assert parse_input('/thigh/imu=data/upper.txt') == ('/thigh/imu', Path('data/upper.txt'))
    # A name with '=' but no leading '/' is a file name.
    assert parse_input('run=2.txt') == ('/run_2/imu', Path('run=2.txt'))
    assert parse_input('data/a.txt') == ('/a/imu', Path('data/a.txt'))


def test_walking_files_to_bag_with_options(tmp_path, capsys):
    out = tmp_path / 'walk'
    rc = main([f'/thigh/imu={UPPER}', f'/shank/imu={LOWER}', '-o', str(out),
               '--storage', 'sqlite3', '--start-time', '5.0'])
    assert rc == 0
    printed = capsys.readouterr().out
    assert '/thigh/imu: 3511 sensor_msgs/msg/Imu at 120 Hz' in printed
    with BagSource(out) as bag:
        assert bag.storage == 'sqlite3'
        assert bag.topics() == {'/thigh/imu': ('sensor_msgs/msg/Imu', 3511),
                                '/shank/imu': ('sensor_msgs/msg/Imu', 3511)}
        first = next(iter(bag.messages(['/thigh/imu'])))
    assert first[1] == 5_000_000_000  # --start-time: the first sample's stamp


def test_errors_leave_no_output(tmp_path, capsys):
    a = _write(tmp_path, 'a.txt', HEADER + _row(1, (9.8, 0, 0), (0, 0, 0)))
    b = _write(tmp_path, 'b.txt', HEADER.replace('100.0Hz', '50.0Hz')
               + _row(1, (9.8, 0, 0), (0, 0, 0)))
    out = tmp_path / 'bag'
    assert main([str(a), str(b), '-o', str(out)]) == 1
    assert 'different sample rates' in capsys.readouterr().err
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith('.')] == []
    assert main([str(a), '-o', str(out)]) == 0
    assert main([str(a), '-o', str(out)]) == 1
    assert 'exists' in capsys.readouterr().err
    assert main([str(a), '-o', str(out), '--overwrite']) == 0
    with BagSource(out) as bag:
        assert bag.topics() == {'/a/imu': ('sensor_msgs/msg/Imu', 1)}
    assert main([str(tmp_path / 'missing.txt'), '-o', str(tmp_path / 'b2')]) == 1
    assert capsys.readouterr().err.startswith('infonet-ros imu-to-bag: error:')
