# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Accuracy cost of running InfoNet's stages in bfloat16 or float16, per model, family and N.

For each shipped model (``--models``) the same sample sets go through three traced
estimators (``InfoNetEstimator.from_pretrained(model, precision=P, jit=True)``, P in fp32,
bf16, fp16; :mod:`infonet_ros.core.precision`). The sets are the evaluation families of
:mod:`infonet_ros.training.groundtruth`, drawn once with the seed streams of
``infonet-ros evaluate`` (``default_rng([section, case, seed, N])``,
:data:`infonet_ros.training.evaluate.SECTION_IDS`; seed 0 is the evaluation's own sample):

- gaussian: bivariate Gaussians, rho in ``GAUSSIAN_RHOS``;
- gmm: ``--gmm`` random mixtures of the training family (Monte-Carlo truths);
- unseen: the families kept out of training (uniform noise, Student-t, monotone, bimodal);
- quantized: rounded Gaussian pairs (ties);
- shapes: uniform on a triangle and on rings,

``--seeds`` sample sets per case and N (``--ns``). Per model, family and N: MAE against the
true MI in fp32, the MAE change of each reduced precision (MAE_P - MAE_fp32; positive: less
accurate) and the mean and largest |estimate_P - estimate_fp32|. The summary gives per model
and precision the largest MAE change over families and N and whether it is below
``precision.MAX_ACCURACY_COST`` (0.002 nats), the rule by which ``precision='auto'`` picks
bf16 on a CPU with bfloat16 instructions. fp16 on a CPU is emulated: slow, but its numbers
are those of float16 stages (the last convolution and the readout stay float32 in both).

    python benchmarks/precision_accuracy.py [--models default fine fast] [--ns 256 1000]
        [--seeds 200] [--gmm 40] [--threads 2] [--update-package] [--quick] [--name NAME]

Writes benchmarks/results/NAME.{json,md} (NAME: precision_accuracy; --quick: *_quick).
``--update-package`` also writes infonet_ros/core/weights/precision_cost.json, which 'auto'
reads (``precision.measured_cost``): for each model measured, its content hash -> {precision:
largest MAE change, 6 decimals}, merged with the entries of other checkpoints. Full settings
only: a quick run's numbers are too noisy to decide with.
"""

import argparse
import json
import os
import platform
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from infonet_ros.core import precision  # noqa: E402
from infonet_ros.core.estimator import estimate_rows, InfoNetEstimator  # noqa: E402
from infonet_ros.core.model import resolve_weights  # noqa: E402
from infonet_ros.training import groundtruth as gt  # noqa: E402
from infonet_ros.training.evaluate import SECTION_IDS  # noqa: E402
from infonet_ros.training.result_files import weights_identity  # noqa: E402
import results_io  # noqa: E402  (benchmarks/, the script's own folder)

FAMILIES = ('gaussian', 'gmm', 'unseen', 'quantized', 'shapes')
PRECISIONS = ('fp32', 'bf16', 'fp16')
REDUCED = PRECISIONS[1:]
# Rows per estimate_batch call: bounds memory (~2 MB per row) at any --seeds.
ROWS_PER_CALL = 64


def family_cases(gmm_count: int) -> dict:
    """Return the evaluation cases of each family, truths computed (the gmm ones take a while)."""
    return {'gaussian': [gt.gaussian_case(rho) for rho in gt.GAUSSIAN_RHOS],
            'gmm': gt.gmm_cases(gmm_count),
            'unseen': gt.unseen_cases(),
            'quantized': gt.quantized_cases(),
            'shapes': gt.shape_cases()}


def draw_sets(cases: dict, ns, seeds: int) -> dict:
    """
    Draw every sample set once: {(family, N): (x (S, N), y (S, N), truth (S,), labels)}.

    S = cases x seeds; set (case i, seed s) comes from ``default_rng([section, i, s, N])``.
    """
    sets = {}
    for family, fam_cases in cases.items():
        for n in ns:
            xs, ys, truth, labels = [], [], [], []
            for i, case in enumerate(fam_cases):
                for seed in range(seeds):
                    x, y = case.sample(n, np.random.default_rng([SECTION_IDS[family], i, seed, n]))
                    xs.append(x)
                    ys.append(y)
                    truth.append(case.truth)
                    labels.append(case.label)
            sets[family, n] = (np.stack(xs), np.stack(ys), np.array(truth), labels)
    return sets


def measure_model(weights: str, sets: dict, log) -> dict:
    """Estimate every set in each precision; return the model's identity and its rows."""
    t0 = time.perf_counter()
    values, info = {}, {}
    for p in PRECISIONS:
        est = InfoNetEstimator.from_pretrained(weights, device='cpu', precision=p, jit=True)
        if est.precision != p or est.jit_failure:
            raise RuntimeError(f'{weights} {p}: ran {est.precision}, jit failure '
                               f'{est.jit_failure!r}')
        info = {'weights': os.path.basename(resolve_weights(weights)),
                'content_hash': est.model.content_hash,
                'provenance': weights_identity(est.provenance)}
        tp = time.perf_counter()
        for key, (x, y, _, _) in sets.items():
            values[p, key] = estimate_rows(est, x, y, ROWS_PER_CALL)
        log(f'{weights} {p}: {time.perf_counter() - tp:.0f} s')
    rows = []
    for family, n in sets:
        truth = sets[family, n][2]
        base = values['fp32', (family, n)]
        row = {'family': family, 'n': n, 'sets': len(truth),
               'mae_fp32': float(np.mean(np.abs(base - truth)))}
        for p in REDUCED:
            est_p = values[p, (family, n)]
            gap, mae = np.abs(est_p - base), float(np.mean(np.abs(est_p - truth)))
            row[p] = {'mae': mae, 'mae_change': mae - row['mae_fp32'],
                      'mean_abs_diff': float(np.mean(gap)),
                      'max_abs_diff': float(np.max(gap))}
        rows.append(row)
    return {'model': weights, **info, 'rows': rows,
            'summary': summarize(rows), 'seconds': time.perf_counter() - t0}


def summarize(rows: list) -> dict:
    """Per reduced precision: the largest MAE change over families and N, where, and the rule."""
    out = {}
    for p in REDUCED:
        worst = max(rows, key=lambda r: r[p]['mae_change'])
        out[p] = {'largest_mae_change': worst[p]['mae_change'], 'family': worst['family'],
                  'n': worst['n'], 'max_abs_diff': max(r[p]['max_abs_diff'] for r in rows),
                  'below_limit': worst[p]['mae_change'] < precision.MAX_ACCURACY_COST}
    return out


def update_package(models: list, path: str = precision.MEASURED_COST) -> dict:
    """Merge each model's largest MAE change per precision into ``path``; return the table."""
    table = {}
    if os.path.isfile(path):
        with open(path) as f:
            table = json.load(f)
    for m in models:
        if not m['content_hash']:  # 'auto' looks costs up by hash: nothing to key it by
            print(f'{m["model"]}: checkpoint without a content hash, not written',
                  file=sys.stderr)
            continue
        table[m['content_hash']] = {p: round(m['summary'][p]['largest_mae_change'], 6)
                                    for p in REDUCED}
    with open(path, 'w') as f:  # the package's data file, not a result: no results_io
        f.write(json.dumps(table, indent=1, sort_keys=True) + '\n')
    print(f'wrote {path}', file=sys.stderr)
    return table


def cpu_name() -> str:
    """Return the CPU's model name (/proc/cpuinfo), else what platform knows."""
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def markdown(args, models: list, env: dict, seconds: float) -> list:
    limit = precision.MAX_ACCURACY_COST
    lines = ['# Accuracy cost of bfloat16 and float16 stages', '',
             f'{results_io.stamp(args.threads)}; CPU {env["cpu"]}, bfloat16 instructions: '
             f'{"yes" if env["cpu_has_bf16"] else "no"}; traced estimators; {args.seeds} '
             f'sample sets per case and N, {args.gmm} mixtures; {seconds:.0f} s.', '',
             'MAE change = MAE_P - MAE_fp32 against the true MI (nats; positive: P is less '
             'accurate), on the same samples. |diff| = |estimate_P - estimate_fp32|. '
             f"'auto' picks bf16 on a CPU with bfloat16 instructions when the largest MAE "
             f'change of bf16 is below {limit:g} nats.', '',
             '## Summary: largest MAE change over families and N', '',
             '| model | precision | largest MAE change | at | largest abs diff | '
             f'below {limit:g} |', '|---|---|---:|---|---:|---|']
    for m in models:
        for p in REDUCED:
            s = m['summary'][p]
            lines.append(f'| {m["model"]} | {p} | {s["largest_mae_change"]:+.5f} | '
                         f'{s["family"]}, N = {s["n"]} | {s["max_abs_diff"]:.4f} | '
                         f'{"yes" if s["below_limit"] else "no"} |')
    for m in models:
        lines += ['', f'## {m["model"]} ({m["weights"]}, {m["seconds"]:.0f} s)', '',
                  '| family | N | sets | MAE fp32 | ' + ' | '.join(
                      f'MAE change {p} | mean abs diff {p} | max abs diff {p}' for p in REDUCED)
                  + ' |', '|---|---:|---:|---:' + '|---:' * 3 * len(REDUCED) + '|']
        for r in m['rows']:
            cells = [f'{r[p]["mae_change"]:+.5f} | {r[p]["mean_abs_diff"]:.5f} | '
                     f'{r[p]["max_abs_diff"]:.4f}' for p in REDUCED]
            lines.append(f'| {r["family"]} | {r["n"]} | {r["sets"]} | {r["mae_fp32"]:.4f} | '
                         + ' | '.join(cells) + ' |')
    return lines


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__.strip().split('\n')[0])
    ap.add_argument('--models', nargs='+', default=['default', 'fine', 'fast'],
                    help="shipped models ('default', 'fine', 'fast') or checkpoint files")
    ap.add_argument('--ns', type=int, nargs='+', default=[256, 1000], help='sample sizes')
    ap.add_argument('--seeds', type=int, default=200, help='sample sets per case and N')
    ap.add_argument('--gmm', type=int, default=40, help='random Gaussian mixtures')
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--update-package', action='store_true',
                    help='also write infonet_ros/core/weights/precision_cost.json')
    results_io.add_output_arguments(ap, 'precision_accuracy')
    return ap


def main(argv=None):
    ap = build_parser()
    args = results_io.parse(ap, argv, __file__)
    if args.quick and args.update_package:
        ap.error('--update-package needs the full settings (not --quick)')
    if args.quick:
        args.ns, args.seeds, args.gmm = [256], 2, 4
    torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    sets = draw_sets(family_cases(args.gmm), args.ns, args.seeds)
    print(f'{sum(len(v[2]) for v in sets.values())} sample sets drawn: '
          f'{time.perf_counter() - t0:.0f} s', file=sys.stderr)
    models = [measure_model(w, sets, lambda s: print(s, file=sys.stderr)) for w in args.models]
    seconds = time.perf_counter() - t0
    env = {'cpu': cpu_name(), 'cpu_has_bf16': precision.cpu_has_bf16(),
           'threads': torch.get_num_threads(),
           'date': results_io.stamp(args.threads).split(';')[0]}
    payload = {**results_io.run_facts(args, **env), 'seconds': seconds,
               'max_accuracy_cost': precision.MAX_ACCURACY_COST, 'models': models}
    results_io.write(args, payload, markdown(args, models, env, seconds))
    if args.update_package:
        update_package(models)
    return 0


if __name__ == '__main__':
    sys.exit(main())
