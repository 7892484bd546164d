# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Pair specifications written as ROS parameter strings (no ROS needed)."""

import pytest

from infonet_ros.streams.pairs import (normalize_msg_type, PairSpecError, parse_pair, parse_pairs,
                                       parse_topic_spec, topic_fields)

TOPICS = ['/imu/data=sensor_msgs/msg/Imu', '/joints=sensor_msgs/JointState']


def test_topic_spec_and_type_normalization():
    assert parse_topic_spec('/imu/data = sensor_msgs/msg/Imu') == ('/imu/data',
                                                                   'sensor_msgs/msg/Imu')
    assert normalize_msg_type('sensor_msgs/Imu') == 'sensor_msgs/msg/Imu'
    for bad in ('/imu/data', '/imu/data=', '=sensor_msgs/msg/Imu', '/imu=Imu',
                '/imu=sensor_msgs/srv/Foo', 'im u=sensor_msgs/msg/Imu'):
        with pytest.raises(PairSpecError):
            parse_topic_spec(bad)


def test_cross_same_and_vector_pairs():
    specs = parse_pairs(TOPICS, [
        '/imu/data:linear_acceleration.x ~ /joints:position[3]',
        '/imu/data:linear_acceleration.x ~ /imu/data:angular_velocity.y',
        '/imu/data:angular_velocity.x,angular_velocity.y ~ /joints:velocity[0]',
    ], ['acc_knee', 'imu_self', 'gyro_hip'])
    a, b, c = specs
    assert a.name == 'acc_knee' and not a.sliced and not a.same_topic
    assert a.x.topic == '/imu/data' and a.x.msg_type == 'sensor_msgs/msg/Imu'
    assert a.y.msg_type == 'sensor_msgs/msg/JointState' and a.y.fields == ('position[3]',)
    assert b.same_topic and not b.sliced
    assert c.sliced and c.x.dim == 2 and c.y.dim == 1
    assert c.x.source == '/imu/data:angular_velocity.x,angular_velocity.y'
    assert topic_fields(specs) == {
        '/imu/data': ('linear_acceleration.x', 'angular_velocity.y', 'angular_velocity.x'),
        '/joints': ('position[3]', 'velocity[0]')}


def test_default_names_are_unique_and_topic_safe():
    specs = parse_pairs(TOPICS, ['/imu/data:linear_acceleration.x ~ /joints:position[3]',
                                 '/imu/data:linear_acceleration.y ~ /joints:position[3]'])
    names = [s.name for s in specs]
    assert len(set(names)) == 2
    for n in names:
        assert n.replace('_', '').isalnum(), n


@pytest.mark.parametrize('pairs, names, match', [
    ([], None, 'no pairs'),
    (['/imu/data:linear_acceleration.x'], None, 'malformed pair'),
    (['/nope:x ~ /joints:position[0]'], None, "'/nope' .* not in topics"),
    (['/imu/data:linear_acceleration..x ~ /joints:position[0]'], None, 'malformed field'),
    (['/imu/data:x ~ /imu/data:x'], None, 'on both sides'),
    (['/imu/data:x,x ~ /joints:position[0]'], None, 'twice'),
    (['/imu/data:x ~ /joints:position[0]'], ['a', 'b'], 'pair_names has 2'),
    (['/imu/data:x ~ /joints:position[0]'], ['1bad'], 'invalid pair name'),
    (['/imu/data:x ~ /joints:position[0]', '/imu/data:y ~ /joints:position[0]'],
     ['same', 'same'], 'used twice'),
])
def test_bad_pairs_are_refused_with_a_reason(pairs, names, match):
    with pytest.raises(PairSpecError, match=match):
        parse_pairs(TOPICS, pairs, names)


def test_duplicate_topic_refused():
    with pytest.raises(PairSpecError, match='twice'):
        parse_pairs(TOPICS + ['/joints=sensor_msgs/msg/JointState'],
                    ['/imu/data:x ~ /joints:position[0]'])


def test_private_topic_names_keep_their_tilde():
    p = parse_pair('~/a:x ~ ~/b:y', {'~/a': 'std_msgs/msg/Float64',
                                     '~/b': 'std_msgs/msg/Float64'})
    assert (p.x.topic, p.y.topic) == ('~/a', '~/b')
