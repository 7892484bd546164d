# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Handing messages to a :class:`~infonet_ros.streams.window_engine.WindowEngine` (no ROS).

:func:`item_stamp` is the stamp rule of the node and of the bag analysis: the time a sample
is filed under. :func:`feed` adds one message (decoded, or its
:class:`~infonet_ros.streams.raw_intake.Values`) under that stamp; :func:`replay` feeds
recorded messages and makes updates at the times the node's timer would.
"""

from __future__ import annotations

from infonet_ros.streams.fields import header_stamp
from infonet_ros.streams.raw_intake import Values


def item_stamp(item, arrival, use_receive_time: bool = False) -> float:
    """
    Return the stamp of a sample: the arrival time with ``use_receive_time``, else header.stamp.

    A message without a header is stamped with its arrival time.

    :param item: a message, or its :class:`Values`.
    :param arrival: arrival time [s], or a function returning it: the node reads its clock
        only for a sample that needs it.
    """
    if not use_receive_time:
        stamp = item.stamp if isinstance(item, Values) else header_stamp(item)
        if stamp is not None:
            return stamp
    return arrival() if callable(arrival) else arrival


def add_item(engine, topic: str, stamp: float, item) -> tuple[str, list | None]:
    """Add a message or its :class:`Values` to ``engine`` under ``stamp``; (status, row)."""
    if isinstance(item, Values):
        return engine.add_values(topic, stamp, item.row)
    return engine.add_message(topic, stamp, item)


def feed(engine, topic: str, arrival: float, item,
         use_receive_time: bool = False) -> tuple[str, list | None]:
    """Add a message or its :class:`Values` to ``engine``, stamped by :func:`item_stamp`."""
    return add_item(engine, topic, item_stamp(item, arrival, use_receive_time), item)


def replay(engine, messages, update_period: float, start: float | None = None,
           use_receive_time: bool = False):
    """
    Feed ``(topic, arrival_s, msg or Values)`` in arrival order; yield ``(update_time, windows)``.

    Updates happen every ``update_period`` seconds of arrival time from ``start`` (default:
    the first arrival) + one period; before each update every message that arrived at or
    before it is fed, as the node's timer would see them. Messages of topics the engine does
    not watch are skipped. After the last message a final update is made.
    """
    if update_period <= 0:
        raise ValueError('update_period must be positive')
    next_t = None
    for topic, arrival, msg in messages:
        arrival = float(arrival)
        if next_t is None:
            next_t = (arrival if start is None else float(start)) + update_period
        while arrival > next_t:
            yield next_t, engine.ready_windows()
            next_t += update_period
        if topic in engine.topics:
            feed(engine, topic, arrival, msg, use_receive_time)
    if next_t is not None:
        yield next_t, engine.ready_windows()
