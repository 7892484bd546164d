# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Limits shared by the estimator and the checks of a configuration, importable without torch.

The node checks its parameters (``infonet_ros.streams.node_config``) before it loads the model, and
a decision node or a configuration tool may check them without torch installed.
"""

# Fewest samples per series: each half of a cross-fitted model then holds at least 16 points.
MIN_SAMPLES = 32
