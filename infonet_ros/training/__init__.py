# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Training and evaluation of InfoNet.

``simulate`` (training distributions with their true MI), ``train`` (the training run),
``groundtruth`` and ``triplets`` (evaluation distributions with known MI), ``evaluate``
(accuracy and speed against KSG and MINE), ``evaluate_report`` (its summaries and tables),
``result_files`` (the one writer of result files), ``ablations`` (estimator variants the
evaluation compares against), ``baselines`` (MINE). Imports ``core``; no other layer imports
this one.
"""
