# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
/diagnostics of the MI node: estimator, every input topic, every pair.

Statuses (DiagnosticStatus.name):

- ``<node>: estimator``: device, weights path, model provenance (training steps, commit),
  sync mode, inference latency (the estimate passes: last, mean and max over the period),
  update forward time (every pass of an update, the p-value permutations included: the
  same), updates published and updates skipped because the previous forward pass was still
  running, rows of one update;
  WARN when the node clock (sim time) has not advanced;
- ``<node>: input <topic>``: messages received, accepted, dropped per reason, time jumps,
  buffered rows, expected period, seconds since the last message; levels from
  :func:`~infonet_ros.ros.input_health.input_verdict` (ERROR: a publisher of another type, or
  nothing received after ``no_input_timeout``; WARN: stale, drops, nothing yet);
- ``<node>: pair <name>``: buffer fill (pairs / window), the last estimate and its window end,
  pairs formed and refused by the pairing (and the refused rate, overall and in the period);
  WARN with the reason while it has produced no estimate for ``stale_periods`` update periods,
  or while its pairing refuses most candidates
  (:func:`~infonet_ros.ros.input_health.pair_verdict`).

The node sends them on a steady (wall) clock timer, so they keep coming when the node clock
stops (``use_sim_time`` without /clock); their header stamp is the node clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
import math

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue

from infonet_ros.ros.input_health import (ArrivalTracker, input_verdict, pair_verdict,
                                          Verdict)

OK, WARN = DiagnosticStatus.OK, DiagnosticStatus.WARN
# input_health's int levels as the message's byte constants (an int there is not a level).
LEVELS = {0: DiagnosticStatus.OK, 1: DiagnosticStatus.WARN, 2: DiagnosticStatus.ERROR}


def _kv(key, value) -> KeyValue:
    if isinstance(value, float):
        value = f'{value:.6g}'
    return KeyValue(key=str(key), value=str(value))


class LatencyStats:
    """Inference latencies of one diagnostics period (and the last one overall)."""

    def __init__(self):
        self.last = float('nan')
        self._sum, self._n, self._max = 0.0, 0, 0.0

    def add(self, seconds: float):
        """Record one forward pass."""
        self.last = seconds
        self._sum += seconds
        self._n += 1
        self._max = max(self._max, seconds)

    def take(self) -> tuple[float, float, int]:
        """(mean, max, count) of the period; starts a new period."""
        out = (self._sum / self._n if self._n else float('nan'), self._max, self._n)
        self._sum, self._n, self._max = 0.0, 0, 0.0
        return out


def jit_state(estimator) -> str:
    """'on', 'off', or 'failed: <reason>' (the eager model runs instead)."""
    if not estimator.jit:
        return 'off'
    return f'failed: {estimator.jit_failure}' if estimator.jit_failure else 'on'


def intake_state(topics, intakes: dict) -> str:
    """
    Per topic: fields read from the bytes or from decoded messages, and how many.

    :param topics: the watched topics; ``intakes``: {topic: RawIntake} of those read raw.
    """
    parts = []
    for topic in topics:
        intake = intakes.get(topic)
        if intake is None:
            parts.append(f'{topic}: decoded')
        elif intake.disabled:
            parts.append(f'{topic}: decoded (fast reading off: {intake.disabled})')
        else:
            parts.append(f'{topic}: raw {intake.fast}, decoded {intake.decoded}')
    return '; '.join(parts)


@dataclass
class HealthInput:
    """What the node knows at a report, beside the engine: times, settings, the ROS graph."""

    now: float  # time.monotonic() of the report
    stale_periods: float
    no_input_timeout: float
    update_period: float
    estimated_at: dict = field(default_factory=dict)  # pair name -> monotonic time published
    foreign_types: dict = field(default_factory=dict)  # topic -> other types published on it
    expected_types: dict = field(default_factory=dict)  # topic -> 'pkg/msg/Type'
    publishers: dict = field(default_factory=dict)  # topic -> publisher count
    single_publisher: bool = True  # several publishers on a topic withhold its pairs
    skipped_busy: int = 0  # updates skipped so far, the forward pass busy
    # pair name -> skipped_busy when its last estimate was published
    skipped_at_estimate: dict = field(default_factory=dict)
    pass_running: bool = False  # a forward pass runs (or is queued) now
    clock_problem: str = ''  # e.g. sim time not advancing; '' when fine


def _pairing_stats(engine) -> dict:
    """{pair name: stats with formed, refused, refused_rate} where the engine counts them."""
    get = getattr(engine, 'pairing_stats', None)
    return get() if callable(get) else {}


