# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Stamped sample buffers, pairing of streams, and rolling windows of paired samples (no ROS).

One :class:`WindowEngine` per node (or per offline bag replay) is fed messages in arrival order
and asked, at each update, for the windows that are ready. Everything is deterministic given
the sequence of ``add_*`` calls and the update calls, so a bag replayed through the engine
reproduces the node's windows.

Input policy, per topic (every message is counted under one status):

- ``ok``: accepted;
- ``missing_field``: a configured field is absent, out of range or not a number;
- ``nan``: a field is NaN or infinite;
- ``out_of_order``: the stamp went back by at most ``time_jump`` seconds;
- ``duplicate``: the same stamp as the previous accepted message;
- ``time_jump``: the stamp went back by more than ``time_jump`` seconds (bag loop, simulator
  reset): every buffer of the engine is cleared and the message starts the new sequence.

Pairing of two topics (``sync_mode``):

- ``interpolate``: each topic keeps its own buffer; at each update every sample of the slower
  stream (larger mean sampling interval) is paired with the faster stream linearly
  interpolated at its stamp, except where the two faster samples around it are more than
  ``max_gap`` seconds apart (an exact stamp match needs no neighbours). Suits sensors whose
  rates differ. Pair stamp: the slower sample's stamp.
- ``approximate``: a pure-Python approximate-time pairing at arrival, for offline use and
  tests where ``message_filters`` is not installed. A message is matched with the nearest
  unmatched message of the other topic within ``slop`` seconds (``|dt| <= slop``); a match
  consumes both and retires every older unmatched message of both queues; an unmatched message
  waits in a queue of ``queue_size`` per topic. Differences from message_filters'
  ``ApproximateTimeSynchronizer`` (Python): that one keeps older unmatched messages after a
  match (it can emit pairs out of stamp order, which the engine drops), accepts only
  ``|dt| < slop``, and compares integer nanoseconds; the C++ ``ApproximateTime`` policy differs
  more (it waits for later messages to choose an optimal set). Pair stamp: the later stamp.
- ``external``: cross-topic pairs come from an outside synchronizer (the node's
  ``message_filters.ApproximateTimeSynchronizer``) through :meth:`WindowEngine.add_synced`.

