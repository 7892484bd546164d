# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Type-I error of infonet_ros.core.independence.independence_test on independent vector signals.

Each trial draws X (6 correlated Gaussian columns, like an IMU) and, independently, Y (7 columns:
heavy-tailed, skewed and one constant column, like joint readings), runs the permutation test
and records the p-value. Under independence the test is exact, so the rejection rate at
level alpha must match alpha up to the binomial error of the trial count (target: within
[0.03, 0.07] at alpha = 0.05 for >= 500 trials).

With P permutations p-values live on the grid k / (P + 1); P = 19 makes alpha = 0.05 and 0.10
grid points, so the expected rates are exactly 0.05 and 0.10. The slice count does not affect
validity, only power, so the default uses few slices to afford many trials.

    python benchmarks/independence_type1.py --threads 1        # 1000 trials (~4 min)
    python benchmarks/independence_type1.py --quick            # smoke run: 50 trials
    python benchmarks/independence_type1.py --statistic pls --threads 1 \
        --name independence_type1_pls                          # the leading pair (~30 s)
    python benchmarks/independence_type1.py --statistic pls --extra-dims 120 --name NAME
        # n < dx + dy: the leading pair fitted out of fold
    python benchmarks/independence_type1.py --statistic pls --extra-dims 120 --extra-dims-y 120 \
        --n 300 --name NAME   # wide sides: the leading pair iterated on the data

Writes benchmarks/results/NAME.{json,md} (NAME: independence_type1; --quick: *_quick). The
exit status is 1 when the rate at 0.05 misses the target.
"""

import argparse
import datetime
import os
import platform
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from infonet_ros.core.estimator import InfoNetEstimator  # noqa: E402
from infonet_ros.core.independence import independence_test  # noqa: E402
import results_io  # noqa: E402  (benchmarks/, the script's own folder)

ALPHAS = (0.01, 0.05, 0.10)


def make_independent(rng, n, extra_dims=0, extra_dims_y=0):
    """X: (n, 6 + extra_dims) Gaussians, 6 correlated; Y: (n, 7 + extra_dims_y), apart."""
    mix = rng.standard_normal((6, 6))
    x = rng.standard_normal((n, 6)) @ mix
    if extra_dims:
        x = np.column_stack([x, rng.standard_normal((n, extra_dims))])
    y = np.column_stack([rng.standard_t(2, n), rng.exponential(1.0, n), rng.uniform(size=n),
                         rng.standard_normal(n), rng.standard_normal(n) ** 3,
                         np.round(rng.standard_normal(n) * 2), np.full(n, 0.3)])
    if extra_dims_y:
        y = np.column_stack([y, rng.standard_normal((n, extra_dims_y))])
    return x, y


def wilson(k, n, z=1.96):
    """95 % Wilson interval of a binomial proportion."""
    p = k / n
    c = (p + z * z / (2 * n)) / (1 + z * z / n)
    h = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return c - h, c + h


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--trials', type=int, default=1000)
    p.add_argument('--n', type=int, default=100, help='samples per trial')
    p.add_argument('--n-slices', type=int, default=8)
    p.add_argument('--n-permutations', type=int, default=19)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--statistic', choices=['sliced', 'pls'], default='sliced',
                   help="'sliced' (random slices) or 'pls' (the leading-pair slice)")
    p.add_argument('--extra-dims', type=int, default=0,
                   help='independent Gaussian columns added to X; with n < dx + dy the '
                   'leading pair is fitted out of fold')
    p.add_argument('--extra-dims-y', type=int, default=0,
                   help='independent Gaussian columns added to Y (7 mixed columns)')
    p.add_argument('--weights', default=None, help='checkpoint (default: shipped weights)')
    p.add_argument('--threads', type=int, default=None, help='torch CPU threads')
    results_io.add_output_arguments(p, 'independence_type1')
    return p


def main(argv=None):
    args = results_io.parse(build_parser(), argv, __file__)
    if args.quick:
        args.trials = min(args.trials, 50)
    if args.threads:
        torch.set_num_threads(args.threads)
    est = InfoNetEstimator.from_pretrained(args.weights, device='cpu')
    rng = np.random.default_rng(args.seed)
    pvals = []
    t0 = time.perf_counter()
    for trial in range(args.trials):
        x, y = make_independent(rng, args.n, args.extra_dims, args.extra_dims_y)
        # A new direction seed per trial: the rate then averages over directions too.
        r = independence_test(x, y, n_slices=args.n_slices, n_permutations=args.n_permutations,
                              seed=args.seed * 100_000 + trial, estimator=est,
                              statistic=args.statistic)
        pvals.append(r.p_value)
        if (trial + 1) % 100 == 0:
            rate = np.mean(np.asarray(pvals) <= 0.05)
            print(f'{trial + 1} trials, rejection rate at 0.05: {rate:.3f}', flush=True)
    elapsed = time.perf_counter() - t0
    pvals = np.asarray(pvals)
    rates = {}
    for a in ALPHAS:
        k = int(np.count_nonzero(pvals <= a + 1e-12))
        lo, hi = wilson(k, len(pvals))
        # The largest grid point k / (P + 1) <= alpha is the exact level of the test.
        exact = np.floor(a * (args.n_permutations + 1) + 1e-9) / (args.n_permutations + 1)
        rates[str(a)] = {'rejections': k, 'rate': k / len(pvals), 'wilson95': [lo, hi],
                         'exact_level': exact}
    ok = 0.03 <= rates['0.05']['rate'] <= 0.07
    summary = {'meta': {'date': datetime.datetime.now(datetime.timezone.utc)
                        .isoformat(timespec='seconds'),
                        'machine': platform.processor() or platform.machine(),
                        'torch_threads': torch.get_num_threads(),
                        'args': results_io.arguments(args),
                        'elapsed_s': elapsed},
               'rates': rates, 'mean_p': float(pvals.mean()),
               'target_0.05_within_[0.03,0.07]': ok}
    what = (f'{args.n_slices} slices' if args.statistic == 'sliced'
            else 'leading-pair (PLS) statistic')
    lines = [f'# Type-I error of the permutation test ({args.statistic})', '',
             f'{args.trials} independent data sets, n = {args.n}, X {6 + args.extra_dims}-D, '
             f'Y {7 + args.extra_dims_y}-D, '
             f'{what}, {args.n_permutations} permutations; '
             f'{elapsed:.0f} s in all.', '',
             '| alpha | exact level | rejections | rate | 95 % Wilson interval |',
             '|---|---|---|---|---|']
    for a in ALPHAS:
        r = rates[str(a)]
        lines.append(f"| {a} | {r['exact_level']:.3f} | {r['rejections']} | {r['rate']:.3f} | "
                     f"[{r['wilson95'][0]:.3f}, {r['wilson95'][1]:.3f}] |")
    lines += ['', f'Mean p-value {pvals.mean():.3f}. Target (rate at 0.05 within '
              f"[0.03, 0.07]): {'met' if ok else 'NOT met'}."]
    results_io.write(args, summary, lines)
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
