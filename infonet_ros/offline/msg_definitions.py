# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Message definitions of a bag's types: where each comes from, and the typestore they make.

Only the types of the requested topics and the types they use are resolved, each from the
first source that defines it:

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
elsewhere, a hash mismatch is reported as a warning (the values may be misread):
:func:`type_hash_warnings`. :func:`rosbags_fields_of` gives the field tables with which
:mod:`infonet_ros.streams.cdr_reader` reads fields from the serialized messages.
"""

from __future__ import annotations

from collections import deque
import os
from pathlib import Path

MSG_SUFFIX = '.msg'
# Definition files, in the order of preference when a type has both (rosidl installs an .idl
# generated from every .msg; packages of .idl-only types have just the .idl).
DEFINITION_SUFFIXES = (MSG_SUFFIX, '.idl')


class DefinitionError(ValueError):
    """A message definition that cannot be found, read or parsed; the message says which."""


def _typesys():
    # Imported on use: the rest of the toolbox works without rosbags installed.
    from rosbags import typesys
    return typesys


def msg_type_from_path(path: Path) -> str:
    """``.../pkg/msg/Name.msg`` (or ``.idl``) -> ``pkg/msg/Name``; DefinitionError otherwise."""
    path = Path(path)
    if (path.suffix not in DEFINITION_SUFFIXES or path.parent.name != 'msg'
            or not path.parent.parent.name):
        raise DefinitionError(f'cannot tell the type name of {path}: expected .../<pkg>/msg/'
                              '<Name>.msg (or .idl), or give it as pkg/msg/Name=PATH')
    return f'{path.parent.parent.name}/msg/{path.stem}'


def index_msg_dir(root) -> dict[str, Path]:
    """Every ``<pkg>/msg/<Name>.msg`` (else ``.idl``) below ``root`` -> {'pkg/msg/Name': path}."""
    root = Path(root)
    if not root.is_dir():
        raise DefinitionError(f'message directory {root} does not exist')
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
    typesys = _typesys()
    nodetype = typesys.base.Nodetype
    out = []
    for _, (kind, detail) in fields:
        if kind in (nodetype.ARRAY, nodetype.SEQUENCE):
            kind, detail = detail[0]
        if kind == nodetype.NAME:
            out.append(detail)
    return out


class DefinitionSources:
    """
    Type definitions from every source, in the order of the module docstring, parsed on lookup.

    :param bag_defs: definitions stored in the bag (:func:`definitions_from_bag`).
    :param msg_files: {type name: .msg or .idl file} given explicitly.
    :param msg_dirs: directories searched for ``<pkg>/msg/<Name>.msg`` (or ``.idl``).
    :param ament: also search the prefixes of ``AMENT_PREFIX_PATH``.
    :param builtin: rosbags' built-in type store (:func:`builtin_store`).
    """

    def __init__(self, bag_defs: dict, msg_files: dict[str, Path], msg_dirs, ament: bool,
                 builtin: str = 'ROS2_KILTED'):
        typesys = _typesys()
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
        """Definitions under AMENT_PREFIX_PATH (indexed on first use: it can be large)."""
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
            raise DefinitionError(f'cannot read definition of {name} from {path}: {exc}') from None
        except Exception as exc:  # the rosbags parser raises several kinds
            raise DefinitionError(f'cannot parse {path} as {name}: {exc}') from None


def builtin_store(ros_distro: str | None, connections) -> str:
    """
    Name of rosbags' built-in type store for a bag without stored definitions.

    Standard types changed between distributions (sensor_msgs/Range gained ``variance``
    after Humble), so a message must be decoded with the definitions of the distribution that
    recorded it: the bag's ``ros_distro`` (metadata version 8 on); without it, type hashes
    (RIHS01, recorded from Iron on) mean Iron or later, and their absence Humble or older.
    """
    typesys = _typesys()
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
    typesys = _typesys()
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
    typesys = _typesys()
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


def resolve_typestore(sources: DefinitionSources, roots, unparsed=None):
    """
    Typestore of the ``roots`` types and every type they use, and where each came from.

    :param sources: the definition sources.
    :param roots: list of (type name, what needs it, e.g. 'topic /imu').
    :param unparsed: {type name: parser error} of definitions the bag stores but rosbags
        could not parse (named in the error when such a type has no other source).

    :return: (typestore, {type name: source label}).
    :raises DefinitionError: naming each type without a definition and what needs it.
    """
    typesys = _typesys()
    unparsed = unparsed or {}
    resolved: dict = {}
    source_of: dict[str, str] = {}
    missing: dict[str, str] = {}
    queue = deque(roots)
    while queue:
        name, needed_by = queue.popleft()
        if name in resolved or name in missing:
            continue
        found = sources.lookup(name)
        if found is None:
            missing[name] = needed_by
            continue
        source_of[name], resolved[name] = found
        queue.extend((dep, name) for dep in referenced_types(found[1][1]))
    if missing:
        lines = '; '.join(f'{n} (used by {b})' for n, b in missing.items())
        stored = '; '.join(f'{n}: {unparsed[n][:300]}' for n in missing if n in unparsed)
        why = (f'The bag stores it, but rosbags cannot parse that ({stored})' if stored
               else 'The bag does not store it')
        raise DefinitionError(f'no message definition for {lines}. {why}: pass its .msg file '
                              'with --msg PATH, its package with --msg-dir DIR, or source the '
                              'workspace that defines it (AMENT_PREFIX_PATH)')
    store = typesys.get_typestore(typesys.Stores.EMPTY)
    try:
        store.register(resolved)
    except Exception as exc:  # the rosbags type system raises several kinds
        raise DefinitionError(f'cannot register message types {sorted(resolved)}: '
                              f'{exc}') from None
    return store, source_of


def type_hash_warnings(store, connections, source_of: dict) -> list[str]:
    """
    Warnings for connections whose recorded type hash differs from the definition used.

    Only definitions from elsewhere than the bag are checked (the bag's own are the recorder's).
    """
    warnings = []
    for c in connections:
        src = source_of.get(c.msgtype, '')
        if not (c.digest and c.digest.startswith('RIHS01_') and src != 'bag'):
            continue
        try:
            have = store.hash_rihs01(c.msgtype)
        except Exception as exc:  # a definition rosbags parsed but cannot hash
            warnings.append(f'{c.msgtype} on {c.topic}: type hash not computable ({exc}); '
                            'values may be misread')
            continue
        if have != c.digest:
            warnings.append(f'{c.msgtype} on {c.topic}: definition from {src} differs from the '
                            f"recorder's (type hash {have} != {c.digest}); values may be misread")
    return warnings
