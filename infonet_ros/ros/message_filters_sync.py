# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Pairing two topics with message_filters' ApproximateTimeSynchronizer (``sync_mode: approximate``).

The node validates each message first (:class:`~infonet_ros.streams.window_engine.WindowEngine`)
and hands the synchronizer only accepted rows, stamped as the engine stamps them; matched
pairs go back to the engine through ``add_synced``.
"""

from __future__ import annotations

from infonet_ros.ros.conversions import float_to_time


def have_message_filters() -> bool:
    """Tell whether message_filters can be imported."""
    try:
        import message_filters  # noqa: F401
    except ImportError:
        return False
    return True


class StampedRow:
    """
    What the synchronizer queues: our stamp and the accepted row.

    message_filters reads ``header.stamp`` (a real builtin_interfaces/Time); handing it our
    stamps makes it synchronize on exactly the times the engine uses.
    """

    __slots__ = ('header', 'stamp', 'row')

    class _Header:
        __slots__ = ('stamp',)

    def __init__(self, stamp: float, row):
        self.header = self._Header()
        self.header.stamp = float_to_time(stamp)
        self.stamp = stamp
        self.row = row


class SyncInput:
    """A message_filters-style source (registerCallback / signalMessage) of accepted rows."""

    def __init__(self):
        self.callbacks = []

    def registerCallback(self, cb, *args):  # noqa: N802 (message_filters' API)
        self.callbacks.append((cb, args))
        return len(self.callbacks) - 1

    def signalMessage(self, *msg):  # noqa: N802
        for cb, args in self.callbacks:
            cb(*(msg + args))


def make_synchronizers(link_topics, queue_size: int, slop: float,
                       on_pair) -> dict[str, SyncInput]:
    """
    One ApproximateTimeSynchronizer per linked pair of topics; return {topic: its input}.

    :param link_topics: (topic_a, topic_b) keys of the engine's links.
    :param on_pair: called as ``on_pair(StampedRow a, StampedRow b, (topic_a, topic_b))``.
    """
    import message_filters
    inputs: dict[str, SyncInput] = {}
    for key in link_topics:
        for topic in key:
            inputs.setdefault(topic, SyncInput())
        sync = message_filters.ApproximateTimeSynchronizer(
            [inputs[key[0]], inputs[key[1]]], queue_size, slop)
        sync.registerCallback(on_pair, key)
    return inputs
