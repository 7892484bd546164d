# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Training and evaluation of InfoNet.

Simulated training distributions, ground truth, training, evaluation and the MINE baseline.
Imports ``core``; no other layer imports this one.
"""
