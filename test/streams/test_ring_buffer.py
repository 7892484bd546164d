# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The ring buffer of stamped rows (no ROS)."""

import numpy as np

from infonet_ros.streams.ring_buffer import RingBuffer


def test_ring_buffer_keeps_the_newest_rows_contiguously():
    buf = RingBuffer(width=2, capacity=4)
    for k in range(7):
        buf.push(float(k), [k, 10 * k])
    t, v = buf.last()
    assert len(buf) == 4 and buf.full
    np.testing.assert_array_equal(t, [3, 4, 5, 6])
    np.testing.assert_array_equal(v[:, 1], [30, 40, 50, 60])
    assert t.base is not None  # a view into the buffer, not a copy
    np.testing.assert_array_equal(buf.last(2)[0], [5, 6])
    buf.resize(8)
    np.testing.assert_array_equal(buf.last()[0], [3, 4, 5, 6])
    buf.push(7.0, [7, 70])
    np.testing.assert_array_equal(buf.last()[0], [3, 4, 5, 6, 7])
    buf.resize(2)
    np.testing.assert_array_equal(buf.last()[0], [6, 7])
    buf.clear()
    assert len(buf) == 0 and len(buf.last()[0]) == 0
    assert buf.newest_stamp() is None
    buf.push(8.0, [8, 80])
    assert buf.newest_stamp() == 8.0
