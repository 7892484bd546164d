#!/usr/bin/env python3
# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""``ros2 run infonet_ros demo_source``: signals of changing dependence, to try the MI node."""

import sys

from infonet_ros.ros.demo_source import main

if __name__ == '__main__':
    sys.exit(main())
