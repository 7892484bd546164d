# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The generated messages: fields, types and defaults, and delivery over DDS."""

import math
import os
import sys
import textwrap

import pytest

rclpy = pytest.importorskip('rclpy')

from rclpy.executors import SingleThreadedExecutor  # noqa: E402
from rclpy.qos import QoSProfile, ReliabilityPolicy  # noqa: E402

from infonet_ros.msg import MutualInformation, MutualInformationArray  # noqa: E402

# The documented interface (msg/*.msg), field order included.
MI_FIELDS = {
    'header': 'std_msgs/Header',
    'pair_name': 'string',
    'x_source': 'string',
    'y_source': 'string',
    'mi': 'double',
    'method': 'string',
    'sliced': 'boolean',
    'n_slices': 'uint32',
    'window_start': 'builtin_interfaces/Time',
    'window_end': 'builtin_interfaces/Time',
    'sample_count': 'uint32',
    'inference_latency': 'double',
    'mi_lower': 'double',
    'mi_upper': 'double',
    'p_value': 'double',
    'noise_floor': 'double',
    'null_model': 'string',
}
ARRAY_FIELDS = {
    'header': 'std_msgs/Header',
    'estimates': 'sequence<infonet_ros/MutualInformation>',
    'inference_latency': 'double',
    'publish_latency': 'double',
}
TOPIC = 'infonet_ros_test/mi'


def sample_array():
    """Return a MutualInformationArray whose every field holds a distinctive value."""
    msg = MutualInformationArray()
    msg.header.stamp.sec = 1_700_000_000
    msg.header.stamp.nanosec = 123_456_789
    msg.header.frame_id = ''
    msg.inference_latency = 0.0125
    msg.publish_latency = 0.0175
    scalar = MutualInformation()
    scalar.header.stamp = msg.header.stamp
    scalar.pair_name = 'thigh_shank_gyro_z'
    scalar.x_source = '/imu/thigh:angular_velocity.z'
    scalar.y_source = '/imu/shank:angular_velocity.z'
    scalar.mi = 0.8125
    scalar.method = 'infonet'
    scalar.window_start.sec = 1_699_999_990
    scalar.window_end.sec = 1_700_000_000
    scalar.window_end.nanosec = 123_456_789
    scalar.sample_count = 1200
    scalar.inference_latency = 0.0125
    scalar.mi_lower = 0.75
    scalar.mi_upper = 0.875
    scalar.p_value = 0.001
    scalar.noise_floor = 0.0625
    scalar.null_model = MutualInformation.NULL_SHIFT
    vector = MutualInformation()
    vector.pair_name = 'acc_vs_gyro'
    vector.x_source = '/imu/data:linear_acceleration.x,linear_acceleration.y'
    vector.y_source = '/imu/data:angular_velocity.z'
    vector.mi = float('nan')
    vector.method = 'infonet-sliced'
    vector.sliced = True
    vector.n_slices = 64
    vector.sample_count = 4_294_967_295
    vector.mi_lower = float('nan')
    vector.mi_upper = float('nan')
    vector.p_value = float('nan')
    msg.estimates = [scalar, vector]
    return msg


def assert_same(received, sent, path='msg'):
    """Compare two messages field by field; NaN equals NaN here."""
    assert type(received) is type(sent), path
    if hasattr(sent, 'get_fields_and_field_types'):
        for name in sent.get_fields_and_field_types():
            assert_same(getattr(received, name), getattr(sent, name), f'{path}.{name}')
    elif isinstance(sent, list):
        assert len(received) == len(sent), path
        for i, (r, s) in enumerate(zip(received, sent)):
            assert_same(r, s, f'{path}[{i}]')
    elif isinstance(sent, float) and math.isnan(sent):
        assert math.isnan(received), path
    else:
        assert received == sent, path


def test_messages_come_from_the_build():
    """``infonet_ros.msg`` is the generated module of the colcon install tree."""
    import infonet_ros.msg as msg_module
    prefixes = [p for p in os.environ.get('AMENT_PREFIX_PATH', '').split(os.pathsep) if p]
    assert any(os.path.abspath(msg_module.__file__).startswith(os.path.abspath(p) + os.sep)
               for p in prefixes), msg_module.__file__


def test_fields_and_types_are_the_documented_ones():
    assert MutualInformation.get_fields_and_field_types() == MI_FIELDS
    assert list(MutualInformation.get_fields_and_field_types()) == list(MI_FIELDS)
    assert MutualInformationArray.get_fields_and_field_types() == ARRAY_FIELDS


def test_defaults():
    m = MutualInformation()
    assert (m.pair_name, m.x_source, m.y_source, m.method) == ('', '', '', '')
    assert (m.mi, m.inference_latency, m.mi_lower, m.mi_upper, m.p_value) == (0.0,) * 5
    assert m.sliced is False
    assert (m.n_slices, m.sample_count) == (0, 0)
    for stamp in (m.header.stamp, m.window_start, m.window_end):
        assert (stamp.sec, stamp.nanosec) == (0, 0)
    assert m.header.frame_id == ''
    assert m.null_model == ''


