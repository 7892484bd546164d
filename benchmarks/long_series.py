# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Accuracy on series longer than the training sets: one forward pass or interleaved subsets.

The shipped models were trained on sets of 64 to 2048 samples. The estimator reads a longer
series as interleaved subsets of at most that size, estimated in one batch and averaged
(``max_set_size``, infonet_ros.core.estimator); ``max_set_size=0`` feeds the whole series to the
network at once. This script measures both against the ground truth of the evaluation's
Gaussian, unseen and held-out shape cases (infonet_ros.training.groundtruth), with KSG on the same
samples, at N from 1,000 to 100,000.

    python benchmarks/long_series.py [--models default fine fast] [--n 1000 5000 20000 100000]
        [--seeds 3] [--threads 2] [--no-ksg] [--quick] [--name NAME]

Writes benchmarks/results/NAME.{json,md} (NAME: long_series; --quick: long_series_quick).
"""

import argparse
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from infonet_ros.core.estimator import InfoNetEstimator  # noqa: E402
from infonet_ros.core.ksg import ksg_mi  # noqa: E402
from infonet_ros.training import groundtruth  # noqa: E402
import results_io  # noqa: E402  (benchmarks/, the script's own folder)

SECTIONS = {
    'gaussian': lambda: [groundtruth.gaussian_case(r) for r in groundtruth.GAUSSIAN_RHOS],
    'unseen': groundtruth.unseen_cases,
    'shapes': groundtruth.shape_cases,
}
VARIANTS = ('subsets', 'whole')  # max_set_size from the checkpoint, and 0


def draw(case, n: int, seeds: int, section_id: int) -> tuple[np.ndarray, np.ndarray]:
    """(seeds, n) samples of a case; the same for every model and method."""
    rows = [case.sample(n, np.random.default_rng([section_id, n, s])) for s in range(seeds)]
    return np.stack([r[0] for r in rows]), np.stack([r[1] for r in rows])


def run(args) -> list[dict]:
    estimators = {}
    for name in args.models:
        base = InfoNetEstimator.from_pretrained(name, device='cpu')
        estimators[name] = {'subsets': base,
                            'whole': InfoNetEstimator(base.model, 'cpu', base.provenance,
                                                      max_set_size=0)}
    records = []
    for sid, (section, make) in enumerate(SECTIONS.items()):
        if section not in args.sections:
            continue
        for ci, case in enumerate(make()):
            for n in args.n:
                x, y = draw(case, n, args.seeds, 100 * sid + ci)
                rec = {'section': section, 'family': case.family, 'label': case.label,
                       'truth': case.truth, 'n': n, 'estimates': {}, 'seconds': {}}
                for name, variants in estimators.items():
                    for variant, est in variants.items():
                        t0 = time.perf_counter()
                        values = est.estimate_batch(x, y)
                        rec['seconds'][f'{name}/{variant}'] = time.perf_counter() - t0
                        rec['estimates'][f'{name}/{variant}'] = values.tolist()
                if not args.no_ksg:
                    t0 = time.perf_counter()
                    rec['estimates']['KSG'] = [ksg_mi(a, b) for a, b in zip(x, y)]
                    rec['seconds']['KSG'] = time.perf_counter() - t0
                records.append(rec)
                print(f'{section} {case.label} N={n}: truth {case.truth:.3f}, '
                      + ', '.join(f'{k} {np.mean(v):.3f}' for k, v in rec['estimates'].items()),
                      flush=True)
    return records


def summary(records: list[dict], methods: list[str], sections, ns) -> list[str]:
    """Markdown tables: MAE and bias (mean of estimate - truth) by section, N and method."""
    lines = []
    for stat in ('MAE', 'bias'):
        lines += ['', f'### {stat} (nats), mean over cases and seeds', '',
                  '| section | N | ' + ' | '.join(methods) + ' |',
                  '|---|---' + '|---' * len(methods) + '|']
        for section in sections:
            for n in ns:
                rows = [r for r in records if r['section'] == section and r['n'] == n]
                if not rows:
                    continue
                cells = []
                for m in methods:
                    err = np.concatenate([np.asarray(r['estimates'][m]) - r['truth']
                                          for r in rows])
                    cells.append(f'{np.abs(err).mean():.3f}' if stat == 'MAE'
                                 else f'{err.mean():+.3f}')
                lines.append(f'| {section} | {n} | ' + ' | '.join(cells) + ' |')
    return lines


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--n', type=int, nargs='+', default=[1000, 5000, 20000, 100000])
    ap.add_argument('--seeds', type=int, default=3)
    ap.add_argument('--sections', nargs='+', default=list(SECTIONS), choices=list(SECTIONS))
    results_io.add_run_arguments(ap, 'long_series')
    return ap


def main(argv=None):
    args = results_io.parse(build_parser(), argv, __file__)
    if args.quick:
        args.models, args.n, args.seeds, args.sections = ['default'], [1000, 5000], 1, \
            ['gaussian']
    torch.set_num_threads(args.threads)
    t0 = time.time()
    records = run(args)
    methods = [f'{m}/{v}' for m in args.models for v in VARIANTS]
    methods += [] if args.no_ksg else ['KSG']
    lines = ['# Long series: interleaved subsets against one forward pass', '',
             f'{results_io.stamp(args.threads)}; {args.seeds} seeds per case and N, the same '
             f'samples for every method; "subsets": the estimator as shipped (sets of at most '
             f'the largest training N), "whole": max_set_size=0; {time.time() - t0:.0f} s.']
    lines += summary(records, methods, args.sections, args.n)
    results_io.write(args, {**results_io.run_facts(args), 'records': records}, lines)


if __name__ == '__main__':
    main()
