# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""infonet-ros imu-to-bag: inputs, options and errors of the command."""

from pathlib import Path

import pytest
from xsens_text import data_row, HEADER, LOWER, UPPER, write_text

from infonet_ros.cli.imu_to_bag import build_parser, main, parse_input
from infonet_ros.offline.bag_reader import BagSource

pytest.importorskip('rosbags')


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
    a = write_text(tmp_path, 'a.txt', HEADER + data_row(1, (9.8, 0, 0), (0, 0, 0)))
    b = write_text(tmp_path, 'b.txt', HEADER.replace('100.0Hz', '50.0Hz')
                   + data_row(1, (9.8, 0, 0), (0, 0, 0)))
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


@pytest.mark.parametrize('start, words', [
    ('-5', 'a stamp must be > 0'), ('0', 'a stamp must be > 0'), ('nan', 'must be > 0'),
    ('1e30', 'stamps go up to 2147483647 s'),
    # Within range itself, but the recording's last sample (3510 / 120 s later) is not.
    ('2147483640', 'the last sample comes 29.250 s later'),
])
def test_start_time_out_of_range_is_refused_with_the_reason(tmp_path, capsys, start, words):
    out = tmp_path / 'bag'
    assert main([f'/thigh/imu={UPPER}', '-o', str(out), f'--start-time={start}']) == 1
    err = capsys.readouterr().err
    assert err.startswith('infonet-ros imu-to-bag: error: start time') and 'out of range' in err
    assert words in err and err.count('\n') == 1
    assert not out.exists()
