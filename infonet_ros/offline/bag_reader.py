# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Read rosbag2 bags (sqlite3 or mcap) without ROS, through the pure-Python ``rosbags``.

    >>> with BagSource('my_bag', msg_dirs=['src/my_pkg']) as bag:
    ...     for topic, recv_ns, msg in bag.messages(['/imu/data']):
    ...         ...

``path`` is a bag directory (with ``metadata.yaml``) or a single ``.mcap`` / ``.db3`` file
(e.g. of a recording that crashed before writing its metadata).

Message definitions. Only the types of the requested topics and the types they use are
resolved, each from the first source that defines it:

1. the bag itself (rosbag2 stores the definitions in newer bags: mcap schemas, and the
   ``message_definitions`` table of sqlite3 bags since Iron);
2. ``.msg`` (or ``.idl``) files given explicitly (``msg_files``; type ``pkg/msg/Name`` from
   a path ``.../pkg/msg/Name.msg``, or ``pkg/msg/Name=path``);
3. ``.msg`` files under ``msg_dirs`` (any ``<pkg>/msg/<Name>.msg``, else ``.idl``, below each
   directory);
4. the standard types that ``rosbags`` ships (std, geometry, sensor msgs, ...) of the
   distribution that recorded the bag (:func:`builtin_store`: its ``ros_distro``, else Iron
   when the bag records type hashes, else Humble);
5. ``share/<pkg>/msg/<Name>.msg`` (else ``.idl``) under each prefix of ``AMENT_PREFIX_PATH``
   (a sourced workspace), for types still unknown.

When the bag records a type hash (RIHS01, Iron and later) and the definition came from
elsewhere, a hash mismatch is reported as a warning (the values may be misread).

