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
if [[ -n "${ROS_DISTRO:-}" && -d "/opt/ros/${ROS_DISTRO}" ]]; then
  PYTHON="$(command -v python3)"
else
  # shellcheck disable=SC1091
  source "${INFONET_VENV:-$REPO/.venv}/bin/activate"
  PYTHON="$VIRTUAL_ENV/bin/python"
fi
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
exit "$status"
