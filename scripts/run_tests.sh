#!/usr/bin/env bash
# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
#
# Build (scripts/setup.sh) and run the test suite: scripts/run_tests.sh [pytest arguments].
# Without arguments pytest runs test/ (setup.cfg testpaths); `--run-slow` adds the slow tests;
# file names or -k select tests. The exit code is pytest's; "no tests ran" (5) is a failure.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"

bash scripts/setup.sh

# The activate and colcon setup scripts read unset variables.
set +u
# shellcheck disable=SC1091
source scripts/python_env.sh
# shellcheck disable=SC1091
source install/setup.bash
set -u

# ROS logs and settings of this run stay in a temporary folder; DDS traffic stays on this
# machine. test/conftest.py further gives the session its own ROS_DOMAIN_ID.
run_tmp="$(mktemp -d)"
trap 'rm -rf "$run_tmp"' EXIT
export ROS_HOME="$run_tmp/ros_home"
export ROS_LOG_DIR="$run_tmp/ros_log"
export ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST

set +e
"$PYTHON" -m pytest -q "$@"
status=$?
set -e
if [[ $status -eq 5 ]]; then
  echo "[run_tests] pytest collected no tests: failing" >&2
fi
# In the venv build, the whole suite (no pytest arguments) also runs the torch-free tests on
# Humble's Python 3.10 and numpy 1.21 where a Python 3.10 exists (scripts/check_py310.sh); on
# a ROS 2 install the suite itself runs on that distribution's Python.
if [[ $# -eq 0 && $status -eq 0 && -z "${ROS_DISTRO_INSTALL:-}" ]]; then
  set +e
  bash scripts/check_py310.sh
  compat=$?
  set -e
  if [[ $compat -eq 2 || $compat -eq 3 ]]; then
    echo "[run_tests] Python 3.10 check not run (see the line above)" >&2
  elif [[ $compat -ne 0 ]]; then
    status=$compat
  fi
fi
exit "$status"
