# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Fields read from serialized messages equal the fields of the decoded messages."""

import math
import struct

import pytest

rclpy = pytest.importorskip('rclpy')

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue  # noqa: E402, I100
from geometry_msgs.msg import Pose, PoseArray  # noqa: E402, I100
from rclpy.serialization import deserialize_message, serialize_message  # noqa: E402
from sensor_msgs.msg import Imu, JointState, NavSatFix  # noqa: E402

from infonet_ros.streams.cdr_reader import (CdrUnsupported,  # noqa: E402
                                            compile_cdr_reader, ros_fields_of, UNROLL_MAX)
from infonet_ros.streams.fields import compile_field, FieldError, header_stamp  # noqa: E402
from infonet_ros.streams.raw_intake import RawIntake  # noqa: E402

IMU_PATHS = ['header.stamp.sec', 'header.stamp.nanosec', 'linear_acceleration.x',
             'linear_acceleration.y', 'linear_acceleration.z', 'angular_velocity.x',
             'angular_velocity.y', 'angular_velocity.z', 'orientation.w',
             'orientation_covariance[4]', 'linear_acceleration_covariance[-1]']


def decoded(msg, paths):
    return tuple(compile_field(p)(msg) for p in paths)


@pytest.mark.parametrize('frame_id', ['', 'a', 'imu', 'imu_', 'imu_link', 'x' * 13])
def test_imu_fields_match_decoding_for_any_frame_id_length(frame_id):
    # The frame_id string moves every later field, and the doubles after it are realigned.
    m = Imu()
    m.header.frame_id = frame_id
    m.header.stamp.sec, m.header.stamp.nanosec = 1_732_848_000, 250_000_001
    (m.linear_acceleration.x, m.linear_acceleration.y, m.linear_acceleration.z,
     m.angular_velocity.x, m.angular_velocity.y, m.angular_velocity.z) = (
        0.5, -1.25, 9.81, 1e-9, -3.0, math.pi)
    m.orientation.w = 0.7
    m.orientation_covariance[4] = 4.5
    m.linear_acceleration_covariance[8] = -2.5
    read = compile_cdr_reader(ros_fields_of, 'sensor_msgs/msg/Imu', IMU_PATHS)
    assert read(serialize_message(m)) == decoded(m, IMU_PATHS)


def test_values_come_back_in_the_order_asked_and_repeated_paths_repeat():
    m = Imu()
    m.angular_velocity.z, m.linear_acceleration.x = 2.0, 1.0
    paths = ['angular_velocity.z', 'linear_acceleration.x', 'angular_velocity.z']
    read = compile_cdr_reader(ros_fields_of, 'sensor_msgs/Imu', paths)
    assert read(serialize_message(m)) == (2.0, 1.0, 2.0)


@pytest.mark.parametrize('names', [[], ['hip'], ['hip', 'knee', 'ankle_joint_long_name']])
def test_sequences_after_strings_with_positive_and_negative_indices(names):
    m = JointState()
    m.header.frame_id = 'base'
    m.name = names
    m.position = [0.1, 0.2, 0.3, 0.4]
    m.velocity = [-1.0, -2.0]
    m.effort = [7.5]
    paths = ['position[3]', 'position[-4]', 'velocity[-1]', 'effort[0]', 'header.stamp.sec']
    read = compile_cdr_reader(ros_fields_of, 'sensor_msgs/msg/JointState', paths)
    assert read(serialize_message(m)) == decoded(m, paths)


@pytest.mark.parametrize('frame_id', ['', 'ab', 'base', 'base_link'])
@pytest.mark.parametrize('names', [[], ['hip'], ['hip', 'knee']])
def test_empty_sequences_of_doubles_have_no_padding(frame_id, names):
    # Writers align to an 8-byte element only when there is one: an empty position or
    # velocity must not move the fields after it (a reader that always aligned would read
    # velocity 4 bytes late whenever the empty count ends off an 8-byte line).
    m = JointState()
    m.header.frame_id = frame_id
    m.name = names
    m.position = []
    m.velocity = []
    m.effort = [2.5, -7.0]
    paths = ['effort[1]', 'effort[0]']
    read = compile_cdr_reader(ros_fields_of, 'sensor_msgs/msg/JointState', paths)
    assert read(serialize_message(m)) == decoded(m, paths) == (-7.0, 2.5)
    m.velocity = [1.5]
    paths = ['velocity[0]', 'effort[-1]']
    read = compile_cdr_reader(ros_fields_of, 'sensor_msgs/msg/JointState', paths)
    assert read(serialize_message(m)) == decoded(m, paths) == (1.5, -7.0)


