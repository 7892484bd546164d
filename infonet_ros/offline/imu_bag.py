# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Xsens MT Manager text exports -> rosbag2 of sensor_msgs/Imu (``infonet-ros imu-to-bag``).

Input format (as written by Xsens MT Manager, e.g. the two walking recordings in
``data/xsens_walking/``): ``// Key: value`` header lines (``Sample rate: 120.0Hz`` is required),
then one tab-separated line of column names, then one line per sample. Columns used:
``Counter`` (sample counter of the device), ``Acc_X..Z`` and ``Gyr_X..Z``; other columns
(``Mag_*``, GPS) are ignored: ``sensor_msgs/Imu`` has no magnetometer field and Xsens stores the
magnetic field in arbitrary units normalized to the local earth field, not in tesla.

Units: MT Manager exports acceleration in m/s^2 and angular velocity in rad/s, which are the
SI units ``sensor_msgs/Imu`` requires (REP 103), so the default conversion is the identity.
Exports in g or deg/s are converted with ``--acc-unit g`` / ``--gyro-unit deg/s``.

Time: sample k is stamped ``start_time + (counter_k - counter_min) / rate`` where
``counter_min`` is the smallest counter over all inputs, so recordings of one device run
(synchronized counters, as for the thigh and shank files) stay aligned. The 16-bit Xsens
counter is unwrapped at 65536. The bag's receive time of every message equals its header stamp.
``orientation_covariance[0] = -1`` marks "no orientation estimate" (sensor_msgs/Imu docs);
the other covariances are all zero, meaning "unknown".
"""

from __future__ import annotations

import dataclasses
import math
import os
from pathlib import Path
import re
import shutil
import tempfile

import numpy as np

IMU_TYPE = 'sensor_msgs/msg/Imu'
STORAGES = ('mcap', 'sqlite3')
ACC_UNITS = {'m/s^2': 1.0, 'g': 9.80665}
GYRO_UNITS = {'rad/s': 1.0, 'deg/s': math.pi / 180.0}
# Default first stamp [s]; > 0 so that a replay with use_sim_time never publishes time zero,
# which ROS reads as "clock not set".
DEFAULT_START_TIME = 1.0
# Largest stamp [s]: builtin_interfaces/Time holds the seconds in an int32.
MAX_STAMP_S = 2**31 - 1
# The Xsens sample counter is an unsigned 16-bit integer.
COUNTER_MODULUS = 65536
ACC_COLUMNS = ('Acc_X', 'Acc_Y', 'Acc_Z')
GYRO_COLUMNS = ('Gyr_X', 'Gyr_Y', 'Gyr_Z')


class XsensFormatError(ValueError):
    """The file is not an Xsens MT Manager export that this converter understands."""


@dataclasses.dataclass
class XsensRecording:
    """One Xsens recording in SI units."""

    path: Path
    rate_hz: float
    counter: np.ndarray      # (N,) int64, unwrapped
    acc: np.ndarray          # (N, 3) m/s^2
    gyro: np.ndarray         # (N, 3) rad/s
    header: dict


def read_xsens(path, acc_unit: str = 'm/s^2', gyro_unit: str = 'rad/s') -> XsensRecording:
    """
    Parse an Xsens MT Manager text export (see the module docstring).

    :raises FileNotFoundError: no such file.
    :raises XsensFormatError: missing sample rate, missing columns, or a malformed data line
        (the message names the file and line).
    """
    path = Path(path)
    if acc_unit not in ACC_UNITS:
        raise ValueError(f'unknown acceleration unit {acc_unit!r}; use one of {list(ACC_UNITS)}')
    if gyro_unit not in GYRO_UNITS:
        raise ValueError(f'unknown angular-velocity unit {gyro_unit!r}; use one of '
                         f'{list(GYRO_UNITS)}')
    header: dict[str, str] = {}
    columns: list[str] | None = None
    rows: list[list[float]] = []
    with open(path, encoding='utf-8', errors='replace') as fh:
        for lineno, raw in enumerate(fh, start=1):
            line = raw.strip()
            if not line:
                continue
            if line.startswith('//'):
                key, _, value = line[2:].partition(':')
                header[key.strip()] = value.strip()
                continue
            fields = line.split('\t')
            if columns is None:
                columns = [c.strip() for c in fields]
                continue
            try:
                rows.append([float(v) for v in fields if v.strip() != ''])
            except ValueError as exc:
                raise XsensFormatError(f'{path}:{lineno}: non-numeric value ({exc})') from None
            if len(rows[-1]) < len(_nonempty(columns)):
                raise XsensFormatError(f'{path}:{lineno}: {len(rows[-1])} values, expected '
                                       f'{len(_nonempty(columns))} (truncated line?)')
    if columns is None or not rows:
        raise XsensFormatError(f'{path}: no column header or no data lines')
    rate = _parse_rate(header, path)
    cols = _nonempty(columns)
    missing = [c for c in ('Counter',) + ACC_COLUMNS + GYRO_COLUMNS if c not in cols]
    if missing:
        raise XsensFormatError(f'{path}: missing column(s) {missing}; found {cols}')
    data = np.array([r[:len(cols)] for r in rows], dtype=np.float64)
    idx = {c: i for i, c in enumerate(cols)}
    counter = _unwrap_counter(data[:, idx['Counter']].astype(np.int64))
    acc = data[:, [idx[c] for c in ACC_COLUMNS]] * ACC_UNITS[acc_unit]
    gyro = data[:, [idx[c] for c in GYRO_COLUMNS]] * GYRO_UNITS[gyro_unit]
    return XsensRecording(path, rate, counter, acc, gyro, header)


def _nonempty(columns):
    # MT Manager ends every line with a tab: drop the empty trailing column name.
    return [c for c in columns if c]


def _parse_rate(header: dict, path: Path) -> float:
    text = header.get('Sample rate', '')
    m = re.match(r'\s*([0-9.]+)\s*Hz', text, flags=re.IGNORECASE)
    if not m or float(m.group(1)) <= 0:
        raise XsensFormatError(f'{path}: no "// Sample rate: <f>Hz" header line '
                               f'(got {text!r})')
    return float(m.group(1))


def _unwrap_counter(counter: np.ndarray) -> np.ndarray:
    steps = np.diff(counter)
    steps[steps < 0] += COUNTER_MODULUS
    return np.concatenate([counter[:1], counter[0] + np.cumsum(steps)])


def check_units(rec: XsensRecording) -> list[str]:
    """Plausibility warnings: a worn IMU's median |acc| is near 9.81 m/s^2 (gravity)."""
    warnings = []
    g = float(np.median(np.linalg.norm(rec.acc, axis=1)))
    if not 4.0 < g < 25.0:
        warnings.append(f'{rec.path.name}: median |acceleration| is {g:.3g} m/s^2 (gravity is '
                        f'9.81): is --acc-unit right?')
    return warnings


