# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The stamp rule, feeding messages to the engine, and replay of recorded messages (no ROS)."""

import numpy as np
import pytest

from infonet_ros.streams.feed import add_item, feed, item_stamp, replay
from infonet_ros.streams.pairs import parse_pairs
from infonet_ros.streams.raw_intake import Values
from infonet_ros.streams.window_engine import WindowEngine

TOPICS = ['/a=test_msgs/msg/A', '/b=test_msgs/msg/B']


class Msg:
    """A stand-in message: attributes as fields (the engine reads fields by path)."""

    def __init__(self, **fields):
        self.__dict__.update(fields)


def stamped(t, **fields):
    """Build a stand-in message with header.stamp at ``t`` seconds."""
    sec = int(t)
    return Msg(header=Msg(stamp=Msg(sec=sec, nanosec=round((t - sec) * 1e9))), **fields)


def engine(pairs, window=4, **kw):
    return WindowEngine(parse_pairs(TOPICS, pairs), window, **kw)


# ---- the stamp rule ----------------------------------------------------------------------

def test_header_stamp_unless_receive_time_or_no_header():
    msg = stamped(12.5, x=1.0)
    assert item_stamp(msg, 20.0) == 12.5
    assert item_stamp(msg, 20.0, use_receive_time=True) == 20.0
    assert item_stamp(Msg(x=1.0), 20.0) == 20.0  # no header: arrival
    assert item_stamp(Values(12.5, [1.0]), 20.0) == 12.5
    assert item_stamp(Values(12.5, [1.0]), 20.0, use_receive_time=True) == 20.0
    assert item_stamp(Values(None, [1.0]), 20.0) == 20.0


def test_the_clock_is_read_only_when_the_rule_needs_it():
    reads = []

    def clock():
        reads.append(1)
        return 30.0

    assert item_stamp(stamped(12.5), clock) == 12.5 and not reads
    assert item_stamp(Values(None, [1.0]), clock) == 30.0 and len(reads) == 1
    assert item_stamp(stamped(12.5), clock, use_receive_time=True) == 30.0 and len(reads) == 2


def test_feed_stamps_messages_and_values_alike():
    e = engine(['/a:x ~ /a:y'], window=2)
    assert feed(e, '/a', 5.0, stamped(1.0, x=1.0, y=2.0)) == ('ok', [1.0, 2.0])
    assert feed(e, '/a', 6.0, Values(2.0, [3.0, 4.0])) == ('ok', [3.0, 4.0])
    assert feed(e, '/a', 7.0, Values(2.0, [3.0, 4.0])) == ('duplicate', None)
    assert add_item(e, '/a', 9.0, Msg(x=5.0, y=6.0)) == ('ok', [5.0, 6.0])
    (w,) = e.ready_windows()
    np.testing.assert_array_equal(w.stamps, [2.0, 9.0])


# ---- determinism / replay ----------------------------------------------------------------

def _jittery_streams(seed):
    rng = np.random.default_rng(seed)
    ta = np.cumsum(rng.uniform(0.004, 0.006, 800))
    tb = np.cumsum(rng.uniform(0.009, 0.011, 400))
    msgs = [(t, '/a', Msg(x=float(rng.normal()), y=float(rng.normal()))) for t in ta]
    msgs += [(t, '/b', Msg(x=float(rng.normal()), y=float(rng.normal()))) for t in tb]
    msgs.sort(key=lambda r: r[0])
    # Arrival a little after acquisition, as over a network.
    return [(topic, t + 0.002, m) for t, topic, m in msgs]


@pytest.mark.parametrize('mode', ['interpolate', 'approximate'])
def test_replay_is_deterministic(mode):
    msgs = _jittery_streams(3)

    def run():
        e = engine(['/a:x ~ /b:x', '/a:x ~ /a:y'], window=64, sync_mode=mode, slop=0.003)
        return [(t, [(w.pair.name, w.stamps.copy(), w.x.copy(), w.y.copy()) for w in ws])
                for t, ws in replay(e, msgs, 0.05)]

    first, second = run(), run()
    assert len(first) == len(second) > 40
    n_windows = 0
    for (t1, ws1), (t2, ws2) in zip(first, second):
        assert t1 == t2
        assert [w[0] for w in ws1] == [w[0] for w in ws2]
        for a, b in zip(ws1, ws2):
            n_windows += 1
            for u, v in zip(a[1:], b[1:]):
                np.testing.assert_array_equal(u, v)
            # A window handed out at an update holds no pair stamped after it (the stamps
            # here are 2 ms older than arrival).
            assert a[1][-1] <= t1
    assert n_windows > 40


def test_replay_feeds_messages_up_to_each_update_time():
    msgs = [('/a', 0.1 * k, Msg(x=float(k), y=float(-k))) for k in range(10)]
    e = engine(['/a:x ~ /a:y'], window=2)
    out = list(replay(e, msgs, update_period=0.25, start=0.0))
    times = [round(t, 9) for t, _ in out]
    assert times == [0.25, 0.5, 0.75, 1.0]
    ends = [[w.end for w in ws] for _, ws in out]
    assert ends == [[pytest.approx(0.2)], [pytest.approx(0.5)], [pytest.approx(0.7)],
                    [pytest.approx(0.9)]]
    with pytest.raises(ValueError):
        list(replay(e, msgs, 0.0))
