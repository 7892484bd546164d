#!/usr/bin/env bash
# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
#
# Run the test suite N times in a row with one core kept busy, and report "K of N runs passed".
#
#   scripts/suite_under_load.sh [-n N] [--no-build] [--run-timeout SECONDS] [pytest arguments]
#
# N defaults to 10. The package is built once (scripts/setup.sh) unless --no-build; then each
# run is `python -m pytest -q -p no:cacheprovider [pytest arguments]` (default: all of test/),
# its output kept in a log folder named at the end. A run that outlives --run-timeout
# (default 3600 s) gets SIGINT (pytest then stops the node processes it started), SIGKILL 120 s
# later, and counts as failed. The CPU burner (one busy shell loop) is started before the
# first run and killed, by its process id, on every exit path. Exit status: 0 when all N runs
# passed, 1 otherwise, 2 on a usage error.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"

runs=10
build=1
run_timeout=3600
pytest_args=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    -n) runs="${2:-}"; shift 2 ;;
    --no-build) build=0; shift ;;
    --run-timeout) run_timeout="${2:-}"; shift 2 ;;
    *) pytest_args+=("$1"); shift ;;
  esac
done
if ! [[ "$runs" =~ ^[1-9][0-9]*$ && "$run_timeout" =~ ^[1-9][0-9]*$ ]]; then
  echo "suite_under_load: -n and --run-timeout take positive integers" >&2
  exit 2
fi

if [[ $build -eq 1 ]]; then
  bash scripts/setup.sh
fi
# The activate and colcon setup scripts read unset variables.
set +u
# shellcheck disable=SC1091
source scripts/python_env.sh
# shellcheck disable=SC1091
source install/setup.bash
set -u
export ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST

logs="$(mktemp -d -t suite_under_load.XXXXXX)"
burner=""
cleanup() {
  if [[ -n "$burner" ]]; then
    kill "$burner" 2>/dev/null || true
    wait "$burner" 2>/dev/null || true
    burner=""
  fi
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT TERM

# One core busy for the whole series: a shell loop, killed by its pid in cleanup.
( while :; do :; done ) &
burner=$!
echo "[suite_under_load] CPU burner pid $burner; logs in $logs"

passed=0
for ((k = 1; k <= runs; k++)); do
  log="$logs/run_$k.log"
  started=$(date +%s)
  set +e
  timeout --signal=INT --kill-after=120 "$run_timeout" \
    "$PYTHON" -m pytest -q -p no:cacheprovider "${pytest_args[@]}" > "$log" 2>&1
  status=$?
  set -e
  took=$(( $(date +%s) - started ))
  if [[ $status -eq 0 ]]; then
    passed=$((passed + 1))
    verdict="passed"
  elif [[ $status -eq 124 || $status -eq 137 ]]; then
    verdict="TIMED OUT after ${run_timeout} s"
  else
    verdict="failed (pytest exit $status)"
  fi
  echo "[suite_under_load] run $k/$runs: $verdict in ${took} s: $(tail -n 1 "$log")"
done
cleanup
echo "[suite_under_load] $passed of $runs runs passed (one core busy; logs in $logs)"
[[ $passed -eq $runs ]]
