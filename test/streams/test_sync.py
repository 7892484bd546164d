# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Pairing two streams: interpolation plans and approximate-time matching (no ROS)."""

import numpy as np
import pytest

from infonet_ros.streams.sync import (ApproximateMatcher, interpolate_pairs, interpolation_plan,
                                      newest_interpolation_plan, tail_interpolation_plan)


def test_interpolate_pairs_200hz_with_30hz_exactly_on_a_linear_signal():
    t_fast = np.arange(0, 2.0, 1 / 200)
    t_slow = 0.0123 + np.arange(0, 2.0, 1 / 30)
    v_fast = np.stack([3.0 * t_fast + 1.0, -t_fast], axis=1)
    v_slow = np.sin(t_slow)[:, None]
    s, vs, vf = interpolate_pairs(t_slow, v_slow, t_fast, v_fast, max_gap=0.1)
    inside = (t_slow >= t_fast[0]) & (t_slow <= t_fast[-1])
    np.testing.assert_array_equal(s, t_slow[inside])
    np.testing.assert_array_equal(vs[:, 0], np.sin(s))
    np.testing.assert_allclose(vf[:, 0], 3.0 * s + 1.0, rtol=0, atol=1e-12)
    np.testing.assert_allclose(vf[:, 1], -s, rtol=0, atol=1e-12)


def test_interpolate_pairs_never_bridges_a_long_gap_but_takes_exact_matches():
    t_fast = np.concatenate([np.arange(0, 1, 0.01), np.arange(1.5, 2, 0.01)])
    v_fast = t_fast[:, None]
    t_slow = np.array([0.505, 1.2, 1.5, 1.555, 2.5])
    s, vs, vf = interpolate_pairs(t_slow, t_slow[:, None], t_fast, v_fast, max_gap=0.1)
    # 1.2 falls in the 0.99..1.5 gap; 2.5 is after the last fast sample.
    np.testing.assert_allclose(s, [0.505, 1.5, 1.555])
    np.testing.assert_allclose(vf[:, 0], s, atol=1e-12)
    # An exact stamp match is paired even across a gap (no neighbours needed).
    s, _, vf = interpolate_pairs([1.0 - 0.01], [[0.0]], [0.0, 0.99], [[0.0], [7.0]],
                                 max_gap=0.1)
    assert list(s) == [0.99] and vf[0, 0] == 7.0
    s, _, _ = interpolate_pairs([], np.zeros((0, 1)), [0.0, 1.0], [[0.0], [1.0]], 0.1)
    assert len(s) == 0


@pytest.mark.parametrize('gaps', [0, 3, 40])
def test_the_tail_plan_equals_the_tail_of_the_whole_plan(gaps):
    # The engine plans only the newest slow samples: same pairs as planning everything.
    rng = np.random.default_rng(gaps)
    n = 200
    t_fast = np.cumsum(rng.uniform(0.002, 0.006, 3000))
    t_slow = np.sort(rng.uniform(t_fast[0] - 0.1, t_fast[-1] + 0.1, 800))
    t_slow[::97] = t_fast[::97][:len(t_slow[::97])]  # some exact matches
    t_slow.sort()
    for g in rng.choice(len(t_fast) - 30, gaps, replace=False):  # fast-stream gaps
        t_fast[g:] += 0.05
    whole = [a[-n:] for a in interpolation_plan(t_slow, t_fast, max_gap=0.03)]
    tail = tail_interpolation_plan(t_slow, t_fast, max_gap=0.03, n=n)
    if tail is None:  # too many unpaired slow samples in the tail: the engine plans it all
        assert gaps == 40
        return
    for a, b in zip(tail, whole):
        np.testing.assert_array_equal(a[-n:], b)


def test_plan_fields_name_the_fast_neighbours_and_their_weight():
    plan = interpolation_plan([0.25, 1.0, 5.0], [0.0, 1.0, 2.0], max_gap=1.5)
    # 5.0 is after the last fast sample; 1.0 matches exactly (lo == hi, weight 0).
    np.testing.assert_array_equal(plan.slow_index, [0, 1])
    np.testing.assert_array_equal(plan.fast_lo, [0, 1])
    np.testing.assert_array_equal(plan.fast_hi, [1, 1])
    np.testing.assert_allclose(plan.weight, [0.25, 0.0])
    np.testing.assert_allclose(plan.fast_values(np.array([[0.0], [4.0], [8.0]]))[:, 0],
                               [1.0, 4.0])
    newest = newest_interpolation_plan([0.25, 1.0, 5.0], [0.0, 1.0, 2.0], 1.5, n=1)
    np.testing.assert_array_equal(newest.slow_index, [1])
    assert newest_interpolation_plan([0.25, 1.0, 5.0], [0.0, 1.0, 2.0], 1.5, n=3) is None


def test_approximate_matcher_pairs_nearest_within_slop_and_retires_older():
    m = ApproximateMatcher(slop=0.004, queue_size=2)
    assert m.add(0, 0.000, 'a0') is None
    assert m.add(0, 0.010, 'a1') is None
    # Nearest partner of 0.0115 is 0.010; the older 0.000 retires with the match.
    assert m.add(1, 0.0115, 'b0') == (0.010, 'a1', 0.0115, 'b0')
    assert m.unmatched == 1 and m.queues == ([], [])
    # A tie goes to the earlier message (stamps exact in binary).
    assert m.add(1, 0.5, 'b1') is None  # nothing within slop on side 0
    assert m.add(1, 0.5078125, 'b2') is None
    assert m.add(0, 0.50390625, 'a2') == (0.50390625, 'a2', 0.5, 'b1')
    assert m.unmatched == 1 and m.queues == ([], [(0.5078125, 'b2')])
    for k in range(4):  # the queue keeps the newest queue_size messages
        m.add(0, 1.0 + k, k)
    assert [s for s, _ in m.queues[0]] == [3.0, 4.0] and m.unmatched == 3
    m.clear()
    assert m.queues == ([], []) and m.unmatched == 3