class DiagnosticsBuilder:
    """Builds the node's DiagnosticArray from the engine's counters and estimator info."""

    def __init__(self, node_name: str, hardware_id: str = '', start: float = 0.0):
        self.node_name = node_name
        self.hardware_id = hardware_id
        self.arrivals = ArrivalTracker(start)
        self._prev_drops: dict[str, int] = {}
        self._prev_received: dict[str, int] = {}
        self._prev_have: dict[str, int] = {}
        self._prev_refused: dict[str, int] = {}
        self._prev_formed: dict[str, int] = {}

    def _status(self, name, level, message, values) -> DiagnosticStatus:
        return DiagnosticStatus(level=level, name=f'{self.node_name}: {name}',
                                message=message, hardware_id=self.hardware_id,
                                values=[_kv(k, v) for k, v in values])

    def build(self, stamp, engine, estimator_info: dict, latency: LatencyStats,
              last_estimates: dict, health: HealthInput | None = None,
              update_time: LatencyStats | None = None) -> DiagnosticArray:
        """
        One DiagnosticArray.

        :param stamp: builtin_interfaces/Time of the array.
        :param engine: the node's WindowEngine.
        :param estimator_info: ordered key -> value of the estimator status (device, model...).
        :param latency: LatencyStats of the estimate passes (its period is consumed).
        :param last_estimates: {pair name: PairEstimate} of the newest published estimates.
        :param health: times and graph facts of the report; None: judged at time 0 with
            defaults (tests of the counters).
        :param update_time: LatencyStats of whole updates' forward passes, the p-value
            permutations included (its period is consumed); None: not reported.
        """
        if health is None:
            health = HealthInput(now=0.0, stale_periods=math.inf, no_input_timeout=math.inf,
                                 update_period=1.0,
                                 estimated_at=dict.fromkeys(last_estimates, 0.0))
        arr = DiagnosticArray()
        arr.header.stamp = stamp
        mean, peak, n = latency.take()
        values = list(estimator_info.items()) + [
            ('inference_latency_last_s', latency.last),
            ('inference_latency_mean_s', mean), ('inference_latency_max_s', peak),
            ('forward_passes_in_period', n)]
        if update_time is not None:
            mean, peak, _ = update_time.take()
            values += [('update_forward_last_s', update_time.last),
                       ('update_forward_mean_s', mean), ('update_forward_max_s', peak)]
        level, msg = (WARN, health.clock_problem) if health.clock_problem else (OK, 'running')
        arr.status.append(self._status('estimator', level, msg, values))
        verdicts, arrived = self._inputs(arr, engine, health)
        self._pairs(arr, engine, health, last_estimates, verdicts, arrived)
        return arr

    def _inputs(self, arr, engine, health) -> tuple[dict, dict]:
        """Append the input statuses; return ({topic: Verdict}, {topic: new messages})."""
        rows = engine.buffer_rows()
        verdicts, arrived = {}, {}
        for topic, st in engine.topic_stats().items():
            self.arrivals.observe(topic, st.received, health.now)
            arrived[topic] = st.received != self._prev_received.get(topic, 0)
            self._prev_received[topic] = st.received
            drops = st.dropped_total
            new = drops - self._prev_drops.get(topic, 0)
            self._prev_drops[topic] = drops
            verdict = input_verdict(
                self.arrivals, topic, health.now, new_drops=new,
                stale_periods=health.stale_periods, no_input_timeout=health.no_input_timeout,
                foreign_types=tuple(health.foreign_types.get(topic, ())),
                expected_type=health.expected_types.get(topic, ''),
                publishers=health.publishers.get(topic),
                single_publisher=health.single_publisher)
            verdicts[topic] = verdict
            period = self.arrivals.expected_period(topic)
            values = [('received', st.received), ('accepted', st.accepted)]
            values += [(f'dropped_{k}', v) for k, v in st.dropped.items()]
            values += [('dropped_total', drops), ('time_jumps', st.time_jumps),
                       ('buffered_rows', rows.get(topic, 0)),
                       ('expected_period_s', period if period is not None else 'unknown'),
                       ('silent_for_s', self.arrivals.silent_for(topic, health.now))]
            arr.status.append(self._status(f'input {topic}', LEVELS[verdict.level],
                                           verdict.message, values))
        return verdicts, arrived

    def _pairs(self, arr, engine, health, last_estimates, verdicts, arrived):
        stats = _pairing_stats(engine)
        specs = {p.name: p for p in getattr(engine, 'pairs', [])}
        for name, (have, want) in engine.fill().items():
            est = last_estimates.get(name)
            spec = specs.get(name)
            topics = sorted({spec.x.topic, spec.y.topic}) if spec is not None else []
            stale = [t for t in topics if verdicts.get(t, Verdict(OK, '')).no_input]
            mixed = [t for t in topics if verdicts.get(t, Verdict(OK, '')).mixed]
            growing = None
            if topics and all(arrived.get(t) for t in topics) and name in self._prev_have:
                growing = have > self._prev_have[name]
            self._prev_have[name] = have
            ps = stats.get(name)
            refused_new = formed_new = 0
            if ps is not None:
                refused_new = max(ps.refused - self._prev_refused.get(name, 0), 0)
                formed_new = max(ps.formed - self._prev_formed.get(name, 0), 0)
                self._prev_refused[name], self._prev_formed[name] = ps.refused, ps.formed
            at = health.estimated_at.get(name)
            # Skips since this pair's last estimate, not since the last report: a pass longer
            # than the report period skips in some periods and not in others.
            skipped = health.skipped_busy - health.skipped_at_estimate.get(name, 0)
            verdict = pair_verdict(
                estimated=at is not None, since_estimate=health.now - (at or 0.0),
                update_period=health.update_period, stale_periods=health.stale_periods,
                have=have, want=want, stale_inputs=stale, pairs_growing=growing,
                refused_new=refused_new, formed_new=formed_new,
                skipped_busy=max(skipped, 0), pass_running=health.pass_running,
                mixed_inputs=mixed)
            values = [('buffer_fill', f'{have}/{want}'),
                      ('last_mi', est.mi if est is not None else float('nan')),
                      ('last_window_end_s',
                       f'{est.window_end:.6f}' if est is not None else 'nan')]
            if ps is not None:
                candidates = refused_new + formed_new
                values += [('pairs_formed', ps.formed), ('pairs_refused', ps.refused),
                           ('refused_rate', float(ps.refused_rate)),
                           ('refused_rate_in_period',
                            refused_new / candidates if candidates else 0.0)]
            arr.status.append(self._status(f'pair {name}', LEVELS[verdict.level],
                                           verdict.message, values))
