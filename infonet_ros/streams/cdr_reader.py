# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Read numeric fields straight from serialized ROS 2 messages (CDR), without decoding the rest.

Why: building the Python message object is a large part of what a subscription costs, and
the node reads a few numbers of each message (benchmarks/node_latency.py: 4,000 Imu messages
a second took the node from 96 % to 60 % of a core). ``compile_cdr_reader`` turns a message
type and the field paths the node watches into a small Python function (generated once per
topic) that walks the serialized message just far enough to unpack those fields.

Layout (plain CDR, XCDR1, little endian, as rmw_fastrtps and rmw_cyclonedds send ROS 2 types):
a 4-byte encapsulation header (``00 01``: CDR little endian), then the fields in declaration
order, each primitive aligned to its size (counted from the end of the header); strings are a
uint32 length (with the NUL) and the bytes; sequences a uint32 count and the elements; arrays
their elements; a nested message its fields; a message without fields one uint8. Anything
else (big endian, XCDR2, a ``wstring`` or ``long double`` on the way) is not read here: the
compiler raises :class:`CdrUnsupported` for a type it cannot walk and the reader returns None
for a message in another encoding, and the caller decodes the message the usual way.

    >>> read = compile_cdr_reader(ros_fields_of, 'sensor_msgs/msg/Imu',
    ...                           ['linear_acceleration.x', 'header.stamp.sec'])
    >>> read(serialize_message(imu))
    (0.12, 1732848000.0)

