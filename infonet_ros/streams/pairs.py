# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Pairs of signals to watch, written as strings that ROS parameters can hold.

ROS parameters cannot hold lists of dicts, so a configuration is three string arrays::

    topics:     ['/imu/data=sensor_msgs/msg/Imu', '/joints=sensor_msgs/msg/JointState']
    pairs:      ['/imu/data:linear_acceleration.x ~ /joints:position[3]',
                 '/imu/data:angular_velocity.x,angular_velocity.y ~ /joints:velocity[0]']
    pair_names: ['acc_x_vs_knee', 'gyro_xy_vs_hip']          # optional

A side is ``topic:field`` or ``topic:f1,f2,...`` (several fields of one topic: a vector-valued
side, estimated as sliced MI). Field paths follow :mod:`infonet_ros.streams.fields`. Both sides may
name the same topic (fields of one message need no synchronization).
"""

from __future__ import annotations

from dataclasses import dataclass
import re

from infonet_ros.streams.fields import FieldError, parse_field_path

_TOPIC = re.compile(r'~?/?[A-Za-z_{][A-Za-z0-9_{}/~]*')
_TYPE = re.compile(r'([A-Za-z][A-Za-z0-9_]*)/(?:(msg)/)?([A-Za-z][A-Za-z0-9_]*)')


class PairSpecError(ValueError):
    """A topics / pairs / pair_names configuration that cannot be used (says why)."""


@dataclass(frozen=True)
class SideSpec:
    """One side of a pair: fields of one topic."""

    topic: str
    msg_type: str
    fields: tuple

    @property
    def dim(self) -> int:
        """Count the fields (1 for a scalar side)."""
        return len(self.fields)

    @property
    def source(self) -> str:
        """``topic:f1,f2`` as in MutualInformation.x_source."""
        return f'{self.topic}:{",".join(self.fields)}'


@dataclass(frozen=True)
class PairSpec:
    """A named pair of sides whose mutual information is estimated."""

    name: str
    x: SideSpec
    y: SideSpec

    @property
    def sliced(self) -> bool:
        """Tell whether a side is vector-valued (the estimate is then sliced MI)."""
        return self.x.dim > 1 or self.y.dim > 1

    @property
    def same_topic(self) -> bool:
        """Tell whether both sides are fields of one topic (no synchronization needed)."""
        return self.x.topic == self.y.topic


def normalize_msg_type(text: str) -> str:
    """``'pkg/Type'`` or ``'pkg/msg/Type'`` -> ``'pkg/msg/Type'``; PairSpecError otherwise."""
    m = _TYPE.fullmatch(text.strip())
    if m is None:
        raise PairSpecError(f'malformed message type {text!r}: expected pkg/msg/Type, e.g. '
                            "'sensor_msgs/msg/Imu'")
    return f'{m.group(1)}/msg/{m.group(3)}'


def parse_topic_spec(text: str) -> tuple[str, str]:
    """``'/imu/data=sensor_msgs/msg/Imu'`` -> ``('/imu/data', 'sensor_msgs/msg/Imu')``."""
    topic, sep, msg_type = str(text).partition('=')
    topic = topic.strip()
    if not sep or not topic or not msg_type.strip():
        raise PairSpecError(f'malformed topic entry {text!r}: expected TOPIC=pkg/msg/Type, '
                            "e.g. '/imu/data=sensor_msgs/msg/Imu'")
    if not _TOPIC.fullmatch(topic):
        raise PairSpecError(f'invalid topic name {topic!r} in {text!r}')
    return topic, normalize_msg_type(msg_type)


def parse_topics(entries) -> dict[str, str]:
    """List of topic entries -> {topic: msg_type}; a topic listed twice is an error."""
    out: dict[str, str] = {}
    for entry in entries:
        topic, msg_type = parse_topic_spec(entry)
        if topic in out:
            raise PairSpecError(f'topic {topic!r} is listed twice in topics')
        out[topic] = msg_type
    return out


def parse_side(text: str, topic_types: dict[str, str]) -> SideSpec:
    """``'/imu:linear_acceleration.x,linear_acceleration.y'`` -> SideSpec."""
    topic, sep, fields = text.strip().partition(':')
    topic = topic.strip()
    if not sep or not topic or not fields.strip():
        raise PairSpecError(f'malformed side {text.strip()!r}: expected TOPIC:FIELD or '
                            "TOPIC:F1,F2, e.g. '/imu/data:linear_acceleration.x'")
    if topic not in topic_types:
        known = ', '.join(sorted(topic_types)) or 'none'
        raise PairSpecError(f'topic {topic!r} of side {text.strip()!r} is not in topics '
                            f'(known: {known}); add it as {topic}=pkg/msg/Type')
    names = tuple(f.strip() for f in fields.split(','))
    for f in names:
        try:
            parse_field_path(f)
        except FieldError as exc:
            raise PairSpecError(f'side {text.strip()!r}: {exc}') from None
    if len(set(names)) != len(names):
        raise PairSpecError(f'side {text.strip()!r} lists a field twice')
    return SideSpec(topic, topic_types[topic], names)


def default_pair_name(x: SideSpec, y: SideSpec) -> str:
    """Build a readable, topic-name-safe default name from both sides."""
    def side(s):
        return f'{s.topic.strip("/~")}_{"_".join(s.fields)}'
    return re.sub(r'[^A-Za-z0-9_]+', '_', f'{side(x)}__{side(y)}').strip('_')


def parse_pair(text: str, topic_types: dict[str, str], name: str | None = None) -> PairSpec:
    """``'X_SIDE ~ Y_SIDE'`` -> PairSpec (named ``name`` or a default built from the sides)."""
    # '~/' starts a private topic name, any other '~' separates the sides.
    parts = re.split(r'~(?!/)', str(text))
    if len(parts) != 2:
        raise PairSpecError(f"malformed pair {text!r}: expected 'X_SIDE ~ Y_SIDE', e.g. "
                            "'/imu_a:linear_acceleration.x ~ /imu_b:linear_acceleration.x'")
    x, y = (parse_side(p, topic_types) for p in parts)
    if x.topic == y.topic and set(x.fields) & set(y.fields):
        raise PairSpecError(f'pair {text!r} uses field(s) '
                            f'{sorted(set(x.fields) & set(y.fields))} on both sides')
    return PairSpec(name or default_pair_name(x, y), x, y)


def parse_pairs(topics, pairs, pair_names=None) -> list[PairSpec]:
    """Parse and cross-check the three string arrays; PairSpecError says what is wrong."""
    topic_types = parse_topics(topics)
    pairs = list(pairs)
    if not pairs:
        raise PairSpecError('no pairs configured: set the pairs parameter, e.g. '
                            "['/imu_a:linear_acceleration.x ~ /imu_b:linear_acceleration.x']")
    names = [str(n).strip() for n in (pair_names or [])]
    if names and len(names) != len(pairs):
        raise PairSpecError(f'pair_names has {len(names)} entries but pairs has {len(pairs)}')
    for n in names:
        if not re.fullmatch(r'[A-Za-z][A-Za-z0-9_]*', n):
            raise PairSpecError(f'invalid pair name {n!r}: use letters, digits and '
                                'underscores, starting with a letter')
    specs = [parse_pair(p, topic_types, names[i] if names else None)
             for i, p in enumerate(pairs)]
    seen: set[str] = set()
    for s in specs:
        if s.name in seen:
            raise PairSpecError(f'pair name {s.name!r} is used twice')
        seen.add(s.name)
    return specs


def topic_fields(pairs) -> dict[str, tuple]:
    """{topic: fields read from it, in first-use order} over all pairs."""
    out: dict[str, list] = {}
    for p in pairs:
        for side in (p.x, p.y):
            lst = out.setdefault(side.topic, [])
            lst.extend(f for f in side.fields if f not in lst)
    return {t: tuple(f) for t, f in out.items()}