Errors are :class:`BagError` with a message naming the bag, topic, or type: missing or
unreadable bag, corrupt or truncated storage (including fewer messages than the metadata
announces), unknown topic, type with no definition, undecodable message.
"""

from __future__ import annotations

from collections import deque
import os
from pathlib import Path

MSG_SUFFIX = '.msg'
# Definition files, in the order of preference when a type has both (rosidl installs an .idl
# generated from every .msg; packages of .idl-only types have just the .idl).
DEFINITION_SUFFIXES = (MSG_SUFFIX, '.idl')


class BagError(RuntimeError):
    """A bag that cannot be read as asked; the message says what and where."""


def _rosbags():
    # Imported on use: the rest of the toolbox works without rosbags installed.
    from rosbags import rosbag2, typesys
    return rosbag2, typesys


def msg_type_from_path(path: Path) -> str:
    """``.../pkg/msg/Name.msg`` (or ``.idl``) -> ``pkg/msg/Name``; ValueError otherwise."""
    path = Path(path)
    if (path.suffix not in DEFINITION_SUFFIXES or path.parent.name != 'msg'
            or not path.parent.parent.name):
        raise ValueError(f'cannot tell the type name of {path}: expected .../<pkg>/msg/'
                         '<Name>.msg (or .idl), or give it as pkg/msg/Name=PATH')
    return f'{path.parent.parent.name}/msg/{path.stem}'


def index_msg_dir(root) -> dict[str, Path]:
    """Every ``<pkg>/msg/<Name>.msg`` (else ``.idl``) below ``root`` -> {'pkg/msg/Name': path}."""
    root = Path(root)
    if not root.is_dir():
        raise BagError(f'message directory {root} does not exist')
    found: dict[str, Path] = {}
    for suffix in DEFINITION_SUFFIXES:
        for p in sorted(root.rglob('*' + suffix)):
            if p.parent.name == 'msg' and p.parent.parent != p.parent:
                found.setdefault(msg_type_from_path(p), p)
    return found


def index_ament_prefixes(prefixes: str | None = None) -> dict[str, Path]:
    """``share/<pkg>/msg/<Name>.msg`` under each prefix of AMENT_PREFIX_PATH (first wins)."""
    prefixes = os.environ.get('AMENT_PREFIX_PATH', '') if prefixes is None else prefixes
    found: dict[str, Path] = {}
    for prefix in prefixes.split(os.pathsep):
        if not prefix:
            continue
        for suffix in DEFINITION_SUFFIXES:
            for p in sorted(Path(prefix).glob('share/*/msg/*' + suffix)):
                found.setdefault(msg_type_from_path(p), p)
    return found


def parse_msg_file_arg(arg: str) -> tuple[str, Path]:
    """``PATH`` or ``pkg/msg/Name=PATH`` -> (type name, path)."""
    if '=' in arg:
        name, path = arg.split('=', 1)
        if name.count('/') == 1:  # pkg/Name
            name = name.replace('/', '/msg/')
        return name, Path(path)
    path = Path(arg)
    return msg_type_from_path(path), path


def referenced_types(fields) -> list[str]:
    """Names of the message types used by a rosbags field list."""
    _, typesys = _rosbags()
    nodetype = typesys.base.Nodetype
    out = []
    for _, (kind, detail) in fields:
        if kind in (nodetype.ARRAY, nodetype.SEQUENCE):
            kind, detail = detail[0]
        if kind == nodetype.NAME:
            out.append(detail)
    return out


class _DefinitionSources:
    """Lazily parsed type definitions, in priority order (see module docstring)."""

    def __init__(self, bag_defs: dict, msg_files: dict[str, Path], msg_dirs, ament: bool,
                 builtin: str = 'ROS2_KILTED'):
        _, typesys = _rosbags()
        self.typesys = typesys
        self.bag = bag_defs
        self.files = msg_files
        self.dirs: dict[str, Path] = {}
        for d in msg_dirs:
            for name, p in index_msg_dir(d).items():
                self.dirs.setdefault(name, p)
        self.builtin_name = builtin
        self.builtin = typesys.get_typestore(typesys.Stores[builtin]).fielddefs
        self._ament_enabled = ament
        self._ament: dict[str, Path] | None = None

    def ament(self) -> dict[str, Path]:
        if self._ament is None:
            self._ament = index_ament_prefixes() if self._ament_enabled else {}
        return self._ament

    def lookup(self, name: str):
        """(source label, definition) of ``name`` or None."""
        if name in self.bag:
            return 'bag', self.bag[name]
        for label, table in (('msg file', self.files), ('msg dir', self.dirs)):
            if name in table:
                return f'{label} {table[name]}', self._parse(name, table[name])
        if name in self.builtin:
            return f'rosbags {self.builtin_name}', self.builtin[name]
        if name in self.ament():
            path = self.ament()[name]
            return f'AMENT_PREFIX_PATH {path}', self._parse(name, path)
        return None

    def _parse(self, name: str, path: Path):
        try:
            text = Path(path).read_text(encoding='utf-8')
            if Path(path).suffix == '.idl':
                return self.typesys.get_types_from_idl(_without_directives(text))[name]
            return self.typesys.get_types_from_msg(text, name)[name]
        except OSError as exc:
            raise BagError(f'cannot read definition of {name} from {path}: {exc}') from None
        except Exception as exc:  # the rosbags parser raises several kinds
            raise BagError(f'cannot parse {path} as {name}: {exc}') from None


def builtin_store(ros_distro: str | None, connections) -> str:
    """
    Name of rosbags' built-in type store for a bag without stored definitions.

    Standard types changed between distributions (sensor_msgs/Range gained ``variance``
    after Humble), so a message must be decoded with the definitions of the distribution that
    recorded it: the bag's ``ros_distro`` (metadata version 8 on); without it, type hashes
    (RIHS01, recorded from Iron on) mean Iron or later, and their absence Humble or older.
    """
    _, typesys = _rosbags()
    name = f'ROS2_{(ros_distro or "").upper()}'
    if ros_distro and name in typesys.Stores.__members__:
        return name
    if any((c.digest or '').startswith('RIHS01_') for c in connections):
        return 'ROS2_KILTED' if ros_distro else 'ROS2_IRON'
    return 'ROS2_HUMBLE'


def _without_directives(idl: str) -> str:
    # rosbags 0.11 refuses the ``#include`` lines of the IDL text rosbag2 stores; the
    # included types are stored beside it anyway.
    return '\n'.join(line for line in idl.splitlines() if not line.lstrip().startswith('#'))


def definitions_from_bag(connections) -> dict:
    """Type definitions stored in a bag's connections (msg or idl text), by type name."""
    _, typesys = _rosbags()
    from rosbags.interfaces import MessageDefinitionFormat as Fmt
    typs: dict = {}
    for conn in connections:
        fmt, data = conn.msgdef.format, conn.msgdef.data
        if fmt == Fmt.NONE or not data:
            continue
        try:
            if fmt == Fmt.MSG:
                typs.update(typesys.get_types_from_msg(data, conn.msgtype))
            else:
                sep = '=' * 80 + '\n'
                parts = data.split(sep)[1:] if data.startswith(sep + 'IDL: ') else [data]
                for part in parts:
                    idl = part.split('\n', 1)[1] if part.startswith('IDL: ') else part
                    typs.update(typesys.get_types_from_idl(_without_directives(idl)))
        except Exception as exc:  # a stored definition rosbags cannot parse: fall back
            typs.pop(conn.msgtype, None)
            typs.setdefault('__unparsed__', {})[conn.msgtype] = str(exc).strip()
    return typs


