#!/usr/bin/env bash
# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
#
# Live demo: two simulated IMUs whose coupling cycles every minute, mi_node estimating MI
# between them, and mi_echo printing every estimate (stamp, pair, MI).
#
#   scripts/run_demo.sh [--duration SECONDS] [--params-file FILE] [--device auto|cpu|cuda]
#                       [--no-setup]
#
# Builds first (scripts/setup.sh, idempotent; --no-setup skips it), then starts the nodes with
# `ros2 launch infonet_ros mi.launch.py` where ros2cli and launch_ros are installed, else
# as plain processes. Runs until Ctrl-C, or for --duration seconds; then stops every child
# and exits (0, or 1 when a node died on its own).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"

DURATION=0
PARAMS_FILE="$REPO/config/mi.yaml"
DEVICE=auto
SETUP=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --duration) DURATION="$2"; shift 2 ;;
    --params-file) PARAMS_FILE="$(realpath "$2")"; shift 2 ;;
    --device) DEVICE="$2"; shift 2 ;;
    --no-setup) SETUP=0; shift ;;
    -h|--help) sed -n '4,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run_demo.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
if ! [[ "$DURATION" =~ ^[0-9]+$ ]]; then
  echo "run_demo.sh: --duration needs a whole number of seconds, got '$DURATION'" >&2
  exit 2
fi
[[ -f "$PARAMS_FILE" ]] || { echo "run_demo.sh: no parameters file $PARAMS_FILE" >&2; exit 2; }

log() { echo "[demo] $*"; }

if [[ $SETUP -eq 1 ]]; then
  bash scripts/setup.sh
fi

# The activate and colcon setup scripts read unset variables.
set +u
# shellcheck disable=SC1091
source scripts/python_env.sh
if [[ ! -f install/setup.bash ]]; then
  echo "run_demo.sh: install/setup.bash missing: run scripts/setup.sh (or drop --no-setup)" >&2
  exit 1
fi
# shellcheck disable=SC1091
source install/setup.bash
set -u

# Job control: every child runs in its own process group (stopping the group stops the
# child's children too) and keeps the default SIGINT handling, which a non-interactive shell
# would otherwise set to "ignore" for background commands (rclpy shuts down on SIGINT).
set -m
PIDS=()
start() {
  "$@" &
  PIDS+=("$!")
}

stop_all() {
  trap - INT TERM
  local pid sig
  for sig in INT TERM KILL; do
    for pid in "${PIDS[@]}"; do
      kill -"$sig" -- "-$pid" 2>/dev/null || true
    done
    for _ in 1 2 3 4 5 6 7 8 9 10; do
      local alive=0
      for pid in "${PIDS[@]}"; do
        kill -0 "$pid" 2>/dev/null && alive=1
      done
      [[ $alive -eq 0 ]] && return 0
      sleep 0.5
    done
  done
}

interrupted() {
  echo
  log "stopping"
  stop_all
  exit 0
}
trap interrupted INT TERM

if command -v ros2 >/dev/null 2>&1 && "$PYTHON" -c 'import launch_ros' 2>/dev/null; then
  log "ros2 launch infonet_ros mi.launch.py (params $PARAMS_FILE, device $DEVICE)"
  start ros2 launch infonet_ros mi.launch.py "params_file:=$PARAMS_FILE" "device:=$DEVICE" \
    start_demo:=true echo:=true
else
  log "ros2 launch is not available here: starting demo_source, mi_node and mi_echo directly"
  log "(params $PARAMS_FILE, device $DEVICE)"
  start "$PYTHON" -m infonet_ros.ros.demo_source
  start "$PYTHON" -m infonet_ros.ros.mi_node --ros-args --params-file "$PARAMS_FILE" \
    -p "device:=$DEVICE"
  start "$PYTHON" -m infonet_ros.ros.mi_echo
fi
log "the first estimates appear once the first window is full (10 s of data with the demo" \
  "config); Ctrl-C stops"

# Wait for the duration (0: forever) while every child is alive.
start_s=$SECONDS
while true; do
  for pid in "${PIDS[@]}"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      code=0
      wait "$pid" || code=$?
      log "a node exited on its own (status $code): stopping the demo"
      stop_all
      exit 1
    fi
  done
  if [[ $DURATION -gt 0 && $((SECONDS - start_s)) -ge $DURATION ]]; then
    log "ran for $DURATION s: stopping"
    stop_all
    exit 0
  fi
  sleep 1
done
