# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
/diagnostics of the MI node: estimator, every input topic, every pair.

Statuses (DiagnosticStatus.name):

- ``<node>: estimator``: device, weights path, model provenance (training steps, commit),
  sync mode, inference latency (last, mean and max over the period), updates published and
  updates skipped because the previous forward pass was still running;
- ``<node>: input <topic>``: messages received, accepted, dropped per reason, time jumps,
  buffered rows; WARN while messages are being dropped;
- ``<node>: pair <name>``: buffer fill (pairs / window), the last estimate and its window end;
  WARN until the first window is full.
"""

from __future__ import annotations

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue

OK, WARN = DiagnosticStatus.OK, DiagnosticStatus.WARN


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


class DiagnosticsBuilder:
    """Builds the node's DiagnosticArray from the engine's counters and estimator info."""

    def __init__(self, node_name: str, hardware_id: str = ''):
        self.node_name = node_name
        self.hardware_id = hardware_id
        self._prev_drops: dict[str, int] = {}

    def _status(self, name, level, message, values) -> DiagnosticStatus:
        return DiagnosticStatus(level=level, name=f'{self.node_name}: {name}',
                                message=message, hardware_id=self.hardware_id,
                                values=[_kv(k, v) for k, v in values])

    def build(self, stamp, engine, estimator_info: dict, latency: LatencyStats,
              last_estimates: dict) -> DiagnosticArray:
        """
        One DiagnosticArray.

        :param stamp: builtin_interfaces/Time of the array.
        :param engine: the node's WindowEngine.
        :param estimator_info: ordered key -> value of the estimator status (device, model...).
        :param latency: LatencyStats of the forward passes (its period is consumed).
        :param last_estimates: {pair name: PairEstimate} of the newest published estimates.
        """
        arr = DiagnosticArray()
        arr.header.stamp = stamp
        mean, peak, n = latency.take()
        values = list(estimator_info.items()) + [
            ('inference_latency_last_s', latency.last),
            ('inference_latency_mean_s', mean), ('inference_latency_max_s', peak),
            ('forward_passes_in_period', n)]
        arr.status.append(self._status('estimator', OK, 'running', values))
        rows = engine.buffer_rows()
        for topic, st in engine.topic_stats().items():
            drops = st.dropped_total
            new = drops - self._prev_drops.get(topic, 0)
            self._prev_drops[topic] = drops
            level, msg = OK, 'ok'
            if new > 0:
                level = WARN
                msg = f'{new} message(s) dropped since the last report'
            elif st.received == 0:
                level, msg = WARN, 'no message received yet'
            values = [('received', st.received), ('accepted', st.accepted)]
            values += [(f'dropped_{k}', v) for k, v in st.dropped.items()]
            values += [('dropped_total', drops), ('time_jumps', st.time_jumps),
                       ('buffered_rows', rows.get(topic, 0))]
            arr.status.append(self._status(f'input {topic}', level, msg, values))
        for name, (have, want) in engine.fill().items():
            est = last_estimates.get(name)
            level, msg = (OK, 'estimating') if est is not None else (WARN, 'filling window')
            values = [('buffer_fill', f'{have}/{want}'),
                      ('last_mi', est.mi if est is not None else float('nan')),
                      ('last_window_end_s',
                       f'{est.window_end:.6f}' if est is not None else 'nan')]
            arr.status.append(self._status(f'pair {name}', level, msg, values))
        return arr
