# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Input validation, pairing modes and rolling windows of the engine (no ROS)."""

import math

import numpy as np
import pytest

from infonet_ros.streams.feed import replay
from infonet_ros.streams.pairs import parse_pairs
from infonet_ros.streams.topic_input import TIME_JUMP
from infonet_ros.streams.window_engine import WindowEngine

TOPICS = ['/a=test_msgs/msg/A', '/b=test_msgs/msg/B']


class Msg:
    """A stand-in message: attributes as fields (the engine reads fields by path)."""

    def __init__(self, **fields):
        self.__dict__.update(fields)


def engine(pairs, window=4, **kw):
    return WindowEngine(parse_pairs(TOPICS, pairs), window, **kw)


# ---- validation --------------------------------------------------------------------------

def test_bad_messages_are_dropped_and_counted():
    e = engine(['/a:x ~ /a:y'], window=3)
    assert e.add_message('/a', 1.0, Msg(x=1.0, y=2.0)) == ('ok', [1.0, 2.0])
    assert e.add_message('/a', 2.0, Msg(x=math.nan, y=2.0))[0] == 'nan'
    assert e.add_message('/a', 2.0, Msg(x=math.inf, y=2.0))[0] == 'nan'
    assert e.add_message('/a', 2.0, Msg(x=1.0))[0] == 'missing_field'
    assert e.add_message('/a', 2.0, Msg(x='text', y=1.0))[0] == 'missing_field'
    assert e.add_message('/a', 1.0, Msg(x=1.0, y=2.0))[0] == 'duplicate'
    assert e.add_message('/a', 0.5, Msg(x=1.0, y=2.0))[0] == 'out_of_order'
    assert e.add_message('/a', 2.0, Msg(x=3.0, y=4.0))[0] == 'ok'
    st = e.topic_stats()['/a']
    assert st.received == 8 and st.accepted == 2
    assert st.dropped == {'missing_field': 2, 'nan': 2, 'unset_stamp': 0, 'out_of_order': 1,
                          'duplicate': 1}
    assert st.dropped_total == 6
    t, v = e.topics['/a'].buffer.last()
    np.testing.assert_array_equal(t, [1.0, 2.0])


def test_time_jump_back_clears_all_buffers():
    e = engine(['/a:x ~ /a:y', '/b:x ~ /b:y'], window=2, time_jump=1.0)
    for k in range(3):
        e.add_message('/a', 10.0 + k, Msg(x=k, y=k))
        e.add_message('/b', 10.0 + k, Msg(x=k, y=k))
    assert len(e.ready_windows()) == 2
    # A bag loop: /a restarts at 0.25; everything buffered before is gone, /b included.
    assert e.add_message('/a', 0.25, Msg(x=5.0, y=5.0))[0] == TIME_JUMP
    assert e.resets == 1 and e.topic_stats()['/a'].time_jumps == 1
    np.testing.assert_array_equal(e.topics['/a'].buffer.last()[0], [0.25])
    assert len(e.topics['/b'].buffer) == 0
    # The new sequence is accepted from its own start on both topics.
    assert e.add_message('/b', 0.5, Msg(x=1.0, y=1.0))[0] == 'ok'
    e.add_message('/a', 1.0, Msg(x=6.0, y=6.0))
    (w,) = e.ready_windows()
    np.testing.assert_array_equal(w.stamps, [0.25, 1.0])


def test_add_values_validates_like_messages():
    e = engine(['/a:x ~ /a:y'], window=2)
    assert e.add_values('/a', 1.0, [1.0, 2.0]) == ('ok', [1.0, 2.0])
    assert e.add_values('/a', 2.0, [float('nan'), 2.0]) == ('nan', None)
    assert e.add_values('/a', 1.0, [1.0, 2.0]) == ('duplicate', None)


# ---- same-topic windows ------------------------------------------------------------------

def test_same_topic_window_ready_when_full_and_only_when_new():
    e = engine(['/a:x ~ /a:y'], window=4)
    for k in range(3):
        e.add_message('/a', float(k) + 0.5, Msg(x=k, y=-k))
    assert e.ready_windows() == []
    e.add_message('/a', 3.0, Msg(x=3, y=-3))
    (w,) = e.ready_windows()
    assert (w.n, w.start, w.end) == (4, 0.5, 3.0)
    np.testing.assert_array_equal(w.x[:, 0], [0, 1, 2, 3])
    np.testing.assert_array_equal(w.y[:, 0], [0, -1, -2, -3])
    assert e.ready_windows() == []  # nothing new since
    e.add_message('/a', 4.0, Msg(x=4, y=-4))
    (w,) = e.ready_windows()
    np.testing.assert_array_equal(w.stamps, [1.5, 2.5, 3, 4])
    # until: the window ending at or before a given time, from what the buffer still holds
    # (here the newest window only).
    np.testing.assert_array_equal(e.window_at(w.pair.name, until=4.0).stamps,
                                  [1.5, 2.5, 3, 4])
    assert e.window_at(w.pair.name, until=3.5) is None
    with pytest.raises(KeyError):
        e.window_at('nope')


