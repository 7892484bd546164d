# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Order preservation on many triplets, against the oracle that knows the true densities.

The evaluation (infonet_ros.training.evaluate) counts about 280 triplets per N, where one
misordered triplet moves the share by 0.36 points. This script draws many more (the same random 3-D
Gaussian mixtures and trivariate Gaussians, infonet_ros.training.triplets) and scores, on the
very same samples, each model, KSG and the oracle: the sample mean of the true log density ratio
log p(x, y) / (p(x) p(y)). The oracle is unbiased and its variance, Var(log ratio) / N, is
the efficiency bound of MI estimation, so its share is about the best any estimator can
reach from N points on these triplets: the ceiling against which the 98.9 % target reads.

Besides the shares (the evaluation's rule: true MIs differ by >= delta nats and by >= 4
Monte-Carlo standard errors), it reports the spread of each method's error on the
difference I(X;Y) - I(X;Z), which is what decides the order, and the shares by size of the
true gap.

    python benchmarks/order_ceiling.py [--models default fine fast] [--n 300 1000 5000]
        [--triplets 1000] [--threads 2] [--no-ksg] [--quick] [--name NAME]

Writes benchmarks/results/NAME.{json,md} (NAME: order_ceiling; --quick: order_ceiling_quick);
``--n 1000 --name order_ceiling_n1000`` draws the triplets at N = 1000.
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
from infonet_ros.training.evaluate_report import ORDER_DELTA, order_share  # noqa: E402
from infonet_ros.training.triplets import gaussian_triplets, gmm_triplets  # noqa: E402
import results_io  # noqa: E402  (benchmarks/, the script's own folder)

DELTAS = (ORDER_DELTA, 0.02, 0.05)
GAP_BINS = ((0.01, 0.02), (0.02, 0.05), (0.05, float('inf')))
KINDS = ('gmm', 'gaussian', 'all')
ROWS_PER_PASS = 64  # bounded memory at large N


def batched(est, a, b) -> np.ndarray:
    return np.concatenate([est.estimate_batch(a[i:i + ROWS_PER_PASS], b[i:i + ROWS_PER_PASS])
                           for i in range(0, a.shape[0], ROWS_PER_PASS)])


def run(args) -> list[dict]:
    n_max = max(args.n)
    t0 = time.time()
    sets = [gmm_triplets(args.triplets, n_max), gaussian_triplets(args.triplets, n_max)]
    print(f'triplets and truths: {time.time() - t0:.0f} s', flush=True)
    estimators = {m: InfoNetEstimator.from_pretrained(m, device='cpu') for m in args.models}
    rows = []
    for n in args.n:
        for full in sets:
            tr = full.head(n)
            results = {'oracle': tr.oracle()}
            for name, est in estimators.items():
                results[name] = (batched(est, tr.x, tr.y), batched(est, tr.x, tr.z))
            if not args.no_ksg:
                results['KSG'] = tuple(np.array([ksg_mi(tr.x[i], o[i])
                                                 for i in range(tr.x.shape[0])])
                                       for o in (tr.y, tr.z))
            for method, (a, b) in results.items():
                rows += [{'n': n, 'kind': tr.kind, 'method': method, 'triplet': i,
                          'i_xy': float(tr.i_xy[i]), 'i_xz': float(tr.i_xz[i]),
                          'se_xy': float(tr.se_xy[i]), 'se_xz': float(tr.se_xz[i]),
                          'est_xy': float(a[i]), 'est_xz': float(b[i])}
                         for i in range(tr.x.shape[0])]
            print(f'N={n} {tr.kind}: {time.time() - t0:.0f} s', flush=True)
    return rows


def compact(rows) -> list[dict]:
    """Group the records as arrays per N and kind: truths once, estimates per method."""
    out = {}
    for r in rows:
        key = (r['n'], r['kind'])
        if key not in out:
            out[key] = {'n': r['n'], 'kind': r['kind'], 'triplet': [], 'i_xy': [], 'i_xz': [],
                        'se_xy': [], 'se_xz': [], 'estimates': {}}
        g = out[key]
        est = g['estimates'].setdefault(r['method'], {'xy': [], 'xz': []})
        if r['method'] == next(iter(g['estimates'])):  # the first method brings the truths
            for k in ('triplet', 'i_xy', 'i_xz', 'se_xy', 'se_xz'):
                g[k].append(r[k] if k == 'triplet' else round(r[k], 6))
        est['xy'].append(round(r['est_xy'], 6))
        est['xz'].append(round(r['est_xz'], 6))
    return list(out.values())