The reader raises :class:`infonet_ros.streams.fields.FieldError` when an index is beyond the end of
a sequence in that message, like the readers of :mod:`infonet_ros.streams.fields`.
"""

from __future__ import annotations

import importlib
import re
import struct

from infonet_ros.streams.fields import FieldError, parse_field_path

# IDL primitive -> struct code (its size is its CDR alignment).
PRIMITIVES = {
    'boolean': '?', 'octet': 'B', 'byte': 'B', 'char': 'B', 'uint8': 'B', 'int8': 'b',
    'int16': 'h', 'uint16': 'H', 'int32': 'i', 'uint32': 'I', 'int64': 'q', 'uint64': 'Q',
    'float': 'f', 'double': 'd', 'float32': 'f', 'float64': 'd',
}
# struct code -> name of its unpack function in the generated code.
_NAMES = {code: f'_unpack_{i}' for i, code in enumerate(sorted(set(PRIMITIVES.values())))}
# Arrays of composite elements longer than this are skipped by a loop, not unrolled.
UNROLL_MAX = 8
# Bytes of the encapsulation header before the CDR payload.
HEADER = 4

_SEQUENCE = re.compile(r'sequence<(.+?)(?:,\s*\d+)?>')
_ARRAY = re.compile(r'(.+)\[(\d+)\]')
_STRING = re.compile(r'string(?:<\d+>|<=\d+)?')  # bounded: 'string<255>' (rosidl_generator_py)
_NESTED = re.compile(r'([A-Za-z_]\w*)/(?:msg/)?([A-Za-z_]\w*)')


class CdrUnsupported(ValueError):
    """A type or path that the CDR reader does not walk (the caller decodes messages instead)."""


def ros_fields_of(type_name: str) -> dict:
    """``'pkg/msg/Type'`` or ``'pkg/Type'`` -> its ``get_fields_and_field_types()``."""
    m = _NESTED.fullmatch(type_name)
    if m is None:
        raise CdrUnsupported(f'not a message type: {type_name!r}')
    try:
        cls = getattr(importlib.import_module(f'{m.group(1)}.msg'), m.group(2))
    except (ImportError, AttributeError) as exc:
        raise CdrUnsupported(f'cannot import {type_name}: {exc}') from None
    return dict(cls.get_fields_and_field_types())


def _kind(t: str):
    """Classify an IDL type string: (kind, detail)."""
    t = t.strip()
    if t in PRIMITIVES:
        return 'prim', PRIMITIVES[t]
    if _STRING.fullmatch(t):
        return 'string', None
    m = _SEQUENCE.fullmatch(t)
    if m:
        return 'seq', m.group(1).strip()
    m = _ARRAY.fullmatch(t)
    if m:
        return 'array', (m.group(1).strip(), int(m.group(2)))
    if _NESTED.fullmatch(t):
        return 'msg', t
    raise CdrUnsupported(f'type {t!r} is not read from CDR')


class _Gen:
    """
    Emit Python source that walks a CDR buffer ``b``.

    The read position is ``p + c``: ``p`` a run-time variable whose alignment is known to be a
    multiple of ``k``, ``c`` an offset known now. Fixed-size stretches therefore cost nothing
    at run time; only strings and sequences (lengths read from the buffer) move ``p``.
    """

    def __init__(self, fields_of):
        self.fields_of = fields_of
        self.lines = []
        self.indent = 1
        self.c = 0  # payload-relative: CDR aligns from the end of the encapsulation header
        self.k = 8
        self.n_vars = 0
        self.slots = []  # the field path read into each out[] slot
        self._fields = {}

    def fields(self, type_name):
        if type_name not in self._fields:
            self._fields[type_name] = self.fields_of(type_name)
        return self._fields[type_name]

    def emit(self, line):
        self.lines.append('    ' * self.indent + line)

    def var(self, stem):
        self.n_vars += 1
        return f'{stem}{self.n_vars}'

    def align(self, a):
        if self.k >= a:
            self.c = -(-self.c // a) * a
        else:
            # p + c is only known at run time: fold c into p and round p up.
            self.emit(f'p = (p + {self.c + a - 1}) & {-a}')
            self.c = 0
            self.k = a

    def at(self, extra: str = '') -> str:
        """Buffer offset of the current position (plus ``extra``) as an expression."""
        return f'p + {self.c + HEADER}{extra}'

    def flush(self):
        if self.c:
            self.emit(f'p += {self.c}')
            self.c = 0

    def u32(self):
        """Read a uint32 at the (aligned) position into a new variable and step over it."""
        self.align(4)
        v = self.var('n')
        self.emit(f'{v} = _U32(b, {self.at()})[0]')
        self.c += 4
        return v

    # ---- skipping --------------------------------------------------------------------

    def skip(self, t):
        kind, detail = _kind(t)
        if kind == 'prim':
            size = struct.calcsize(detail)
            self.align(size)
            self.c += size
        elif kind == 'string':
            n = self.u32()
            self.emit(f'p += {self.c} + {n}')
            self.c, self.k = 0, 1
        elif kind == 'msg':
            self.skip_fields(detail)
        elif kind == 'array':
            elem, n = detail
            self.skip_many(elem, str(n), n)
        else:  # sequence
            n = self.u32()
            self.skip_many(detail, n, None)

    def skip_many(self, elem, count: str, static_count):
        kind, detail = _kind(elem)
        if kind == 'prim':
            size = struct.calcsize(detail)
            if static_count is not None:
                self.align(size)
                self.c += static_count * size
            elif size > 4:
                # A sequence's count leaves the position 4-aligned; writers (Fast CDR,
                # Cyclone) pad to an 8-byte element only when there is one: an empty
                # sequence<double> has no padding after its count.
                self.flush()
                self.emit(f'if {count}:')
                self.emit(f'    p = (p + {size - 1}) & {-size}')
                self.emit(f'p += {count} * {size}')
                self.k = 4
            else:
                self.align(size)
                self.flush()
                self.emit(f'p += {count} * {size}')
                self.k = size
            return
        if static_count is not None and static_count <= UNROLL_MAX:
            for _ in range(static_count):
                self.skip(elem)
            return
        self.loop(count, lambda: self.skip(elem))

    def loop(self, count: str, body):
        # Each pass starts with the same symbolic state: nothing known of p's alignment.
        self.flush()
        self.k = 1
        i = self.var('i')
        self.emit(f'for {i} in range({count}):')
        self.indent += 1
        body()
        self.flush()
        self.k = 1
        self.emit('pass')
        self.indent -= 1

    def skip_fields(self, type_name):
        fields = self.fields(type_name)
        if not fields:
            self.skip('uint8')  # a structure has at least one member
            return
        for t in fields.values():
            self.skip(t)

    # ---- reading ----------------------------------------------------------------------

    def read_msg(self, type_name, tree, path, tail):
        """
        Walk a message, reading the leaves of ``tree`` (field -> subtree) in field order.

        ``tail``: nothing is read after this message, so the walk stops at its last wanted
        field; otherwise it goes to the message's end, where its parent goes on.
        """
        fields = self.fields(type_name)
        wanted = set(tree)
        for name in wanted:
            if name not in fields:
                raise CdrUnsupported(f'{type_name} has no field {name!r}')
        for name, t in fields.items():
            if tail and not wanted:
                return
            if name in wanted:
                wanted.discard(name)
                self.read(t, tree[name], f'{path}{name}', tail and not wanted)
            else:
                self.skip(t)

    def read(self, t, sub, path, tail):
        kind, detail = _kind(t)
        if kind == 'prim':
            if sub is not None:
                raise CdrUnsupported(f'{path} is a number: nothing below it')
            if t == 'char':  # a 1-character str in rclpy, not a number (fields._to_float)
                raise CdrUnsupported(f'{path} is a char, not a number')
            size = struct.calcsize(detail)
            self.align(size)
            self.emit(f'out[{self.out(path)}] = float({_NAMES[detail]}(b, {self.at()})[0])')
            self.c += size
        elif kind == 'msg':
            if not isinstance(sub, dict) or any(isinstance(k, int) for k in sub):
                raise CdrUnsupported(f'{path} is a message: name a field of it')
            self.read_msg(detail, sub, f'{path}.', tail)
        elif kind in ('array', 'seq'):
            if not isinstance(sub, dict) or not all(isinstance(k, int) for k in sub):
                raise CdrUnsupported(f'{path} is an array: index it')
            self.read_indexed(kind, detail, sub, path, tail)
        else:
            raise CdrUnsupported(f'{path} is a string, not a number')

    def read_indexed(self, kind, detail, sub, path, tail):
        if kind == 'array':
            elem, static_n = detail
            count = str(static_n)
        else:
            elem, static_n = detail, None
            count = self.u32()
        ekind, edetail = _kind(elem)
        if ekind == 'prim':
            size = struct.calcsize(edetail)
            self.align(size)
            for idx, s in sub.items():
                if s is not None:
                    raise CdrUnsupported(f'{path}[{idx}] is a number: nothing below it')
                j = self.index(idx, count, static_n, path)
                self.emit(f'out[{self.out(f"{path}[{idx}]")}] = float({_NAMES[edetail]}('
                          f'b, {self.at(f" + {size} * {j}")})[0])')
            if not tail:
                self.skip_many(elem, count, static_n)
            return
        # Composite elements: step through them in order, descending into the wanted ones.
        if any(idx < 0 for idx in sub):
            raise CdrUnsupported(f'{path}: negative index into composite elements')
        done = 0
        last = max(sub)
        for idx in sorted(sub):
            self.index(idx, count, static_n, path)
            self.skip_many(elem, str(idx - done), idx - done)
            self.read(elem, sub[idx], f'{path}[{idx}]', tail and idx == last)
            done = idx + 1
        # The rest of the array, only if more fields follow.
        if tail:
            return
        if static_n is not None:
            self.skip_many(elem, str(static_n - done), static_n - done)
        else:
            self.skip_many(elem, f'({count} - {done})', None)

    def index(self, idx, count, static_n, path) -> str:
        """Check ``idx`` against the element count; return it as an expression (>= 0)."""
        if static_n is not None:
            j = idx + static_n if idx < 0 else idx
            if not 0 <= j < static_n:
                raise CdrUnsupported(f'index [{idx}] of {path} is out of range (length '
                                     f'{static_n})')
            return str(j)
        j = self.var('j')
        self.emit(f'{j} = {idx} + {count}' if idx < 0 else f'{j} = {idx}')
        self.emit(f'if not 0 <= {j} < {count}:')
        self.emit(f'    _missing({path!r}, {idx}, {count})')
        return j

    def out(self, path):
        self.slots.append(path)
        return len(self.slots) - 1


def _missing(path, idx, count):
    raise FieldError(f'index [{idx}] of field {path!r} is out of range (the message has '
                     f'{count} elements)')


def _tree(paths):
    """Merge parsed field paths into one nested dict; leaves are None."""
    root: dict = {}
    for steps in paths:
        node = root
        for s in steps[:-1]:
            node = node.setdefault(s, {})
            if node is None:
                raise CdrUnsupported('a path continues below a number')
        if steps[-1] in node and node[steps[-1]] is not None:
            raise CdrUnsupported('a path ends at a message or array')
        node[steps[-1]] = None
    return root


def compile_cdr_reader(fields_of, type_name: str, paths, whole: bool = False):
    """
    Return ``read(buffer) -> tuple of floats | None`` for ``paths`` of ``type_name``.

    :param fields_of: ``type name -> {field: IDL type}`` (e.g. :func:`ros_fields_of`).
    :param paths: field paths (str, see :mod:`infonet_ros.streams.fields`); the values come back in
        this order. Paths may repeat.
    :param whole: walk to the end of the message and return None unless the buffer ends
        there (up to 3 bytes of padding), the size check a full decoder makes; for stored
        messages (bags), where a damaged record must not pass for a good one. Without it the
        walk stops at the last wanted field (live messages from the middleware).
    :return: the reader; it returns None for a buffer that is not little-endian plain CDR
        (decode that message instead), raises FieldError for an index beyond a sequence's end
        and ``struct.error`` for a truncated buffer.
    :raises CdrUnsupported: a type or path this reader does not walk.
    """
    parsed = [parse_field_path(p) if isinstance(p, str) else tuple(p) for p in paths]
    gen = _Gen(fields_of)
    gen.emit('if b[0] != 0 or b[1] != 1:')
    gen.emit('    return None')
    gen.emit('p = 0')
    gen.emit('out = [0.0] * {n_out}')
    try:
        gen.read_msg(type_name, _tree(parsed), '', tail=not whole)
    except RecursionError:
        raise CdrUnsupported(f'{type_name}: nesting too deep') from None
    if whole:
        gen.emit(f'if not 0 <= len(b) - ({gen.at()}) <= 3:')
        gen.emit('    return None')
    # Paths are unique in the tree but may repeat in the request: map each to its slot.
    slot_of = {}
    for i, s in enumerate(gen.slots):
        slot_of[tuple(parse_field_path(s))] = i
    order = [slot_of[p] for p in parsed]
    gen.emit(f'return ({", ".join(f"out[{i}]" for i in order)},)')
    body = '\n'.join(gen.lines).replace('{n_out}', str(len(gen.slots)))
    source = f'def read(b):\n{body}\n'
    namespace = {'_U32': struct.Struct('<I').unpack_from, '_missing': _missing}
    namespace.update({name: struct.Struct('<' + code).unpack_from
                      for code, name in _NAMES.items()})
    exec(compile(source, f'<cdr reader {type_name}>', 'exec'), namespace)  # noqa: S102
    read = namespace['read']
    read.source = source
    return read
