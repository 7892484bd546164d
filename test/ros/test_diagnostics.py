# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Diagnostics that tell the truth: input and pair verdicts, and the statuses built from them."""

import pytest

pytest.importorskip('diagnostic_msgs')

from builtin_interfaces.msg import Time  # noqa: E402, I100
from diagnostic_msgs.msg import DiagnosticStatus  # noqa: E402

from infonet_ros.ros.diagnostics import DiagnosticsBuilder, HealthInput, LatencyStats  # noqa
from infonet_ros.ros.input_health import (ArrivalTracker, CLOCKS_APART, ERROR,  # noqa: E402
                                          input_verdict, OK, pair_verdict, WARN)
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
    assert v.message == ('no estimate for 2.0 s: forward pass busy (3 update(s) skipped since '
                         'its last estimate)')
    v = pair_verdict(estimated=False, since_estimate=2.0, pass_running=True,
                     **{**base, 'have': 200})
    assert v.message == ('no estimate yet: forward pass busy (0 update(s) skipped since the '
                         'start)')
    v = pair_verdict(estimated=False, since_estimate=2.0, **{**base, 'have': 200})
    assert v.message == 'no estimate yet: window full, no update published yet'


def test_a_pair_refusing_most_candidates_warns_of_two_clocks_even_while_estimating():
    base = {'update_period': 0.1, 'stale_periods': 10.0, 'have': 200, 'want': 200,
            'stale_inputs': [], 'pairs_growing': True, 'estimated': True,
            'since_estimate': 0.1}
    v = pair_verdict(refused_new=186, formed_new=14, **base)
    assert v.level == WARN
    assert v.message == f'186 of 200 candidate pairs refused since the last report: {CLOCKS_APART}'
    assert CLOCKS_APART == ('stamps of the two topics further apart than half a sample '
                            'interval: different clocks? use interpolate or use_receive_time')
    assert pair_verdict(refused_new=90, formed_new=110, **base).level == OK  # loss, waiting
    assert pair_verdict(refused_new=15, formed_new=0, **base).level == OK  # too few to judge


def _imu_pair_engine(window):
    topics = ['/a=sensor_msgs/msg/Imu', '/b=sensor_msgs/msg/Imu']
    pairs = parse_pairs(topics, ['/a:linear_acceleration.x ~ /b:linear_acceleration.x'],
                        ['ab'])
    return WindowEngine(pairs, window=window, sync_mode='approximate', slop=0.01)


def test_clocks_half_an_interval_apart_make_the_pair_warn():
    engine = _imu_pair_engine(64)
    builder = DiagnosticsBuilder('mi_node', start=0.0)
    for k in range(200):  # 200 Hz, /b stamped 2.5 ms ahead
        engine.add_values('/a', 1.8e9 + k / 200, [float(k)])
        engine.add_values('/b', 1.8e9 + k / 200 + 0.0025, [float(k)])
    health = HealthInput(now=1.0, stale_periods=10.0, no_input_timeout=5.0, update_period=0.1)
    arr = builder.build(Time(), engine, {}, LatencyStats(), {}, health)
    pair = {s.name: s for s in arr.status}['mi_node: pair ab']
    values = {kv.key: kv.value for kv in pair.values}
    assert pair.level == DiagnosticStatus.WARN and pair.message.endswith(CLOCKS_APART)
    assert float(values['refused_rate_in_period']) > 0.99


def test_a_long_pass_keeps_the_pair_busy_across_reports_and_update_time_is_reported():
    engine = _imu_pair_engine(16)
    builder = DiagnosticsBuilder('mi_node', start=0.0)
    for k in range(40):
        engine.add_values('/a', 10.0 + 0.01 * k, [float(k)])
        engine.add_values('/b', 10.0 + 0.01 * k, [float(k)])
    latency, update_time = LatencyStats(), LatencyStats()
    latency.add(0.18)
    update_time.add(9.0)  # estimate passes 0.18 s, p-value passes the rest
    messages = []
    # A 9 s pass: updates are skipped in the first reports of it, none in the last one.
    for now, skipped in ((5.0, 2), (6.0, 4), (7.0, 4)):
        health = HealthInput(now=now, stale_periods=10.0, no_input_timeout=5.0,
                             update_period=0.1, estimated_at={'ab': 1.0}, skipped_busy=skipped,
                             skipped_at_estimate={'ab': 0}, pass_running=True)
        arr = builder.build(Time(), engine, {}, latency, {}, health, update_time)
        st = {s.name: s for s in arr.status}
        messages.append(st['mi_node: pair ab'].message)
        if now == 5.0:
            values = {kv.key: kv.value for kv in st['mi_node: estimator'].values}
            assert values['inference_latency_last_s'] == '0.18'
            assert values['update_forward_last_s'] == '9'
            assert values['update_forward_max_s'] == '9'
    assert messages == [
        'no estimate for 4.0 s: forward pass busy (2 update(s) skipped since its last estimate)',
        'no estimate for 5.0 s: forward pass busy (4 update(s) skipped since its last estimate)',
        'no estimate for 6.0 s: forward pass busy (4 update(s) skipped since its last estimate)']


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
