# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Bags of two synthetic IMUs with one known dependence, for the analysis tests.

``/a/imu`` and ``/b/imu`` publish ``sensor_msgs/Imu`` at RATE Hz from START s with the same
stamps; ``a.acc.x ~ b.acc.x`` are Gaussian with correlation RHO, every other channel is
independent noise. Used by ``test/offline/test_run.py`` and ``test/cli/test_analyze.py``
(``test/`` is on ``sys.path`` through its conftest.py).
"""

import math
import os
from pathlib import Path
import shutil

import numpy as np

from infonet_ros.core.model import resolve_weights
from infonet_ros.offline import imu_bag

RATE = 50.0
START = 10.0
N_MSGS = 300
RHO = 0.9
PAIR_DEP = '/a/imu:linear_acceleration.x ~ /b/imu:linear_acceleration.x'
PAIR_IND = '/a/imu:angular_velocity.y ~ /b/imu:linear_acceleration.y'
# Field -> (0: acceleration, 1: angular velocity; column) of the generated arrays.
COLUMNS = {'linear_acceleration.x': (0, 0), 'linear_acceleration.y': (0, 1),
           'linear_acceleration.z': (0, 2), 'angular_velocity.x': (1, 0),
           'angular_velocity.y': (1, 1), 'angular_velocity.z': (1, 2)}


def copy_default_weights(directory) -> str:
    """
    Copy the shipped default weights into ``directory``; return the copy's path.

    The CLI and the test then load the very same file. These bags are short (windows of 64),
    where 'default' is the least biased shipped model (docs/model_card.md).
    """
    src = resolve_weights('default')
    assert os.path.isfile(src), f'shipped weights missing: {src}'
    path = Path(directory) / 'weights.pt'
    shutil.copyfile(src, path)
    return str(path)


def make_signals(n=N_MSGS, seed=0):
    """Return acc/gyro of two IMUs: a.acc.x ~ b.acc.x correlated (RHO), the rest independent."""
    rng = np.random.default_rng(seed)
    s = rng.standard_normal(n)
    a_acc = np.column_stack([s, rng.standard_normal(n), 9.81 + 0.1 * rng.standard_normal(n)])
    b_acc = np.column_stack([RHO * s + math.sqrt(1 - RHO ** 2) * rng.standard_normal(n),
                             rng.standard_normal(n), 9.81 + 0.1 * rng.standard_normal(n)])
    a_gyro = rng.standard_normal((n, 3))
    b_gyro = rng.standard_normal((n, 3))
    return {'/a/imu': (a_acc, a_gyro), '/b/imu': (b_acc, b_gyro)}


def write_bag(path, signals, storage='mcap', counts=None):
    """Write a bag of sensor_msgs/Imu per topic at RATE Hz from START s (same stamps on both)."""
    inputs = []
    for topic, (acc, gyro) in signals.items():
        n = (counts or {}).get(topic, len(acc))
        rec = imu_bag.XsensRecording(Path(topic), RATE, np.arange(n), acc[:n], gyro[:n], {})
        inputs.append((topic, rec))
    imu_bag.write_imu_bag(path, inputs, storage, start_time=START)
    return path


def stamps(n=N_MSGS):
    """Return the stamps [s] of the messages of each topic."""
    return START + np.arange(n) / RATE


def channel(signals, source):
    """Return the values of 'topic:field' (one field) from the generated arrays."""
    topic, f = source.split(':')
    which, col = COLUMNS[f]
    return signals[topic][which][:, col]


def window_slice(start, end, n=N_MSGS):
    """Return the indices of the samples inside [start, end] (a window's stamps)."""
    t = stamps(n)
    return np.flatnonzero((t >= start - 1e-6) & (t <= end + 1e-6))
