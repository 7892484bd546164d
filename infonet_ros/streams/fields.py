# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Numeric fields of ROS messages addressed by path, e.g. ``linear_acceleration.x``.

A path is a dot-separated chain of attribute names, each optionally followed by indices:
``position[3]`` (JointState), ``pose.covariance[0]``, ``data[2][1]``. Negative indices count
from the end (``ranges[-1]``). The same paths work on rclpy messages and on messages decoded by
``rosbags`` (attributes alike; arrays may be lists, ``array.array``, ``bytes`` or numpy arrays).

    >>> read_field(imu, 'linear_acceleration.x')
    0.12
    >>> header_stamp(imu)         # header.stamp as float seconds, None without a header
    1732848000.25
"""

from __future__ import annotations

import numbers
import operator
import re

import numpy as np

_NAME = r'[A-Za-z_][A-Za-z0-9_]*'
_STEP = re.compile(rf'({_NAME})((?:\[-?\d+\])*)')
_INDEX = re.compile(r'\[(-?\d+)\]')


class FieldError(ValueError):
    """A field path that is malformed, or absent or non-numeric in a message."""


def parse_field_path(path: str) -> tuple:
    """
    Split a field path into steps: ``'a.b[3]'`` -> ``('a', 'b', 3)``.

    Attribute steps are ``str``, index steps ``int``.

    :raises FieldError: an empty or malformed path (the message shows the accepted syntax).
    """
    if not isinstance(path, str) or not path.strip():
        raise FieldError(f'empty field path {path!r}')
    steps: list = []
    for part in path.strip().split('.'):
        m = _STEP.fullmatch(part)
        if m is None:
            raise FieldError(f'malformed field path {path!r}: expected names joined by dots, '
                             "each optionally indexed, e.g. 'linear_acceleration.x' or "
                             "'position[3]'")
        steps.append(m.group(1))
        steps.extend(int(i) for i in _INDEX.findall(m.group(2)))
    return tuple(steps)


def _to_float(value, path: str) -> float:
    # bool is an int subclass: accept it (a flag can carry information) as 0.0 / 1.0.
    if isinstance(value, numbers.Real) and not isinstance(value, (str, bytes)):
        return float(value)
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in 'biuf':
        return float(value)
    # rclpy gives a 'byte' (octet) field as bytes of length 1: its value, as the
    # serialized-message reader (cdr_reader) reads it. Strings (and 'char', a str in
    # Python) are not numbers.
    if isinstance(value, bytes) and len(value) == 1:
        return float(value[0])
    raise FieldError(f'field {path!r} is not a number (got {type(value).__name__})')


def compile_field(path) -> 'callable':
    """
    Return ``reader(msg) -> float`` for a path (parsed once; the hot path of the node).

    The reader raises FieldError when the message lacks the field, an index is out of range,
    or the value is not a real number.
    """
    steps = parse_field_path(path) if isinstance(path, str) else tuple(path)
    text = path.strip() if isinstance(path, str) else format_field_path(steps)
    # Runs of attribute names become one operator.attrgetter, indices an itemgetter: both
    # are C code, so a reader costs about a microsecond.
    getters, names = [], []
    for step in steps:
        if isinstance(step, int):
            if names:
                getters.append(operator.attrgetter('.'.join(names)))
                names = []
            getters.append(operator.itemgetter(step))
        else:
            names.append(step)
    if names:
        getters.append(operator.attrgetter('.'.join(names)))

    def reader(msg):
        value = msg
        try:
            for get in getters:
                value = get(value)
        except (AttributeError, IndexError, TypeError, KeyError):
            _explain(msg, steps, text)
        if type(value) is float:
            return value
        return _to_float(value, text)

    reader.path = text
    return reader


def _explain(msg, steps, text):
    # The slow path of a failed read: walk again to say which step failed.
    value = msg
    for step in steps:
        try:
            value = value[step] if isinstance(step, int) else getattr(value, step)
        except AttributeError:
            raise FieldError(f'message {type(msg).__name__} has no field {text!r} '
                             f'(no {step!r})') from None
        except (IndexError, TypeError, KeyError):
            raise FieldError(f'index [{step}] of field {text!r} is out of range or not '
                             f'an array in {type(msg).__name__}') from None
    raise FieldError(f'cannot read field {text!r} of {type(msg).__name__}')


def format_field_path(steps) -> str:
    """Inverse of :func:`parse_field_path`."""
    out = ''
    for s in steps:
        out += f'[{s}]' if isinstance(s, int) else (f'.{s}' if out else s)
    return out


def read_field(msg, path) -> float:
    """
    Value of the numeric field at ``path`` (str or parsed steps) as a float.

    :raises FieldError: malformed path, missing field, index out of range, or a non-number.
    """
    return compile_field(path)(msg)


def check_field_path(msg, path) -> None:
    """
    Check a path against a (default-constructed) message before any data arrives.

    Attribute names are checked to the end; an index into an array that is empty in ``msg``
    (an unbounded sequence) cannot be checked and ends the walk without error. Fixed-size
    arrays are checked.

    :raises FieldError: a malformed path, an unknown field, or a field that is not a number.
    """
    steps = parse_field_path(path) if isinstance(path, str) else tuple(path)
    text = path if isinstance(path, str) else format_field_path(steps)
    value = msg
    for step in steps:
        if isinstance(step, int):
            try:
                if not -len(value) <= step < len(value):
                    return  # length known only when data arrive
            except TypeError:
                raise FieldError(f'{type(msg).__name__}: [{step}] of field {text!r} indexes '
                                 'something that is not an array') from None
            value = value[step]
        elif hasattr(value, step):
            value = getattr(value, step)
        else:
            raise FieldError(f'message {type(msg).__name__} has no field {text!r} '
                             f'(no {step!r})')
    _to_float(value, text)


def header_stamp(msg) -> float | None:
    """``msg.header.stamp`` in seconds (sec + nanosec * 1e-9), or None without a header."""
    header = getattr(msg, 'header', None)
    stamp = getattr(header, 'stamp', None)
    if stamp is None:
        return None
    try:
        return stamp.sec + stamp.nanosec * 1e-9
    except AttributeError:
        return None
