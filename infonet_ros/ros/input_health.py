# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Health of the node's inputs and pairs, judged at each diagnostics report on the wall clock.

No ROS here: :mod:`infonet_ros.ros.diagnostics` turns the verdicts into statuses. Arrivals are
sampled from the engine's ``received`` counters at each report rather than timed per message,
so the input path pays nothing for them; staleness is therefore resolved to one diagnostics
period. Times are ``time.monotonic()`` seconds: a missing /clock under ``use_sim_time`` must
not stop the judgement of whether input arrives.
"""

from __future__ import annotations

from dataclasses import dataclass

OK, WARN, ERROR = 0, 1, 2  # as diagnostic_msgs/DiagnosticStatus levels
# A pair refusing more than this share of its candidate pairs in a report period (of at least
# REFUSED_MIN_CANDIDATES) is WARN. Loss refuses about the loss rate, and topics of different
# rates refuse the share of slower messages that arrive first (~17 % in docs/node.md's
# example); more than half means the stamps themselves do not meet: two clocks.
REFUSED_WARN_RATE = 0.5
REFUSED_MIN_CANDIDATES = 20
CLOCKS_APART = ('stamps of the two topics further apart than half a sample interval: '
                'different clocks? use interpolate or use_receive_time')


@dataclass
class _Seen:
    first_t: float  # report time the counter was first seen above 0
    first_n: int
    last_t: float  # report time the counter last changed
    last_n: int


class ArrivalTracker:
    """Per topic: when messages were last seen arriving, and their mean period."""

    def __init__(self, start: float):
        self.start = start
        self._seen: dict[str, _Seen] = {}

    def observe(self, topic: str, received: int, now: float) -> None:
        """Record a topic's ``received`` counter at report time ``now``."""
        s = self._seen.get(topic)
        if s is None:
            if received > 0:
                self._seen[topic] = _Seen(now, received, now, received)
        elif received != s.last_n:
            s.last_t, s.last_n = now, received

    def ever(self, topic: str) -> bool:
        """Tell whether any message arrived on ``topic``."""
        return topic in self._seen

    def expected_period(self, topic: str) -> float | None:
        """Mean seconds between messages since the first report that saw one; None: unknown."""
        s = self._seen.get(topic)
        if s is None or s.last_t <= s.first_t or s.last_n <= s.first_n:
            return None
        return (s.last_t - s.first_t) / (s.last_n - s.first_n)

    def silent_for(self, topic: str, now: float) -> float:
        """Seconds since a report last saw a new message (since the start if none came)."""
        s = self._seen.get(topic)
        return now - (s.last_t if s is not None else self.start)


@dataclass(frozen=True)
class Verdict:
    """A status level, the message that says why, and whether input is missing."""

    level: int
    message: str
    no_input: bool = False  # nothing recent arrives: a pair of this topic cannot estimate
    mixed: bool = False  # several publishers: pairs of this topic are withheld


def input_verdict(tracker: ArrivalTracker, topic: str, now: float, *, new_drops: int,
                  stale_periods: float, no_input_timeout: float,
                  foreign_types: tuple = (), expected_type: str = '',
                  publishers: int | None = None, single_publisher: bool = True) -> Verdict:
    """
    Judge the health of one input topic.

    ERROR: a publisher of another type is on the topic (its messages can never arrive), or
    nothing arrived within ``no_input_timeout`` of the start. WARN: several publishers on the
    topic while ``single_publisher`` (their streams would mix into one window: the pairs of
    the topic are withheld), nothing arrived yet, no message for ``stale_periods`` expected
    periods (``no_input_timeout`` while the period is unknown), or messages dropped since the
    last report. OK otherwise.
    """
    if foreign_types:
        return Verdict(ERROR, f'type conflict: publisher(s) of {", ".join(foreign_types)} '
                       f'on this topic, expected {expected_type}: their messages never arrive',
                       no_input=not tracker.ever(topic))
    if single_publisher and publishers is not None and publishers > 1:
        return Verdict(WARN, f'{publishers} publishers on this topic: their streams would mix '
                       'into one window; its pairs are withheld (single_publisher)',
                       no_input=not tracker.ever(topic), mixed=True)
    if not tracker.ever(topic):
        waited = now - tracker.start
        who = '' if publishers is None else f' ({publishers} publisher(s))'
        if waited >= no_input_timeout:
            return Verdict(ERROR, f'no message received in {waited:.0f} s{who}', True)
        return Verdict(WARN, f'no message received yet{who}', True)
    silent = tracker.silent_for(topic, now)
    period = tracker.expected_period(topic)
    limit = stale_periods * period if period is not None else no_input_timeout
    if silent > limit:
        every = f'expected every {period:.3g} s' if period is not None else 'period unknown'
        return Verdict(WARN, f'stale: no message for {silent:.1f} s ({every})', True)
    if new_drops > 0:
        return Verdict(WARN, f'{new_drops} message(s) dropped since the last report')
    return Verdict(OK, 'ok')


def pair_verdict(*, estimated: bool, since_estimate: float, update_period: float,
                 stale_periods: float, have: int, want: int, stale_inputs: list,
                 pairs_growing: bool | None, refused_new: int = 0, formed_new: int = 0,
                 skipped_busy: int = 0, pass_running: bool = False,
                 mixed_inputs: list | None = None) -> Verdict:
    """
    Judge the health of one pair: OK while it estimates, else WARN with the reason.

    A pair whose pairing refused most of its candidates in the period is WARN even while it
    estimates: its stamps do not meet, and what pairs is not the same instant.

    :param estimated: whether it has published an estimate at all.
    :param since_estimate: seconds since its last estimate was published.
    :param have, want: paired samples buffered, and the window.
    :param stale_inputs: its topics without recent input (stale, or nothing received).
    :param pairs_growing: whether new pairs formed since the last report (None: not known).
    :param refused_new, formed_new: candidate pairs refused and pairs formed by the pairing
        since the last report.
    :param skipped_busy: updates skipped, the forward pass busy, since its last estimate (since
        the start without one).
    :param pass_running: whether a forward pass is running (or queued) now.
    :param mixed_inputs: its topics with several publishers (its estimates are withheld).
    """
    if mixed_inputs:
        return Verdict(WARN, f'withheld: several publishers on {", ".join(mixed_inputs)} '
                       '(mixed streams)')
    candidates = refused_new + formed_new
    if candidates >= REFUSED_MIN_CANDIDATES and refused_new > REFUSED_WARN_RATE * candidates:
        return Verdict(WARN, f'{refused_new} of {candidates} candidate pairs refused since the '
                       f'last report: {CLOCKS_APART}')
    if estimated and since_estimate <= stale_periods * update_period:
        return Verdict(OK, 'estimating')
    lead = f'no estimate for {since_estimate:.1f} s: ' if estimated else 'no estimate yet: '
    if stale_inputs:
        return Verdict(WARN, lead + f'stale input {", ".join(stale_inputs)}')
    if have < want:
        if pairs_growing is False or refused_new:
            why = f'{refused_new} candidate pair(s) refused' if refused_new else 'no new pairs'
            return Verdict(WARN, lead + f'sync dropping ({why} while input arrives: stamps '
                           f'farther apart than the pairing allows?), window {have}/{want}')
        return Verdict(WARN, lead + f'window not full ({have}/{want})')
    if pass_running or skipped_busy:
        since = 'its last estimate' if estimated else 'the start'
        return Verdict(WARN, lead + f'forward pass busy ({skipped_busy} update(s) skipped '
                       f'since {since})')
    return Verdict(WARN, lead + 'window full, no update published yet')