def test_vector_sides_select_their_columns():
    e = engine(['/a:x,z ~ /a:y'], window=2)
    for k in range(2):
        e.add_message('/a', float(k + 1), Msg(x=k, y=10 + k, z=20 + k))
    (w,) = e.ready_windows()
    np.testing.assert_array_equal(w.x, [[0, 20], [1, 21]])
    np.testing.assert_array_equal(w.y, [[10], [11]])


def test_set_window_keeps_the_newest_samples():
    e = engine(['/a:x ~ /a:y'], window=4)
    for k in range(6):
        e.add_message('/a', float(k), Msg(x=k, y=k))
    e.set_window(2)
    (w,) = e.ready_windows()
    np.testing.assert_array_equal(w.stamps, [4, 5])
    e.set_window(5)
    assert e.ready_windows() == []  # 2 rows kept, 5 needed
    for k in range(6, 9):
        e.add_message('/a', float(k), Msg(x=k, y=k))
    (w,) = e.ready_windows()
    np.testing.assert_array_equal(w.stamps, [4, 5, 6, 7, 8])
    with pytest.raises(ValueError):
        e.set_window(1)


# ---- interpolation -----------------------------------------------------------------------

@pytest.mark.parametrize('x_topic_is_fast', [False, True])
def test_engine_interpolates_the_faster_stream_at_the_slower_stamps(x_topic_is_fast):
    fast, slow = ('/a', '/b') if x_topic_is_fast else ('/b', '/a')
    t_fast = np.arange(0, 12.0, 1 / 200)
    t_slow = 0.004 + np.arange(0, 12.0, 1 / 30)
    e = engine(['/a:x ~ /b:x'], window=300, sync_mode='interpolate', max_gap=0.05)
    msgs = sorted([(t, fast, Msg(x=2.0 * t)) for t in t_fast]
                  + [(t, slow, Msg(x=float(k))) for k, t in enumerate(t_slow)],
                  key=lambda r: r[0])
    # Updates every 0.1 s, as the node's timer would make them.
    windows = [w for _, ws in replay(e, [(tp, t, m) for t, tp, m in msgs], 0.1) for w in ws]
    w = windows[-1]
    assert w.n == 300
    # The window's stamps are the newest 300 slow stamps inside the fast stream's span.
    paired = t_slow[t_slow <= t_fast[-1]]
    np.testing.assert_array_equal(w.stamps, paired[-300:])
    slow_vals = np.searchsorted(t_slow, w.stamps).astype(float)
    fast_vals = 2.0 * w.stamps
    xs, ys = (fast_vals, slow_vals) if x_topic_is_fast else (slow_vals, fast_vals)
    np.testing.assert_allclose(w.x[:, 0], xs, atol=1e-9)
    np.testing.assert_allclose(w.y[:, 0], ys, atol=1e-9)
    # The 200 Hz buffer grew to span 300 samples at 30 Hz (10 s: 2000 rows at 200 Hz).
    assert e.topics[fast].buffer.capacity >= 2000
    # Buffers grow as samples arrive: all messages fed at once, then one update, give the
    # same window (a burst between two updates of the node is not lost).
    e2 = engine(['/a:x ~ /b:x'], window=300, sync_mode='interpolate', max_gap=0.05)
    for t, topic, m in msgs:
        e2.add_message(topic, t, m)
    (w2,) = e2.ready_windows()
    for u, v in ((w.stamps, w2.stamps), (w.x, w2.x), (w.y, w2.y)):
        np.testing.assert_array_equal(u, v)


def test_a_stalled_partner_does_not_grow_the_buffer():
    e = engine(['/a:x ~ /b:x'], window=100, sync_mode='interpolate')
    for k in range(20):  # the slow partner publishes 20 samples, then stops
        e.add_message('/b', k / 30, Msg(x=k))
    for k in range(20000):
        e.add_message('/a', k / 200, Msg(x=k))
    assert e.topics['/a'].buffer.capacity == 200  # its initial two windows
    assert e.ready_windows() == []


