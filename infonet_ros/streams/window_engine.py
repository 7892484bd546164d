# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Rolling windows of paired samples, from validated input of several topics (no ROS).

One :class:`WindowEngine` per node (or per offline bag analysis) is fed samples in arrival
order and asked, at each update, for the windows that are ready. Everything is deterministic
given the sequence of ``add_*`` calls and the update calls, so a bag replayed through the
engine (:mod:`infonet_ros.streams.feed`) reproduces the node's windows.

Each topic's samples are validated and counted by :mod:`infonet_ros.streams.topic_input`;
two topics are paired by the ``sync_mode`` of :mod:`infonet_ros.streams.sync`. Fields of one
topic are paired message by message in every mode (stamp: the message's).

A window is the newest ``window`` pairs of a pair; it is ready when full and newer than the
window last returned for that pair (a stalled stream yields no repeated estimates).
"""

from __future__ import annotations

from dataclasses import dataclass
import math
from typing import ClassVar, NamedTuple

import numpy as np

from infonet_ros.streams.pairs import topic_fields
from infonet_ros.streams.ring_buffer import RingBuffer
from infonet_ros.streams.sync import (ApproximateMatcher, mean_interval,
                                      newest_interpolation_plan, PairingStats, SYNC_MODES,
                                      TopicLink)
from infonet_ros.streams.topic_input import OK, TIME_JUMP, TopicInput

DEFAULT_MAX_BUFFER = 100_000


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


@dataclass(frozen=True, eq=False)
class BufferedPairPlan:
    """A pair whose samples sit paired in one buffer: a topic's (same topic) or a link's."""

    kind: str  # 'topic' or 'link'
    buffer: RingBuffer
    x_cols: list  # columns of the x side in the buffer's rows
    y_cols: list


@dataclass(frozen=True, eq=False)
class InterpolatedPairPlan:
    """A pair of two topics, interpolated at each update (``interpolate`` sync mode)."""

    kind: ClassVar[str] = 'interpolate'
    x_topic: TopicInput
    y_topic: TopicInput
    x_cols: slice | list  # columns of the x side in x_topic's rows
    y_cols: slice | list


class _InterpolatedRows(NamedTuple):
    """The newest window of two interpolated topics, every column of both."""

    stamps: np.ndarray  # (n,) stamps of the slower topic's paired samples
    x_is_slow: bool
    slow_rows: np.ndarray  # (n, fields of the slower topic)
    fast_rows: np.ndarray  # (n, fields of the faster topic), interpolated


def _columns(cols: list[int]):
    """Return a slice for consecutive column indices, else the list."""
    if cols == list(range(cols[0], cols[0] + len(cols))):
        return slice(cols[0], cols[0] + len(cols))
    return cols


class WindowEngine:
    """
    Validation, pairing and rolling windows for a list of PairSpec (see the module doc).

    :param pairs: list of :class:`infonet_ros.streams.pairs.PairSpec`.
    :param window: pairs per window (at least 2; the estimator needs MIN_SAMPLES).
    :param sync_mode: 'interpolate', 'approximate' or 'external' (:mod:`.sync`).
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
        self._last_end: dict[str, float] = {}  # pair name -> end of the window last returned
        self._interp_cache: dict = {}  # (x topic, y topic) -> _InterpolatedRows of an update
        self._grow_every = max(1, min(16, self.window // 2))

        cross = [p for p in self.pairs if not p.same_topic]
        # interpolate: the partner topics of each topic, whose windows its buffer must span.
        partners: dict[str, list] = {}
        if sync_mode == 'interpolate':
            for p in cross:
                partners.setdefault(p.x.topic, []).append(p.y.topic)
                partners.setdefault(p.y.topic, []).append(p.x.topic)
        same_topic = {p.x.topic for p in self.pairs if p.same_topic}
        self.topics = {t: TopicInput(t, f, self._initial_capacity(t in partners,
                                                                  t in same_topic))
                       for t, f in topic_fields(self.pairs).items()}
        self._partners = {t: [self.topics[q] for q in dict.fromkeys(ps)]
                          for t, ps in partners.items()}
        self.links: dict[tuple, TopicLink] = {}
        if sync_mode != 'interpolate':
            for p in cross:
                if self._link_key(p.x.topic, p.y.topic) is None:
                    matcher = (ApproximateMatcher(self.slop, self.queue_size)
                               if sync_mode == 'approximate' else None)
                    self.links[(p.x.topic, p.y.topic)] = TopicLink(
                        self.topics[p.x.topic], self.topics[p.y.topic], self.window, matcher)
        self._plans = [self._plan_pair(p) for p in self.pairs]
        # approximate mode: the links each topic feeds, with its side in them.
        self._links_of = {name: [(link, 0 if key[0] == name else 1)
                                 for key, link in self.links.items() if name in key]
                          for name in self.topics}

    # ---- structure -----------------------------------------------------------------------

    def _initial_capacity(self, interpolated: bool, same_topic: bool) -> int | None:
        # An interpolated topic starts at twice the window: room for the slower stream's
        # samples that are not paired yet (newer than the faster stream's newest). A topic
        # that only feeds links keeps no buffer of its own.
        if interpolated:
            return 2 * self.window
        return self.window if same_topic else None

    def _link_key(self, t1, t2):
        for key in ((t1, t2), (t2, t1)):
            if key in self.links:
                return key
        return None

    def _plan_pair(self, p):
        if p.same_topic:
            t = self.topics[p.x.topic]
            return BufferedPairPlan('topic', t.buffer, [t.col[f] for f in p.x.fields],
                                    [t.col[f] for f in p.y.fields])
        if self.sync_mode == 'interpolate':
            # Columns of a per-update copy (see _interpolate): a run of columns is a slice,
            # so a pair's window is a view of it, not another copy.
            tx, ty = self.topics[p.x.topic], self.topics[p.y.topic]
            return InterpolatedPairPlan(tx, ty, _columns([tx.col[f] for f in p.x.fields]),
                                        _columns([ty.col[f] for f in p.y.fields]))
        link = self.links[self._link_key(p.x.topic, p.y.topic)]
        return BufferedPairPlan('link', link.buffer, link.cols(p.x.topic, p.x.fields),
                                link.cols(p.y.topic, p.y.fields))

    @property
    def link_topics(self) -> list[tuple]:
        """(topic_a, topic_b) of every cross-topic link (approximate / external modes)."""
        return list(self.links)

    def topic_stats(self) -> dict:
        """{topic: TopicStats}."""
        return {name: t.stats for name, t in self.topics.items()}

    def pairing_stats(self) -> dict[str, PairingStats]:
        """
        {pair name: PairingStats} of the cross-topic pairs of approximate and external modes.

        Pairs over the same two topics share one link and so one (live) PairingStats. Pairs
        within one topic and interpolated pairs are not matched message by message: none.
        """
        return {p.name: self.links[self._link_key(p.x.topic, p.y.topic)].stats
                for p, plan in zip(self.pairs, self._plans) if plan.kind == 'link'}

    def fill(self) -> dict[str, tuple[int, int]]:
        """{pair name: (pairs available now, window)}, for diagnostics (cheap)."""
        out = {}
        for p, plan in zip(self.pairs, self._plans):
            if plan.kind == 'interpolate':
                n = min(len(plan.x_topic.buffer), len(plan.y_topic.buffer))
            else:
                n = len(plan.buffer)
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
            t.clear()
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
        row = t.read(msg)
        if row is None:
            return 'missing_field', None
        return self._accept(t, float(stamp), row)

    def add_values(self, topic: str, stamp: float, values) -> tuple[str, list | None]:
        """Like :meth:`add_message` for values already read (in the topic's field order)."""
        t = self.topics[topic]
        t.stats.received += 1
        return self._accept(t, float(stamp), [float(v) for v in values])

    def _accept(self, t: TopicInput, stamp: float, row: list):
        status = t.classify(stamp, row, self.time_jump)
        if status == TIME_JUMP:
            self.reset()
            self.resets += 1
        elif status != OK:
            return status, None
        t.take(stamp, row)
        # Checked every few samples only: cheap enough for the 1 kHz hot path, and a buffer
        # of two windows loses at most a quarter window of its oldest rows.
        if t.name in self._partners and t.buffer.full and \
                not t.buffer.written % self._grow_every:
            self._grow_to_span_partners(t)
        if self.sync_mode == 'approximate':
            for link, side in self._links_of[t.name]:
                link.offer(side, stamp, row, self.slop)
        return status, row

    def add_synced(self, topics: tuple, stamp_a: float, row_a, stamp_b: float, row_b) -> str:
        """
        Add a cross-topic pair from an external synchronizer (mode 'external').

        ``topics`` is a key of :attr:`link_topics`, rows are the accepted rows of each topic
        (as returned by :meth:`add_message`). Returns 'ok', 'refused' (stamps further apart
        than the pair limit of :mod:`.sync`: half the faster topic's sample interval, and
        ``slop``) or 'out_of_order' (not newer than the previous pair of the link); both are
        dropped and counted in :meth:`pairing_stats`.
        """
        return self.links[tuple(topics)].push_checked(stamp_a, row_a, stamp_b, row_b,
                                                      self.slop)

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
        for p, plan in zip(self.pairs, self._plans):
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
        for p, plan in zip(self.pairs, self._plans):
            if p.name == pair_name:
                w = self._window(plan, until)
                return None if w is None else Window(p, *w)
        raise KeyError(f'no pair named {pair_name!r}')

    def _window(self, plan, until):
        """(stamps, x, y) of the newest full window of a pair, or None."""
        if plan.kind == 'interpolate':
            return self._interpolated_window(plan, until)
        n = self.window
        t, v = plan.buffer.last()
        if until is not None:
            k = int(np.searchsorted(t, until, side='right'))
            t, v = t[:k], v[:k]
        if len(t) < n:
            return None
        t, v = t[-n:], v[-n:]
        return t.copy(), v[:, plan.x_cols], v[:, plan.y_cols]

    def _interpolated_window(self, plan: InterpolatedPairPlan, until):
        # Pairs over the same two topics share one interpolation per update.
        key = (plan.x_topic.name, plan.y_topic.name)
        if key not in self._interp_cache:
            self._interp_cache[key] = self._interpolate(plan.x_topic, plan.y_topic, until)
        rows = self._interp_cache[key]
        if rows is None:
            return None
        if rows.x_is_slow:
            return rows.stamps.copy(), rows.slow_rows[:, plan.x_cols], \
                rows.fast_rows[:, plan.y_cols]
        return rows.stamps.copy(), rows.fast_rows[:, plan.x_cols], \
            rows.slow_rows[:, plan.y_cols]

    def _interpolate(self, tx: TopicInput, ty: TopicInput, until) -> _InterpolatedRows | None:
        """
        Interpolate the newest window of two topics, every column of both; None if not full.

        The pairs over these topics pick their columns from it (one gather and one
        interpolation per update, not per pair).
        """
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
        plan = newest_interpolation_plan(t_slow, t_fast, self.max_gap, self.window)
        if plan is None:
            if until is None:
                self._grow(slow, fast, t_slow, t_fast)
            return None
        v_slow, v_fast = slow.buffer.last()[1], fast.buffer.last()[1]
        return _InterpolatedRows(t_slow[plan.slow_index], x_is_slow, v_slow[plan.slow_index],
                                 plan.fast_values(v_fast))

    def _grow_to_span_partners(self, t: TopicInput):
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

    def _grow(self, slow: TopicInput, fast: TopicInput, t_slow, t_fast):
        # A window that cannot fill while a buffer overwrites data means that buffer is too
        # short: the faster one when it does not reach back to the slower one's oldest sample
        # (e.g. 200 Hz against 30 Hz), else the slower one (its newest samples wait for the
        # faster stream, gaps cost pairs). Double it, up to max_buffer.
        buf = fast.buffer if fast.buffer.full and t_fast[0] > t_slow[0] else slow.buffer
        if buf.full and buf.capacity < self.max_buffer:
            buf.resize(min(2 * buf.capacity, self.max_buffer))
