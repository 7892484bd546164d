# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
A stream's sample interval, estimated from its accepted stamps as they arrive (no ROS).

The median of the newest intervals: a lost message doubles one interval and a burst of losses
makes one long one, neither of which moves a median, where a mean would follow them. The
median is recomputed every few samples only, which keeps the 1 kHz input path cheap.
"""

from __future__ import annotations

from collections import deque
import math
from statistics import median

KEPT_INTERVALS = 31  # intervals the median is taken over (odd: one middle value)
RECOMPUTE_EVERY = 8  # samples between two medians


class SampleInterval:
    """Running median of the intervals between consecutive accepted stamps [s]."""

    def __init__(self):
        self._intervals = deque(maxlen=KEPT_INTERVALS)
        self._last = None
        self._since = 0
        self.value = math.inf  # inf until two stamps have been seen

    def add(self, stamp: float) -> None:
        """Take the next accepted stamp (increasing)."""
        if self._last is not None:
            self._intervals.append(stamp - self._last)
            self._since += 1
            # The first few intervals set the estimate at once; later ones every few samples.
            if len(self._intervals) < RECOMPUTE_EVERY or self._since >= RECOMPUTE_EVERY:
                self.value = median(self._intervals)
                self._since = 0
        self._last = stamp

    def restart(self) -> None:
        """
        Forget the last stamp: the next one starts a new sequence (after a time jump).

        The intervals are kept: a bag loop or a simulator reset does not change a sensor's rate.
        """
        self._last = None