def test_empty_sequence_of_doubles_before_fixed_fields():
    # The same rule when the fields after the empty sequence are known statically.
    types = {'t/Msg': {'a': 'sequence<double>', 'b': 'int32', 'c': 'int32'}}
    read = compile_cdr_reader(types.__getitem__, 't/Msg', ['b', 'c'])
    empty = bytes([0, 1, 0, 0]) + struct.pack('<Iii', 0, 42, 7)
    assert read(empty) == (42.0, 7.0)
    one = bytes([0, 1, 0, 0]) + struct.pack('<I4xdii', 1, 0.5, 42, 7)
    assert read(one) == (42.0, 7.0)


def test_an_index_past_the_end_of_a_sequence_raises_field_error_like_decoding():
    m = JointState()
    m.position = [1.0, 2.0]
    read = compile_cdr_reader(ros_fields_of, 'sensor_msgs/msg/JointState', ['position[3]'])
    with pytest.raises(FieldError, match=r'position.*out of range'):
        read(serialize_message(m))
    with pytest.raises(FieldError):
        compile_field('position[3]')(m)


def test_fields_inside_elements_of_a_sequence_of_messages():
    m = PoseArray()
    m.header.frame_id = 'map'
    for k in range(5):
        p = Pose()
        p.position.x, p.orientation.w = k + 0.5, -k
        m.poses.append(p)
    paths = ['poses[3].position.x', 'poses[0].orientation.w', 'poses[4].position.x']
    read = compile_cdr_reader(ros_fields_of, 'geometry_msgs/msg/PoseArray', paths)
    assert read(serialize_message(m)) == decoded(m, paths)
    del m.poses[3:]
    with pytest.raises(FieldError):
        read(serialize_message(m))


def test_elements_with_strings_and_nested_sequences_are_skipped_exactly():
    # DiagnosticArray: each status holds four strings and a sequence of key-value strings.
    arr = DiagnosticArray()
    for k in range(3):
        st = DiagnosticStatus(level=bytes([k]), name='n' * k, message='msg' * k,
                              hardware_id='hw')
        st.values = [KeyValue(key='k' * j, value='v' * (j + k)) for j in range(k + 1)]
        arr.status.append(st)
    paths = ['status[0].level', 'status[2].level', 'header.stamp.nanosec']
    arr.header.stamp.nanosec = 12345
    read = compile_cdr_reader(ros_fields_of, 'diagnostic_msgs/msg/DiagnosticArray', paths)
    assert read(serialize_message(arr)) == (0.0, 2.0, 12345.0)


def test_bounded_sequences_of_messages():
    from rcl_interfaces.msg import IntegerRange, ParameterDescriptor
    p = ParameterDescriptor(name='gain', description='a' * 7, additional_constraints='b',
                            integer_range=[IntegerRange(from_value=-3, to_value=9, step=2)])
    paths = ['integer_range[0].step', 'integer_range[0].from_value', 'type']
    read = compile_cdr_reader(ros_fields_of, 'rcl_interfaces/msg/ParameterDescriptor', paths)
    assert read(serialize_message(p)) == decoded(p, paths)


def test_bounded_strings():
    # type_description_interfaces (Iron and later) has bounded strings ('string<255>').
    tdi = pytest.importorskip('type_description_interfaces.msg')
    Field, FieldType, IndividualTypeDescription = (
        tdi.Field, tdi.FieldType, tdi.IndividualTypeDescription)
    d = IndividualTypeDescription(type_name='pkg/msg/T' * 3)
    d.fields = [Field(name='f' * k, type=FieldType(type_id=k, capacity=10 * k,
                                                   nested_type_name='n' * k))
                for k in range(1, 4)]
    paths = ['fields[2].type.capacity', 'fields[0].type.type_id']
    read = compile_cdr_reader(ros_fields_of, 'type_description_interfaces/msg/'
                              'IndividualTypeDescription', paths)
    assert read(serialize_message(d)) == (30.0, 1.0)


def test_small_integers_and_booleans_read_as_floats():
    m = NavSatFix()
    m.header.frame_id = 'gps'
    m.status.status, m.status.service = -1, 4
    m.latitude, m.position_covariance_type = 48.1, 2
    paths = ['status.status', 'status.service', 'latitude', 'position_covariance_type']
    read = compile_cdr_reader(ros_fields_of, 'sensor_msgs/msg/NavSatFix', paths)
    assert read(serialize_message(m)) == (-1.0, 4.0, 48.1, 2.0)


