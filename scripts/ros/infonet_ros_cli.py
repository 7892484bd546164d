#!/usr/bin/env python3
# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""``infonet-ros`` command of the colcon install tree (``bin/``, on PATH once it is sourced)."""

import sys

from infonet_ros.cli.main import main

if __name__ == '__main__':
    sys.exit(main())
