# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The ``infonet-ros`` command: :mod:`.main` dispatches to one module per subcommand."""
