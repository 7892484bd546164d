# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
A bag's messages as the window engine takes them: (topic, receive time, message or Values).

As in the node, the watched fields are read from the serialized messages where the CDR reader
walks the type (:func:`bag_items`, through :class:`~infonet_ros.streams.raw_intake.RawIntake`:
the same numbers as decoding, checked against it on each topic's first messages; a record of
the wrong size is decoded instead and reported by :func:`fast_read_notes`). Other messages are
decoded. A message that cannot be decoded is skipped and counted (:class:`UndecodableMessages`),
as the node skips it, so one damaged record does not end the analysis; when every message of a
topic so far fails (at least :data:`UNDECODABLE_LIMIT`, or all the bag has), the definition does
not fit the data and that is an error. :func:`message_stream` adds what an analysis needs around
that: each topic's fields checked on its first decodable message (an error lists the numeric
fields it does have), the raw values kept for the figures, and a progress bar.
"""

from __future__ import annotations

import sys

import numpy as np

from infonet_ros.offline.bag_reader import BagError
from infonet_ros.offline.msg_definitions import rosbags_fields_of
from infonet_ros.offline.params import AnalysisError
from infonet_ros.streams.cdr_reader import CdrUnsupported
from infonet_ros.streams.feed import item_stamp
from infonet_ros.streams.fields import compile_field, FieldError
from infonet_ros.streams.raw_intake import RawIntake
from infonet_ros.streams.raw_intake import Values

# Limits of the field listing in the error for a missing field: nesting depth and length.
LISTED_FIELDS_DEPTH = 6
LISTED_FIELDS_MAX = 60
# A topic whose first messages (this many, or all the bag has) all fail to decode has a
# definition that does not fit its data: an error, not a run of skipped messages.
UNDECODABLE_LIMIT = 10


class UndecodableMessages:
    """Per topic: messages skipped because they could not be decoded, and the first error."""

    def __init__(self):
        self.counts: dict[str, int] = {}
        self.first_error: dict[str, str] = {}
        self._read: dict[str, int] = {}  # messages of each topic that were read

    @property
    def total(self) -> int:
        """Messages skipped over all topics."""
        return sum(self.counts.values())

    def read(self, topic: str) -> None:
        """Count a message of ``topic`` that was read."""
        self._read[topic] = self._read.get(topic, 0) + 1

    def skip(self, topic: str, error: BagError, in_bag: int) -> None:
        """
        Count an undecodable message of ``topic`` (``in_bag`` messages in the bag).

        :raises BagError: none of the topic's messages was read so far, and this is its
            :data:`UNDECODABLE_LIMIT`-th failure (or its last message).
        """
        n = self.counts[topic] = self.counts.get(topic, 0) + 1
        self.first_error.setdefault(topic, str(error))
        if not self._read.get(topic) and n >= min(UNDECODABLE_LIMIT, max(in_bag, 1)):
            raise BagError(f'none of the first {n} messages of {topic} could be decoded: the '
                           'message definition does not fit the recorded data (first error: '
                           f'{self.first_error[topic]})')

    def warnings(self) -> list[str]:
        """One summary warning per topic with skipped messages."""
        return [f'{t}: {n} undecodable message(s) skipped (first: {self.first_error[t]})'
                for t, n in self.counts.items()]


def bag_items(bag, topics, fields_by_topic, intakes=None, undecodable=None):
    """
    Yield (topic, receive time [ns], message or Values, serialized message, type) in order.

    :param bag: an open :class:`~infonet_ros.offline.bag_reader.BagSource`.
    :param topics: topics to read.
    :param fields_by_topic: {topic: field paths read from it}.
    :param intakes: a dict that receives each topic's RawIntake, or the reason why its
        messages are decoded.
    :param undecodable: an :class:`UndecodableMessages` that counts the skipped messages.

    :raises BagError: corrupt or truncated storage (reading cannot go on), or a topic none of
        whose first messages can be decoded (:meth:`UndecodableMessages.skip`).
    """
    intakes = {} if intakes is None else intakes
    undecodable = UndecodableMessages() if undecodable is None else undecodable
    if bag.typestore is None:
        bag.build_typestore(topics)  # BagError for a topic the bag does not have
    in_bag = bag.topics()
    types = {t: in_bag[t][0] for t in topics}
    fields_of = rosbags_fields_of(bag.typestore)
    for topic in topics:
        msgtype = types[topic]
        try:
            intakes[topic] = RawIntake(
                msgtype, fields_by_topic[topic],
                lambda raw, t=msgtype, name=topic: bag.decode(raw, t, name),
                fields_of=fields_of, whole=True)
        except CdrUnsupported as exc:
            intakes[topic] = f'decoded: {exc}'
    for topic, msgtype, recv_ns, raw, index in bag.raw_messages(topics):
        intake = intakes[topic]
        got = None if isinstance(intake, str) else intake.values(raw)
        if got is None:
            try:
                item = bag.decode(raw, msgtype, topic, index)
            except BagError as exc:  # one damaged record: skip it, as the node does
                undecodable.skip(topic, exc, in_bag[topic][1])
                continue
        else:
            item = Values(*got)
        undecodable.read(topic)
        yield topic, recv_ns, item, raw, msgtype


def fast_read_notes(intakes) -> list[str]:
    """Warnings for topics whose fast field reading was turned off while reading."""
    return [f'{t}: fields read by decoding every message, the fast reader was turned off '
            f'({i.disabled})' for t, i in intakes.items() if not isinstance(i, str)
            and i.disabled]


def message_stream(bag, topics, fields_by_topic, use_receive_time: bool = False,
                   signals: dict | None = None, progress: bool = False, intakes=None,
                   undecodable=None):
    """
    Yield (topic, receive time [s], message or Values) of :func:`bag_items`.

    :param use_receive_time: the node's parameter: stamps of the kept signals, as the engine
        stamps the messages (:func:`~infonet_ros.streams.feed.item_stamp`).
    :param signals: a dict that receives {(topic, field): ([stamps], [values])}, or None.
    :param progress: show a progress bar on stderr.
    :param intakes, undecodable: see :func:`bag_items`.

    :raises AnalysisError: a topic's first decodable message lacks one of its fields.
    :raises BagError: see :func:`bag_items`.
    """
    readers = {t: [(f, compile_field(f)) for f in fs] for t, fs in fields_by_topic.items()}
    checked = set()
    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(total=bag.message_count(topics), unit='msg', desc='reading bag',
                   file=sys.stderr, mininterval=0.5)
    try:
        items = bag_items(bag, topics, fields_by_topic, intakes, undecodable)
        for topic, recv_ns, item, raw, msgtype in items:
            if bar is not None:
                bar.update(1)
            if topic not in checked:
                checked.add(topic)
                msg = bag.decode(raw, msgtype, topic, 0) if isinstance(item, Values) else item
                _check_fields(topic, msgtype, msg, readers[topic])
            # ns / 1e9 is the double nearest the stamp (ns * 1e-9 can miss it by one ulp,
            # which would move a message across an update time).
            arrival = recv_ns / 1e9
            if signals is not None:
                _keep_signals(signals, topic, item_stamp(item, arrival, use_receive_time),
                              _field_values(item, fields_by_topic[topic], readers[topic]))
            yield topic, arrival, item
    finally:
        if bar is not None:
            bar.close()


def _check_fields(topic, msgtype, msg, readers):
    # A field missing from a topic's first message is a wrong path, not one lost message.
    for _, read in readers:
        try:
            read(msg)
        except FieldError as exc:
            avail = ', '.join(numeric_fields(msg)) or 'none'
            raise AnalysisError(f'{topic} [{msgtype}]: {exc}. Numeric fields of its first '
                                f'message: {avail}') from None


def _field_values(item, fields, readers):
    # (field, value) of the fields the message has.
    if isinstance(item, Values):
        yield from zip(fields, item.row)
        return
    for f, read in readers:
        try:
            yield f, read(item)
        except FieldError:
            continue


def _keep_signals(signals, topic, stamp, values):
    for f, v in values:
        s = signals.setdefault((topic, f), ([], []))
        s[0].append(stamp)
        s[1].append(v)


def numeric_fields(msg, prefix: str = '', depth: int = 0, out=None) -> list[str]:
    """Numeric leaves of a decoded message, for error messages (arrays shown as name[i])."""
    out = [] if out is None else out
    if depth > LISTED_FIELDS_DEPTH or len(out) > LISTED_FIELDS_MAX:
        return out
    names = [n for n in getattr(msg, '__dataclass_fields__', {}) if not n.startswith('__')]
    for name in names:
        v = getattr(msg, name)
        path = f'{prefix}{name}'
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            out.append(path)
        elif isinstance(v, np.ndarray) and v.dtype.kind in 'biuf':
            out.append(f'{path}[0..{len(v) - 1}]' if len(v) else f'{path}[] (empty)')
        elif hasattr(v, '__dataclass_fields__'):
            numeric_fields(v, path + '.', depth + 1, out)
    return out
