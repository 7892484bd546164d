# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
MI matrices: every scalar pair among k channels, expanded into ordinary pairs.

A matrix is written like a pair, with comma lists of fields::

    /thigh/imu:linear_acceleration.x,angular_velocity.z ~ /shank/imu:linear_acceleration.x
        -> 2 x 1 pairs (x channel i, y channel j), matrix[i, j] = MI(x_i; y_j)
    /joint_states:position[0:6]
        -> the 15 pairs i < j among 6 channels of one side, a symmetric matrix (NaN diagonal)

``name[a:b]`` expands to ``name[a]`` .. ``name[b-1]`` (handy for JointState arrays). Each cell is
a scalar :class:`~infonet_ros.streams.pairs.PairSpec` named ``<matrix>__<x label>__<y label>``
(e.g. ``legs__thigh_gyro_z__shank_acc_x``), so the cells go
through the same engine and the same batched forward passes as every other pair: all cells of
one update (and of many updates, offline) are rows of one ``estimate_batch`` call.
"""

from __future__ import annotations

from dataclasses import dataclass
import re

import numpy as np

from infonet_ros.streams.pairs import PairSpecError

_RANGE = re.compile(r'^(.*)\[(\d+):(\d+)\]$')
# Short names of common fields in figure labels.
_SHORT = (('linear_acceleration', 'acc'), ('angular_velocity', 'gyro'),
          ('orientation', 'ori'), ('position', 'pos'), ('velocity', 'vel'))


@dataclass(frozen=True)
class MatrixSpec:
    """A matrix of scalar pairs: rows are x channels, columns y channels."""

    name: str
    x_topic: str
    x_fields: tuple
    y_topic: str
    y_fields: tuple
    symmetric: bool  # one side against itself: only i < j are estimated

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, columns)."""
        return len(self.x_fields), len(self.y_fields)

    def cells(self) -> list[tuple[int, int]]:
        """(i, j) of the estimated cells, row by row."""
        r, c = self.shape
        return [(i, j) for i in range(r) for j in range(c) if not self.symmetric or i < j]

    def pair_name(self, i: int, j: int) -> str:
        """
        Name of the pair of cell (i, j): ``<matrix>__<x label>__<y label>``.

        Labels are the short channel labels made name-safe (``legs__thigh_gyro_z__shank_acc_x``);
        when two channels of a side would get the same label, their indices are used instead.
        """
        xs, ys = (_slugs(labels) for labels in self.labels())
        return f'{self.name}__{xs[i]}__{ys[j]}'

    def pair_strings(self) -> tuple[list[str], list[str]]:
        """(pair strings 'X ~ Y', pair names) of the cells, for infonet_ros.streams.pairs."""
        pairs, names = [], []
        for i, j in self.cells():
            pairs.append(f'{self.x_topic}:{self.x_fields[i]} ~ {self.y_topic}:{self.y_fields[j]}')
            names.append(self.pair_name(i, j))
        return pairs, names

    def labels(self) -> tuple[list[str], list[str]]:
        """Short labels of the rows and columns, for figures."""
        return ([short_label(self.x_topic, f) for f in self.x_fields],
                [short_label(self.y_topic, f) for f in self.y_fields])

    def assemble(self, values: dict) -> np.ndarray:
        """{pair name: value} -> (rows, columns) array; cells without a value are NaN."""
        m = np.full(self.shape, np.nan)
        for i, j in self.cells():
            v = values.get(self.pair_name(i, j))
            if v is not None:
                m[i, j] = v
                if self.symmetric:
                    m[j, i] = v
        return m


def expand_fields(text: str) -> tuple:
    """``'a.x,position[0:3]'`` -> ``('a.x', 'position[0]', 'position[1]', 'position[2]')``."""
    out = []
    for f in (s.strip() for s in text.split(',')):
        m = _RANGE.match(f)
        if m:
            lo, hi = int(m.group(2)), int(m.group(3))
            if hi <= lo:
                raise PairSpecError(f'empty index range in {f!r}')
            out.extend(f'{m.group(1)}[{k}]' for k in range(lo, hi))
        elif f:
            out.append(f)
        else:
            raise PairSpecError(f'empty field in {text!r}')
    if len(set(out)) != len(out):
        raise PairSpecError(f'a field is listed twice in {text!r}')
    return tuple(out)


def _side(text: str, spec: str) -> tuple[str, tuple]:
    topic, sep, fields = text.strip().partition(':')
    if not sep or not topic.strip() or not fields.strip():
        raise PairSpecError(f'malformed matrix {spec!r}: expected TOPIC:F1,F2,... [~ '
                            "TOPIC:G1,G2,...], e.g. '/imu_a:linear_acceleration.x,"
                            "linear_acceleration.y ~ /imu_b:linear_acceleration.x'")
    return topic.strip(), expand_fields(fields)


def parse_matrix(text: str, default_name: str = 'm') -> MatrixSpec:
    """``[NAME=]X_SIDE ~ Y_SIDE`` or ``[NAME=]SIDE`` -> MatrixSpec (see module docstring)."""
    name = default_name
    head, sep, rest = text.partition('=')
    if sep and re.fullmatch(r'[A-Za-z][A-Za-z0-9_]*', head.strip()):
        name, text = head.strip(), rest
    parts = re.split(r'~(?!/)', text)
    if len(parts) > 2:
        raise PairSpecError(f'malformed matrix {text!r}: at most one "~"')
    xt, xf = _side(parts[0], text)
    if len(parts) == 1:
        if len(xf) < 2:
            raise PairSpecError(f'matrix {text!r} of one side needs at least 2 fields')
        return MatrixSpec(name, xt, xf, xt, xf, symmetric=True)
    yt, yf = _side(parts[1], text)
    if xt == yt and set(xf) & set(yf):
        raise PairSpecError(f'matrix {text!r} uses field(s) {sorted(set(xf) & set(yf))} on '
                            'both sides; write one side alone for all pairs among its fields')
    return MatrixSpec(name, xt, xf, yt, yf, symmetric=False)


def _slugs(labels) -> list[str]:
    slugs = [re.sub(r'[^A-Za-z0-9]+', '_', lab).strip('_') for lab in labels]
    if len(set(slugs)) != len(slugs) or not all(slugs):
        return [str(k) for k in range(len(labels))]
    return slugs


def short_label(topic: str, field: str) -> str:
    """``('/thigh/imu', 'linear_acceleration.x')`` -> ``'thigh acc.x'``."""
    parts = [p for p in topic.strip('/').split('/') if p not in ('imu', 'data', 'raw')]
    for long, short in _SHORT:
        field = field.replace(long, short)
    return f'{"/".join(parts) or topic} {field}'.strip()
