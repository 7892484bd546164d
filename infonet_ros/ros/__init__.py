# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The rclpy shell around the stream pipeline.

``mi_node`` (the node class and its ``main``) with ``node_parameters`` (ROS parameters from
the streams' parameter table), ``message_filters_sync`` (approximate-time pairing),
``executor_threads`` (executor, spin loop, torch threads), ``thread_priority``,
``conversions`` (estimates to messages, QoS) and ``diagnostics``; the ``demo_source`` and
``mi_echo`` tools. Imports ``streams`` and ``core``.
"""
