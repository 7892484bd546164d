# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The ROS pieces around the node class, and the node in-process: parameters and estimator."""

import math
import sys
import types

import pytest

rclpy = pytest.importorskip('rclpy')

from rclpy.parameter import Parameter  # noqa: E402

from infonet_ros.ros.diagnostics import intake_state, jit_state  # noqa: E402
from infonet_ros.ros.message_filters_sync import (make_synchronizers, StampedRow,  # noqa: E402
                                                  SyncInput)
from infonet_ros.ros.node_parameters import (checked_changes, default_pair_names,  # noqa: E402
                                             parameter_descriptor)
from infonet_ros.streams.node_config import PARAM_BY_NAME  # noqa: E402


def test_descriptors_carry_ranges_choices_and_read_only():
    d = parameter_descriptor(PARAM_BY_NAME['window'])
    assert not d.read_only and d.integer_range[0].from_value == PARAM_BY_NAME['window'].bounds[0]
    d = parameter_descriptor(PARAM_BY_NAME['update_rate'])
    assert d.floating_point_range[0].to_value == PARAM_BY_NAME['update_rate'].bounds[1]
    d = parameter_descriptor(PARAM_BY_NAME['sync_mode'])
    assert d.read_only and "'interpolate'" in d.additional_constraints


def test_default_pair_names_or_none_when_pairs_do_not_parse():
    topics = ['/a=std_msgs/msg/Float64']
    assert default_pair_names(topics, ['/a:data ~ /a:data2']) == ['a_data__a_data2']
    assert default_pair_names(topics, ['/a:data ~ /missing:data']) == []


def test_run_time_changes_are_checked_and_converted():
    changes, refused = checked_changes([Parameter('window', value=64),
                                        Parameter('update_rate', value=20),
                                        Parameter('use_sim_time', value=True)])
    assert refused == '' and changes == {'window': 64, 'update_rate': 20.0}
    assert isinstance(changes['update_rate'], float)
    assert 'read-only' in checked_changes([Parameter('window', value=64),
                                           Parameter('sync_mode', value='interpolate')])[1]
    changes, refused = checked_changes([Parameter('window', value=5)])
    assert changes == {} and 'window' in refused


def test_synchronizer_input_carries_our_stamp_and_row():
    got = []
    source = SyncInput()
    source.registerCallback(lambda msg, key: got.append((msg, key)), ('/a', '/b'))
    source.signalMessage(StampedRow(12.25, [1.0, 2.0]))
    ((msg, key),) = got
    assert key == ('/a', '/b') and msg.stamp == 12.25 and msg.row == [1.0, 2.0]
    assert (msg.header.stamp.sec, msg.header.stamp.nanosec) == (12, 250_000_000)


def test_one_synchronizer_per_link_fed_by_one_source_per_topic(monkeypatch):
    made = []

    class FakeSynchronizer:
        """Records its inputs and hands every registered callback the pair (a, b)."""

        def __init__(self, inputs, queue_size, slop):
            self.inputs, self.queue_size, self.slop = inputs, queue_size, slop
            made.append(self)

        def registerCallback(self, cb, *args):  # noqa: N802 (message_filters' API)
            self.callback = lambda a, b: cb(a, b, *args)

    monkeypatch.setitem(sys.modules, 'message_filters',
                        types.SimpleNamespace(ApproximateTimeSynchronizer=FakeSynchronizer))
    pairs = []
    sources = make_synchronizers([('/a', '/b'), ('/a', '/c')], 50, 0.02,
                                 lambda a, b, key: pairs.append((a, b, key)))
    assert sorted(sources) == ['/a', '/b', '/c'] and len(made) == 2
    assert [(link.key, side) for link, side in sources['/a'].links] == \
        [(('/a', '/b'), 0), (('/a', '/c'), 0)]
    assert [(link.key, side) for link, side in sources['/c'].links] == [(('/a', '/c'), 1)]
    assert made[0].inputs == list(sources['/a'].links[0][0].inputs)
    assert (made[0].queue_size, made[0].slop) == (50, 0.02)
    made[1].callback('x', 'y')
    assert pairs == [('x', 'y', ('/a', '/c'))]


def test_diagnostic_states():
    class Estimator:
        jit, jit_failure = True, ''

    class Intake:
        disabled, fast, decoded = '', 7, 2

    assert jit_state(Estimator()) == 'on'
    Estimator.jit_failure = 'RuntimeError: no'
    assert jit_state(Estimator()) == 'failed: RuntimeError: no'
    Estimator.jit = False
    assert jit_state(Estimator()) == 'off'
    assert intake_state(['/a', '/b'], {'/a': Intake()}) == '/a: raw 7, decoded 2; /b: decoded'


def test_a_device_change_rebuilds_the_estimator_with_every_setting(rclpy_context):
    from infonet_ros.ros.mi_node import MiNode
    from infonet_ros.streams.feed import item_stamp
    node = MiNode(context=rclpy_context, parameter_overrides=[
        Parameter('topics', value=['/t/js=sensor_msgs/msg/JointState']),
        Parameter('pairs', value=['/t/js:position[0] ~ /t/js:velocity[0]']),
        Parameter('window', value=64), Parameter('device', value='cpu'),
        Parameter('jit', value=False), Parameter('precision', value='bf16')])
    try:
        before = node.estimator
        result = node._on_set_parameters([Parameter('device', value='cpu')])
        assert result.successful, result.reason
        after = node.estimator
        assert after is not before and after.model is not before.model
        for setting in ('jit', 'max_set_size', 'workers', 'split_seed', 'provenance',
                        'precision'):
            assert getattr(after, setting) == getattr(before, setting), setting
        assert node.cfg.device == 'cpu' and after.precision == 'bf16'
        refused = node._on_set_parameters([Parameter('device', value='tpu')])
        assert not refused.successful and 'device' in refused.reason
        assert node.estimator is after
        # The node stamps with the streams' rule: without a header, its own clock.
        now = node._now()
        assert math.isclose(item_stamp(object(), node._now), now, abs_tol=5.0)
    finally:
        node.destroy_node()
