#!/bin/bash
# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
#
# What the supervised Huber term of the training objective buys: two runs of the default
# histogram model from scratch, identical (seed, data, 2500 steps, schedule by steps) except
# --sup-weight 0 (the InfoNet authors' objective, DV bound only) and 1, then both evaluated
# on the same samples by model_tradeoff.py.
#
#   bash benchmarks/supervision_ablation.sh [WORK_DIR]    # ~30 min on 2 CPU cores
#
# Writes benchmarks/results/supervision_ablation.{json,md}, headed by this script's command
# (BENCHMARK_COMMAND, see results_io.py): the checkpoints in WORK_DIR are scratch.
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-ablation_runs}
mkdir -p "$work"
py=${PYTHON:-python}
for w in 0 1; do
  PYTHONPATH=. "$py" -m infonet_ros.cli train --out "$work/sup$w.pt" --d-model 32 \
    --n-latents 16 --n-fourier 8 --threads 1 --steps 2500 --no-progress --seed 11 \
    --sup-weight "$w"
done
BENCHMARK_COMMAND='bash benchmarks/supervision_ablation.sh' PYTHONPATH=. \
  "$py" benchmarks/model_tradeoff.py --weights "$work/sup0.pt" "$work/sup1.pt" \
  --name supervision_ablation --calls 10 --threads 1 \
  --title 'Supervision ablation: DV bound only (sup0) vs DV + Huber to the true MI (sup1)'
