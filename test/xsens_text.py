# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Xsens MT Manager text exports for the IMU-to-bag tests: the shipped files and made-up ones."""

from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / 'data' / 'xsens_walking'
UPPER = DATA / 'walking_xsens_upperLeg.txt'
LOWER = DATA / 'walking_xsens_lowerLeg.txt'

HEADER = ('// Start Time: 0\n// Sample rate: 100.0Hz\n// Scenario: 1\n'
          'Counter\tAcc_X\tAcc_Y\tAcc_Z\tGyr_X\tGyr_Y\tGyr_Z\tMag_X\tMag_Y\tMag_Z\t\n')


def write_text(tmp_path, name, text):
    """Write ``text`` to ``tmp_path / name``; return the path."""
    p = tmp_path / name
    p.write_text(text)
    return p


def data_row(counter, acc, gyro):
    """Return one MT Manager data line (trailing tab included)."""
    return '\t'.join([str(counter)] + [f'{v:.6f}' for v in (*acc, *gyro, 0.1, 0.2, 0.3)]) + '\t\n'
