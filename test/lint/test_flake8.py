# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""flake8 over all Python code of the repository, configured by setup.cfg [flake8]."""

from pathlib import Path
import subprocess
import sys

import pytest

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / 'setup.cfg'
# Build products, the venv and caches are not the package's code.
EXCLUDE = ['.git', '__pycache__', '.venv', 'build', 'install', 'log', '.pytest_cache',
           '*.egg-info']


def lint_roots():
    """Top-level folders and .py files of the repository that hold the package's code."""
    return sorted(str(p) for p in REPO.iterdir()
                  if p.name not in EXCLUDE and not p.name.startswith('.')
                  and not p.name.endswith('.egg-info')
                  and (p.is_dir() or p.suffix == '.py'))


@pytest.mark.flake8
@pytest.mark.linter
def test_flake8():
    """ament_flake8 as `ros2 pkg create` sets it up; plain flake8 where ROS lint is missing."""
    try:
        from ament_flake8.main import main_with_errors
    except ImportError:
        main_with_errors = None
    if main_with_errors is not None:
        rc, errors = main_with_errors(
            argv=[*lint_roots(), '--config', str(CONFIG), '--exclude', *EXCLUDE])
        assert rc == 0, \
            f'Found {len(errors)} code style errors / warnings:\n' + '\n'.join(errors)
    else:
        result = subprocess.run(
            [sys.executable, '-m', 'flake8', '--config', str(CONFIG), *lint_roots()],
            cwd=REPO, capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr
