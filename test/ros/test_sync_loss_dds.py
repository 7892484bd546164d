# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Approximate pairing under message loss: the message_filters path, and mi_node over real DDS.

Two topics carry white noise with a known correlation under the same 1 kHz stamps; messages
are lost at random. A pair of neighbours (one sample apart) is independent, so every formed
pair must have equal stamps, whatever synchronizer pairs them.

message_filters is stood in by :class:`NearestWithinSlop`, which follows the documented
behaviour of its Python ``ApproximateTimeSynchronizer`` for two inputs: one queue per input
keyed by stamp (the oldest evicted past ``queue_size``), a new message paired with the
nearest queued message of the other input closer than ``slop``, both then removed, older
unmatched messages kept.
"""

import math
import sys
import types

import numpy as np
import pytest

rclpy = pytest.importorskip('rclpy')
DiagnosticArray = pytest.importorskip('diagnostic_msgs.msg').DiagnosticArray

from rclpy.executors import SingleThreadedExecutor  # noqa: E402
from rclpy.qos import QoSHistoryPolicy, QoSProfile, QoSReliabilityPolicy  # noqa: E402
from sensor_msgs.msg import Imu  # noqa: E402
import yaml  # noqa: E402

from infonet_ros.core.estimator import InfoNetEstimator  # noqa: E402
from infonet_ros.core.model import DEFAULT_WEIGHTS  # noqa: E402
from infonet_ros.msg import MutualInformationArray  # noqa: E402
from infonet_ros.ros.message_filters_sync import (make_synchronizers,  # noqa: E402
                                                  StampedRow)
from infonet_ros.streams.pairs import parse_pairs  # noqa: E402
from infonet_ros.streams.window_engine import WindowEngine  # noqa: E402

MI = 0.83  # nats
RHO = math.sqrt(1 - math.exp(-2 * MI))
PERIOD_NS = 1_000_000  # 1 kHz
T0_NS = 1_000_000_000_000  # synthetic stamps start at t = 1000 s
DISCOVERY_S = 120.0  # bound on start-up + discovery (torch import under load); not a speed test
RELIABLE_DEEP = QoSProfile(depth=10000, history=QoSHistoryPolicy.KEEP_LAST,
                           reliability=QoSReliabilityPolicy.RELIABLE)


class NearestWithinSlop:
    """Two-input stand-in of message_filters.ApproximateTimeSynchronizer (module doc)."""

    def __init__(self, inputs, queue_size, slop):
        self.queues = ({}, {})  # stamp [ns] -> message, per input
        self.queue_size = queue_size
        self.slop_ns = round(slop * 1e9)
        for side, source in enumerate(inputs):
            source.registerCallback(self.add, side)

    def registerCallback(self, cb, *args):  # noqa: N802 (message_filters' API)
        self.callback = (cb, args)

    def add(self, msg, side):
        ns = msg.header.stamp.sec * 1_000_000_000 + msg.header.stamp.nanosec
        own, other = self.queues[side], self.queues[1 - side]
        own[ns] = msg
        while len(own) > self.queue_size:
            del own[min(own)]
        near = [(abs(s - ns), s) for s in other if abs(s - ns) < self.slop_ns]
        if near:
            partner = other.pop(min(near)[1])
            mine = own.pop(ns)
            cb, args = self.callback
            cb(*((mine, partner) if side == 0 else (partner, mine)), *args)


@pytest.fixture
def fake_message_filters(monkeypatch):
    monkeypatch.setitem(sys.modules, 'message_filters', types.SimpleNamespace(
        ApproximateTimeSynchronizer=NearestWithinSlop))


@pytest.fixture(scope='module')
def estimator():
    return InfoNetEstimator.from_pretrained(device='cpu')


def lossy_noise(n, loss, seed):
    """
    Stamps [ns] and values of both topics, their kept masks, and an arrival order.

    :return: (stamps (n,), x (n,), y (n,), kept_a (n,), kept_b (n,), order): ``order`` lists
        (topic index, sample index) of the kept messages, in order within each topic, the two
        topics interleaved at random.
    """
    rng = np.random.default_rng(seed)
    stamps = T0_NS + PERIOD_NS * np.arange(n)
    x = rng.standard_normal(n)
    y = RHO * x + math.sqrt(1 - RHO ** 2) * rng.standard_normal(n)
    kept = rng.random((2, n)) >= loss
    # Each message is delayed by up to 1.5 periods (in order within its topic).
    arrival = np.maximum.accumulate(stamps + rng.uniform(0, 1.5 * PERIOD_NS, (2, n)), axis=1)
    order = sorted((arrival[t, k], t, k) for t in (0, 1) for k in np.flatnonzero(kept[t]))
    return stamps, x, y, kept[0], kept[1], [(t, k) for _, t, k in order]


def through_message_filters(n, loss, seed, window):
    """Feed lossy noise to an engine paired by the stand-in synchronizer; return the engine."""
    engine = WindowEngine(parse_pairs(['/a=x/msg/A', '/b=x/msg/B'], ['/a:v ~ /b:v']), window,
                          sync_mode='external', slop=0.01, queue_size=100)
    sources = make_synchronizers(
        engine.link_topics, 100, 0.01,
        lambda a, b, key: engine.add_synced(key, a.stamp, a.row, b.stamp, b.row))
    stamps, x, y, *_, order = lossy_noise(n, loss, seed)
    for t, k in order:
        topic, value = ('/a', x[k]) if t == 0 else ('/b', y[k])
        stamp = stamps[k] * 1e-9
        status, row = engine.add_values(topic, stamp, [value])
        assert status == 'ok'
        sources[topic].signalMessage(StampedRow(stamp, row))
    return engine


# ---- message_filters path (in process) ----------------------------------------------------

def test_message_filters_pairs_only_equal_stamps_under_loss(fake_message_filters):
    engine = through_message_filters(20_000, 0.001, seed=2, window=20_000)
    stamps, _, _, kept_a, kept_b, _ = lossy_noise(20_000, 0.001, seed=2)
    link = engine.links[('/a', '/b')]
    t_pairs = link.buffer.last()[0]
    both = stamps[kept_a & kept_b] * 1e-9
    # Every pair of equal stamps is formed (the newer message of a refused pair is offered
    # again), and no other: the pair stamps are exactly the stamps both topics kept.
    np.testing.assert_allclose(t_pairs, both, rtol=0, atol=1e-9)
    st = engine.pairing_stats()['a_v__b_v']
    assert st.formed == len(both) and st.out_of_order == 0
    lost = int((~kept_a).sum() + (~kept_b).sum())
    assert 0 < st.refused <= 2 * lost and st.refused_rate < 0.01


def test_message_filters_estimate_under_loss_within_the_clean_noise(
        fake_message_filters, estimator):
    window, n = 1000, 12_000

    def estimates(loss):
        engine = through_message_filters(n, loss, seed=4, window=n)
        t, v = engine.links[('/a', '/b')].buffer.last()
        k = len(t) // window
        return np.array([estimator.estimate(v[i * window:(i + 1) * window, 0],
                                            v[i * window:(i + 1) * window, 1])
                         for i in range(k)])

    clean, lossy = estimates(0.0), estimates(0.001)
    assert len(clean) == 12 and len(lossy) >= 11
    noise = clean.std(ddof=1)
    # Neighbour pairs (a run after each loss, about a fifth of them) read ~0.5 nats here.
    assert abs(lossy.mean() - clean.mean()) < 2 * noise / math.sqrt(len(lossy))


def test_an_offer_again_reaches_only_the_link_that_refused(fake_message_filters):
    got = []

    def on_pair(a, b, key):
        got.append((key, a.stamp, b.stamp))
        return 'refused' if a.stamp != b.stamp else 'ok'

    sources = make_synchronizers([('/a', '/b'), ('/a', '/c')], 10, 0.01, on_pair)
    sources['/b'].signalMessage(StampedRow(1.000, [0.0]))
    sources['/c'].signalMessage(StampedRow(1.002, [0.0]))
    # /a 1.001 pairs with /b 1.000 and with /c 1.002; only the first is refused, so only
    # the (/a, /b) synchronizer gets /a 1.001 again, where it now waits.
    sources['/a'].signalMessage(StampedRow(1.001, [0.0]))
    assert got == [(('/a', '/b'), 1.001, 1.000), (('/a', '/c'), 1.001, 1.002)]
    sources['/b'].signalMessage(StampedRow(1.001, [0.0]))
    assert got[-1] == (('/a', '/b'), 1.001, 1.001)
    assert len(got) == 3


# ---- mi_node over DDS --------------------------------------------------------------------

def imu(ns, ax):
    m = Imu()
    m.header.stamp.sec, m.header.stamp.nanosec = int(ns) // 1_000_000_000, \
        int(ns) % 1_000_000_000
    m.linear_acceleration.x = float(ax)
    return m


def secs(t):
    return t.sec + t.nanosec * 1e-9


def test_node_pairs_only_equal_stamps_under_loss(tmp_path, rclpy_context, spin_until,
                                                 node_process, estimator):
    """
    Check the node's windows under 1 % loss per topic at 1 kHz and one unset stamp.

    Every window the node estimates holds exactly the stamps both topics kept, and its
    estimate is the library's on those pairs.
    """
    window, n = 400, 2400
    weights = tmp_path / 'weights.pt'
    weights.write_bytes(open(DEFAULT_WEIGHTS, 'rb').read())
    params = tmp_path / 'params.yaml'
    node_params = {
        'topics': ['/loss/a=sensor_msgs/msg/Imu', '/loss/b=sensor_msgs/msg/Imu'],
        'pairs': ['/loss/a:linear_acceleration.x ~ /loss/b:linear_acceleration.x'],
        'pair_names': ['dep'], 'window': window, 'update_rate': 5.0,
        'sync_mode': 'approximate', 'slop': 0.01, 'queue_size': 100,
        'weights': str(weights), 'device': 'cpu', 'qos_reliability': 'reliable',
        'qos_depth': 10000, 'diagnostics_period': 0.5, 'torch_threads': 1}
    params.write_text(yaml.safe_dump({'/**': {'ros__parameters': node_params}}))
    node = rclpy.create_node('sync_loss_test', context=rclpy_context)
    executor = SingleThreadedExecutor(context=rclpy_context)
    executor.add_node(node)
    arrays, diags = [], []
    node.create_subscription(MutualInformationArray, '/infonet/mi', arrays.append,
                             QoSProfile(depth=1000, reliability=QoSReliabilityPolicy.RELIABLE))
    node.create_subscription(DiagnosticArray, '/diagnostics', diags.append, 10)
    pubs = [node.create_publisher(Imu, t, RELIABLE_DEEP) for t in ('/loss/a', '/loss/b')]
    proc = node_process([sys.executable, '-m', 'infonet_ros.ros.mi_node', '--ros-args',
                         '--params-file', str(params)])
    assert spin_until(executor, lambda: not proc.alive() or (
        all(p.get_subscription_count() > 0 for p in pubs) and diags), DISCOVERY_S), \
        f'mi_node did not connect within {DISCOVERY_S} s:\n{proc.output()}'
    assert proc.alive(), proc.output()

    stamps, x, y, kept_a, kept_b, order = lossy_noise(n, 0.01, seed=7)
    unset = int(np.flatnonzero(kept_a)[n // 2])  # this /loss/a message goes out unstamped
    # In bursts of 0.2 s of data, one per update period: the node estimates along the way.
    for i, (t, k) in enumerate(order):
        pubs[t].publish(imu(0 if (t, k) == (0, unset) else stamps[k], (x, y)[t][k]))
        if i % 400 == 399:
            spin_until(executor, lambda: False, 0.2)
    kept_a[unset] = False
    both = np.flatnonzero(kept_a & kept_b)
    t_both = stamps[both] * 1e-9
    last_end = t_both[-1]

    def estimates():
        return [e for a in arrays for e in a.estimates if e.pair_name == 'dep']
    assert spin_until(executor, lambda: any(abs(secs(e.window_end) - last_end) < 1e-6
                                            for e in estimates()), DISCOVERY_S), \
        f'the last window was not estimated:\n{proc.output()}'
    received = estimates()
    assert len(received) >= 3
    check = {0, len(received) // 2, len(received) - 1}  # recompute a few (CPU)
    for i, e in enumerate(received):
        idx = np.flatnonzero((t_both >= secs(e.window_start) - 1e-6)
                             & (t_both <= secs(e.window_end) + 1e-6))
        assert e.sample_count == window == len(idx)
        if i in check:
            xs, ys = x[both[idx]], y[both[idx]]
            assert e.mi == pytest.approx(estimator.estimate(xs, ys), abs=1e-5)

    def dropped_unset():
        for arr in reversed(diags):
            for s in arr.status:
                if s.name.endswith('input /loss/a'):
                    return {kv.key: kv.value for kv in s.values}.get('dropped_unset_stamp')
        return None
    assert spin_until(executor, lambda: dropped_unset() == '1', 10.0), dropped_unset()
    node.destroy_node()
