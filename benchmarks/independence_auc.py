# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
High-dimensional independence detection: ROC-AUC and time of sliced InfoNet MI vs dCor/HSIC.

The InfoNet authors' experiment: X ~ N(0, I_d), Z ~ N(0, I_d); dependent case
Y = (1^T X / sqrt(d) * 1 + Z) / sqrt(2); independent case Y = Z drawn apart from X (the
authors' null; ``--null same-marginal`` instead draws Y with the dependent case's marginal from
an independent copy of X). For each (d, n), ``--trials`` dependent and as many independent
data sets; the ROC-AUC of each statistic separates the two groups. All methods read the same
samples. Statistics: sliced InfoNet MI (mean over ``--n-slices`` random projections),
distance correlation (``dcor``), and HSIC with a Gaussian kernel (``hyppo``, if installed).

Times: mean wall time of one statistic per data set, and at the largest n one full permutation
test per method with ``--n-permutations`` permutations (infonet_ros.core.independence_test,
dcor.independence.distance_covariance_test, hyppo Hsic().test(auto=False)).

    python benchmarks/independence_auc.py                # full run (~3 min on 2 idle cores)
    python benchmarks/independence_auc.py --quick        # smoke run
    python benchmarks/independence_auc.py --weights fast --threads 1 --name independence_auc_fast

Writes benchmarks/results/NAME.{json,md} (NAME: independence_auc; --quick: *_quick), after
every row, so that a long run leaves its rows so far. ``--merge A.json B.json`` combines runs
on different ``--dims`` into NAME.
"""

import argparse
import datetime
import json
import os
import platform
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from infonet_ros.core.estimator import estimate_rows, InfoNetEstimator  # noqa: E402
from infonet_ros.core.independence import independence_test  # noqa: E402
from infonet_ros.core.pls import pls_mi  # noqa: E402
from infonet_ros.core.sliced import DEFAULT_SEED, project_slices  # noqa: E402
import results_io  # noqa: E402  (benchmarks/, the script's own folder)

# ROC-AUC reported by the InfoNet authors for this experiment (their notebook, 1024 slices).
AUTHORS_AUC = {16: {50: 0.9608, 100: 1.0, 150: 1.0, 200: 1.0, 250: 1.0, 300: 1.0},
               128: {50: 0.5972, 100: 0.806, 150: 0.8696, 200: 0.9364, 250: 0.9632,
                     300: 0.9952}}


def make_pair(rng, d, n, dependent, null='standard'):
    """One data set of the authors' experiment: (X, Y), both (n, d)."""
    x = rng.standard_normal((n, d))
    z = rng.standard_normal((n, d))
    if dependent:
        src = x
    elif null == 'standard':
        return x, z
    else:
        src = rng.standard_normal((n, d))  # independent copy: same marginal for Y
    common = src.sum(axis=1, keepdims=True) / np.sqrt(d)  # (n, 1)
    return x, (common * np.ones((1, d)) + z) / np.sqrt(2.0)


def roc_auc(pos, neg):
    """P(statistic of a dependent set > that of an independent one), ties count 1/2."""
    pos, neg = np.asarray(pos)[:, None], np.asarray(neg)[None, :]
    return float(np.mean((pos > neg) + 0.5 * (pos == neg)))


def load_baselines():
    """{name: (statistic(x, y), test(x, y, P, seed) -> p)} for the installed libraries."""
    methods, notes = {}, []
    try:
        import dcor

        def dcor_test(x, y, p, seed):
            return dcor.independence.distance_covariance_test(
                x, y, num_resamples=p, random_state=seed).pvalue

        methods['dcor'] = (lambda x, y: float(dcor.distance_correlation(x, y)), dcor_test)
        # The plain (V-statistic) dCor has a bias that depends on the marginal of Y, which
        # differs between the authors' two cases; the bias-corrected one does not.
        methods['dcor_u'] = (lambda x, y: float(dcor.u_distance_correlation_sqr(x, y)),
                             dcor_test)
    except ImportError:
        notes.append('dcor not installed: dCor column skipped')
    try:
        from hyppo.independence import Hsic

        def hsic_test(x, y, p, seed):
            return Hsic().test(x, y, reps=p, workers=1, auto=False, random_state=seed)[1]

        methods['hsic'] = (lambda x, y: float(Hsic().statistic(x, y)), hsic_test)
    except ImportError:
        notes.append('hyppo not installed (pip install hyppo): HSIC column skipped')
    # Both libraries compile numba kernels on first use: warm them up outside the timings.
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((40, 3)), rng.standard_normal((40, 3))
    for stat, test in methods.values():
        stat(x, y)
        test(x, y, 3, 0)
    return methods, notes


