#!/usr/bin/env bash
# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
#
# Convert the shipped Xsens walking recordings (thigh and shank IMU, 120 Hz) into a rosbag2 of
# sensor_msgs/Imu and analyze how the 6 channels of the thigh share information with the 6 of
# the shank: 36 channel pairs, windows of 256 samples (2.1 s, about two strides), an update
# every 12 samples, with a time-shuffled control and KSG (k=3) on the same windows; then three
# pairs with windows of 64 samples (0.53 s, half a stride) to follow the gait cycle.
# See docs/bag_analysis.md.
#
#   examples/walking_analysis.sh [OUTPUT_DIR]        (default: walking_analysis)
#
# Uses `infonet-ros` when it is on PATH, else `python3 -m infonet_ros.cli.main` (set PYTHON to
# choose the interpreter, e.g. PYTHON=.venv/bin/python).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-walking_analysis}"
data="${repo}/data/xsens_walking"
if command -v infonet-ros > /dev/null 2>&1; then
  cli=(infonet-ros)
else
  cli=("${PYTHON:-python3}" -m infonet_ros.cli.main)
  export PYTHONPATH="${repo}${PYTHONPATH:+:${PYTHONPATH}}"
fi

mkdir -p "${out}"
"${cli[@]}" imu-to-bag --overwrite -o "${out}/walking_bag" \
  "/thigh/imu=${data}/walking_xsens_upperLeg.txt" \
  "/shank/imu=${data}/walking_xsens_lowerLeg.txt"

imu6='linear_acceleration.x,linear_acceleration.y,linear_acceleration.z'
imu6+=',angular_velocity.x,angular_velocity.y,angular_velocity.z'
"${cli[@]}" analyze "${out}/walking_bag" -o "${out}/analysis" --overwrite \
  --matrix "legs=/thigh/imu:${imu6} ~ /shank/imu:${imu6}" \
  --window 256 --update-every 12 --sync-mode interpolate \
  --shuffle-control --ksg --matrix-at 2.5 --matrix-at 15.0 "${@:2}"

# Within the gait cycle: short windows, an update every 3 samples, 6 s of steady walking.
"${cli[@]}" analyze "${out}/walking_bag" -o "${out}/analysis_gait" --overwrite \
  --pair '/thigh/imu:angular_velocity.z ~ /shank/imu:angular_velocity.z' \
  --pair '/thigh/imu:linear_acceleration.x ~ /shank/imu:linear_acceleration.x' \
  --pair '/thigh/imu:angular_velocity.z ~ /shank/imu:linear_acceleration.x' \
  --pair-name gyro_z --pair-name acc_x --pair-name thigh_gyro_z_shank_acc_x \
  --window 64 --update-every 3 --sync-mode interpolate --shuffle-control \
  --plot-range 14 20 "${@:2}"