Fields of one topic are paired message by message in every mode (stamp: the message's).

A window is the newest ``window`` pairs of a pair; it is ready when full and newer than the
window last returned for that pair (a stalled stream yields no repeated estimates).
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field
import math
from typing import NamedTuple

import numpy as np

from infonet_ros.streams.fields import compile_field, FieldError, header_stamp
from infonet_ros.streams.pairs import topic_fields

SYNC_MODES = ('approximate', 'interpolate', 'external')
DROP_REASONS = ('missing_field', 'nan', 'out_of_order', 'duplicate')
OK, TIME_JUMP = 'ok', 'time_jump'
DEFAULT_MAX_BUFFER = 100_000


class RingBuffer:
    """
    The newest ``capacity`` rows (stamp, values[width]) of a stream.

    Each row is stored twice (at i and i + capacity), so the newest n rows are always one
    contiguous numpy view: no copy and no per-row Python loop when a window is read.
    """

    def __init__(self, width: int, capacity: int):
        self.width = width
        self._alloc(max(int(capacity), 1))

    def _alloc(self, capacity: int):
        self.capacity = capacity
        self._t = np.zeros(2 * capacity)
        self._v = np.zeros((2 * capacity, self.width))
        self.written = 0

    def __len__(self) -> int:
        return min(self.written, self.capacity)

    @property
    def full(self) -> bool:
        """Tell whether the next push drops the oldest row."""
        return self.written >= self.capacity

    def push(self, stamp: float, row) -> None:
        """Append one row (``row`` has ``width`` values)."""
        i = self.written % self.capacity
        self._t[i] = self._t[i + self.capacity] = stamp
        self._v[i] = self._v[i + self.capacity] = row
        self.written += 1

    def last(self, n: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Return views (stamps (n,), values (n, width)) of the newest n rows, oldest first."""
        size = len(self)
        n = size if n is None else min(n, size)
        end = self.written % self.capacity + self.capacity
        return self._t[end - n:end], self._v[end - n:end]

    def clear(self) -> None:
        """Forget all rows (capacity unchanged)."""
        self.written = 0

    def resize(self, capacity: int) -> None:
        """Change the capacity, keeping the newest rows that fit."""
        capacity = max(int(capacity), 1)
        if capacity == self.capacity:
            return
        t, v = (a.copy() for a in self.last(capacity))
        self._alloc(capacity)
        n = len(t)
        self._t[:n] = self._t[capacity:capacity + n] = t
        self._v[:n] = self._v[capacity:capacity + n] = v
        self.written = n


@dataclass
class Window:
    """Paired samples of one pair over one window, oldest first."""

    pair: object  # infonet_ros.streams.pairs.PairSpec
    stamps: np.ndarray  # (N,) acquisition time of each pair [s]
    x: np.ndarray  # (N, dx)
    y: np.ndarray  # (N, dy)

    @property
    def start(self) -> float:
        """Stamp of the oldest pair [s]."""
        return float(self.stamps[0])

    @property
    def end(self) -> float:
        """Stamp of the newest pair [s]."""
        return float(self.stamps[-1])

    @property
    def n(self) -> int:
        """Count the pairs."""
        return int(self.stamps.shape[0])


@dataclass
class TopicStats:
    """Counters of one input topic."""

    received: int = 0
    accepted: int = 0
    dropped: dict = field(default_factory=lambda: dict.fromkeys(DROP_REASONS, 0))
    time_jumps: int = 0

    @property
    def dropped_total(self) -> int:
        """All dropped messages."""
        return sum(self.dropped.values())


def interpolation_plan(t_slow, t_fast, max_gap: float):
    """
    Where each slow sample reads the fast stream: the index arithmetic, values aside.

    :return: (sel, lo, hi, w): for the p slow samples that can be paired, their indices ``sel``
        into ``t_slow`` and the fast samples ``lo``, ``hi`` around them with the weight ``w``
        of ``hi``; an exact stamp match has ``lo == hi`` and ``w == 0``. The interpolated
        fast value is ``v[lo] + w * (v[hi] - v[lo])``.
    """
    t_slow = np.asarray(t_slow, dtype=float)
    t_fast = np.asarray(t_fast, dtype=float)
    m = len(t_fast)
    if m == 0 or len(t_slow) == 0:
        empty = np.zeros(0, dtype=np.intp)
        return empty, empty, empty, np.zeros(0)
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
    return sel, lo, hi_c, w


def _tail_plan(t_slow, t_fast, max_gap: float, n: int):
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
    sel, lo, hi, w = interpolation_plan(t_slow[s0:], t_fast[f0:], max_gap)
    if len(sel) < n:
        return None
    return sel + s0, lo + f0, hi + f0, w


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
    sel, lo, hi, w = interpolation_plan(t_slow, t_fast, max_gap)
    fast = v_fast[lo] + w[:, None] * (v_fast[hi] - v_fast[lo])
    return t_slow[sel], v_slow[sel], fast


def mean_interval(t: np.ndarray) -> float:
    """Mean sampling interval of increasing stamps (inf with fewer than two)."""
    return (t[-1] - t[0]) / (len(t) - 1) if len(t) > 1 else math.inf


def _columns(cols: list[int]):
    """Return a slice for consecutive column indices, else the list."""
    if cols == list(range(cols[0], cols[0] + len(cols))):
        return slice(cols[0], cols[0] + len(cols))
    return cols


class _Topic:
    """Validation state and buffer of one input topic."""

    def __init__(self, name, fields, capacity, buffered):
        self.name = name
        self.fields = tuple(fields)
        self.readers = [compile_field(f) for f in self.fields]
        self.col = {f: i for i, f in enumerate(self.fields)}
        self.buffer = RingBuffer(len(self.fields), capacity) if buffered else None
        self.last_stamp = None
        self.stats = TopicStats()


class _Link:
    """Cross-topic pairs of two topics (approximate or external sync)."""

    def __init__(self, a: _Topic, b: _Topic, capacity: int):
        self.a, self.b = a, b
        self.buffer = RingBuffer(len(a.fields) + len(b.fields), capacity)
        self.queues = ([], [])  # approximate mode: unmatched (stamp, row) per side
        self.paired = 0
        self.unmatched = 0
        self.out_of_order = 0

    def cols(self, topic: str, fields) -> list[int]:
        if topic == self.a.name:
            return [self.a.col[f] for f in fields]
        return [len(self.a.fields) + self.b.col[f] for f in fields]

    def clear(self):
        self.buffer.clear()
        self.queues[0].clear()
        self.queues[1].clear()


class WindowEngine:
    """
    Buffers, pairing and rolling windows for a list of PairSpec (see the module doc).

    :param pairs: list of :class:`infonet_ros.streams.pairs.PairSpec`.
    :param window: pairs per window (at least 2; the estimator needs MIN_SAMPLES).
    :param sync_mode: 'interpolate', 'approximate' or 'external' (see the module doc).
    :param slop: approximate mode: largest stamp difference of a pair [s].
    :param queue_size: approximate mode: unmatched messages kept per topic.
    :param max_gap: interpolate mode: largest gap bridged by interpolation [s].
    :param time_jump: a stamp going back by more than this clears all buffers [s].
    :param max_buffer: interpolate mode: largest per-topic buffer [rows].
    """

    def __init__(self, pairs, window: int, sync_mode: str = 'interpolate', slop: float = 0.01,
                 queue_size: int = 100, max_gap: float = 0.1, time_jump: float = 1.0,
                 max_buffer: int = DEFAULT_MAX_BUFFER):
        if sync_mode not in SYNC_MODES:
            raise ValueError(f'unknown sync_mode {sync_mode!r}: use one of {SYNC_MODES}')
        if int(window) < 2:
            raise ValueError(f'window must be at least 2, got {window}')
        self.pairs = list(pairs)
        self.window = int(window)
        self.sync_mode = sync_mode
        self.slop = float(slop)
        self.queue_size = int(queue_size)
        self.max_gap = float(max_gap)
        self.time_jump = float(time_jump)
        self.max_buffer = max(int(max_buffer), self.window)
        self.resets = 0
        self._last_end: dict[str, float] = {}
        self._interp_cache: dict = {}
        self._grow_every = max(1, min(16, self.window // 2))

        cross = [p for p in self.pairs if not p.same_topic]
        interp = sync_mode == 'interpolate'
        buffered = {p.x.topic for p in self.pairs if p.same_topic}
        # interpolate: the partner topics of each topic, whose windows its buffer must span.
        self._partners: dict[str, list] = {}
        if interp:
            for p in cross:
                self._partners.setdefault(p.x.topic, []).append(p.y.topic)
                self._partners.setdefault(p.y.topic, []).append(p.x.topic)
        # An interpolated topic starts at twice the window: room for the slower stream's
        # samples that are not paired yet (newer than the faster stream's newest).
        self.topics = {t: _Topic(t, f, 2 * self.window if t in self._partners else self.window,
                                 t in buffered or t in self._partners)
                       for t, f in topic_fields(self.pairs).items()}
        self._partners = {t: [self.topics[q] for q in dict.fromkeys(ps)]
                          for t, ps in self._partners.items()}
        self.links: dict[tuple, _Link] = {}
        if not interp:
            for p in cross:
                key = self._link_key(p.x.topic, p.y.topic)
                if key is None:
                    key = (p.x.topic, p.y.topic)
                    self.links[key] = _Link(self.topics[key[0]], self.topics[key[1]],
                                            self.window)
        self._plan = [self._plan_pair(p) for p in self.pairs]
        # approximate mode: the links each topic feeds, with its side in them.
        self._links_of = {name: [(link, 0 if key[0] == name else 1)
                                 for key, link in self.links.items() if name in key]
                          for name in self.topics}

    # ---- structure -----------------------------------------------------------------------

    def _link_key(self, t1, t2):
        for key in ((t1, t2), (t2, t1)):
            if key in self.links:
                return key
        return None

    def _plan_pair(self, p):
        if p.same_topic:
            t = self.topics[p.x.topic]
            return ('topic', t, [t.col[f] for f in p.x.fields], [t.col[f] for f in p.y.fields])
        if self.sync_mode == 'interpolate':
            # Columns of a per-update copy (see _interp_plan): a run of columns is a slice,
            # so a pair's window is a view of it, not another copy.
            tx, ty = self.topics[p.x.topic], self.topics[p.y.topic]
            return ('interp', tx, ty, _columns([tx.col[f] for f in p.x.fields]),
                    _columns([ty.col[f] for f in p.y.fields]))
        link = self.links[self._link_key(p.x.topic, p.y.topic)]
        return ('link', link, link.cols(p.x.topic, p.x.fields),
                link.cols(p.y.topic, p.y.fields))

    @property
    def link_topics(self) -> list[tuple]:
        """(topic_a, topic_b) of every cross-topic link (approximate / external modes)."""
        return list(self.links)

    def topic_stats(self) -> dict[str, TopicStats]:
        """{topic: TopicStats}."""
        return {name: t.stats for name, t in self.topics.items()}

    def fill(self) -> dict[str, tuple[int, int]]:
        """{pair name: (pairs available now, window)}, for diagnostics (cheap)."""
        out = {}
        for p, plan in zip(self.pairs, self._plan):
            if plan[0] == 'topic':
                n = len(plan[1].buffer)
            elif plan[0] == 'link':
                n = len(plan[1].buffer)
            else:
                n = min(len(plan[1].buffer), len(plan[2].buffer))
            out[p.name] = (min(n, self.window), self.window)
        return out

    def buffer_rows(self) -> dict[str, int]:
        """{topic or 'a|b' link: rows held} (memory use, diagnostics)."""
        out = {n: len(t.buffer) for n, t in self.topics.items() if t.buffer is not None}
        out.update({f'{a}|{b}': len(k.buffer) for (a, b), k in self.links.items()})
        return out

    def set_window(self, window: int) -> None:
        """Change the window length; buffers keep their newest rows."""
        window = int(window)
        if window < 2:
            raise ValueError(f'window must be at least 2, got {window}')
        self.window = window
        self._grow_every = max(1, min(16, window // 2))
        self.max_buffer = max(self.max_buffer, window)
        for t in self.topics.values():
            if t.buffer is not None:
                cap = (max(2 * window, t.buffer.capacity) if t.name in self._partners
                       else window)
                t.buffer.resize(cap)
        for link in self.links.values():
            link.buffer.resize(window)
        self._last_end.clear()

    def reset(self) -> None:
        """Clear every buffer and queue (counters are kept)."""
        for t in self.topics.values():
            if t.buffer is not None:
                t.buffer.clear()
            t.last_stamp = None
        for link in self.links.values():
            link.clear()
        self._last_end.clear()

    # ---- input ---------------------------------------------------------------------------

    def add_message(self, topic: str, stamp: float, msg) -> tuple[str, list | None]:
        """
        Validate and buffer one message of ``topic`` stamped ``stamp`` [s].

        :return: (status, row): status is 'ok', 'time_jump' (accepted after clearing all buffers)
            or a drop reason of DROP_REASONS; row is the list of field values (in the
            topic's field order) when accepted, else None.
        """
        t = self.topics[topic]
        t.stats.received += 1
        try:
            row = [r(msg) for r in t.readers]
        except FieldError:
            t.stats.dropped['missing_field'] += 1
            return 'missing_field', None
        return self._accept(t, float(stamp), row)

    def add_values(self, topic: str, stamp: float, values) -> tuple[str, list | None]:
        """Like :meth:`add_message` for values already read (in the topic's field order)."""
        t = self.topics[topic]
        t.stats.received += 1
        return self._accept(t, float(stamp), [float(v) for v in values])

    def _accept(self, t: _Topic, stamp: float, row: list):
        if not all(map(math.isfinite, row)):
            t.stats.dropped['nan'] += 1
            return 'nan', None
        status = OK
        last = t.last_stamp
        if last is not None and stamp <= last:
            if last - stamp > self.time_jump:
                self.reset()
                self.resets += 1
                t.stats.time_jumps += 1
                status = TIME_JUMP
            else:
                reason = 'duplicate' if stamp == last else 'out_of_order'
                t.stats.dropped[reason] += 1
                return reason, None
        t.last_stamp = stamp
        t.stats.accepted += 1
        if t.buffer is not None:
            t.buffer.push(stamp, row)
            # Checked every few samples only: cheap enough for the 1 kHz hot path, and a
            # buffer of two windows loses at most a quarter window of its oldest rows.
            if t.buffer.full and t.name in self._partners and \
                    not t.buffer.written % self._grow_every:
                self._grow_to_span_partners(t)
        if self.sync_mode == 'approximate':
            for link, side in self._links_of[t.name]:
                self._match(link, side, stamp, row)
        return status, row

    def _match(self, link: _Link, side: int, stamp: float, row: list):
        own, other = link.queues[side], link.queues[1 - side]
        j = -1
        if other:
            stamps = [s for s, _ in other]
            i = bisect_left(stamps, stamp)
            best = math.inf
            for k in (i - 1, i):  # nearest neighbours; the earlier one wins a tie
                if 0 <= k < len(other) and abs(stamps[k] - stamp) < best:
                    best, j = abs(stamps[k] - stamp), k
            if best > self.slop:
                j = -1
        if j < 0:
            own.append((stamp, row))
            if len(own) > self.queue_size:
                del own[0]
                link.unmatched += 1
            return
        s_other, r_other = other[j]
        link.unmatched += j + len(own)  # older unmatched messages of both sides retire
        del other[:j + 1]
        own.clear()
        if side == 0:
            self._push_link(link, stamp, row, s_other, r_other)
        else:
            self._push_link(link, s_other, r_other, stamp, row)

    def add_synced(self, topics: tuple, stamp_a: float, row_a, stamp_b: float, row_b) -> str:
        """
        Add a cross-topic pair from an external synchronizer (mode 'external').

        ``topics`` is a key of :attr:`link_topics`, rows are the accepted rows of each topic
        (as returned by :meth:`add_message`). Returns 'ok' or 'out_of_order' (a pair not newer
        than the previous one of the link is dropped).
        """
        link = self.links[tuple(topics)]
        return self._push_link(link, stamp_a, row_a, stamp_b, row_b)

    def _push_link(self, link, stamp_a, row_a, stamp_b, row_b) -> str:
        stamp = max(stamp_a, stamp_b)
        if len(link.buffer) and stamp <= link.buffer.last(1)[0][0]:
            link.out_of_order += 1
            return 'out_of_order'
        link.buffer.push(stamp, list(row_a) + list(row_b))
        link.paired += 1
        return OK

    # ---- windows -------------------------------------------------------------------------

    def ready_windows(self, until: float | None = None, only_new: bool = True) -> list[Window]:
        """
        Windows of every pair that has a full window, in configuration order.

        :param until: only pairs stamped at or before this time [s] are used (None: all).
        :param only_new: skip a pair whose newest pair is not newer than the window returned
            for it last time (and remember the returned ones).
        """
        out = []
        self._interp_cache = {}
        for p, plan in zip(self.pairs, self._plan):
            w = self._window(plan, until)
            if w is None:
                continue
            end = float(w[0][-1])
            if only_new:
                if end <= self._last_end.get(p.name, -math.inf):
                    continue
                self._last_end[p.name] = end
            out.append(Window(p, *w))
        return out

    def window_at(self, pair_name: str, until: float | None = None) -> Window | None:
        """Return the window of one pair ending at or before ``until`` (None if not full)."""
        self._interp_cache = {}
        for p, plan in zip(self.pairs, self._plan):
            if p.name == pair_name:
                w = self._window(plan, until)
                return None if w is None else Window(p, *w)
        raise KeyError(f'no pair named {pair_name!r}')

    def _window(self, plan, until):
        n = self.window
        kind = plan[0]
        if kind in ('topic', 'link'):
            buf, ix, iy = plan[1].buffer, plan[2], plan[3]
            t, v = buf.last()
            if until is not None:
                k = int(np.searchsorted(t, until, side='right'))
                t, v = t[:k], v[:k]
            if len(t) < n:
                return None
            t, v = t[-n:], v[-n:]
            return t.copy(), v[:, ix], v[:, iy]
        tx, ty, ix, iy = plan[1:]
        # Pairs over the same two topics share one interpolation plan per update.
        key = (tx.name, ty.name)
        if key not in self._interp_cache:
            self._interp_cache[key] = self._interp_plan(tx, ty, until)
        cached = self._interp_cache[key]
        if cached is None:
            return None
        s, x_is_slow, slow_all, fast_all = cached
        i_slow, i_fast = (ix, iy) if x_is_slow else (iy, ix)
        slow, fast = slow_all[:, i_slow], fast_all[:, i_fast]
        return (s.copy(), slow, fast) if x_is_slow else (s.copy(), fast, slow)

    def _interp_plan(self, tx, ty, until):
        """
        (stamps, x_is_slow, slow rows, interpolated fast rows) of two topics, or None.

        The newest window, every column of both topics: the pairs over these topics pick
        their columns from it (one gather and one interpolation per update, not per pair).
        """
        n = self.window
        t1, t2 = tx.buffer.last()[0], ty.buffer.last()[0]
        if until is not None:
            t1 = t1[:int(np.searchsorted(t1, until, side='right'))]
            t2 = t2[:int(np.searchsorted(t2, until, side='right'))]
        if len(t1) < 2 or len(t2) < 2:
            return None
        # x is the slower stream unless y samples less often (ties: x).
        x_is_slow = mean_interval(t1) >= mean_interval(t2)
        (slow, t_slow), (fast, t_fast) = (((tx, t1), (ty, t2)) if x_is_slow
                                          else ((ty, t2), (tx, t1)))
        plan = _tail_plan(t_slow, t_fast, self.max_gap, n)
        if plan is None:  # gaps in the tail: plan over the whole buffers
            plan = interpolation_plan(t_slow, t_fast, self.max_gap)
        sel, lo, hi, w = plan
        if len(sel) < n:
            if until is None:
                self._grow(slow, fast, t_slow, t_fast)
            return None
        sel, lo, hi, w = sel[-n:], lo[-n:], hi[-n:], w[-n:]
        v_slow, v_fast = slow.buffer.last()[1], fast.buffer.last()[1]
        fast_lo = v_fast[lo]  # (n, fast columns)
        fast_rows = fast_lo + w[:, None] * (v_fast[hi] - fast_lo)
        return t_slow[sel], x_is_slow, v_slow[sel], fast_rows

    def _grow_to_span_partners(self, t: _Topic):
        # The faster stream of an interpolated pair must reach back to the start of the
        # slower one's window (200 Hz against 30 Hz: 6.7 window lengths). Checked as samples
        # arrive, so that a burst of messages between two updates is not lost; a partner
        # whose data all predate this buffer (a stalled sensor) asks for nothing.
        buf = t.buffer
        if buf.capacity >= self.max_buffer:
            return
        tt = buf.last()[0]
        for p in self._partners[t.name]:
            pt = p.buffer.last()[0]
            if len(pt) < 2 or pt[-1] < tt[0] or mean_interval(pt) <= mean_interval(tt):
                continue
            # Compare spans, not start times: the partner's window may start before this
            # topic's first sample ever, and no growth reaches before that.
            if tt[-1] - tt[0] < pt[-1] - pt[-min(len(pt), self.window)]:
                buf.resize(min(2 * buf.capacity, self.max_buffer))
                return

    def _grow(self, slow, fast, t_slow, t_fast):
        # A window that cannot fill while a buffer overwrites data means that buffer is too
        # short: the faster one when it does not reach back to the slower one's oldest sample
        # (e.g. 200 Hz against 30 Hz), else the slower one (its newest samples wait for the
        # faster stream, gaps cost pairs). Double it, up to max_buffer.
        buf = fast.buffer if fast.buffer.full and t_fast[0] > t_slow[0] else slow.buffer
        if buf.full and buf.capacity < self.max_buffer:
            buf.resize(min(2 * buf.capacity, self.max_buffer))


class Values(NamedTuple):
    """The watched fields of a message, read without decoding it (see :mod:`.raw_intake`)."""

    stamp: float | None  # header.stamp [s], None for a type without a header
    row: list  # the topic's field values, in the engine's field order


def item_stamp(item, arrival: float, use_receive_time: bool = False) -> float:
    """:func:`message_stamp` of a message or of its :class:`Values`."""
    if isinstance(item, Values):
        return arrival if use_receive_time or item.stamp is None else item.stamp
    return message_stamp(item, arrival, use_receive_time)


def feed(engine: WindowEngine, topic: str, arrival: float, item,
         use_receive_time: bool = False) -> tuple[str, list | None]:
    """Add a message or its :class:`Values` to ``engine``, stamped by :func:`item_stamp`."""
    stamp = item_stamp(item, arrival, use_receive_time)
    if isinstance(item, Values):
        return engine.add_values(topic, stamp, item.row)
    return engine.add_message(topic, stamp, item)


def message_stamp(msg, arrival: float, use_receive_time: bool = False) -> float:
    """Return the stamp the engine uses: header.stamp, or the arrival time without one."""
    if use_receive_time:
        return arrival
    s = header_stamp(msg)
    return arrival if s is None else s


def replay(engine: WindowEngine, messages, update_period: float, start: float | None = None,
           use_receive_time: bool = False):
    """
    Feed ``(topic, arrival_s, msg or Values)`` in arrival order; yield ``(update_time, windows)``.

    Updates happen every ``update_period`` seconds of arrival time from ``start`` (default:
    the first arrival) + one period; before each update every message that arrived at or
    before it is fed, as the node's timer would see them. Messages of topics the engine does
    not watch are skipped. After the last message a final update is made.
    """
    if update_period <= 0:
        raise ValueError('update_period must be positive')
    next_t = None
    for topic, arrival, msg in messages:
        arrival = float(arrival)
        if next_t is None:
            next_t = (arrival if start is None else float(start)) + update_period
        while arrival > next_t:
            yield next_t, engine.ready_windows()
            next_t += update_period
        if topic in engine.topics:
            feed(engine, topic, arrival, msg, use_receive_time)
    if next_t is not None:
        yield next_t, engine.ready_windows()
