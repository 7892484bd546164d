# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Pairing two topics with message_filters' ApproximateTimeSynchronizer (``sync_mode: approximate``).

The node validates each message first (:class:`~infonet_ros.streams.window_engine.WindowEngine`)
and hands the synchronizer only accepted rows, stamped as the engine stamps them; matched
pairs go back to the engine through ``add_synced``.

The synchronizer (Python) pairs a message with the nearest queued message of the other topic
within ``slop`` and removes both. When a message is lost, its partner is paired with a
neighbour of the lost one instead, one sample off; the next message of the same topic then
meets only the partner's successor, one sample off again, and so on until a message of the
other topic is lost: at 1 kHz and 0.1 % loss per topic about a fifth of the pairs. The engine
refuses a pair further apart than half the faster topic's sample interval (``'refused'``,
counted in its pairing stats); here the newer message of a refused pair is offered to that
synchronizer again, where it waits for its own partner. That ends the run of off-by-one pairs
at its first pair. Each link has inputs of its own, so that an offer again reaches only the
synchronizer that refused it.
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


REFUSED = 'refused'  # the engine's status of a pair beyond the pair limit
# Offers again per message handed in, at most: each refused pair removes one stale message
# from the synchronizer's queues, so a chain of refusals is short; the bound keeps the input
# path bounded whatever the queues hold.
MAX_OFFERS_AGAIN = 8


class LinkSync:
    """
    One ApproximateTimeSynchronizer of two topics; a refused pair's newer message goes again.

    :param on_pair: called as ``on_pair(StampedRow a, StampedRow b, key)``; a return value of
        'refused' offers the newer of the two again.
    """

    def __init__(self, message_filters, key: tuple, queue_size: int, slop: float, on_pair):
        self.key = key
        self.inputs = (SyncInput(), SyncInput())
        self._on_pair = on_pair
        self._again = []  # (side, StampedRow) to offer once the synchronizer returns
        self.sync = message_filters.ApproximateTimeSynchronizer(list(self.inputs), queue_size,
                                                                slop)
        self.sync.registerCallback(self._paired)

    def _paired(self, a, b):
        # Called inside the synchronizer, which holds its (non-reentrant) lock: offering
        # again here would deadlock, so the message waits in _again.
        if self._on_pair(a, b, self.key) == REFUSED:
            self._again.append((0, a) if a.stamp > b.stamp else (1, b))

    def offer(self, side: int, msg: StampedRow) -> None:
        """Hand the synchronizer a message of side 0 (key[0]) or 1, then the refused ones."""
        try:
            self.inputs[side].signalMessage(msg)
            for _ in range(MAX_OFFERS_AGAIN):
                if not self._again:
                    break
                again_side, again = self._again.pop()
                self.inputs[again_side].signalMessage(again)
        finally:  # the synchronizer may raise (a negative stamp): nothing carries over
            self._again.clear()


class TopicSource:
    """What the node hands a topic's accepted rows to: every link of the topic."""

    def __init__(self):
        self.links = []  # (LinkSync, side of this topic in it)

    def signalMessage(self, msg):  # noqa: N802 (message_filters' API)
        for link, side in self.links:
            link.offer(side, msg)


def make_synchronizers(link_topics, queue_size: int, slop: float,
                       on_pair) -> dict[str, TopicSource]:
    """
    One :class:`LinkSync` per linked pair of topics; return {topic: its source}.

    :param link_topics: (topic_a, topic_b) keys of the engine's links.
    :param on_pair: called as ``on_pair(StampedRow a, StampedRow b, (topic_a, topic_b))``;
        it returns the engine's status of the pair (``WindowEngine.add_synced``).
    """
    import message_filters
    sources: dict[str, TopicSource] = {}
    for key in link_topics:
        link = LinkSync(message_filters, tuple(key), queue_size, slop, on_pair)
        for side, topic in enumerate(key):
            sources.setdefault(topic, TopicSource()).links.append((link, side))
    return sources
