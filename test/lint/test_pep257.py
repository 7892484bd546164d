# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Docstring style (PEP 257, ament convention) of all Python code of the repository."""

import subprocess
import sys

import pytest
from test_flake8 import lint_roots

# pydocstyle codes that ament_pep257's 'ament' convention leaves out.
AMENT_IGNORE = ['D100', 'D101', 'D102', 'D103', 'D104', 'D105', 'D106', 'D107', 'D203', 'D212',
                'D404']


@pytest.mark.linter
@pytest.mark.pep257
def test_pep257():
    """ament_pep257 as `ros2 pkg create` sets it up; pydocstyle where ROS lint is missing."""
    try:
        from ament_pep257.main import main
    except ImportError:
        main = None
    if main is not None:
        rc = main(argv=lint_roots())
        assert rc == 0, 'Found code style errors / warnings (listed in the captured stdout)'
    else:
        result = subprocess.run(
            [sys.executable, '-m', 'pydocstyle', '--match', r'.*\.py', '--match-dir', r'[^\._].*',
             '--ignore', ','.join(AMENT_IGNORE), *lint_roots()],
            capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr
