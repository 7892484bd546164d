# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Pairing the samples of two topics: interpolation and approximate-time matching (no ROS).

The engine's ``sync_mode`` for two topics:

- ``interpolate``: each topic keeps its own buffer; at each update every sample of the slower
  stream (larger mean sampling interval) is paired with the faster stream linearly
  interpolated at its stamp, except where the two faster samples around it are more than
  ``max_gap`` seconds apart (an exact stamp match needs no neighbours). Suits sensors whose
  rates differ. Pair stamp: the slower sample's stamp.
- ``approximate``: a pure-Python approximate-time pairing at arrival, for offline use and
  tests where ``message_filters`` is not installed (:class:`ApproximateMatcher`). A message
  is matched with the nearest unmatched message of the other topic closer than the pair limit
  (:func:`pair_limit`: ``slop``, and at most half the faster stream's sample interval); a
  match consumes both and retires every older unmatched message of both queues; an unmatched
  message waits in a queue of ``queue_size`` per topic. Differences from message_filters'
  ``ApproximateTimeSynchronizer`` (Python): that one pairs within ``slop`` only (so after a
  lost message it pairs neighbours one sample apart, and goes on doing so until a message of
  the other topic is lost; the node refuses those pairs, see
  :mod:`infonet_ros.ros.message_filters_sync`), keeps older unmatched messages after a match
  (it can emit pairs out of stamp order, which the engine drops), and compares integer
  nanoseconds (here float seconds; both pair only ``|dt| < slop``); the C++
  ``ApproximateTime`` policy differs more (it waits for later messages to choose an optimal
  set). Pair stamp: the later stamp.
- ``external``: cross-topic pairs come from an outside synchronizer (the node's
  ``message_filters.ApproximateTimeSynchronizer``) through ``WindowEngine.add_synced``,
  which refuses a pair not closer than the pair limit.

Why half the faster stream's interval: two samples further apart than that are closer to a
neighbour of one of them than to each other, so they are not the same instant. Pairing them
is what a lost message does to a nearest-within-slop rule: every later pair is off by one
sample, and for signals that change from one sample to the next (sensor noise, vibration at
IMU rates) that destroys the dependence being measured. Why strictly less: two samples exactly
half an interval apart are as close to the neighbour as to each other, so which partner is the
true one cannot be told (two clocks half an interval apart: every message has two such
candidates); such a pair is refused, so the refused rate shows the problem rather than half
the pairs being wrong. Equal stamps always pair.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
import math
from typing import NamedTuple

import numpy as np

from infonet_ros.streams.ring_buffer import RingBuffer
from infonet_ros.streams.topic_input import OK

SYNC_MODES = ('approximate', 'interpolate', 'external')


class InterpolationPlan(NamedTuple):
    """
    Where each pairable slow sample reads the fast stream: the index arithmetic, values aside.

    The interpolated fast value of pair k is ``v[fast_lo[k]] + weight[k] * (v[fast_hi[k]] -
    v[fast_lo[k]])``; an exact stamp match has ``fast_lo == fast_hi`` and weight 0.
    """

    slow_index: np.ndarray  # (p,) indices into the slow stamps of the samples that pair
    fast_lo: np.ndarray  # (p,) fast sample at or before each slow stamp
    fast_hi: np.ndarray  # (p,) fast sample at or after it
    weight: np.ndarray  # (p,) weight of fast_hi

    def newest(self, n: int) -> 'InterpolationPlan':
        """Keep the newest ``n`` pairs."""
        return InterpolationPlan(*(a[-n:] for a in self))

    def shifted(self, slow_offset: int, fast_offset: int) -> 'InterpolationPlan':
        """Return the plan with indices into streams that start earlier by the offsets."""
        return InterpolationPlan(self.slow_index + slow_offset, self.fast_lo + fast_offset,
                                 self.fast_hi + fast_offset, self.weight)

    def fast_values(self, v_fast: np.ndarray) -> np.ndarray:
        """(p, k) fast values interpolated at the paired slow stamps, from (m, k) values."""
        lo = v_fast[self.fast_lo]
        return lo + self.weight[:, None] * (v_fast[self.fast_hi] - lo)


def interpolation_plan(t_slow, t_fast, max_gap: float) -> InterpolationPlan:
    """Plan the pairs of increasing slow stamps with increasing fast stamps (module doc)."""
    t_slow = np.asarray(t_slow, dtype=float)
    t_fast = np.asarray(t_fast, dtype=float)
    m = len(t_fast)
    if m == 0 or len(t_slow) == 0:
        empty = np.zeros(0, dtype=np.intp)
        return InterpolationPlan(empty, empty, empty, np.zeros(0))
    hi = np.searchsorted(t_fast, t_slow, side='left')  # first fast stamp >= slow stamp
    hi_c = np.minimum(hi, m - 1)
    exact = t_fast[hi_c] == t_slow
    lo = np.maximum(hi - 1, 0)
    gap = t_fast[hi_c] - t_fast[lo]
    ok = exact | ((hi > 0) & (hi < m) & (gap <= max_gap))
    sel = np.flatnonzero(ok)
    lo, hi_c, gap, exact = lo[sel], hi_c[sel], gap[sel], exact[sel]
    lo = np.where(exact, hi_c, lo)
    w = np.where(exact, 0.0, (t_slow[sel] - t_fast[lo]) / np.where(exact, 1.0, gap))
    return InterpolationPlan(sel, lo, hi_c, w)


def tail_interpolation_plan(t_slow, t_fast, max_gap: float,
                            n: int) -> InterpolationPlan | None:
    """
    :func:`interpolation_plan` of the newest slow samples only, if they give ``n`` pairs.

    The plan of a slow sample depends only on the fast samples around its stamp, so the
    plan of the last few slow samples against the fast samples from just before the first
    of them equals the tail of the whole plan (indices shifted back). A window needs the
    last ``n`` pairs: a tail with an eighth to spare, instead of the whole buffers (twice a
    window or more). None when the tail has gaps that leave fewer than ``n`` pairs.
    """
    k = n + n // 8 + 2
    if len(t_slow) <= k:
        return None
    s0 = len(t_slow) - k
    f0 = max(int(np.searchsorted(t_fast, t_slow[s0], side='left')) - 1, 0)
    plan = interpolation_plan(t_slow[s0:], t_fast[f0:], max_gap)
    if len(plan.slow_index) < n:
        return None
    return plan.shifted(s0, f0)


def newest_interpolation_plan(t_slow, t_fast, max_gap: float,
                              n: int) -> InterpolationPlan | None:
    """Plan the newest ``n`` pairs (from the tail when it has them); None with fewer."""
    plan = tail_interpolation_plan(t_slow, t_fast, max_gap, n)
    if plan is None:  # gaps in the tail: plan over the whole streams
        plan = interpolation_plan(t_slow, t_fast, max_gap)
    return plan.newest(n) if len(plan.slow_index) >= n else None


def interpolate_pairs(t_slow, v_slow, t_fast, v_fast, max_gap: float):
    """
    Pair each slow sample with the fast stream linearly interpolated at its stamp.

    :param t_slow: (n,) increasing stamps; v_slow: (n, ks) values.
    :param t_fast: (m,) increasing stamps; v_fast: (m, kf) values.
    :param max_gap: no pair where the fast samples around a slow stamp are further apart [s].

    :return: (stamps (p,), slow values (p, ks), interpolated fast values (p, kf)) for the p slow
        samples that could be paired, in order.
    """
    t_slow = np.asarray(t_slow, dtype=float)
    v_slow = np.asarray(v_slow, dtype=float)
    v_fast = np.asarray(v_fast, dtype=float)
    v_slow = v_slow[:, None] if v_slow.ndim == 1 else v_slow
    v_fast = v_fast[:, None] if v_fast.ndim == 1 else v_fast
    plan = interpolation_plan(t_slow, t_fast, max_gap)
    return t_slow[plan.slow_index], v_slow[plan.slow_index], plan.fast_values(v_fast)


@dataclass
class PairingStats:
    """Counters of the pairing of two topics (the pairs sharing a link share them)."""

    formed: int = 0  # pairs buffered
    # Pairs a nearest-within-slop rule would have formed off by a sample or more: a message
    # whose true partner was lost, or one that arrived before it (then it waits and pairs).
    refused: int = 0
    out_of_order: int = 0  # pairs not newer than the previous one (external synchronizer)

    @property
    def refused_rate(self) -> float:
        """Refused share of the candidate pairs (0 before any)."""
        total = self.formed + self.refused
        return self.refused / total if total else 0.0


# Stamps are float seconds since the epoch, resolved to about 0.24 us (a float64 near 1.8e9 s),
# and the interval is measured from them: a difference this close to half an interval counts
# as half an interval, so that case is refused whatever the rounding.
HALF_INTERVAL_MARGIN = 1e-6  # [s]


def pair_limit(slop: float, interval_a: float, interval_b: float) -> float:
    """
    Stamp difference a pair must stay under [s]: ``slop``, at most half the faster interval.

    Half the interval less :data:`HALF_INTERVAL_MARGIN` (:func:`pairable` compares strictly).
    An interval is inf while unknown (fewer than two stamps): then ``slop`` alone.
    """
    return min(slop, 0.5 * min(interval_a, interval_b) - HALF_INTERVAL_MARGIN)


def pairable(dt: float, limit: float) -> bool:
    """Tell whether two stamps ``dt`` apart may pair: equal, or closer than ``limit``."""
    return dt == 0.0 or dt < limit


def mean_interval(t: np.ndarray) -> float:
    """Mean sampling interval of increasing stamps (inf with fewer than two)."""
    return (t[-1] - t[0]) / (len(t) - 1) if len(t) > 1 else math.inf


class ApproximateMatcher:
    """
    Approximate-time pairing of two topics at arrival (``approximate`` in the module doc).

    Side 0 and side 1 are the two topics; a row is whatever the caller pairs (the engine: a
    topic's field values).
    """

    def __init__(self, slop: float, queue_size: int):
        self.slop = float(slop)
        self.queue_size = int(queue_size)
        self.queues = ([], [])  # unmatched (stamp, row) of each side, oldest first
        self.unmatched = 0  # messages retired without a partner
        self.refused = 0  # nearest partners within slop but not closer than the limit

    def add(self, side: int, stamp: float, row, limit: float = math.inf) -> tuple | None:
        """
        Offer a message of ``side``; return the pair it completes, else None (it waits).

        :param limit: stamp difference a pair must stay under (:func:`pair_limit`).
        :return: ``(stamp_0, row_0, stamp_1, row_1)``, side 0 first.
        """
        own, other = self.queues[side], self.queues[1 - side]
        j, dt = self._nearest(other, stamp)
        if j >= 0 and not pairable(dt, limit):
            # The partner a nearest-within-slop rule would take is a neighbour of the true
            # one (lost, or not here yet): wait for the true one instead.
            self.refused += 1
            j = -1
        if j < 0:
            own.append((stamp, row))
            if len(own) > self.queue_size:
                del own[0]
                self.unmatched += 1
            return None
        s_other, r_other = other[j]
        self.unmatched += j + len(own)  # older unmatched messages of both sides retire
        del other[:j + 1]
        own.clear()
        if side == 0:
            return stamp, row, s_other, r_other
        return s_other, r_other, stamp, row

    def _nearest(self, queue: list, stamp: float) -> tuple[int, float]:
        # (index, distance) of the queued message nearest to stamp, closer than slop as in
        # message_filters, (-1, inf) if none; the earlier one wins a tie.
        if not queue:
            return -1, math.inf
        stamps = [s for s, _ in queue]
        i = bisect_left(stamps, stamp)
        best, j = math.inf, -1
        for k in (i - 1, i):
            if 0 <= k < len(queue) and abs(stamps[k] - stamp) < best:
                best, j = abs(stamps[k] - stamp), k
        return (j, best) if pairable(best, self.slop) else (-1, math.inf)

    def clear(self) -> None:
        """Forget the queued messages (the count of retired ones is kept)."""
        self.queues[0].clear()
        self.queues[1].clear()


class TopicLink:
    """
    Synchronized pairs of two topics (``approximate`` or ``external``).

    :param a, b: the :class:`~infonet_ros.streams.topic_input.TopicInput` of each topic; a row
        holds a's fields, then b's.
    """

    def __init__(self, a, b, capacity: int, matcher: ApproximateMatcher | None):
        self.a, self.b = a, b
        self.buffer = RingBuffer(len(a.fields) + len(b.fields), capacity)
        self.matcher = matcher  # approximate mode: pairs the topics as messages arrive
        self.stats = PairingStats()
        self._refused_newer = None  # newer stamp of the last refused outside pair

    def cols(self, topic: str, fields) -> list[int]:
        """Columns of ``fields`` of ``topic`` in this link's rows."""
        if topic == self.a.name:
            return [self.a.col[f] for f in fields]
        return [len(self.a.fields) + self.b.col[f] for f in fields]

    def limit(self, slop: float) -> float:
        """Return the pair limit of these topics now (:func:`pair_limit`) [s]."""
        return pair_limit(slop, self.a.interval.value, self.b.interval.value)

    def offer(self, side: int, stamp: float, row, slop: float) -> None:
        """Offer an accepted message of side 0 (a) or 1 (b) to the matcher; buffer its pair."""
        refused = self.matcher.refused
        pair = self.matcher.add(side, stamp, row, self.limit(slop))
        self.stats.refused += self.matcher.refused - refused
        if pair is not None:
            self.push(*pair)

    def push_checked(self, stamp_a: float, row_a, stamp_b: float, row_b, slop: float) -> str:
        """
        :meth:`push` a pair from outside, or 'refused' (counted) not closer than the limit.

        The newer message of a refused pair may be offered to the synchronizer again and be
        refused again with another stale partner: one refusal is counted per newer message.
        """
        if not pairable(abs(stamp_a - stamp_b), self.limit(slop)):
            newer = max(stamp_a, stamp_b)
            if newer != self._refused_newer:
                self.stats.refused += 1
                self._refused_newer = newer
            return 'refused'
        return self.push(stamp_a, row_a, stamp_b, row_b)

    def push(self, stamp_a: float, row_a, stamp_b: float, row_b) -> str:
        """Buffer a pair stamped by its later stamp: OK, or 'out_of_order' when not newer."""
        stamp = max(stamp_a, stamp_b)
        newest = self.buffer.newest_stamp()
        if newest is not None and stamp <= newest:
            self.stats.out_of_order += 1
            return 'out_of_order'
        self.buffer.push(stamp, list(row_a) + list(row_b))
        self.stats.formed += 1
        return OK

    def clear(self) -> None:
        """Forget the buffered pairs and the messages waiting for a partner."""
        self.buffer.clear()
        if self.matcher is not None:
            self.matcher.clear()