def rosbags_fields_of(store):
    """
    ``type name -> {field: IDL type}`` for the types of a rosbags typestore.

    The field tables of :mod:`infonet_ros.streams.cdr_reader` (as rclpy's
    ``get_fields_and_field_types`` gives them), so that a bag's serialized messages can be
    read without decoding them.
    """
    from infonet_ros.streams.cdr_reader import CdrUnsupported
    _, typesys = _rosbags()
    nodetype = typesys.base.Nodetype

    def idl(desc) -> str:
        kind, detail = desc
        if kind == nodetype.BASE:
            name, bound = detail if isinstance(detail, tuple) else (detail, 0)
            # rosbags decodes 'byte' as a signed int8 (rclpy: an unsigned octet): read it as
            # rosbags does, so that both ways of reading a bag give the same numbers.
            name = {'bool': 'boolean', 'byte': 'int8'}.get(name, name)
            return f'{name}<{bound}>' if bound and name == 'string' else name
        if kind == nodetype.NAME:
            return detail
        sub, size = detail
        if kind == nodetype.ARRAY:
            return f'{idl(sub)}[{size}]'
        return f'sequence<{idl(sub)}, {size}>' if size else f'sequence<{idl(sub)}>'

    def fields_of(type_name: str) -> dict:
        if type_name not in store.fielddefs:
            raise CdrUnsupported(f'type {type_name} is not in the typestore')
        return {name: idl(desc) for name, desc in store.fielddefs[type_name][1]}

    return fields_of


