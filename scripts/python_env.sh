# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
#
# Sourced by the scripts that run the package (run_tests.sh, run_demo.sh, suite_under_load.sh)
# with REPO set and `set +u` in force (activate reads unset variables). Sets PYTHON to the
# interpreter of the build: a sourced ROS 2 install's python3 (ROS_DISTRO_INSTALL names the
# distribution), else the venv of scripts/setup.sh, activated (ROS_DISTRO_INSTALL empty).
ROS_DISTRO_INSTALL=""
if [[ -n "${ROS_DISTRO:-}" && -d "/opt/ros/${ROS_DISTRO}" ]]; then
  PYTHON="$(command -v python3)"
  ROS_DISTRO_INSTALL="$ROS_DISTRO"
else
  # shellcheck disable=SC1091
  source "${INFONET_VENV:-$REPO/.venv}/bin/activate"
  PYTHON="$VIRTUAL_ENV/bin/python"
fi