def test_byte_fields_read_the_same_serialized_and_decoded():
    # rclpy gives an octet (.msg 'byte') as bytes of length 1: both paths read its value.
    from std_msgs.msg import Byte
    m = DiagnosticArray()
    m.status = [DiagnosticStatus(level=bytes([2]), name='a')]
    read = compile_cdr_reader(ros_fields_of, 'diagnostic_msgs/msg/DiagnosticArray',
                              ['status[0].level'])
    assert read(serialize_message(m)) == decoded(m, ['status[0].level']) == (2.0,)
    b = Byte(data=bytes([200]))
    read = compile_cdr_reader(ros_fields_of, 'std_msgs/msg/Byte', ['data'])
    assert read(serialize_message(b)) == decoded(b, ['data']) == (200.0,)


def test_idl_char_fields_are_not_numbers():
    # An IDL 'char' is a 1-character str in rclpy: refused like a string, so the caller
    # decodes and reports it as not a number.
    with pytest.raises(CdrUnsupported, match='char'):
        compile_cdr_reader({'t/C': {'c': 'char', 'x': 'double'}}.__getitem__, 't/C', ['c'])
    read = compile_cdr_reader({'t/C': {'c': 'char', 'x': 'double'}}.__getitem__, 't/C', ['x'])
    assert read(bytes([0, 1, 0, 0]) + struct.pack('<c7xd', b'z', 2.5)) == (2.5,)


def test_messages_of_this_package_round_trip():
    from infonet_ros.msg import MutualInformation, MutualInformationArray
    arr = MutualInformationArray()
    for k in range(4):
        arr.estimates.append(MutualInformation(pair_name='p' * k, x_source='/a:x',
                                               mi=0.25 * k, sliced=bool(k % 2),
                                               sample_count=100 + k))
    arr.inference_latency = 0.004
    paths = ['estimates[2].mi', 'estimates[3].sliced', 'estimates[1].sample_count',
             'inference_latency']
    read = compile_cdr_reader(ros_fields_of, 'infonet_ros/msg/MutualInformationArray', paths)
    assert read(serialize_message(arr)) == decoded(arr, paths)


def test_other_encodings_are_left_to_decoding_and_truncation_is_an_error():
    raw = bytearray(serialize_message(Imu()))
    read = compile_cdr_reader(ros_fields_of, 'sensor_msgs/msg/Imu', ['linear_acceleration.x'])
    assert read(bytes(raw)) == (0.0,)
    raw[1] = 0  # CDR big endian
    assert read(bytes(raw)) is None
    raw[1] = 7  # XCDR2: 8-byte values aligned to 4
    assert read(bytes(raw)) is None
    with pytest.raises(struct.error):
        read(serialize_message(Imu())[:40])


@pytest.mark.parametrize('path, why', [
    ('header.frame_id', 'string'), ('linear_acceleration', 'message'),
    ('orientation_covariance', 'array'), ('linear_acceleration.x[0]', 'number'),
    ('nothing.x', 'no field'), ('orientation_covariance[9]', 'out of range'),
])
def test_paths_that_are_not_numbers_are_refused_at_compile_time(path, why):
    with pytest.raises(CdrUnsupported, match=why):
        compile_cdr_reader(ros_fields_of, 'sensor_msgs/msg/Imu', [path])


# ---- layouts no installed message has, from a hand-written encoding -------------------

FAKE = {
    'pkg/Item': {'label': 'string', 'v': 'double'},
    'pkg/Many': {'flag': 'boolean', 'items': f'pkg/Item[{UNROLL_MAX + 2}]',
                 'tail': 'float', 'empty': 'pkg/Empty', 'last': 'int64'},
    'pkg/Empty': {},
    'pkg/Wide': {'w': 'wstring', 'x': 'double'},
}


def _encode_many(labels, values, tail, last):
    # Plain CDR by hand: payload offsets align to the value size, after a 4-byte header.
    out = bytearray(b'\x00\x01\x00\x00')

    def put(fmt, value):
        size = struct.calcsize(fmt)
        while (len(out) - 4) % size:
            out.append(0)
        out.extend(struct.pack('<' + fmt, value))
    put('?', True)
    for label, v in zip(labels, values):
        data = label.encode() + b'\x00'
        put('I', len(data))
        out.extend(data)
        put('d', v)
    put('f', tail)
    put('B', 0)  # the empty structure's one member
    put('q', last)
    return bytes(out)


