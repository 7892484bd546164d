# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The newest rows of a stamped stream, readable as one contiguous numpy view (no ROS)."""

from __future__ import annotations

import numpy as np


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
        self._stamps = np.zeros(2 * capacity)  # (2 * capacity,)
        self._values = np.zeros((2 * capacity, self.width))  # (2 * capacity, width)
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
        self._stamps[i] = self._stamps[i + self.capacity] = stamp
        self._values[i] = self._values[i + self.capacity] = row
        self.written += 1

    def last(self, n: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Return views (stamps (n,), values (n, width)) of the newest n rows, oldest first."""
        size = len(self)
        n = size if n is None else min(n, size)
        end = self.written % self.capacity + self.capacity
        return self._stamps[end - n:end], self._values[end - n:end]

    def newest_stamp(self) -> float | None:
        """Stamp of the newest row, None when empty."""
        return float(self.last(1)[0][0]) if len(self) else None

    def clear(self) -> None:
        """Forget all rows (capacity unchanged)."""
        self.written = 0

    def resize(self, capacity: int) -> None:
        """Change the capacity, keeping the newest rows that fit."""
        capacity = max(int(capacity), 1)
        if capacity == self.capacity:
            return
        stamps, values = (a.copy() for a in self.last(capacity))
        self._alloc(capacity)
        n = len(stamps)
        self._stamps[:n] = self._stamps[capacity:capacity + n] = stamps
        self._values[:n] = self._values[capacity:capacity + n] = values
        self.written = n
