# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Read rosbag2 bags (sqlite3 or mcap) without ROS, through the pure-Python ``rosbags``.

    >>> with BagSource('my_bag', msg_dirs=['src/my_pkg']) as bag:
    ...     for topic, recv_ns, msg in bag.messages(['/imu/data']):
    ...         ...

``path`` is a bag directory (with ``metadata.yaml``) or a single ``.mcap`` / ``.db3`` file
(e.g. of a recording that crashed before writing its metadata).

Message definitions are resolved from the bag, given files and directories, rosbags' standard
types and the sourced workspace, in that order (:mod:`infonet_ros.offline.msg_definitions`).

Errors are :class:`BagError` with a message naming the bag, topic, or type: missing or
unreadable bag, corrupt or truncated storage (including fewer messages than the metadata
announces), unknown topic, type with no definition, undecodable message.
"""

from __future__ import annotations

from pathlib import Path

from infonet_ros.offline.msg_definitions import (builtin_store, DefinitionError,
                                                 definitions_from_bag, DefinitionSources,
                                                 parse_msg_file_arg, resolve_typestore,
                                                 type_hash_warnings)


class BagError(RuntimeError):
    """A bag that cannot be read as asked; the message says what and where."""


def _rosbag2():
    # Imported on use: the rest of the toolbox works without rosbags installed.
    from rosbags import rosbag2
    return rosbag2


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
        try:
            self.msg_files = dict(parse_msg_file_arg(str(a)) for a in msg_files)
        except DefinitionError as exc:
            raise BagError(str(exc)) from None
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
        rosbag2 = _rosbag2()
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
        conns = self._connections(topics)
        bag_defs = definitions_from_bag(conns)
        unparsed = bag_defs.pop('__unparsed__', {})
        for name, problem in unparsed.items():
            self.warnings.append(f'stored definition not parsable, using other sources: '
                                 f'{name}: {problem}')
        reader = self._check()
        builtin = builtin_store(getattr(reader, 'ros_distro', None), reader.connections)
        try:
            sources = DefinitionSources(bag_defs, self.msg_files, self.msg_dirs,
                                        self.use_ament, builtin)
            store, source_of = resolve_typestore(
                sources, [(c.msgtype, f'topic {c.topic}') for c in conns], unparsed)
        except DefinitionError as exc:
            raise BagError(str(exc)) from None
        self.type_sources.update(source_of)
        self.warnings.extend(type_hash_warnings(store, conns, self.type_sources))
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
        :func:`~infonet_ros.offline.msg_definitions.rosbags_fields_of` for reading fields from
        the bytes); the storage checks are those of :meth:`messages`.
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
