# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The rclpy shell around the stream pipeline.

``mi_node``, message conversions, diagnostics, thread priority, and the ``demo_source`` and
``mi_echo`` tools. Imports ``streams`` and ``core``.
"""
