# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""``python -m infonet_ros.cli``: the ``infonet-ros`` command."""

import sys

from infonet_ros.cli.main import main

sys.exit(main())
