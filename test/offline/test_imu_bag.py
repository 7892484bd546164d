# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""imu-to-bag: Xsens exports parsed in SI units, written to real bags and read back."""


import numpy as np
import pytest
from xsens_text import data_row, HEADER, LOWER, UPPER, write_text

from infonet_ros.offline import imu_bag
from infonet_ros.offline.bag_reader import BagSource

pytest.importorskip('rosbags')


def test_shipped_walking_files_parse_in_si_units():
    up, low = imu_bag.read_xsens(UPPER), imu_bag.read_xsens(LOWER)
    for rec in (up, low):
        assert rec.rate_hz == 120.0
        assert len(rec.counter) == 3511 and rec.acc.shape == (3511, 3)
        assert rec.gyro.shape == (3511, 3)
        assert np.all(np.diff(rec.counter) == 1)
        # Gravity dominates the specific force: m/s^2, not g.
        assert 9.0 < np.median(np.linalg.norm(rec.acc, axis=1)) < 11.0
        assert imu_bag.check_units(rec) == []
    assert up.counter[0] == low.counter[0] == 37328
    # First data line of the thigh file, copied from the text.
    np.testing.assert_allclose(up.acc[0], [-9.617241, -1.890491, -0.826315])
    np.testing.assert_allclose(up.gyro[0], [-0.014048, 0.009609, -0.002849])


@pytest.mark.parametrize('storage', ['mcap', 'sqlite3'])
def test_walking_bag_round_trip(tmp_path, storage):
    out = tmp_path / f'walk_{storage}'
    up, low = imu_bag.read_xsens(UPPER), imu_bag.read_xsens(LOWER)
    counts = imu_bag.write_imu_bag(out, [('/thigh/imu', up), ('/shank/imu', low)], storage,
                                   start_time=5.0)
    assert counts == {'/thigh/imu': 3511, '/shank/imu': 3511}
    got = {'/thigh/imu': [], '/shank/imu': []}
    # Metadata version 8 with the QoS profiles as a string: readable by Humble's rosbag2.
    import yaml
    info = yaml.safe_load((out / 'metadata.yaml').read_text())['rosbag2_bagfile_information']
    assert info['version'] == 8
    assert all(isinstance(t['topic_metadata']['offered_qos_profiles'], str)
               for t in info['topics_with_message_count'])
    with BagSource(out) as bag:
        assert bag.storage == storage
        assert bag.topics() == {'/thigh/imu': ('sensor_msgs/msg/Imu', 3511),
                                '/shank/imu': ('sensor_msgs/msg/Imu', 3511)}
        assert bag.has_stored_definition('/thigh/imu')
        for topic, recv_ns, msg in bag.messages(['/thigh/imu', '/shank/imu']):
            stamp = msg.header.stamp.sec * 10**9 + msg.header.stamp.nanosec
            assert stamp == recv_ns
            got[topic].append((stamp, msg))
    for topic, rec, frame in (('/thigh/imu', up, 'thigh_imu'), ('/shank/imu', low, 'shank_imu')):
        stamps = np.array([s for s, _ in got[topic]])
        msgs = [m for _, m in got[topic]]
        assert len(msgs) == 3511
        expect = 5_000_000_000 + np.round(np.arange(3511) * 1e9 / 120).astype(np.int64)
        np.testing.assert_array_equal(stamps, expect)
        acc = np.array([[m.linear_acceleration.x, m.linear_acceleration.y,
                         m.linear_acceleration.z] for m in msgs])
        gyro = np.array([[m.angular_velocity.x, m.angular_velocity.y, m.angular_velocity.z]
                         for m in msgs])
        np.testing.assert_array_equal(acc, rec.acc)
        np.testing.assert_array_equal(gyro, rec.gyro)
        assert msgs[0].header.frame_id == frame
        assert msgs[0].orientation_covariance[0] == -1.0


def test_counter_wrap_units_and_alignment(tmp_path):
    a = write_text(tmp_path, 'a.txt', HEADER + ''.join(
        data_row(c, (1.0, 0.0, 0.0), (90.0, 0.0, 0.0)) for c in (65534, 65535, 0, 1)))
    b = write_text(tmp_path, 'b.txt', HEADER + ''.join(
        data_row(c, (0.5, 0.0, 0.0), (0.0, 180.0, 0.0)) for c in (65535, 0)))
    ra = imu_bag.read_xsens(a, acc_unit='g', gyro_unit='deg/s')
    rb = imu_bag.read_xsens(b, acc_unit='g', gyro_unit='deg/s')
    np.testing.assert_array_equal(ra.counter, [65534, 65535, 65536, 65537])
    assert ra.acc[0, 0] == pytest.approx(9.80665)
    assert ra.gyro[0, 0] == pytest.approx(np.pi / 2)
    assert rb.gyro[0, 1] == pytest.approx(np.pi)
    sa, sb = imu_bag.stamps_ns([ra, rb], start_time=2.0)
    # 100 Hz; b starts one sample after a, so both share the device clock.
    np.testing.assert_array_equal(sa, [2_000_000_000, 2_010_000_000, 2_020_000_000,
                                       2_030_000_000])
    np.testing.assert_array_equal(sb, [2_010_000_000, 2_020_000_000])


@pytest.mark.parametrize('text, match', [
    (HEADER.replace('// Sample rate: 100.0Hz\n', '') + data_row(1, (1, 2, 3), (4, 5, 6)),
     'Sample rate'),
    (HEADER.replace('Gyr_Z', 'Foo') + data_row(1, (1, 2, 3), (4, 5, 6)), 'Gyr_Z'),
    (HEADER + data_row(1, (1, 2, 3), (4, 5, 6)) + '2\t1.0\t2.0\n', 'truncated'),
    (HEADER + data_row(1, (1, 2, 3), (4, 5, 6)).replace('1.000000', 'abc', 1), 'non-numeric'),
    (HEADER, 'no data'),
])
def test_malformed_exports_raise_clear_errors(tmp_path, text, match):
    p = write_text(tmp_path, 'bad.txt', text)
    with pytest.raises(imu_bag.XsensFormatError, match=match):
        imu_bag.read_xsens(p)


def test_acceleration_in_g_is_flagged(tmp_path):
    p = write_text(tmp_path, 'g.txt',
                   HEADER + ''.join(data_row(c, (1.0, 0.0, 0.0), (0, 0, 0)) for c in range(3)))
    warnings = imu_bag.check_units(imu_bag.read_xsens(p))
    assert warnings and '--acc-unit' in warnings[0]


@pytest.mark.parametrize('path, topic', [
    ('walking_xsens_upperLeg.txt', '/walking_xsens_upperLeg/imu'),
    ('data/a-b.txt', '/a_b/imu'),
    ('2024.txt', '/imu_2024/imu'),
])
def test_default_topic_is_a_valid_ros_name(path, topic):
    assert imu_bag.default_topic(path) == topic