class BagSource:
    """
    An open rosbag2 bag with a typestore for the topics to be read.

    :param path: bag directory, or one ``.mcap`` / ``.db3`` file.
    :param msg_files: ``.msg`` files (``PATH`` or ``pkg/msg/Name=PATH``) to register.
    :param msg_dirs: directories searched for ``<pkg>/msg/<Name>.msg``.
    :param use_ament: also search ``AMENT_PREFIX_PATH`` for unknown types.
    """

    def __init__(self, path, msg_files=(), msg_dirs=(), use_ament: bool = True):
        self.path = Path(path)
        self.msg_files = dict(parse_msg_file_arg(str(a)) for a in msg_files)
        for name, p in self.msg_files.items():
            if not p.is_file():
                raise BagError(f'message file {p} (for {name}) does not exist')
        self.msg_dirs = [Path(d) for d in msg_dirs]
        self.use_ament = use_ament
        self.reader = None
        self.typestore = None
        self.type_sources: dict[str, str] = {}
        self.warnings: list[str] = []

    # ---- opening -----------------------------------------------------------------------

    def __enter__(self) -> 'BagSource':
        """Open the bag; BagError if it is missing, not a bag, or its storage is corrupt."""
        self._open()
        return self

    def __exit__(self, *exc) -> bool:
        """Close the bag."""
        self.close()
        return False

    def _open(self) -> None:
        rosbag2, _ = _rosbags()
        if not self.path.exists():
            raise BagError(f'bag {self.path} does not exist')
        try:
            reader = rosbag2.Reader(self.path)
            reader.open()
        except Exception as exc:  # rosbags, sqlite3/apsw and mcap parsing raise many kinds
            hint = self._open_hint(exc)
            raise BagError(f'cannot open bag {self.path}: {exc or type(exc).__name__}'
                           f'{hint}') from None
        self.reader = reader

    def _files(self) -> list[Path]:
        """Return the bag's files: the one file given, or all files in the bag directory."""
        return [self.path] if self.path.is_file() else sorted(self.path.glob('*'))

    def _open_hint(self, exc: Exception) -> str:
        """Tell what to do about a bag that rosbags could not open ('' if nothing to add)."""
        hint = ''
        files = self._files()
        if self.path.is_dir() and not (self.path / 'metadata.yaml').exists():
            storage = [p for p in files if p.suffix in ('.mcap', '.db3')]
            hint = (f' (no metadata.yaml: pass the storage file itself, e.g. {storage[0]})'
                    if storage else ' (no metadata.yaml)')
            if len(storage) > 1:
                hint += (f'; this bag is split into {len(storage)} files, and one file holds '
                         'only its part: `ros2 bag reindex` rebuilds metadata.yaml for the '
                         'whole bag')
        if isinstance(exc, KeyError):
            # rosbag2 (Iron on) stores a definition it could not find with an empty
            # encoding; rosbags refuses the whole sqlite3 bag for it.
            hint += (f' (a message definition stored with the unknown encoding {exc}; '
                     'rosbag2 writes an empty one for a type it had no definition of. '
                     'Drop those rows from a copy of the bag, e.g. sqlite3 BAG.db3 '
                     '"DELETE FROM message_definitions WHERE encoding = \'\'", and pass '
                     'the types with --msg or --msg-dir)')
        if 'magic' in str(exc).lower():
            # An mcap file without its footer: the recorder was killed, or a copy broke.
            hint += (' (the file is truncated or not mcap; an interrupted recording can be '
                     'repaired with `mcap recover`)')
        if any(p.suffix == '.zstd' for p in files):
            hint += (' (zstd-compressed storage: open the bag directory with its '
                     'metadata.yaml, or decompress the file with `zstd -d`)')
        return hint

    def close(self) -> None:
        """Close the bag (idempotent)."""
        if self.reader is not None:
            try:
                self.reader.close()
            finally:
                self.reader = None

    # ---- bag contents ------------------------------------------------------------------

    def _check(self):
        if self.reader is None:
            raise BagError('bag is not open')
        return self.reader

    @property
    def storage(self) -> str:
        """'mcap' or 'sqlite3'."""
        files = getattr(self._check().storage, 'metadata', None)
        ident = getattr(files, 'storage_identifier', '') if files else ''
        if ident:
            return ident
        # A compressed file is named like 'bag_0.mcap.zstd'.
        return 'mcap' if any('.mcap' in p.name for p in self._files()) else 'sqlite3'

    def topics(self) -> dict[str, tuple[str, int]]:
        """{topic: (message type, message count from the bag's index)}."""
        return {name: (info.msgtype, info.msgcount)
                for name, info in self._check().topics.items()}

    def time_range_ns(self) -> tuple[int, int]:
        """(first, last) receive time [ns] of the bag."""
        r = self._check()
        return r.start_time, r.end_time

    def has_stored_definition(self, topic: str) -> bool:
        """Tell whether the bag stores the message definition of ``topic``'s type."""
        from rosbags.interfaces import MessageDefinitionFormat as Fmt
        return any(c.topic == topic and c.msgdef.format != Fmt.NONE and c.msgdef.data
                   for c in self._check().connections)

    def _connections(self, topics):
        reader = self._check()
        known = self.topics()
        missing = [t for t in topics if t not in known]
        if missing:
            listing = ', '.join(f'{t} [{ty}]' for t, (ty, _) in sorted(known.items()))
            raise BagError(f'topic(s) {missing} not in bag {self.path}; it has: '
                           f'{listing or "no topics"}')
        return [c for c in reader.connections if c.topic in set(topics)]

    # ---- types -------------------------------------------------------------------------

    def build_typestore(self, topics):
        """
        Typestore holding the types of ``topics`` and everything they use.

        Raises BagError naming each type without a definition and what needs it.
        """
        _, typesys = _rosbags()
        conns = self._connections(topics)
        bag_defs = definitions_from_bag(conns)
        unparsed = bag_defs.pop('__unparsed__', {})
        for name, problem in unparsed.items():
            self.warnings.append(f'stored definition not parsable, using other sources: '
                                 f'{name}: {problem}')
        reader = self._check()
        store = builtin_store(getattr(reader, 'ros_distro', None), reader.connections)
        sources = _DefinitionSources(bag_defs, self.msg_files, self.msg_dirs, self.use_ament,
                                     store)
        resolved: dict = {}
        missing: dict[str, str] = {}
        queue = deque((c.msgtype, f'topic {c.topic}') for c in conns)
        while queue:
            name, needed_by = queue.popleft()
            if name in resolved or name in missing:
                continue
            found = sources.lookup(name)
            if found is None:
                missing[name] = needed_by
                continue
            self.type_sources[name], resolved[name] = found
            queue.extend((dep, name) for dep in referenced_types(found[1][1]))
        if missing:
            lines = '; '.join(f'{n} (used by {b})' for n, b in missing.items())
            stored = '; '.join(f'{n}: {unparsed[n][:300]}' for n in missing if n in unparsed)
            why = (f'The bag stores it, but rosbags cannot parse that ({stored})' if stored
                   else 'The bag does not store it')
            raise BagError(f'no message definition for {lines}. {why}: pass its .msg file '
                           'with --msg PATH, its package with --msg-dir DIR, or source the '
                           'workspace that defines it (AMENT_PREFIX_PATH)')
        store = typesys.get_typestore(typesys.Stores.EMPTY)
        try:
            store.register(resolved)
        except Exception as exc:
            raise BagError(f'cannot register message types {sorted(resolved)}: {exc}') from None
        for c in conns:
            src = self.type_sources.get(c.msgtype, '')
            if c.digest and c.digest.startswith('RIHS01_') and src != 'bag':
                try:
                    have = store.hash_rihs01(c.msgtype)
                except Exception as exc:  # a definition rosbags parsed but cannot hash
                    self.warnings.append(f'{c.msgtype} on {c.topic}: type hash not computable '
                                         f'({exc}); values may be misread')
                    continue
                if have != c.digest:
                    self.warnings.append(
                        f'{c.msgtype} on {c.topic}: definition from {src} differs from the '
                        f"recorder's (type hash {have} != {c.digest}); values may be misread")
        self.typestore = store
        return store

    # ---- messages ----------------------------------------------------------------------

    def messages(self, topics):
        """
        Yield (topic, receive time [ns], message) of ``topics`` in storage order.

        Raises BagError when the storage is corrupt or truncated (including ending before
        the message counts the metadata announces) or a message cannot be decoded.
        """
        for topic, msgtype, stamp, raw, index in self.raw_messages(topics):
            yield topic, stamp, self.decode(raw, msgtype, topic, index)

    def decode(self, raw, msgtype: str, topic: str = '?', index: int = -1):
        """Decode one serialized message (BagError naming the topic and type if it fails)."""
        if self.typestore is None:
            raise BagError('no typestore: call build_typestore (or messages) first')
        try:
            return self.typestore.deserialize_cdr(raw, msgtype)
        except Exception as exc:
            raise BagError(f'cannot decode message {index} of {topic} [{msgtype}] (definition '
                           f'from {self.type_sources.get(msgtype, "?")}): {exc}') from None

    def raw_messages(self, topics):
        """
        Yield (topic, type, receive time [ns], serialized message, index on its topic).

        The messages are not decoded (see :meth:`decode`, and
        :func:`rosbags_fields_of` for reading fields from the bytes); the storage checks
        are those of :meth:`messages`.
        """
        conns = self._connections(topics)
        if self.typestore is None:
            self.build_typestore(topics)
        expected = {c.topic: 0 for c in conns}
        for c in conns:
            expected[c.topic] += c.msgcount
        seen = dict.fromkeys(expected, 0)
        try:
            for conn, stamp, raw in self._check().messages(connections=conns):
                index = seen[conn.topic]
                seen[conn.topic] = index + 1
                yield conn.topic, conn.msgtype, stamp, raw, index
        except Exception as exc:  # rosbags, sqlite3/apsw and mcap parsing raise many kinds
            raise BagError(f'bag {self.path} is corrupt or truncated: reading failed after '
                           f'{sum(seen.values())} messages ({exc or type(exc).__name__})'
                           ) from None
        short = {t: (seen[t], n) for t, n in expected.items() if n and seen[t] < n}
        if short:
            detail = ', '.join(f'{t}: {a} of {n}' for t, (a, n) in short.items())
            hint = ''
            if not sum(seen.values()):
                # rosbags pairs metadata.yaml's topics with the storage's by name, type and
                # QoS: an edited or foreign metadata.yaml yields no messages at all.
                hint = ('; none at all: if the storage does hold messages, metadata.yaml may '
                        'not match it (topic, type or QoS): pass the storage file itself')
            raise BagError(f'bag {self.path} is truncated: read fewer messages than its '
                           f'metadata announces ({detail}){hint}')

    def message_count(self, topics) -> int:
        """Messages of ``topics`` according to the bag's index (for progress bars)."""
        return sum(c.msgcount for c in self._connections(topics))
