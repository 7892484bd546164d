# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The stream pipeline shared by the ROS node and the bag analysis.

One sample, in order: ``node_config`` (parameters and the node's YAML; ``pairs`` parses the
pair strings), ``raw_intake`` / ``cdr_reader`` / ``fields`` (the watched fields of a
message), ``feed`` (the stamp rule; replay of recorded messages), ``topic_input``
(validation), ``sync`` (pairing two topics), ``window_engine`` (rolling windows, on
``ring_buffer``), ``batch_estimate`` (one forward pass for the ready windows), ``mi_matrix``
(MI matrices). Imports only ``infonet_ros.core``; no rclpy, no rosbags.
"""
