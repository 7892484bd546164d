# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Field paths on rclpy messages and on rosbags-decoded messages."""

import numpy as np
import pytest

from infonet_ros.streams.fields import (check_field_path, compile_field, FieldError,
                                        format_field_path, header_stamp, parse_field_path,
                                        read_field)


@pytest.mark.parametrize('path, steps', [
    ('linear_acceleration.x', ('linear_acceleration', 'x')),
    ('position[3]', ('position', 3)),
    ('pose.covariance[0]', ('pose', 'covariance', 0)),
    ('data[2][1].value', ('data', 2, 1, 'value')),
    ('ranges[-1]', ('ranges', -1)),
    (' x ', ('x',)),
])
def test_parse_field_path(path, steps):
    assert parse_field_path(path) == steps
    assert format_field_path(steps) == path.strip()


@pytest.mark.parametrize('path', ['', '  ', 'a..b', 'a[', 'a[x]', '3a', 'a.b.', '[0]',
                                  'a-b', 'a[1.5]'])
def test_malformed_paths_raise(path):
    with pytest.raises(FieldError):
        parse_field_path(path)


def _imu():
    from sensor_msgs.msg import Imu
    m = Imu()
    m.header.stamp.sec, m.header.stamp.nanosec = 5, 250_000_000
    m.header.frame_id = 'imu'
    m.linear_acceleration.x = 1.5
    m.angular_velocity.z = -0.25
    m.orientation_covariance[4] = 7.0
    return m


def _joint_state(positions):
    from sensor_msgs.msg import JointState
    m = JointState()
    m.position = list(positions)
    return m


def test_rclpy_messages():
    pytest.importorskip('rclpy')
    imu = _imu()
    assert read_field(imu, 'linear_acceleration.x') == 1.5
    assert read_field(imu, 'angular_velocity.z') == -0.25
    assert read_field(imu, 'orientation_covariance[4]') == 7.0
    assert read_field(imu, 'header.stamp.nanosec') == 250_000_000.0
    js = _joint_state([0.1, 0.2, 0.3, 0.4])
    assert read_field(js, 'position[3]') == pytest.approx(0.4)
    assert read_field(js, 'position[-1]') == pytest.approx(0.4)
    assert header_stamp(imu) == pytest.approx(5.25)


def test_missing_and_non_numeric_fields():
    pytest.importorskip('rclpy')
    imu = _imu()
    with pytest.raises(FieldError, match='no field'):
        read_field(imu, 'linear_acceleration.w')
    with pytest.raises(FieldError, match='not a number'):
        read_field(imu, 'header.frame_id')
    with pytest.raises(FieldError, match='not a number'):
        read_field(imu, 'linear_acceleration')
    with pytest.raises(FieldError, match='out of range'):
        read_field(_joint_state([0.1, 0.2]), 'position[3]')
    with pytest.raises(FieldError, match='out of range'):
        read_field(imu, 'header[0]')  # not an array
    # FieldError is a ValueError, so callers can treat it as bad input.
    assert issubclass(FieldError, ValueError)


def test_bool_and_numpy_scalars():
    class Msg:
        flag = True
        arr = np.array([1.0, 2.0])
        scalar = np.float32(3.5)
    assert read_field(Msg(), 'flag') == 1.0
    assert read_field(Msg(), 'arr[1]') == 2.0
    assert read_field(Msg(), 'scalar') == 3.5
    with pytest.raises(FieldError):
        read_field(Msg(), 'arr')  # an array is not a number


def test_rosbags_messages_read_like_rclpy_ones():
    typesys = pytest.importorskip('rosbags.typesys')
    types = typesys.get_typestore(typesys.Stores.ROS2_KILTED).types
    header = types['std_msgs/msg/Header'](
        stamp=types['builtin_interfaces/msg/Time'](sec=5, nanosec=250_000_000), frame_id='')
    js = types['sensor_msgs/msg/JointState'](
        header=header, name=['a', 'b', 'c', 'd'], position=np.array([0.1, 0.2, 0.3, 0.4]),
        velocity=np.array([]), effort=np.array([]))
    assert read_field(js, 'position[3]') == pytest.approx(0.4)
    assert header_stamp(js) == pytest.approx(5.25)
    with pytest.raises(FieldError, match='out of range'):
        read_field(js, 'velocity[0]')


def test_header_stamp_absent():
    class NoHeader:
        data = 1.0
    assert header_stamp(NoHeader()) is None
    pytest.importorskip('rclpy')
    from std_msgs.msg import Float64
    assert header_stamp(Float64(data=2.0)) is None


def test_compiled_reader_is_reusable_and_names_its_path():
    pytest.importorskip('rclpy')
    reader = compile_field('linear_acceleration.x')
    assert reader.path == 'linear_acceleration.x'
    imu = _imu()
    assert reader(imu) == 1.5
    imu.linear_acceleration.x = -2.0
    assert reader(imu) == -2.0


def test_check_field_path_on_default_messages():
    pytest.importorskip('rclpy')
    from sensor_msgs.msg import Imu, JointState
    check_field_path(Imu(), 'linear_acceleration.x')
    check_field_path(Imu(), 'orientation_covariance[8]')  # fixed size: checked
    check_field_path(JointState(), 'position[3]')  # unbounded: known only with data
    with pytest.raises(FieldError, match='no field'):
        check_field_path(Imu(), 'linear_acceleration.w')
    with pytest.raises(FieldError, match='not a number'):
        check_field_path(Imu(), 'header.frame_id')
    with pytest.raises(FieldError, match='not a number'):
        check_field_path(Imu(), 'orientation')
    with pytest.raises(FieldError, match='not an array'):
        check_field_path(Imu(), 'orientation[0]')
