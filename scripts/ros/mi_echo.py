#!/usr/bin/env python3
# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""``ros2 run infonet_ros mi_echo``: prints the MutualInformationArray messages it receives."""

import sys

from infonet_ros.ros.mi_echo import main

if __name__ == '__main__':
    sys.exit(main())
