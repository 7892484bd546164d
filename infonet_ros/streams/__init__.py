# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The stream pipeline shared by the ROS node and the bag analysis.

Configuration (node_config), field paths and CDR field reading, synchronization and the
window engine, replay of recorded messages, batched estimation of ready windows, MI
matrices. Imports only ``infonet_ros.core``; no rclpy, no rosbags.
"""