def _pick(rows, n, kind, method):
    return [r for r in rows if r['n'] == n and r['method'] == method
            and (kind == 'all' or r['kind'] == kind)]


def _gap_error_sd(sel) -> float:
    """Spread of the error on I(X;Y) - I(X;Z) over all the triplets (nats)."""
    err = [(r['est_xy'] - r['est_xz']) - (r['i_xy'] - r['i_xz']) for r in sel]
    return float(np.std(err)) if err else float('nan')


def tables(rows, methods, ns) -> tuple[list[str], list[dict]]:
    lines, summary = [], []
    lines += ['', '### Share of triplets in the true order (counted triplets)', '',
              '| N | triplets | method | ' + ' | '.join(f'delta = {d}' for d in DELTAS)
              + ' | error sd of the gap (nats) |',
              '|---|---|---|' + '---|' * (len(DELTAS) + 1)]
    for n in ns:
        for kind in KINDS:
            for m in methods:
                sel = _pick(rows, n, kind, m)
                cells = []
                for d in DELTAS:
                    share, counted, _ = order_share(sel, d)
                    summary.append({'n': n, 'kind': kind, 'method': m, 'delta': d,
                                    'share': share, 'counted': counted})
                    cells.append(f'{100 * share:.1f} % ({counted})')
                sd = _gap_error_sd(sel)
                summary[-1]['gap_error_sd'] = sd
                lines.append(f'| {n} | {kind} | {m} | ' + ' | '.join(cells) + f' | {sd:.3f} |')
    lines += ['', '### Share in the true order by size of the true gap |I(X;Y) - I(X;Z)| '
              '(all triplets; counted in parentheses)', '',
              '| N | method | ' + ' | '.join(f'{lo:g} to {hi:g}' for lo, hi in GAP_BINS)
              + ' |', '|---|---|' + '---|' * len(GAP_BINS)]
    for n in ns:
        for m in methods:
            sel = _pick(rows, n, 'all', m)
            cells = []
            for lo, hi in GAP_BINS:
                inside = [r for r in sel if abs(r['i_xy'] - r['i_xz']) < hi]
                share, counted, _ = order_share(inside, lo)
                cells.append(f'{100 * share:.1f} % ({counted})')
            lines.append(f'| {n} | {m} | ' + ' | '.join(cells) + ' |')
    return lines, summary


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--n', type=int, nargs='+', default=[300, 1000, 5000])
    ap.add_argument('--triplets', type=int, default=1000, help='per kind (GMM, Gaussian)')
    results_io.add_run_arguments(ap, 'order_ceiling')
    return ap


def main(argv=None):
    args = results_io.parse(build_parser(), argv, __file__)
    if args.quick:
        args.models, args.n, args.triplets = ['default'], [300], 40
    torch.set_num_threads(args.threads)
    t0 = time.time()
    rows = run(args)
    methods = list(args.models) + ([] if args.no_ksg else ['KSG']) + ['oracle']
    lines = ['# Order preservation against the oracle', '',
             f'{results_io.stamp(args.threads)}; {args.triplets} random 3-D GMM triplets '
             f'(K <= 10) and {args.triplets} random trivariate Gaussian triplets, drawn once '
             f'at N = {max(args.n)} (smaller N: their first points); every method sees the '
             'same samples. "oracle" is no estimator: the mean of the true log density ratio '
             'over the sample, whose variance is the efficiency bound. A triplet counts when '
             'its true MIs differ by at least delta nats and 4 Monte-Carlo standard errors; '
             f'the primary rule is delta = {ORDER_DELTA}; {time.time() - t0:.0f} s.']
    body, summary = tables(rows, methods, args.n)
    results_io.write(args, {**results_io.run_facts(args), 'summary': summary,
                            'records': compact(rows)}, lines + body)


if __name__ == '__main__':
    main()
