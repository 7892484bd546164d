# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The estimator core: InfoNet, its readout, the copula, sliced MI and the shipped weights.

- ``model``: the network and its checkpoints (shipped ones in ``weights/``), checked
  against their ``content_hash``; ``readout``: Donsker-Varadhan readouts of its critic
  table; ``copula``: ranks, hard and soft.
- ``estimator``: the estimator API (``InfoNetEstimator``, ``estimate_mi``, the default
  model), with ``checks`` (of its inputs and outputs), ``tracing`` (TorchScript traces of
  the forward pass), ``row_pool`` (rows shared by CPU threads) and ``long_series`` (series
  longer than the training sets).
- ``sliced`` (sliced MI of vector signals), ``pls`` (the leading-pair slice),
  ``independence`` (the permutation test); ``ksg`` (the KSG baseline); ``limits``
  (constants shared with configuration checks).
- ``uncertainty`` (intervals, p-values of independence and the noise floor of every
  estimate), ``null_table`` (the i.i.d. null of each model per N, shipped as
  ``weights/*.null.json``), ``resampling`` (shift lags, half-samples, dependence length).

Plain Python, numpy and torch: no rclpy, no rosbags, nothing from the other layers. Modules
load on import of their own name, so ``infonet_ros.core.limits`` stays importable without torch.
"""
