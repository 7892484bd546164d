# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The watched fields of one topic, read from serialized messages (see :mod:`.cdr_reader`).

The node subscribes with ``raw=True`` and hands each message's bytes to
:meth:`RawIntake.values`. The first ``CHECK_MESSAGES`` messages of a topic are also decoded the
usual way and the two readings compared: a middleware that lays messages out otherwise than
the reader expects turns the fast path off for that topic (with the reason in ``disabled``)
instead of feeding wrong numbers. A message the reader cannot take (another encoding, an index
past the end of a sequence, a truncated buffer) is left to the caller to decode, so every
message ends up in the same validation as a decoded one.

No rclpy here: the caller passes its ``deserialize(bytes) -> message``.
"""

from __future__ import annotations

import struct
from typing import NamedTuple

from infonet_ros.streams.cdr_reader import compile_cdr_reader, ros_fields_of
from infonet_ros.streams.fields import compile_field, FieldError, header_stamp

# Messages per topic decoded both ways and compared before the fast path is trusted alone.
CHECK_MESSAGES = 20
_STAMP = ('header.stamp.sec', 'header.stamp.nanosec')


class Values(NamedTuple):
    """The watched fields of a message, read without decoding it."""

    stamp: float | None  # header.stamp [s], None for a type without a header
    row: list  # the topic's field values, in the engine's field order


class RawIntake:
    """
    Read ``fields`` (and ``header.stamp`` when the type has one) from serialized messages.

    :param type_name: 'pkg/msg/Type'.
    :param fields: field paths, in the order of the engine's row for this topic.
    :param deserialize: ``bytes -> message`` (rclpy's deserialize_message for the type).
    :param fields_of: type name -> {field: IDL type}; default: the installed rclpy types.
    :param whole: check that each message ends where its type says (see
        :func:`infonet_ros.streams.cdr_reader.compile_cdr_reader`); for messages read from storage.
    :raises infonet_ros.streams.cdr_reader.CdrUnsupported: the type or a path is not read from CDR
        (subscribe to decoded messages instead).
    """

    def __init__(self, type_name: str, fields, deserialize, fields_of=ros_fields_of,
                 check_messages: int = CHECK_MESSAGES, whole: bool = False):
        self.fields = tuple(fields)
        top = fields_of(type_name)
        self.has_stamp = top.get('header', '').replace('/msg/', '/') == 'std_msgs/Header'
        paths = (_STAMP if self.has_stamp else ()) + self.fields
        self._read = compile_cdr_reader(fields_of, type_name, paths, whole=whole)
        self._deserialize = deserialize
        self._readers = [compile_field(f) for f in self.fields]
        self.to_check = int(check_messages)
        self.disabled = ''  # why the fast path is off for this topic, if it is
        self.fast = 0  # messages read by the fast path
        self.decoded = 0  # messages left to the caller

    def values(self, data) -> Values | None:
        """
        Read the header stamp (None without a header) and the watched fields of a message.

        :return: None when the message must be decoded by the caller instead.
        """
        if self.disabled:
            self.decoded += 1
            return None
        try:
            got = self._read(data)
        except (FieldError, struct.error, IndexError):
            got = None
        except Exception as exc:  # noqa: B902 (a reader bug must not take the node down)
            self.disabled = f'CDR reader failed: {type(exc).__name__}: {exc}'
            got = None
        if got is None:
            self.decoded += 1
            return None
        if self.has_stamp:
            stamp = got[0] + got[1] * 1e-9
            row = list(got[2:])
        else:
            stamp, row = None, list(got)
        if self.to_check > 0:
            try:
                reason = self._differs(data, stamp, row)
            except Exception:  # noqa: B902 (undecodable: the caller's decoding reports it)
                self.decoded += 1
                return None
            self.to_check -= 1
            if reason:
                self.disabled = reason
                self.decoded += 1
                return None
        self.fast += 1
        return Values(stamp, row)

    def _differs(self, data, stamp, row) -> str:
        """Compare with the decoded message; return why they differ, or ''."""
        msg = self._deserialize(data)
        try:
            want = [r(msg) for r in self._readers]
        except FieldError:
            return 'decoding found a missing field that the CDR reader read'
        want_stamp = header_stamp(msg) if self.has_stamp else None
        if not (_same(want, row) and _same([want_stamp], [stamp])):
            return (f'CDR reader read {row} at {stamp}, decoding gave {want} at {want_stamp}')
        return ''


def _same(a, b) -> bool:
    """Equal lists of numbers, NaN equal to NaN (a NaN sample is dropped later, not here)."""
    return len(a) == len(b) and all(u == v or (u != u and v != v) for u, v in zip(a, b))
