# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Buffers, input validation, pairing modes and rolling windows of the engine (no ROS)."""

import math

import numpy as np
import pytest

from infonet_ros.streams.pairs import parse_pairs
from infonet_ros.streams.windowing import (_tail_plan, interpolate_pairs, interpolation_plan,
                                           replay, RingBuffer, TIME_JUMP, WindowEngine)

TOPICS = ['/a=test_msgs/msg/A', '/b=test_msgs/msg/B']


class Msg:
    """A stand-in message: attributes as fields (the engine reads fields by path)."""

    def __init__(self, **fields):
        self.__dict__.update(fields)


def engine(pairs, window=4, **kw):
    return WindowEngine(parse_pairs(TOPICS, pairs), window, **kw)


# ---- ring buffer -------------------------------------------------------------------------

def test_ring_buffer_keeps_the_newest_rows_contiguously():
    buf = RingBuffer(width=2, capacity=4)
    for k in range(7):
        buf.push(float(k), [k, 10 * k])
    t, v = buf.last()
    assert len(buf) == 4 and buf.full
    np.testing.assert_array_equal(t, [3, 4, 5, 6])
    np.testing.assert_array_equal(v[:, 1], [30, 40, 50, 60])
    assert t.base is not None  # a view into the buffer, not a copy
    np.testing.assert_array_equal(buf.last(2)[0], [5, 6])
    buf.resize(8)
    np.testing.assert_array_equal(buf.last()[0], [3, 4, 5, 6])
    buf.push(7.0, [7, 70])
    np.testing.assert_array_equal(buf.last()[0], [3, 4, 5, 6, 7])
    buf.resize(2)
    np.testing.assert_array_equal(buf.last()[0], [6, 7])
    buf.clear()
    assert len(buf) == 0 and len(buf.last()[0]) == 0


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
    assert st.dropped == {'missing_field': 2, 'nan': 2, 'out_of_order': 1, 'duplicate': 1}
    assert st.dropped_total == 6
    t, v = e.topics['/a'].buffer.last()
    np.testing.assert_array_equal(t, [1.0, 2.0])


def test_time_jump_back_clears_all_buffers():
    e = engine(['/a:x ~ /a:y', '/b:x ~ /b:y'], window=2, time_jump=1.0)
    for k in range(3):
        e.add_message('/a', 10.0 + k, Msg(x=k, y=k))
        e.add_message('/b', 10.0 + k, Msg(x=k, y=k))
    assert len(e.ready_windows()) == 2
    # A bag loop: /a restarts at 0; everything buffered before is gone, /b included.
    assert e.add_message('/a', 0.0, Msg(x=5.0, y=5.0))[0] == TIME_JUMP
    assert e.resets == 1 and e.topic_stats()['/a'].time_jumps == 1
    np.testing.assert_array_equal(e.topics['/a'].buffer.last()[0], [0.0])
    assert len(e.topics['/b'].buffer) == 0
    # The new sequence is accepted from its own start on both topics.
    assert e.add_message('/b', 0.5, Msg(x=1.0, y=1.0))[0] == 'ok'
    e.add_message('/a', 1.0, Msg(x=6.0, y=6.0))
    (w,) = e.ready_windows()
    np.testing.assert_array_equal(w.stamps, [0.0, 1.0])


def test_add_values_validates_like_messages():
    e = engine(['/a:x ~ /a:y'], window=2)
    assert e.add_values('/a', 1.0, [1.0, 2.0]) == ('ok', [1.0, 2.0])
    assert e.add_values('/a', 2.0, [float('nan'), 2.0]) == ('nan', None)
    assert e.add_values('/a', 1.0, [1.0, 2.0]) == ('duplicate', None)


# ---- same-topic windows ------------------------------------------------------------------

def test_same_topic_window_ready_when_full_and_only_when_new():
    e = engine(['/a:x ~ /a:y'], window=4)
    for k in range(3):
        e.add_message('/a', float(k), Msg(x=k, y=-k))
    assert e.ready_windows() == []
    e.add_message('/a', 3.0, Msg(x=3, y=-3))
    (w,) = e.ready_windows()
    assert (w.n, w.start, w.end) == (4, 0.0, 3.0)
    np.testing.assert_array_equal(w.x[:, 0], [0, 1, 2, 3])
    np.testing.assert_array_equal(w.y[:, 0], [0, -1, -2, -3])
    assert e.ready_windows() == []  # nothing new since
    e.add_message('/a', 4.0, Msg(x=4, y=-4))
    (w,) = e.ready_windows()
    np.testing.assert_array_equal(w.stamps, [1, 2, 3, 4])
    # until: the window ending at or before a given time, from what the buffer still holds
    # (here the newest window only).
    np.testing.assert_array_equal(e.window_at(w.pair.name, until=4.0).stamps, [1, 2, 3, 4])
    assert e.window_at(w.pair.name, until=3.5) is None
    with pytest.raises(KeyError):
        e.window_at('nope')


def test_vector_sides_select_their_columns():
    e = engine(['/a:x,z ~ /a:y'], window=2)
    for k in range(2):
        e.add_message('/a', float(k), Msg(x=k, y=10 + k, z=20 + k))
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
    tail = _tail_plan(t_slow, t_fast, max_gap=0.03, n=n)
    if tail is None:  # too many unpaired slow samples in the tail: the engine plans it all
        assert gaps == 40
        return
    for a, b in zip(tail, whole):
        np.testing.assert_array_equal(a[-n:], b)


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
    seq = [('/a', 0.000), ('/b', 0.003), ('/a', 0.010), ('/a', 0.020), ('/b', 0.0215),
           ('/b', 0.040), ('/a', 0.050), ('/a', 0.0605), ('/b', 0.060), ('/b', 0.070),
           ('/a', 0.0702)]
    for topic, t in seq:
        e.add_message(topic, t, Msg(x=t))
    (w,) = e.ready_windows(only_new=False)
    link = e.links[('/a', '/b')]
    # Pairs: (0.000, 0.003), (0.020, 0.0215) retiring /a 0.010, (0.0605, 0.060) retiring
    # /b 0.040 and /a 0.050, (0.0702, 0.070).
    assert link.paired == 4 and link.unmatched == 3
    np.testing.assert_allclose(w.x[:, 0], [0.020, 0.0605, 0.0702])
    np.testing.assert_allclose(w.y[:, 0], [0.0215, 0.060, 0.070])
    np.testing.assert_allclose(w.stamps, [0.0215, 0.0605, 0.0702])  # the later stamp


def test_approximate_queue_is_bounded():
    e = engine(['/a:x ~ /b:x'], window=2, sync_mode='approximate', slop=0.001,
               queue_size=3)
    for k in range(10):
        e.add_message('/a', float(k), Msg(x=k))
    link = e.links[('/a', '/b')]
    assert len(link.queues[0]) == 3 and link.unmatched == 7
    e.add_message('/b', 9.0005, Msg(x=1.0))
    assert link.paired == 1 and link.queues == ([], [])


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
    assert e.links[('/a', '/b')].out_of_order == 1


def test_unknown_sync_mode_and_tiny_window_refused():
    with pytest.raises(ValueError, match='sync_mode'):
        engine(['/a:x ~ /b:x'], sync_mode='exact')
    with pytest.raises(ValueError, match='window'):
        engine(['/a:x ~ /b:x'], window=1)


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