def check_start_time(start_time: float, duration: float = 0.0) -> None:
    """
    Refuse a first stamp [s] that a recording of ``duration`` [s] cannot start at.

    :raises ValueError: not finite, not > 0 (a zero stamp means "not set" in ROS, and
        ``builtin_interfaces/Time`` has no negative times), or the last stamp past
        :data:`MAX_STAMP_S` (its seconds field is an int32).
    """
    if not math.isfinite(start_time) or start_time <= 0:
        raise ValueError(f'start time {start_time!r} s is out of range: a stamp must be > 0 '
                         '(ROS reads 0 as "not set" and has no negative times)')
    if start_time + duration > MAX_STAMP_S:
        later = f', and the last sample comes {duration:.3f} s later' if duration else ''
        raise ValueError(f'start time {start_time!r} s is out of range: stamps go up to '
                         f'{MAX_STAMP_S} s (builtin_interfaces/Time holds the seconds in an '
                         f'int32){later}')


def stamps_ns(recordings, start_time: float = DEFAULT_START_TIME) -> list[np.ndarray]:
    """
    Acquisition time [ns] of every sample of each recording (see module docstring).

    :raises ValueError: recordings of different rates, or a start time out of range
        (:func:`check_start_time`).
    """
    rates = {r.rate_hz for r in recordings}
    if len(rates) != 1:
        raise XsensFormatError(f'recordings have different sample rates {sorted(rates)}: '
                               'their counters cannot be aligned')
    c0 = min(int(r.counter[0]) for r in recordings)
    rate = rates.pop()
    check_start_time(start_time, max(int(r.counter.max()) - c0 for r in recordings) / rate)
    start_ns = int(round(start_time * 1e9))
    return [start_ns + np.round((r.counter - c0) * (1e9 / rate)).astype(np.int64)
            for r in recordings]