def test_constants_name_the_values_the_node_writes():
    pytest.importorskip('torch')
    from infonet_ros.core.uncertainty import NULLS
    from infonet_ros.streams.batch_estimate import PairEstimate
    assert (MutualInformation.METHOD_INFONET, MutualInformation.METHOD_INFONET_SLICED) == (
        PairEstimate(None, 0.0, 0.0, 0.0, 64, 0, 0.0).method,
        PairEstimate(None, 0.0, 0.0, 0.0, 64, 8, 0.0).method)
    assert {MutualInformation.NULL_SHIFT, MutualInformation.NULL_IID} == set(NULLS)
    a = MutualInformationArray()
    assert a.estimates == []
    assert a.inference_latency == 0.0 and a.publish_latency == 0.0


def test_definitions_are_installed():
    """The .msg files are in share/infonet_ros/msg, where ``ros2 interface show`` reads them."""
    prefixes = [p for p in os.environ.get('AMENT_PREFIX_PATH', '').split(os.pathsep) if p]
    source_dir = os.path.join(os.path.dirname(__file__), '..', '..', 'msg')
    for name in ('MutualInformation.msg', 'MutualInformationArray.msg'):
        found = [os.path.join(p, 'share', 'infonet_ros', 'msg', name) for p in prefixes]
        found = [f for f in found if os.path.isfile(f)]
        assert found, f'{name} not installed in any of {prefixes}'
        with open(found[0]) as installed, open(os.path.join(source_dir, name)) as source:
            assert installed.read() == source.read()


def _receive(executor, node, spin_until, publish=None):
    """Subscribe on TOPIC and spin until one message arrives; return it (or None)."""
    received = []
    qos = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
    node.create_subscription(MutualInformationArray, TOPIC, received.append, qos)
    if publish is not None:
        # Keep publishing until discovery has matched the two endpoints.
        node.create_timer(0.1, publish)
    spin_until(executor, lambda: bool(received), timeout_sec=20.0)
    return received[0] if received else None


def test_array_published_and_received_between_two_nodes(rclpy_context, spin_until):
    sent = sample_array()
    talker = rclpy.create_node('mi_talker', context=rclpy_context)
    listener = rclpy.create_node('mi_listener', context=rclpy_context)
    executor = SingleThreadedExecutor(context=rclpy_context)
    executor.add_node(talker)
    executor.add_node(listener)
    try:
        qos = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
        pub = talker.create_publisher(MutualInformationArray, TOPIC, qos)
        received = _receive(executor, listener, spin_until, publish=lambda: pub.publish(sent))
        assert received is not None, 'no MutualInformationArray received within 20 s'
        assert_same(received, sent)
    finally:
        executor.shutdown()
        talker.destroy_node()
        listener.destroy_node()


PUBLISHER_SCRIPT = textwrap.dedent("""
    import sys

    import rclpy
    from rclpy.executors import ExternalShutdownException
    from rclpy.qos import QoSProfile, ReliabilityPolicy

    sys.path.insert(0, sys.argv[1])
    from test_messages import sample_array, TOPIC  # noqa: E402
    from infonet_ros.msg import MutualInformationArray  # noqa: E402

    rclpy.init()
    node = rclpy.create_node('mi_child_talker')
    qos = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
    pub = node.create_publisher(MutualInformationArray, TOPIC, qos)
    msg = sample_array()
    node.create_timer(0.1, lambda: pub.publish(msg))
    print('publishing', flush=True)
    try:
        rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        node.destroy_node()
        rclpy.try_shutdown()
""")


def test_array_received_from_another_process(rclpy_context, spin_until, node_process,
                                             tmp_path):
    """A child process (started by the node_process fixture) publishes; this one receives."""
    script = tmp_path / 'publisher.py'
    script.write_text(PUBLISHER_SCRIPT)
    child = node_process([sys.executable, script, os.path.dirname(__file__)])
    listener = rclpy.create_node('mi_listener', context=rclpy_context)
    executor = SingleThreadedExecutor(context=rclpy_context)
    executor.add_node(listener)
    try:
        # Starting Python and loading rclpy can take long on a busy machine; wait for that
        # apart from the wait for discovery and delivery.
        spin_until(executor, lambda: 'publishing' in child.output() or not child.alive(),
                   timeout_sec=120.0)
        assert 'publishing' in child.output() and child.alive(), child.output()
        received = _receive(executor, listener, spin_until)
        assert received is not None, f'nothing received; child output:\n{child.output()}'
        assert_same(received, sample_array())
    finally:
        executor.shutdown()
        listener.destroy_node()
    assert child.alive(), child.output()
    assert child.stop() == 0, child.output()