def timed(fn, *args, **kwargs):
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t0


# Runs of each permutation test; the median time counts (single runs of these 0.03-0.5 s
# calls varied by 2x between two runs minutes apart on this VM).
TEST_REPEATS = 5


def timed_median(fn, *args, **kwargs):
    """Run ``fn`` TEST_REPEATS times; return the last result and the median wall time."""
    times = []
    for _ in range(TEST_REPEATS):
        out, dt = timed(fn, *args, **kwargs)
        times.append(dt)
    return out, float(np.median(times))


def slice_counts(total):
    """Prefix slice counts reported beside the full count: 8, 16, 32, ... and ``total``."""
    counts = [k for k in (2 ** i for i in range(3, 20)) if k < total]
    return counts + [total]


def infonet_prefix_stats(est, x, y, n_slices):
    """
    Sliced MI with the first k slices for every k of slice_counts, from one pass.

    The first k directions do not depend on n_slices, so each entry equals
    ``sliced_mi(x, y, k, seed=DEFAULT_SEED)``.
    """
    xs, ys = project_slices(x, y, n_slices, DEFAULT_SEED)
    per_slice = estimate_rows(est, xs, ys)
    csum = np.cumsum(per_slice)
    return {k: float(csum[k - 1] / k) for k in slice_counts(n_slices)}


def run(args, est, baselines, on_row):
    methods = ['infonet', 'infonet_pls'] + list(baselines)
    rows = []
    for d in args.dims:
        n_slices = args.slices_for[d]
        counts = slice_counts(n_slices)
        for n in args.sizes:
            rng = np.random.default_rng([args.seed, d, n])
            scores = {m: {True: [], False: []} for m in methods}
            prefix = {k: {True: [], False: []} for k in counts}
            times = {m: [] for m in methods}
            for dependent in (True, False):
                for _ in range(args.trials):
                    x, y = make_pair(rng, d, n, dependent, args.null)
                    stats, dt = timed(infonet_prefix_stats, est, x, y, n_slices)
                    for k in counts:
                        prefix[k][dependent].append(stats[k])
                    scores['infonet'][dependent].append(stats[n_slices])
                    times['infonet'].append(dt)
                    s, dt = timed(pls_mi, x, y, estimator=est)
                    scores['infonet_pls'][dependent].append(s)
                    times['infonet_pls'].append(dt)
                    for m, (stat, _) in baselines.items():
                        s, dt = timed(stat, x, y)
                        scores[m][dependent].append(s)
                        times[m].append(dt)
            row = {'d': d, 'n': n, 'n_slices': n_slices,
                   'authors_auc': AUTHORS_AUC.get(d, {}).get(n)}
            for m in methods:
                row[f'{m}_auc'] = roc_auc(scores[m][True], scores[m][False])
                row[f'{m}_stat_s'] = float(np.mean(times[m]))
            row['infonet_auc_by_slices'] = {str(k): roc_auc(prefix[k][True], prefix[k][False])
                                            for k in counts}
            row['infonet_mean_dependent'] = float(np.mean(scores['infonet'][True]))
            row['infonet_mean_independent'] = float(np.mean(scores['infonet'][False]))
            rows.append(row)
            print(fmt_row(row, methods), flush=True)
            on_row(methods, rows, [])
    tests = []
    n = max(args.sizes)
    for d in args.dims:
        rng = np.random.default_rng([args.seed, d, n, 7])
        x, y = make_pair(rng, d, n, True, args.null)
        entry = {'d': d, 'n': n, 'n_permutations': args.n_permutations,
                 'infonet_test_slices': args.test_slices}
        r, dt = timed_median(independence_test, x, y, n_slices=args.test_slices,
                             n_permutations=args.n_permutations, seed=DEFAULT_SEED,
                             estimator=est)
        entry['infonet_test_s'], entry['infonet_p'] = dt, r.p_value
        r, dt = timed_median(independence_test, x, y, n_permutations=args.n_permutations,
                             seed=DEFAULT_SEED, estimator=est, statistic='pls')
        entry['infonet_pls_test_s'], entry['infonet_pls_p'] = dt, r.p_value
        for m, (_, test) in baselines.items():
            p, dt = timed_median(test, x, y, args.n_permutations, args.seed)
            entry[f'{m}_test_s'], entry[f'{m}_p'] = dt, float(p)
        tests.append(entry)
        print('permutation test', entry, flush=True)
        on_row(methods, rows, tests)
    return methods, rows, tests


