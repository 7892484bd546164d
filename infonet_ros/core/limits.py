# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Limits shared by the estimator and the checks of a configuration, importable without torch.

The node checks its parameters (``infonet_ros.streams.node_config``) before it loads the model, and
a decision node or a configuration tool may check them without torch installed.
"""

# Fewest samples per series: each half of a cross-fitted model then holds at least 16 points.
MIN_SAMPLES = 32

# Permutations of the independence test (sliced pairs with p_value on, the library's
# independence_test): 99 gives p-values on a grid of 1/100.
DEFAULT_N_PERMUTATIONS = 99
