# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
What the node checks around it at each diagnostics report: the ROS graph and its own clock.

Both are faults a node cannot see in its input, because the input simply stops: a publisher
of another type on a watched topic never matches the subscription (DDS says nothing), and
with ``use_sim_time`` and no /clock the node clock stands still, so do the updates.
"""

from __future__ import annotations

import time

from infonet_ros.streams.pairs import normalize_msg_type


class TypeConflicts:
    """Publishers of another type on the watched topics; each conflict logged once."""

    def __init__(self, node, type_names: dict):
        """:param type_names: {topic: 'pkg/msg/Type'} the node subscribes."""
        self._node = node
        self._type_names = type_names
        self._logged: set[tuple[str, str]] = set()

    def check(self) -> tuple[dict, dict]:
        """Return ({topic: [other types]}, {topic: publisher count}) from the ROS graph."""
        foreign, counts = {}, {}
        for topic, want in self._type_names.items():
            try:
                infos = self._node.get_publishers_info_by_topic(
                    self._node.resolve_topic_name(topic))
            except Exception:  # noqa: B902 (the graph is advisory; never fail a report)
                continue
            counts[topic] = len(infos)
            other = sorted({normalize_msg_type(i.topic_type) for i in infos} - {want})
            if other:
                foreign[topic] = other
            for t in other:
                if (topic, t) not in self._logged:
                    self._logged.add((topic, t))
                    self._node.get_logger().error(
                        f'type conflict on {topic}: a publisher of {t}, this node '
                        f'subscribes {want}; its messages never arrive')
        return foreign, counts


class MixedStreams:
    """
    Watched topics with more than one publisher: two streams mixed into one.

    Two sensors (or a sensor and a bag replay, or two robots without namespaces) publishing
    on one topic interleave their samples, and a window of that topic would hold both: a
    wrong estimate with nothing to show for it. The node withholds the pairs of such a topic
    while it lasts (``single_publisher``), and says so once per episode.
    """

    def __init__(self, node):
        self._node = node
        self.topics: set[str] = set()

    def update(self, counts: dict, enabled: bool) -> set:
        """Take {topic: publisher count}; return the topics whose pairs are withheld."""
        mixed = {t for t, n in counts.items() if n > 1} if enabled else set()
        for topic in sorted(mixed - self.topics):
            self._node.get_logger().warning(
                f'{counts[topic]} publishers on {self._node.resolve_topic_name(topic)}: their '
                'streams would mix into one window; its pairs are withheld until one is left '
                '(parameter single_publisher)')
        for topic in sorted(self.topics - mixed):
            self._node.get_logger().info(f'{topic}: one publisher again, its pairs resume')
        self.topics = mixed
        return mixed


class ClockWatch:
    """Tells when the node clock has stopped advancing (sim time without /clock)."""

    def __init__(self, node_now, use_sim_time):
        """:param node_now: () -> node clock [s]; ``use_sim_time``: () -> bool."""
        self._node_now = node_now
        self._use_sim_time = use_sim_time
        self._seen = (node_now(), time.monotonic())  # node clock, wall time it last moved

    def problem(self, min_stall_s: float) -> str:
        """Return '' while the clock advances, else why not (once stalled ``min_stall_s``)."""
        now, wall = self._node_now(), time.monotonic()
        if now != self._seen[0]:
            self._seen = (now, wall)
            return ''
        stalled = wall - self._seen[1]
        if stalled < min_stall_s:
            return ''
        if not self._use_sim_time():
            return f'node clock has not advanced for {stalled:.0f} s'
        return (f'sim time has not advanced for {stalled:.0f} s (use_sim_time true: is /clock '
                'published?); updates wait for it')
