# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Pairing under message loss, and unset stamps: the engine never pairs neighbours (no ROS).

Two topics carry white noise with a known correlation under the same 1 kHz stamps, as two
topics of one driver do. A lost message must not shift the pairing by a sample: for white
noise a pair one sample off is independent, and a run of such pairs pulls the estimate down.
"""

import numpy as np
import pytest

from infonet_ros.core.estimator import InfoNetEstimator
from infonet_ros.streams.feed import feed, replay
from infonet_ros.streams.pairs import parse_pairs
from infonet_ros.streams.raw_intake import Values
from infonet_ros.streams.sample_interval import SampleInterval
from infonet_ros.streams.sync import (ApproximateMatcher, HALF_INTERVAL_MARGIN, pair_limit,
                                      pairable, PairingStats)
from infonet_ros.streams.window_engine import WindowEngine

TOPICS = ['/a=test_msgs/msg/A', '/b=test_msgs/msg/B']
RATE = 1000.0
WINDOW = 1000
N_WINDOWS = 12
MI = 0.83  # nats; rho = sqrt(1 - exp(-2 MI))
RHO = float(np.sqrt(1 - np.exp(-2 * MI)))


class Msg:
    """A stand-in message: attributes as fields."""

    def __init__(self, **fields):
        self.__dict__.update(fields)


def engine(pairs=('/a:x ~ /b:x',), window=WINDOW, **kw):
    return WindowEngine(parse_pairs(TOPICS, list(pairs)), window, **kw)


def same_stamped_noise(loss: float, seed: int = 3):
    """
    (topic, arrival, Values) of both topics in arrival order.

    Each message is lost with probability ``loss``, independently per topic; each arrives
    after a random delay, in order within its topic, so the two topics interleave unevenly.
    """
    rng = np.random.default_rng(seed)
    n = N_WINDOWS * WINDOW
    stamps = 100.0 + np.arange(n) / RATE
    x = rng.standard_normal(n)
    y = RHO * x + np.sqrt(1 - RHO ** 2) * rng.standard_normal(n)
    out = []
    for topic, values in (('/a', x), ('/b', y)):
        kept = rng.random(n) >= loss
        arrival = np.maximum.accumulate(stamps + rng.exponential(3e-4, n))
        out += [(topic, float(a), Values(float(s), [float(v)]))
                for a, s, v in zip(arrival[kept], stamps[kept], values[kept])]
    out.sort(key=lambda m: m[1])
    return out


def stamped(stamp: float, **fields) -> Msg:
    """Make a message with a header stamped ``stamp`` [s] (0.0: unset: sec 0, nanosec 0)."""
    sec = int(stamp)
    return Msg(header=Msg(stamp=Msg(sec=sec, nanosec=round((stamp - sec) * 1e9))), **fields)


@pytest.fixture(scope='module')
def estimator():
    return InfoNetEstimator.from_pretrained(device='cpu')


# ---- the pair limit ----------------------------------------------------------------------

def test_the_interval_is_the_median_so_losses_do_not_move_it():
    s = SampleInterval()
    assert s.value == np.inf
    stamps = 1.0 + np.arange(200) / RATE
    for t in np.delete(stamps, [50, 51, 52, 120]):  # a burst of three lost and one more
        s.add(float(t))
    assert s.value == pytest.approx(1 / RATE)
    s.restart()  # a time jump: the next stamp starts anew, the rate is kept
    s.add(0.5)
    assert s.value == pytest.approx(1 / RATE)


def test_pair_limit_is_slop_at_most_half_the_faster_interval():
    assert pair_limit(0.01, 0.001, 0.005) == 0.0005 - HALF_INTERVAL_MARGIN
    assert pair_limit(0.0002, 0.001, 0.005) == 0.0002
    assert pair_limit(0.01, np.inf, np.inf) == 0.01  # intervals unknown yet: slop alone
    st = PairingStats(formed=98, refused=2)
    assert st.refused_rate == 0.02 and PairingStats().refused_rate == 0.0


def test_a_pair_must_be_closer_than_the_limit_and_equal_stamps_always_pair():
    limit = pair_limit(0.01, 0.001, 0.005)
    assert pairable(0.0004, limit) and not pairable(0.0005, limit)
    assert pairable(0.0, 0.0) and pairable(0.0, -1.0)  # a limit of nothing: equal stamps only
    m = ApproximateMatcher(slop=0.5, queue_size=10)  # slop too is strict, as message_filters
    assert m.add(0, 1.0, 'a0') is None and m.add(1, 1.5, 'b0') is None
    assert m.add(0, 1.25, 'a1') == (1.25, 'a1', 1.5, 'b0') and m.unmatched == 1


@pytest.mark.parametrize('side_first', [0, 1])
def test_two_clocks_half_an_interval_apart_pair_nothing_and_refuse_nearly_all(side_first):
    # /b stamped 2.5 ms ahead of /a at 200 Hz, epoch stamps: both neighbours of every message
    # are half an interval away, and either partner could be the true one.
    e = engine(sync_mode='approximate', slop=0.01, window=50)
    for k in range(400):
        t = 1.8e9 + k / 200
        for topic, stamp in [('/a', t), ('/b', t + 0.0025)][::1 - 2 * side_first]:
            e.add_values(topic, stamp, [float(k)])
    (st,) = e.pairing_stats().values()
    assert st.formed <= 2 and st.refused > 700  # at most the first, while no interval known
    assert st.refused_rate > 0.99


def test_two_clocks_under_half_an_interval_apart_pair_one_to_one():
    e = engine(sync_mode='approximate', slop=0.01, window=50)
    for k in range(400):
        t = 1.8e9 + k / 200
        e.add_values('/a', t, [float(k)])
        e.add_values('/b', t + 0.0024, [float(k)])
    (st,) = e.pairing_stats().values()
    assert st.formed == 400 and st.refused == 0


def test_matcher_waits_for_the_true_partner_instead_of_a_neighbour():
    m = ApproximateMatcher(slop=0.01, queue_size=10)
    limit = 0.0005
    assert m.add(1, 1.000, 'b0', limit) is None
    assert m.add(0, 1.000, 'a0', limit) == (1.000, 'a0', 1.000, 'b0')
    assert m.add(1, 1.001, 'b1', limit) is None  # a1 is lost
    # Within slop, 1 ms from b1: the nearest-within-slop rule would pair a2 with b1.
    assert m.add(0, 1.002, 'a2', limit) is None and m.refused == 1
    assert m.add(1, 1.002, 'b2', limit) == (1.002, 'a2', 1.002, 'b2')
    assert m.unmatched == 1 and m.queues == ([], [])  # b1 retired without a partner


# ---- the engine under loss ---------------------------------------------------------------

@pytest.mark.parametrize('loss', [0.001, 0.01])
def test_approximate_pairs_only_equal_stamps_under_loss_and_counts_the_refused(loss):
    e = engine(sync_mode='approximate', slop=0.01, window=50)
    pairs = []
    link = e.links[('/a', '/b')]
    push = link.push

    def record(stamp_a, row_a, stamp_b, row_b):
        pairs.append((stamp_a, stamp_b))
        return push(stamp_a, row_a, stamp_b, row_b)

    link.push = record
    messages = same_stamped_noise(loss)
    for topic, _, values in messages:
        e.add_values(topic, values.stamp, values.row)
    stamps = np.array(pairs)
    assert len(stamps) > 0.97 * N_WINDOWS * WINDOW
    np.testing.assert_array_equal(stamps[:, 0], stamps[:, 1])  # every pair exact
    (st,) = e.pairing_stats().values()
    assert st is link.stats and st.formed == len(pairs)
    # One refusal at most per lost message (of either topic), and some.
    lost = 2 * N_WINDOWS * WINDOW - len(messages)
    assert 0 < st.refused <= lost
    assert st.refused_rate == pytest.approx(st.refused / (st.formed + st.refused))


def test_external_pairs_beyond_half_the_faster_interval_are_refused_once_per_message():
    e = engine(sync_mode='external', window=4)
    for k in range(20):  # /a at 1 kHz, /b at 200 Hz: limit 0.5 ms
        e.add_values('/a', 1.0 + k / 1000, [k])
        if k % 5 == 0:
            e.add_values('/b', 1.0 + k / 1000, [k])
    key = ('/a', '/b')
    assert e.add_synced(key, 1.020, [1.0], 1.020, [2.0]) == 'ok'  # equal stamps
    assert e.add_synced(key, 1.0254, [1.0], 1.025, [2.0]) == 'ok'  # 0.4 ms
    assert e.add_synced(key, 1.026, [1.0], 1.030, [2.0]) == 'refused'  # 4 ms, within slop
    assert e.add_synced(key, 1.029, [1.0], 1.030, [2.0]) == 'refused'  # again, same message
    assert e.add_synced(key, 1.031, [1.0], 1.0305, [2.0]) == 'refused'  # half an interval
    assert e.add_synced(key, 1.0312, [1.0], 1.031, [2.0]) == 'ok'
    st = e.pairing_stats()['a_x__b_x']
    assert (st.formed, st.refused, st.out_of_order) == (3, 2, 0)


def test_approximate_estimate_under_loss_is_within_the_clean_estimates_noise(estimator):
    def estimates(loss):
        # An update every second: windows of the newest 1000 pairs barely overlap.
        updates = replay(engine(sync_mode='approximate', slop=0.01),
                         same_stamped_noise(loss), 1.0)
        return np.array([estimator.estimate(w.x[:, 0], w.y[:, 0])
                         for _, ws in updates for w in ws])

    clean = estimates(0.0)
    assert len(clean) == N_WINDOWS
    noise = clean.std(ddof=1)
    lossy = estimates(0.01)
    assert len(lossy) >= N_WINDOWS - 1
    # The mean of k windows moves by noise / sqrt(k) between two draws of the same data;
    # the loss must move it less than twice that (pairing one sample off: ~7 times that).
    assert abs(lossy.mean() - clean.mean()) < 2 * noise / np.sqrt(len(lossy))
    assert abs(clean.mean() - MI) < 3 * noise  # and the clean estimate reads the truth


# ---- unset stamps ------------------------------------------------------------------------

def test_zero_stamp_is_dropped_and_counted_never_a_time_jump():
    e = engine(['/a:x ~ /a:y'], window=3)
    assert feed(e, '/a', 5.0, stamped(5.0, x=1.0, y=1.0))[0] == 'ok'
    assert feed(e, '/a', 5.05, stamped(0.0, x=1.0, y=1.0)) == ('unset_stamp', None)
    assert feed(e, '/a', 5.1, Values(0.0, [1.0, 1.0])) == ('unset_stamp', None)  # CDR path
    assert feed(e, '/a', 5.15, stamped(5.1, x=2.0, y=2.0))[0] == 'ok'
    st = e.topic_stats()['/a']
    assert st.dropped['unset_stamp'] == 2 and st.time_jumps == 0 and e.resets == 0
    assert len(e.topics['/a'].buffer) == 2


@pytest.mark.parametrize('sync_mode', ['interpolate', 'approximate'])
def test_one_zero_stamp_in_300_at_200_hz_leaves_windows_and_estimates(sync_mode, estimator):
    # Estimates every 0.5 s over windows of 300 and 400 (longer than the 300 messages between
    # two unset stamps), through the offline replay (the node's stamp rule and timing).
    rng = np.random.default_rng(5)
    n, rate = 3000, 200.0
    x = rng.standard_normal(n)
    y = RHO * x + np.sqrt(1 - RHO ** 2) * rng.standard_normal(n)

    def messages(zeroed: bool):
        for k in range(n):
            t = 20.0 + k / rate
            unset = zeroed and k % 300 == 150
            yield '/a', t, stamped(0.0 if unset else t, x=x[k])
            yield '/b', t, stamped(t, x=y[k])

    for window in (300, 400):
        got = {}
        for zeroed in (False, True):
            e = engine(window=window, sync_mode=sync_mode)
            got[zeroed] = np.array([estimator.estimate(w.x[:, 0], w.y[:, 0])
                                    for _, ws in replay(e, messages(zeroed), 0.5)
                                    for w in ws])
        assert e.resets == 0 and e.topic_stats()['/a'].dropped['unset_stamp'] == n // 300
        assert len(got[True]) >= len(got[False]) - 1 > 20
        # Each zero-stamped message only costs its own pair: the estimates stay the same.
        assert abs(got[True].mean() - got[False].mean()) < 0.02
