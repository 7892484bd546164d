# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The estimator core: InfoNet, its readout, the copula, sliced MI and the shipped weights.

Model, readout, copula (ranks), the estimator API with its traced forward pass and row
workers, KSG, sliced MI and the independence test; the shipped checkpoints in ``weights/``.
Plain Python, numpy and torch: no rclpy, no rosbags, nothing from the other layers. Modules
load on import of their own name, so ``infonet_ros.core.limits`` stays importable without torch.
"""