def test_long_fixed_arrays_of_messages_and_empty_messages_are_walked():
    n = UNROLL_MAX + 2
    labels = ['x' * (k % 5) for k in range(n)]
    values = [k * 1.5 for k in range(n)]
    buf = _encode_many(labels, values, 0.25, -7)
    read = compile_cdr_reader(FAKE.get, 'pkg/Many',
                              ['items[1].v', f'items[{n - 1}].v', 'tail', 'last', 'flag'])
    assert read(buf) == (1.5, values[-1], 0.25, -7.0, 1.0)


def test_unsupported_types_on_the_way_are_refused():
    with pytest.raises(CdrUnsupported, match='wstring'):
        compile_cdr_reader(FAKE.get, 'pkg/Wide', ['x'])
    with pytest.raises(CdrUnsupported, match='negative index'):
        compile_cdr_reader(FAKE.get, 'pkg/Many', ['items[-1].v'])


# ---- RawIntake: the checked fast path of one topic ---------------------------------------

def imu_bytes(ax, sec=5, nanosec=500):
    m = Imu()
    m.header.frame_id = 'imu'
    m.header.stamp.sec, m.header.stamp.nanosec = sec, nanosec
    m.linear_acceleration.x = ax
    return serialize_message(m)


def test_raw_intake_reads_stamp_and_fields_and_checks_the_first_messages():
    intake = RawIntake('sensor_msgs/msg/Imu', ['linear_acceleration.x', 'angular_velocity.y'],
                       lambda b: deserialize_message(b, Imu), check_messages=3)
    for k in range(5):
        stamp, row = intake.values(imu_bytes(float(k), sec=k))
        assert stamp == header_stamp(deserialize_message(imu_bytes(0.0, sec=k), Imu))
        assert row == [float(k), 0.0]
    # A NaN is a value like any other here (the engine drops it, counted).
    stamp, row = intake.values(imu_bytes(math.nan))
    assert math.isnan(row[0])
    assert (intake.fast, intake.decoded, intake.disabled, intake.to_check) == (6, 0, '', 0)


def test_raw_intake_turns_itself_off_when_decoding_disagrees():
    def wrong_layout(data):  # a middleware laying the message out otherwise
        m = deserialize_message(data, Imu)
        m.linear_acceleration.x += 1.0
        return m
    intake = RawIntake('sensor_msgs/msg/Imu', ['linear_acceleration.x'], wrong_layout)
    assert intake.values(imu_bytes(2.0)) is None
    assert 'decoding gave [3.0]' in intake.disabled
    assert intake.values(imu_bytes(2.0)) is None  # decoded by the caller from now on
    assert (intake.fast, intake.decoded) == (0, 2)


def test_raw_intake_leaves_missing_fields_and_foreign_encodings_to_decoding():
    intake = RawIntake('sensor_msgs/msg/JointState', ['position[1]'],
                       lambda b: deserialize_message(b, JointState))
    assert intake.values(serialize_message(JointState(position=[1.0]))) is None
    assert intake.values(serialize_message(JointState(position=[1.0, 2.0])))[1] == [2.0]
    big = bytearray(serialize_message(JointState(position=[1.0, 2.0])))
    big[1] = 0
    assert intake.values(bytes(big)) is None
    assert (intake.fast, intake.decoded, intake.disabled) == (1, 2, '')
    assert not intake.has_stamp or intake.values(
        serialize_message(JointState(position=[0.0, 3.0])))[0] == 0.0


def test_raw_intake_leaves_undecodable_messages_and_reader_bugs_to_the_caller():
    def refuse(data):
        raise RuntimeError('cannot decode')
    intake = RawIntake('sensor_msgs/msg/Imu', ['linear_acceleration.x'], refuse)
    assert intake.values(imu_bytes(1.0)) is None  # the check cannot decode it: caller's turn
    assert (intake.fast, intake.decoded, intake.disabled, intake.to_check) == (0, 1, '', 20)

    def broken(data):
        raise ZeroDivisionError('reader bug')
    intake = RawIntake('sensor_msgs/msg/Imu', ['linear_acceleration.x'],
                       lambda b: deserialize_message(b, Imu))
    intake._read = broken
    assert intake.values(imu_bytes(1.0)) is None
    assert 'ZeroDivisionError: reader bug' in intake.disabled


def test_types_without_header_give_no_stamp():
    from std_msgs.msg import Float64
    intake = RawIntake('std_msgs/msg/Float64', ['data'],
                       lambda b: deserialize_message(b, Float64))
    assert intake.values(serialize_message(Float64(data=2.5))) == (None, [2.5])
