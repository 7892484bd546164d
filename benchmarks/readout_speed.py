# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Time of the readout's e^T integral per table, by rule and implementation.

The bilinear rule (infonet_ros.core.readout.log_mean_exp_bilinear) has two implementations of
the same numbers: one that autograd differentiates exactly (training, ``mi_torch``) and a
branch-free one in log space that estimates and traces run. Its cost does not depend on N,
so it weighs most on short windows (the bag analysis reads 256 points per window): this
script times both, and the midpoint rule, on random tables (~2 nats spread) of the trained
models' sizes, interleaved so that load drift hits all alike, and reports the largest
difference between the two bilinear implementations.

    python benchmarks/readout_speed.py [--batch 64 1024] [--grids 64 128] [--reps 15]
        [--threads 2] [--quick] [--name NAME]

Writes benchmarks/results/NAME.{json,md} (NAME: readout_speed; --quick: readout_speed_quick).
"""

import argparse
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from infonet_ros.core.readout import (_bilinear_autograd, _bilinear_inference,  # noqa: E402
                                      log_mean_exp_table)
import results_io  # noqa: E402  (benchmarks/, the script's own folder)

RULES = {'bilinear, autograd form': _bilinear_autograd,
         'bilinear, inference form': _bilinear_inference,
         'midpoint': log_mean_exp_table}


def time_rules(batch: int, grid: int, reps: int) -> dict:
    """Median ms per call of each rule on one (batch, G, G) table of spread ~2 nats."""
    gen = torch.Generator().manual_seed(batch * 1000 + grid)
    table = 2.0 * torch.randn(batch, grid, grid, generator=gen)  # (B, G, G)
    times = {name: [] for name in RULES}
    with torch.no_grad():
        for fn in RULES.values():
            fn(table)  # warm up allocations
        for _ in range(reps):
            for name, fn in RULES.items():
                t0 = time.perf_counter()
                fn(table)
                times[name].append(1e3 * (time.perf_counter() - t0))
        gap = (_bilinear_inference(table) - _bilinear_autograd(table)).abs().max().item()
    return {'batch': batch, 'grid': grid,
            'ms': {k: float(np.median(v)) for k, v in times.items()},
            'max_abs_difference': gap}


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--batch', type=int, nargs='+', default=[64, 1024])
    ap.add_argument('--grids', type=int, nargs='+', default=[64, 128])
    ap.add_argument('--reps', type=int, default=15)
    ap.add_argument('--threads', type=int, default=2)
    results_io.add_output_arguments(ap, 'readout_speed')
    return ap


def main(argv=None):
    args = results_io.parse(build_parser(), argv, __file__)
    if args.quick:
        args.batch, args.grids, args.reps = [16], [32], 3
    torch.set_num_threads(args.threads)
    load_before = os.getloadavg()[0]
    rows = [time_rules(b, g, args.reps) for g in args.grids for b in args.batch]
    load_after = os.getloadavg()[0]
    lines = ['# Readout integral: time per batch of tables', '',
             f'{results_io.stamp(args.threads)}; load average {load_before:.1f} before, '
             f'{load_after:.1f} after; median of {args.reps} interleaved calls, no autograd.',
             '', '| tables | G | ' + ' | '.join(f'{k} (ms)' for k in RULES)
             + ' | autograd / inference | max abs difference (nats) |',
             '|---|---' + '|---' * len(RULES) + '|---|---|']
    for r in rows:
        ms = r['ms']
        speedup = ms['bilinear, autograd form'] / ms['bilinear, inference form']
        lines.append(f"| {r['batch']} | {r['grid']} | "
                     + ' | '.join(f'{ms[k]:.2f}' for k in RULES)
                     + f" | {speedup:.2f} | {r['max_abs_difference']:.1e} |")
    facts = results_io.run_facts(args, load_before=load_before, load_after=load_after)
    results_io.write(args, {**facts, 'rows': rows}, lines)


if __name__ == '__main__':
    main()