def imu_message(typestore, stamp_ns: int, frame_id: str, acc, gyro):
    """Build a sensor_msgs/msg/Imu of ``typestore`` (orientation marked unavailable)."""
    t = typestore.types
    header = t['std_msgs/msg/Header'](
        stamp=t['builtin_interfaces/msg/Time'](sec=int(stamp_ns // 1_000_000_000),
                                               nanosec=int(stamp_ns % 1_000_000_000)),
        frame_id=frame_id)
    vec = t['geometry_msgs/msg/Vector3']
    no_orientation = np.zeros(9)
    no_orientation[0] = -1.0
    return t[IMU_TYPE](
        header=header,
        orientation=t['geometry_msgs/msg/Quaternion'](x=0.0, y=0.0, z=0.0, w=1.0),
        orientation_covariance=no_orientation,
        angular_velocity=vec(x=float(gyro[0]), y=float(gyro[1]), z=float(gyro[2])),
        angular_velocity_covariance=np.zeros(9),
        linear_acceleration=vec(x=float(acc[0]), y=float(acc[1]), z=float(acc[2])),
        linear_acceleration_covariance=np.zeros(9))


def write_imu_bag(out, inputs, storage: str = 'mcap', start_time: float = DEFAULT_START_TIME,
                  overwrite: bool = False) -> dict:
    """
    Write recordings to a rosbag2 directory, atomically.

    :param out: bag directory to create.
    :param inputs: list of (topic, XsensRecording).
    :param storage: 'mcap' or 'sqlite3'.
    :param start_time: stamp of the earliest sample [s].
    :param overwrite: replace an existing ``out``.

    :return: {topic: message count}.

    The bag is written into a temporary sibling directory and renamed into place only when
    complete, so an interrupted conversion never leaves a half-written bag at ``out``.
    """
    from rosbags.rosbag2 import StoragePlugin, Writer
    from rosbags.typesys import Stores, get_typestore

    if storage not in STORAGES:
        raise ValueError(f'unknown storage {storage!r}; use one of {STORAGES}')
    out = Path(out)
    if out.exists() and not overwrite:
        raise FileExistsError(f'{out} exists; pass --overwrite to replace it')
    topics = [t for t, _ in inputs]
    if len(set(topics)) != len(topics):
        raise ValueError(f'duplicate topics {topics}')
    typestore = get_typestore(Stores.ROS2_KILTED)
    all_stamps = stamps_ns([r for _, r in inputs], start_time)
    plugin = StoragePlugin.MCAP if storage == 'mcap' else StoragePlugin.SQLITE3
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp_root = Path(tempfile.mkdtemp(prefix=f'.{out.name}.', dir=out.parent))
    tmp = tmp_root / out.name
    try:
        # Metadata version 8: version 9 writes the QoS profiles as a YAML list, which
        # Humble's rosbag2 cannot parse (ros2/rosbag2#2013); newer rosbag2 reads 8.
        with Writer(tmp, version=8, storage_plugin=plugin) as writer:
            conns = [writer.add_connection(topic, IMU_TYPE, typestore=typestore)
                     for topic in topics]
            # Write in time order over all topics, as a recorder would have received them.
            events = sorted((int(s), i, k) for i, st in enumerate(all_stamps)
                            for k, s in enumerate(st))
            for stamp, i, k in events:
                rec = inputs[i][1]
                msg = imu_message(typestore, stamp, _frame_id(topics[i]), rec.acc[k],
                                  rec.gyro[k])
                writer.write(conns[i], stamp, typestore.serialize_cdr(msg, IMU_TYPE))
        if out.exists():
            shutil.rmtree(out)
        os.replace(tmp, out)
    finally:
        shutil.rmtree(tmp_root, ignore_errors=True)
    return {t: len(r.counter) for t, r in inputs}


def _frame_id(topic: str) -> str:
    return '_'.join(p for p in topic.split('/') if p) or 'imu'


def default_topic(path) -> str:
    """Topic of a recording given without one: ``/<file stem>/imu`` (a valid ROS name)."""
    stem = re.sub(r'[^A-Za-z0-9_]', '_', Path(path).stem)
    if not stem or stem[0].isdigit():
        stem = 'imu_' + stem
    return f'/{stem}/imu'
