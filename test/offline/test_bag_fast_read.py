# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Bag fields read from serialized messages (no decoding) equal those of decoded messages."""

import math
import struct

import numpy as np
import pytest

from infonet_ros.offline.bag_reader import BagSource
from infonet_ros.offline.bag_stream import bag_items
from infonet_ros.offline.msg_definitions import rosbags_fields_of
from infonet_ros.offline.run import run_analysis, UpdatePolicy
from infonet_ros.streams.cdr_reader import CdrUnsupported, compile_cdr_reader
from infonet_ros.streams.fields import compile_field, FieldError, header_stamp
from infonet_ros.streams.raw_intake import RawIntake
from infonet_ros.streams.raw_intake import Values

rosbag2 = pytest.importorskip('rosbags.rosbag2')
typesys = pytest.importorskip('rosbags.typesys')

# A custom type with what the standard ones lack: bool, bounded string and sequence, a fixed
# array of messages, small integers, float32 after an odd offset.
ODD_MSG = ('bool ok\nstring<=5 tag\nint8 small\nfloat32 f\nuint16[<=3] counts\n'
           'geometry_msgs/Point[2] corners\nuint64 big\nbyte b\n')


@pytest.fixture(scope='module')
def store():
    ts = typesys.get_typestore(typesys.Stores.ROS2_KILTED)
    ts.register(typesys.get_types_from_msg(ODD_MSG, 'my_pkg/msg/Odd'))
    return ts


def _msg(store, type_name, **kw):
    return store.types[type_name](**kw)


def _header(store, sec, nanosec, frame_id):
    time = _msg(store, 'builtin_interfaces/msg/Time', sec=sec, nanosec=nanosec)
    return _msg(store, 'std_msgs/msg/Header', stamp=time, frame_id=frame_id)


def _imu(store, frame_id='imu', k=0):
    v3 = 'geometry_msgs/msg/Vector3'
    header = _header(store, 1_700_000_000 + k, 250_000_001, frame_id)
    return _msg(store, 'sensor_msgs/msg/Imu', header=header,
                orientation=_msg(store, 'geometry_msgs/msg/Quaternion', x=0.0, y=0.0, z=0.0,
                                 w=0.7),
                orientation_covariance=np.arange(9.0),
                angular_velocity=_msg(store, v3, x=1e-9, y=-3.0, z=math.pi + k),
                angular_velocity_covariance=np.zeros(9),
                linear_acceleration=_msg(store, v3, x=0.5, y=-1.25, z=9.81),
                linear_acceleration_covariance=-np.arange(9.0))


def _joints(store, names, position):
    return _msg(store, 'sensor_msgs/msg/JointState', header=_header(store, 5, 6, 'base'),
                name=list(names), position=np.array(position, float),
                velocity=np.array([], float), effort=np.array(position, float) * 2)


def _odd(store, tag='ab', counts=(1, 2)):
    point = 'geometry_msgs/msg/Point'
    return _msg(store, 'my_pkg/msg/Odd', ok=True, tag=tag, small=-7, f=1.5,
                counts=np.array(counts, np.uint16),
                corners=[_msg(store, point, x=1.0, y=2.0, z=3.0),
                         _msg(store, point, x=-1.0, y=-2.0, z=-3.0)],
                big=2**40 + 1, b=-56)


def _check(store, msg, type_name, paths):
    raw = store.serialize_cdr(msg, type_name)
    read = compile_cdr_reader(rosbags_fields_of(store), type_name, paths, whole=True)
    want = tuple(compile_field(p)(store.deserialize_cdr(raw, type_name)) for p in paths)
    assert read(raw) == want
    return raw, read


@pytest.mark.parametrize('frame_id', ['', 'a', 'imu', 'imu_link', 'x' * 13])
def test_imu_fields_from_a_rosbags_typestore(store, frame_id):
    _check(store, _imu(store, frame_id), 'sensor_msgs/msg/Imu',
           ['header.stamp.sec', 'header.stamp.nanosec', 'linear_acceleration.z',
            'angular_velocity.z', 'orientation.w', 'orientation_covariance[4]',
            'linear_acceleration_covariance[-1]'])


@pytest.mark.parametrize('names, position', [([], []), (['hip'], [0.25]),
                                             (['hip', 'knee', 'ankle'], [0.1, 0.2, 0.3])])
def test_sequences_and_strings_from_a_rosbags_typestore(store, names, position):
    msg = _joints(store, names, position)
    if position:
        _check(store, msg, 'sensor_msgs/msg/JointState',
               ['header.stamp.nanosec', 'position[-1]', 'effort[0]'])
    else:
        raw = store.serialize_cdr(msg, 'sensor_msgs/msg/JointState')
        read = compile_cdr_reader(rosbags_fields_of(store), 'sensor_msgs/msg/JointState',
                                  ['position[0]'], whole=True)
        with pytest.raises(FieldError):
            read(raw)


@pytest.mark.parametrize('tag, counts', [('', ()), ('abcde', (1, 2, 3)), ('x', (9,))])
def test_bool_bounded_types_and_arrays_of_messages(store, tag, counts):
    _check(store, _odd(store, tag, counts), 'my_pkg/msg/Odd',
           ['ok', 'small', 'f', 'corners[1].y', 'big', 'b'])


