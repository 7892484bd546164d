# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Validation of one input topic's samples, with its counters (no ROS).

Every message is counted under one status:

- ``ok``: accepted;
- ``unset_stamp``: the stamp is zero (``sec == 0`` and ``nanosec == 0``: a driver that never
  set it, or a simulated clock before its first /clock message). Never a time jump: one such
  message among stamped ones would otherwise clear every buffer;
- ``missing_field``: a configured field is absent, out of range or not a number;
- ``nan``: a field is NaN or infinite;
- ``out_of_order``: the stamp went back by at most ``time_jump`` seconds;
- ``duplicate``: the same stamp as the previous accepted message;
- ``time_jump``: the stamp went back by more than ``time_jump`` seconds (bag loop, simulator
  reset): the engine clears every buffer and the message starts the new sequence.
"""

from __future__ import annotations

from dataclasses import dataclass, field
import math

from infonet_ros.streams.fields import compile_field, FieldError
from infonet_ros.streams.ring_buffer import RingBuffer
from infonet_ros.streams.sample_interval import SampleInterval

DROP_REASONS = ('missing_field', 'nan', 'unset_stamp', 'out_of_order', 'duplicate')
OK, TIME_JUMP = 'ok', 'time_jump'


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


class TopicInput:
    """
    The watched fields of one topic: their readers, the last accepted stamp, the counters.

    :param buffer_capacity: rows of the topic's own buffer; None when its samples are not
        buffered per topic (they only feed synchronized pairs).
    """

    def __init__(self, name: str, fields, buffer_capacity: int | None):
        self.name = name
        self.fields = tuple(fields)
        self.readers = [compile_field(f) for f in self.fields]
        self.col = {f: i for i, f in enumerate(self.fields)}  # field -> column of a row
        self.buffer = (RingBuffer(len(self.fields), buffer_capacity)
                       if buffer_capacity is not None else None)
        self.last_stamp = None
        self.interval = SampleInterval()  # of the accepted stamps
        self.stats = TopicStats()

    def read(self, msg) -> list | None:
        """Count a received message; return its field values, None (counted) if one is missing."""
        self.stats.received += 1
        try:
            return [read(msg) for read in self.readers]
        except FieldError:
            self.stats.dropped['missing_field'] += 1
            return None

    def classify(self, stamp: float, row: list, time_jump: float) -> str:
        """
        Status of a sample read from a message: OK, TIME_JUMP or a drop reason (counted).

        The sample is not taken yet: after TIME_JUMP the engine clears its buffers first,
        then calls :meth:`take`.
        """
        if stamp == 0.0:
            self.stats.dropped['unset_stamp'] += 1
            return 'unset_stamp'
        if not all(map(math.isfinite, row)):
            self.stats.dropped['nan'] += 1
            return 'nan'
        last = self.last_stamp
        if last is None or stamp > last:
            return OK
        if last - stamp > time_jump:
            self.stats.time_jumps += 1
            return TIME_JUMP
        reason = 'duplicate' if stamp == last else 'out_of_order'
        self.stats.dropped[reason] += 1
        return reason

    def take(self, stamp: float, row: list) -> None:
        """Accept a sample: it becomes the last stamp and, when buffered, the newest row."""
        self.last_stamp = stamp
        self.interval.add(stamp)
        self.stats.accepted += 1
        if self.buffer is not None:
            self.buffer.push(stamp, row)

    def clear(self) -> None:
        """Forget the buffered rows and the last stamp (counters are kept)."""
        if self.buffer is not None:
            self.buffer.clear()
        self.last_stamp = None
        self.interval.restart()