def test_interpolate_buffers_grow_across_updates():
    t_fast = np.arange(0, 20.0, 1 / 200)
    t_slow = np.arange(0.001, 20.0, 1 / 30)
    e = engine(['/a:x ~ /b:x'], window=300, sync_mode='interpolate')
    msgs = sorted([(t, '/a', Msg(x=t)) for t in t_fast]
                  + [(t, '/b', Msg(x=-t)) for t in t_slow], key=lambda r: r[0])
    windows = [w for _, ws in replay(e, ((tp, t, m) for t, tp, m in msgs), 0.1)
               for w in ws]
    assert windows, 'the interpolated pair never filled its window'
    first = windows[0]
    # Ready about 10 s (300 samples at 30 Hz) after the start, after the buffers grew.
    assert 10.0 <= first.end <= 12.0
    np.testing.assert_allclose(first.x[:, 0], first.stamps, atol=1e-9)
    np.testing.assert_allclose(first.y[:, 0], -first.stamps, atol=1e-12)


# ---- approximate pairing -----------------------------------------------------------------

def test_approximate_pairs_nearest_within_slop_and_retires_older():
    e = engine(['/a:x ~ /b:x'], window=3, sync_mode='approximate', slop=0.004,
               queue_size=10)
    seq = [('/a', 0.001), ('/b', 0.003), ('/a', 0.010), ('/a', 0.020), ('/b', 0.0215),
           ('/b', 0.040), ('/a', 0.050), ('/a', 0.0605), ('/b', 0.060), ('/b', 0.070),
           ('/a', 0.0702)]
    for topic, t in seq:
        e.add_message(topic, t, Msg(x=t))
    (w,) = e.ready_windows(only_new=False)
    link = e.links[('/a', '/b')]
    # Pairs: (0.001, 0.003), (0.020, 0.0215) retiring /a 0.010, (0.0605, 0.060) retiring
    # /b 0.040 and /a 0.050, (0.0702, 0.070).
    assert link.stats.formed == 4 and link.matcher.unmatched == 3
    np.testing.assert_allclose(w.x[:, 0], [0.020, 0.0605, 0.0702])
    np.testing.assert_allclose(w.y[:, 0], [0.0215, 0.060, 0.070])
    np.testing.assert_allclose(w.stamps, [0.0215, 0.0605, 0.0702])  # the later stamp


def test_approximate_queue_is_bounded():
    e = engine(['/a:x ~ /b:x'], window=2, sync_mode='approximate', slop=0.001,
               queue_size=3)
    for k in range(10):
        e.add_message('/a', float(k + 1), Msg(x=k))
    link = e.links[('/a', '/b')]
    assert len(link.matcher.queues[0]) == 3 and link.matcher.unmatched == 7
    e.add_message('/b', 10.0005, Msg(x=1.0))
    assert link.stats.formed == 1 and link.matcher.queues == ([], [])


def test_external_pairs_must_move_forward():
    e = engine(['/a:x ~ /b:x', '/b:y ~ /a:y'], window=2, sync_mode='external')
    assert e.link_topics == [('/a', '/b')]  # one link serves both pairs
    assert e.add_synced(('/a', '/b'), 1.0, [1.0, 10.0], 1.001, [2.0, 20.0]) == 'ok'
    assert e.add_synced(('/a', '/b'), 0.5, [0.0, 0.0], 0.5, [0.0, 0.0]) == 'out_of_order'
    assert e.add_synced(('/a', '/b'), 2.0, [3.0, 30.0], 2.0, [4.0, 40.0]) == 'ok'
    w1, w2 = e.ready_windows()
    np.testing.assert_array_equal(w1.x[:, 0], [1.0, 3.0])  # /a:x
    np.testing.assert_array_equal(w1.y[:, 0], [2.0, 4.0])  # /b:x
    np.testing.assert_array_equal(w2.x[:, 0], [20.0, 40.0])  # /b:y
    np.testing.assert_array_equal(w2.y[:, 0], [10.0, 30.0])  # /a:y
    np.testing.assert_array_equal(w1.stamps, [1.001, 2.0])
    assert e.links[('/a', '/b')].stats.out_of_order == 1


def test_unknown_sync_mode_and_tiny_window_refused():
    with pytest.raises(ValueError, match='sync_mode'):
        engine(['/a:x ~ /b:x'], sync_mode='exact')
    with pytest.raises(ValueError, match='window'):
        engine(['/a:x ~ /b:x'], window=1)
