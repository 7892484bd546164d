#!/usr/bin/env bash
# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
#
# Run the torch-free tests under Python 3.10 with numpy 1.21.5, what ROS 2 Humble (Ubuntu
# 22.04) ships, in a throwaway venv: bag reading, field paths, windowing and pairing, pair
# and parameter checks of the node's configuration, the batch-size search. torch is not
# installed there (no CPU wheel of the pinned version for 3.10 here), so the estimator's tests
# are not part of this check.
#
#   scripts/check_py310.sh            # finds python3.10 (PYTHON310, PATH, pyenv)
#   PYTHON310=/path/to/python3.10 scripts/check_py310.sh
#
# Exit code: pytest's; 2 when no Python 3.10 is found, 3 when its venv cannot be built.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"

find_python() {
  local c
  for c in "${PYTHON310:-}" python3.10 "$(pyenv root 2>/dev/null)"/versions/3.10*/bin/python; do
    if [[ -n "$c" ]] && "$c" -c 'import sys; assert sys.version_info[:2] == (3, 10)' \
        2>/dev/null; then
      echo "$c"
      return 0
    fi
  done
  return 1
}

if ! py="$(find_python)"; then
  echo "[check_py310] no Python 3.10 found: set PYTHON310 to one" >&2
  exit 2
fi
venv="$(mktemp -d)/venv"
trap 'rm -rf "$(dirname "$venv")"' EXIT
if ! { "$py" -m venv "$venv" && "$venv/bin/python" -m pip install -q 'numpy==1.21.5' pyyaml \
    'rosbags>=0.11' pytest; }; then
  echo "[check_py310] could not build the Python 3.10 venv (no package index?)" >&2
  exit 3
fi
echo "[check_py310] $("$venv/bin/python" --version), numpy $("$venv/bin/python" -c \
  'import numpy; print(numpy.__version__)')"
PYTHONPATH="$REPO" PYTHONDONTWRITEBYTECODE=1 "$venv/bin/python" -m pytest -q \
  -p no:cacheprovider test/streams/test_window_engine.py test/streams/test_sync.py \
  test/streams/test_ring_buffer.py test/streams/test_feed.py test/streams/test_fields.py \
  test/streams/test_pairs.py test/streams/test_node_config.py test/offline/test_bag_reader.py \
  test/offline/test_imu_bag.py test/offline/test_batch_tuner.py
