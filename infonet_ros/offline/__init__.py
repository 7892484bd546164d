# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Offline analysis of rosbag2 recordings. Imports ``streams`` and ``core``; no rclpy.

One bag message to a CSV row, in the order the modules are used:

- :mod:`.bag_reader`: open a bag (sqlite3 or mcap), read its raw messages;
  :mod:`.msg_definitions`: where the definitions of its message types come from;
- :mod:`.params`: the node configuration of the analysis (node YAML, pair flags, overrides);
- :mod:`.bag_stream`: the watched fields of each message, read as the node reads them;
- :mod:`.run`: the node's window engine over the bag, updates, statistics (``run_analysis``);
- :mod:`.window_batches`: the ready windows of many updates in batched forward passes, with
  the optional KSG and time-shuffled comparisons; :mod:`.batch_tuner`: the batch size;
- :mod:`.report`: ``mi.csv``, ``summary.json``, the terminal summary, MI matrices;
- :mod:`.figures`: the PNG figures.

:mod:`.imu_bag` converts Xsens IMU recordings into a bag.
"""
