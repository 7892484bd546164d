# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Offline analysis of rosbag2 recordings.

Bag reading, the analysis run, its report and figures, the IMU-to-bag converter and the
batch-size search. Imports ``streams`` and ``core``; no rclpy.
"""
