# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Diagnostics that tell the truth: input and pair verdicts, and the statuses built from them."""

import pytest

pytest.importorskip('diagnostic_msgs')

from builtin_interfaces.msg import Time  # noqa: E402, I100
from diagnostic_msgs.msg import DiagnosticStatus  # noqa: E402

from infonet_ros.ros.diagnostics import DiagnosticsBuilder, HealthInput, LatencyStats  # noqa
from infonet_ros.ros.input_health import (ArrivalTracker, ERROR, input_verdict,  # noqa: E402
                                          OK, pair_verdict, WARN)
from infonet_ros.streams.pairs import parse_pairs  # noqa: E402
from infonet_ros.streams.window_engine import WindowEngine  # noqa: E402


def verdict(tracker, now, **kw):
    args = {'new_drops': 0, 'stale_periods': 10.0, 'no_input_timeout': 5.0}
    args.update(kw)
    return input_verdict(tracker, '/a', now, **args)


def test_an_input_that_never_arrives_warns_then_errs():
    tracker = ArrivalTracker(start=100.0)
    v = verdict(tracker, 102.0, publishers=0)
    assert (v.level, v.message, v.no_input) == (WARN, 'no message received yet (0 publisher(s))',
                                                True)
    v = verdict(tracker, 106.0, publishers=1)
    assert (v.level, v.message) == (ERROR, 'no message received in 6 s (1 publisher(s))')


def test_an_input_goes_stale_after_k_of_its_periods():
    tracker = ArrivalTracker(start=0.0)
    tracker.observe('/a', 0, 1.0)
    tracker.observe('/a', 100, 2.0)  # first seen
    tracker.observe('/a', 200, 3.0)  # 100 messages per second
    assert tracker.expected_period('/a') == pytest.approx(0.01)
    assert verdict(tracker, 3.0).level == OK
    assert verdict(tracker, 3.0, new_drops=2).message == \
        '2 message(s) dropped since the last report'
    tracker.observe('/a', 200, 4.0)  # nothing new for a second: 100 periods
    v = verdict(tracker, 4.0)
    assert v.level == WARN and v.no_input
    assert v.message == 'stale: no message for 1.0 s (expected every 0.01 s)'
    assert verdict(tracker, 3.15, stale_periods=10.0).level == WARN  # 0.15 s > 10 x 0.01 s
    assert verdict(tracker, 3.15, stale_periods=10.0 ** 3).level == OK


def test_a_publisher_of_another_type_is_an_error():
    tracker = ArrivalTracker(start=0.0)
    v = verdict(tracker, 1.0, foreign_types=('std_msgs/msg/String',),
                expected_type='sensor_msgs/msg/Imu')
    assert v.level == ERROR and v.no_input
    assert v.message == ('type conflict: publisher(s) of std_msgs/msg/String on this topic, '
                         'expected sensor_msgs/msg/Imu: their messages never arrive')


def test_a_pair_without_recent_estimates_says_why():
    base = {'update_period': 0.1, 'stale_periods': 10.0, 'have': 50, 'want': 200,
            'stale_inputs': [], 'pairs_growing': True}
    v = pair_verdict(estimated=True, since_estimate=0.5, **base)
    assert (v.level, v.message) == (OK, 'estimating')
    v = pair_verdict(estimated=False, since_estimate=0.5, **base)
    assert (v.level, v.message) == (WARN, 'no estimate yet: window not full (50/200)')
    v = pair_verdict(estimated=True, since_estimate=2.0, **{**base, 'stale_inputs': ['/a']})
    assert v.message == 'no estimate for 2.0 s: stale input /a'
    v = pair_verdict(estimated=False, since_estimate=2.0, **{**base, 'pairs_growing': False})
    assert v.message.startswith('no estimate yet: sync dropping (no new pairs while input '
                                'arrives') and v.message.endswith('window 50/200')
    v = pair_verdict(estimated=False, since_estimate=2.0, refused_new=7, **base)
    assert v.message.startswith('no estimate yet: sync dropping (7 candidate pair(s) refused')
    v = pair_verdict(estimated=True, since_estimate=2.0, skipped_busy=3,
                     **{**base, 'have': 200})
    assert v.message == 'no estimate for 2.0 s: forward pass busy (3 update(s) skipped)'


def test_statuses_carry_levels_reasons_and_the_pairing_refused_rate():
    topics = ['/a=sensor_msgs/msg/Imu', '/b=sensor_msgs/msg/Imu']
    pairs = parse_pairs(topics, ['/a:linear_acceleration.x ~ /b:linear_acceleration.x'],
                        ['ab'])
    engine = WindowEngine(pairs, window=64, sync_mode='approximate', slop=0.004)
    builder = DiagnosticsBuilder('mi_node', start=0.0)

    def build(now, **kw):
        health = HealthInput(now=now, stale_periods=10.0, no_input_timeout=5.0,
                             update_period=0.1, **kw)
        arr = builder.build(Time(), engine, {}, LatencyStats(), {}, health)
        return {s.name: s for s in arr.status}

    st = build(1.0, expected_types={'/a': 'sensor_msgs/msg/Imu'},
               foreign_types={'/a': ['std_msgs/msg/String']}, clock_problem='sim time stops')
    assert st['mi_node: estimator'].level == DiagnosticStatus.WARN
    assert st['mi_node: estimator'].message == 'sim time stops'
    assert st['mi_node: input /a'].level == DiagnosticStatus.ERROR
    assert st['mi_node: input /b'].level == DiagnosticStatus.WARN
    assert st['mi_node: pair ab'].message == 'no estimate yet: stale input /a, /b'
    for k in range(40):  # 100 Hz on both, /b 1 ms later
        engine.add_values('/a', 10.0 + 0.01 * k, [float(k)])
        engine.add_values('/b', 10.001 + 0.01 * k, [float(k)])
    st = build(2.0)
    assert st['mi_node: input /a'].level == DiagnosticStatus.OK
    pair = st['mi_node: pair ab']
    values = {kv.key: kv.value for kv in pair.values}
    stats = engine.pairing_stats()['ab']
    assert values['pairs_formed'] == str(stats.formed) and stats.formed > 30
    assert values['refused_rate'] == f'{stats.refused_rate:.6g}'
    assert pair.level == DiagnosticStatus.WARN and 'window not full' in pair.message