def test_types_the_reader_does_not_walk_are_refused(store):
    fields_of = rosbags_fields_of(store)
    assert fields_of('my_pkg/msg/Odd')['tag'] == 'string<5>'
    assert fields_of('my_pkg/msg/Odd')['counts'] == 'sequence<uint16, 3>'
    with pytest.raises(CdrUnsupported, match='not in the typestore'):
        fields_of('nobody/msg/Nothing')
    with pytest.raises(CdrUnsupported, match='string'):
        compile_cdr_reader(fields_of, 'sensor_msgs/msg/Imu', ['header.frame_id'])


def test_whole_message_reader_refuses_a_record_of_the_wrong_size(store):
    raw, read = _check(store, _imu(store), 'sensor_msgs/msg/Imu', ['angular_velocity.z'])
    # Up to 3 bytes of padding are allowed, as a full decode allows them; more are not.
    assert read(bytes(raw) + b'\0\0\0') == read(raw)
    assert read(bytes(raw) + b'\0' * 4) is None
    with pytest.raises(SerdeError()):
        store.deserialize_cdr(bytes(raw) + b'\0' * 4, 'sensor_msgs/msg/Imu')
    # Cut inside the fields after the one read: the partial reader would not notice.
    short = bytes(raw)[:-16]
    assert compile_cdr_reader(rosbags_fields_of(store), 'sensor_msgs/msg/Imu',
                              ['angular_velocity.z'])(short) == read(raw)
    assert read(short) is None
    # Cut before the field: the buffer ends where it is read.
    with pytest.raises(struct.error):
        read(bytes(raw)[:60])


def SerdeError():  # noqa: N802 (an exception class, looked up where rosbags keeps it)
    from rosbags.serde import SerdeError as cls
    return cls


def test_raw_intake_over_a_rosbags_typestore_checks_and_reads(store):
    intake = RawIntake('sensor_msgs/msg/Imu', ['angular_velocity.z', 'orientation.w'],
                       lambda raw: store.deserialize_cdr(raw, 'sensor_msgs/msg/Imu'),
                       fields_of=rosbags_fields_of(store), check_messages=2, whole=True)
    for k in range(4):
        msg = _imu(store, k=k)
        stamp, row = intake.values(store.serialize_cdr(msg, 'sensor_msgs/msg/Imu'))
        assert stamp == header_stamp(msg) and row == [math.pi + k, 0.7]
    assert intake.fast == 4 and not intake.disabled


def _joint_bag(path, store, lengths):
    """Write JointState on /j at 10 Hz with position lists of the given lengths."""
    with rosbag2.Writer(path, version=9) as w:
        conn = w.add_connection('/j', 'sensor_msgs/msg/JointState', typestore=store)
        for k, n in enumerate(lengths):
            msg = _joints(store, [f'j{i}' for i in range(n)], [k + 0.1 * i for i in range(n)])
            msg.header.stamp.sec, msg.header.stamp.nanosec = 1 + k // 10, (k % 10) * 10**8
            w.write(conn, (10 + k) * 10**8, store.serialize_cdr(msg,
                                                                'sensor_msgs/msg/JointState'))
    return path


def test_bag_items_equal_the_decoded_messages_and_decode_what_they_cannot_read(tmp_path,
                                                                               store):
    # Messages whose sequence is too short for position[2] are decoded (the engine then drops
    # them as missing_field); all others come as Values equal to the decoded fields.
    lengths = [3, 3, 1, 3, 0, 4, 3]
    bag_path = _joint_bag(tmp_path / 'j', store, lengths)
    fields = ['position[2]', 'position[0]']
    readers = [compile_field(f) for f in fields]
    with BagSource(bag_path, use_ament=False) as bag:
        decoded = list(bag.messages(['/j']))
        intakes = {}
        items = list(bag_items(bag, ['/j'], {'/j': fields}, intakes))
    assert len(items) == len(decoded) == len(lengths)
    for (topic, ns, item, raw, msgtype), (_, ns2, msg), n in zip(items, decoded, lengths):
        assert (topic, ns, msgtype) == ('/j', ns2, 'sensor_msgs/msg/JointState')
        if n >= 3:
            assert isinstance(item, Values)
            assert item.stamp == header_stamp(msg)
            assert item.row == [r(msg) for r in readers]
        else:
            assert not isinstance(item, Values) and item.position.tolist() == \
                msg.position.tolist()
    assert intakes['/j'].fast == 5 and intakes['/j'].decoded == 2


def test_analysis_counts_messages_the_fast_reader_left_to_decoding(tmp_path, store):
    lengths = [3] * 60 + [1] * 5 + [3] * 60
    bag_path = _joint_bag(tmp_path / 'j', store, lengths)
    result = run_analysis(bag_path, params={'pairs': ['/j:position[0] ~ /j:position[2]'],
                                            'window': 32, 'sync_mode': 'interpolate'},
                          policy=UpdatePolicy('every', every=16), keep_signals=True,
                          use_ament=False)
    stats = result.topics['/j']
    assert stats['accepted'] == 120 and stats['dropped'] == {'missing_field': 5}
    assert stats['read_without_decoding'] == 120
    assert len(result.signals[('/j', 'position[2]')][1]) == 120
    assert len(result.signals[('/j', 'position[0]')][1]) == 125
    assert result.records and not any('fast reader' in w for w in result.warnings)