def fmt_row(row, methods):
    parts = [f"d={row['d']:<4d} n={row['n']:<4d} S={row['n_slices']:<5d}"]
    authors = row['authors_auc']
    parts.append(f'authors {authors:.3f}' if authors is not None else 'authors   -  ')
    for m in methods:
        parts.append(f"{m} AUC {row[f'{m}_auc']:.3f} ({row[f'{m}_stat_s'] * 1e3:8.2f} ms)")
    return '  '.join(parts)


def markdown(args, methods, rows, tests, notes):
    head = ['d', 'n', 'slices', 'authors AUC'] + [f'{m} AUC' for m in methods] + \
        ['infonet >= authors', 'infonet_pls >= authors'] + \
        [f'{m} ms/statistic' for m in methods]
    lines = ['# Independence detection: ROC-AUC and time', '',
             f'{args.trials} dependent + {args.trials} independent data sets per row '
             f'(null: {args.null}); all methods read the same samples. Weights: '
             f'{args.weights_info}. torch threads: {args.torch_threads}, '
             f"{'eager forward passes' if args.no_jit else 'TorchScript traces (jit)'}. "
             'infonet: sliced MI '
             "(mean over random slices, the authors' statistic); infonet_pls: InfoNet MI of "
             'the leading-pair (PLS) slice (`infonet_ros.core.pls.pls_mi`, our addition).', '',
             '| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    for r in rows:
        a = r['authors_auc']
        cells = [str(r['d']), str(r['n']), str(r['n_slices']), '-' if a is None else f'{a:.3f}']
        cells += [f"{r[f'{m}_auc']:.3f}" for m in methods]
        for m in ('infonet', 'infonet_pls'):
            cells.append('-' if a is None or f'{m}_auc' not in r else
                         ('yes' if r[f'{m}_auc'] >= a else 'NO'))
        cells += [f"{r[f'{m}_stat_s'] * 1e3:.1f}" for m in methods]
        lines.append('| ' + ' | '.join(cells) + ' |')
    lines += ['', 'Sliced InfoNet MI: AUC with the first k slices (same data, same directions):',
              '']
    ks = sorted({int(k) for r in rows for k in r['infonet_auc_by_slices']})
    lines += ['| d | n | ' + ' | '.join(f'k={k}' for k in ks) + ' |',
              '|---|---|' + '---|' * len(ks)]
    for r in rows:
        by = r['infonet_auc_by_slices']
        lines.append(f"| {r['d']} | {r['n']} | " + ' | '.join(
            f'{by[str(k)]:.3f}' if str(k) in by else '' for k in ks) + ' |')
    if tests:
        lines += ['', f'Permutation tests ({args.n_permutations} permutations, median of '
                  f'{TEST_REPEATS} runs; InfoNet with '
                  f'{args.test_slices} slices, infonet_pls with its one refitted slice; dcor '
                  'and dcor_u both run the dCov permutation test), one dependent data set, '
                  'wall time (p-value):',
                  '', '| d | n | ' + ' | '.join(methods) + ' |',
                  '|---|---|' + '---|' * len(methods)]
        for t in tests:
            cells = [f"{t[f'{m}_test_s']:.2f} s (p={t[f'{m}_p']:.3f})" if f'{m}_test_s' in t
                     else '-' for m in methods]
            lines.append(f"| {t['d']} | {t['n']} | " + ' | '.join(cells) + ' |')
    lines += [''] + [f'Note: {n}' for n in notes]
    return '\n'.join(lines) + '\n'


def write(args, meta, methods, rows, tests, notes, echo=False):
    results_io.write(args, {'meta': meta, 'rows': rows, 'permutation_tests': tests,
                            'notes': notes},
                     markdown(args, methods, rows, tests, notes), echo=echo)


def merge(paths, args):
    """Combine results of runs on different dims (e.g. run side by side) into one file."""
    parts = []
    for path in paths:
        with open(path) as f:
            parts.append(json.load(f))
    meta = parts[0]['meta']
    rows = [r for part in parts for r in part['rows']]
    tests = [t for part in parts for t in part['permutation_tests']]
    notes = sorted({n for part in parts for n in part['notes']})
    meta['args']['dims'] = [r['d'] for r in rows if r['n'] == rows[0]['n']]
    meta['elapsed_s'] = sum(part['meta'].get('elapsed_s', 0.0) for part in parts)
    meta['merged_from'] = [os.path.basename(path) for path in paths]
    # The parts' settings for the tables; the merge's own name, directory and command.
    merged = argparse.Namespace(**meta['args'])
    merged.torch_threads = meta['torch_threads']
    merged.out_dir, merged.name, merged.quick = args.out_dir, args.name, args.quick
    merged.command = args.command
    methods = ['infonet'] + [k[:-4] for k in rows[0] if k.endswith('_auc') and k not in
                             ('infonet_auc', 'authors_auc')]
    write(merged, meta, methods, rows, tests, notes, echo=True)
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--dims', type=int, nargs='+', default=[16, 128])
    p.add_argument('--sizes', type=int, nargs='+', default=[50, 100, 150, 200, 250, 300])
    p.add_argument('--trials', type=int, default=50, help='data sets per case per (d, n)')
    p.add_argument('--n-slices', type=int, nargs='+', default=[64, 512],
                   help='slices of the sliced MI, one value per --dims entry (or one for all)')
    p.add_argument('--test-slices', type=int, default=32,
                   help='slices of the timed InfoNet permutation test')
    p.add_argument('--n-permutations', type=int, default=99)
    p.add_argument('--null', choices=['standard', 'same-marginal'], default='standard')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--weights', default=None, help='checkpoint (default: shipped weights)')
    p.add_argument('--threads', type=int, default=None, help='torch CPU threads')
    p.add_argument('--no-jit', action='store_true',
                   help='eager forward passes (default: TorchScript traces; same statistics)')
    p.add_argument('--merge', nargs='+', metavar='JSON',
                   help='only combine the .json results of runs on different --dims into NAME')
    results_io.add_output_arguments(p, 'independence_auc')
    return p


def main(argv=None):
    p = build_parser()
    args = results_io.parse(p, argv, __file__)
    if args.merge:
        return merge(args.merge, args)
    baselines, notes = load_baselines()
    if args.quick:
        args.trials, args.sizes, args.n_slices = 5, [50, 300], [16]
        args.test_slices, args.n_permutations = 4, 9
    if len(args.n_slices) not in (1, len(args.dims)):
        p.error('--n-slices takes one value, or one per --dims entry')
    args.slices_for = dict(zip(args.dims, args.n_slices * len(args.dims)
                               if len(args.n_slices) == 1 else args.n_slices))
    # After the baselines: importing dcor (numba) resets torch's thread count.
    if args.threads:
        torch.set_num_threads(args.threads)
    est = InfoNetEstimator.from_pretrained(args.weights, device='cpu', jit=not args.no_jit)
    prov = est.provenance
    args.weights_info = (f"{os.path.basename(args.weights or 'infonet_default.pt')} "
                         f"(step {prov.get('steps', '?')}, commit {prov.get('commit', '?')})")
    args.torch_threads = torch.get_num_threads()
    meta = {'date': datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'),
            'machine': platform.processor() or platform.machine(),
            'torch_threads': torch.get_num_threads(),
            'args': {k: v for k, v in results_io.arguments(args).items()
                     if k not in ('slices_for', 'merge')}}
    t0 = time.perf_counter()

    def on_row(methods, rows, tests):
        meta['elapsed_s'] = time.perf_counter() - t0
        write(args, meta, methods, rows, tests, notes)

    methods, rows, tests = run(args, est, baselines, on_row)
    for note in notes:
        print('note:', note)
    print(f'done in {time.perf_counter() - t0:.0f} s')
    return 0


if __name__ == '__main__':
    sys.exit(main())
