# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Calibration of the uncertainty of every estimate (infonet_ros.core.uncertainty).

Sections (distributions with known MI from infonet_ros.training.groundtruth):

1. coverage: share of trials whose interval at level 0.9 (half-sampling, i.i.d. halves)
   contains the true MI, per evaluation family and N (target 85-95 %), with the bias and
   spread of the estimate beside the mean half-sampling standard deviation (which part of a
   miss is bias, which is the spread); plus the block interval (null='shift') on AR(1) pairs
   with known MI;
2. type-I error at alpha = 0.05 (target [0.035, 0.065]): the i.i.d. null (table) on i.i.d.
   independent data, the shift null on independent AR(1) pairs (coefficient 0.9 on both
   sides), and the i.i.d. null on the same AR(1) pairs (what it wrongly declares);
3. power at alpha = 0.05 on weakly dependent Gaussian and unseen-family pairs: InfoNet with
   the i.i.d. null table against KSG (k = 3) with a permutation test, on the same samples;
4. cost: one update of 16 pairs at N = 1000, plain and with each kind of uncertainty.

    python benchmarks/uncertainty_calibration.py [--weights default] [--n 64 256 1000 2048]
        [--coverage-trials 60] [--type1-trials 2000] [--power-trials 40]
        [--permutations 49] [--sections type1 coverage power cost] [--quick] [--name NAME]

The defaults (sized to stay under 30 minutes: 60 trials per coverage case and N, 40 per power
case and N with 49 KSG permutations) take ~17 minutes on one shared core; the files are
rewritten after each section, so a run stopped early leaves the sections done.

Writes benchmarks/results/NAME.{json,md} (NAME: uncertainty_calibration; --quick: *_quick).
"""

import argparse
import os
import sys
import time

import numpy as np
from scipy.signal import lfilter
import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from infonet_ros.core.estimator import InfoNetEstimator  # noqa: E402
from infonet_ros.core.ksg import ksg_mi  # noqa: E402
from infonet_ros.core.null_table import table_for  # noqa: E402
from infonet_ros.core.uncertainty import estimate_batch_with_uncertainty  # noqa: E402
from infonet_ros.training import groundtruth as gt  # noqa: E402
import results_io  # noqa: E402  (benchmarks/, the script's own folder)

ALPHA = 0.05
LEVEL = 0.9
AR_PHI = 0.9
SECTIONS = ('type1', 'coverage', 'power', 'cost')


def coverage_cases(n_gmm: int) -> list:
    """Every evaluation family: Gaussian sweep, training GMMs, unseen, shapes, quantized."""
    return ([gt.gaussian_case(r) for r in gt.GAUSSIAN_RHOS] + gt.gmm_cases(n_gmm)
            + gt.unseen_cases() + gt.shape_cases() + gt.quantized_cases())


def power_cases() -> list:
    """Weak dependence, where tests differ: Gaussian and families kept out of training."""
    return [gt.gaussian_case(0.1), gt.gaussian_case(0.2), gt.student_t_case(0.0, 3.0),
            gt.monotone_case(0.2, 'cube'), gt.uniform_noise_case(20.0, 'gaussian'),
            gt.bimodal_case(1.0, 0.2), gt.ring_case(0.9)]


def draw(case, n, trials, key) -> tuple:
    """(trials, n) samples of a case from a stream fixed by ``key``."""
    rows = [case.sample(n, np.random.default_rng([*key, t])) for t in range(trials)]
    return np.stack([r[0] for r in rows]), np.stack([r[1] for r in rows])


def ar1(rng, shape, phi=AR_PHI, innovations=None):
    """Stationary AR(1) rows of unit variance: (B, N); burn-in of 300 steps."""
    e = rng.standard_normal((shape[0], shape[1] + 300)) if innovations is None else innovations
    return lfilter([np.sqrt(1 - phi * phi)], [1.0, -phi], e, axis=1)[:, 300:]


def in_chunks(est, x, y, chunk: int = 32, **options) -> list:
    """estimate_batch_with_uncertainty over (B, N) windows, ``chunk`` windows per call."""
    out = []
    for start in range(0, len(x), chunk):
        out += estimate_batch_with_uncertainty(est, x[start:start + chunk],
                                               y[start:start + chunk], **options)
    return out


def run_coverage(est, args, log) -> list:
    records = []
    for ci, case in enumerate(coverage_cases(args.gmm)):
        for n in args.n:
            x, y = draw(case, n, args.coverage_trials, (11, ci, n))
            res = in_chunks(est, x, y, level=LEVEL, null='iid')
            mi = np.array([r.mi for r in res])
            lo, hi = np.array([r.lower for r in res]), np.array([r.upper for r in res])
            truth = max(case.truth, 0.0)  # quadrature truths of independent pairs: -1e-17
            half_sd = (hi - lo) / 2  # before the cut at 0 for the centred part
            records.append({
                'family': case.family, 'case': case.label, 'truth': case.truth, 'n': n,
                'coverage': float(np.mean((lo <= truth) & (truth <= hi))),
                'bias': float(mi.mean() - case.truth), 'sd': float(mi.std(ddof=1)),
                'mean_width': float(np.mean(hi - lo)), 'mean_half_width': float(half_sd.mean()),
                'trials': len(res)})
            log(f'coverage {case.family} {case.label} N={n}: {records[-1]["coverage"]:.2f}')
    # The block interval on autocorrelated dependent pairs: AR(1) with innovations of
    # correlation rho, so (x_t, y_t) is a Gaussian pair with correlation rho.
    for rho in (0.5, 0.9):
        for n in args.n:
            rng = np.random.default_rng([12, n, int(rho * 100)])
            e1 = rng.standard_normal((args.coverage_trials, n + 300))
            e2 = rho * e1 + np.sqrt(1 - rho * rho) * rng.standard_normal(e1.shape)
            x, y = ar1(rng, None, innovations=e1), ar1(rng, None, innovations=e2)
            for null in ('shift', 'iid'):
                res = in_chunks(est, x, y, level=LEVEL, null=null)
                ok = [r for r in res if np.isfinite(r.lower)]
                truth = gt.gaussian_mi(rho)
                records.append({
                    'family': f'AR(1) {AR_PHI}, {null} halves', 'case': f'rho={rho:g}',
                    'truth': truth, 'n': n, 'trials': len(res), 'with_interval': len(ok),
                    'coverage': float(np.mean([r.lower <= truth <= r.upper for r in ok]))
                    if ok else float('nan'),
                    'bias': float(np.mean([r.mi for r in res]) - truth),
                    'sd': float(np.std([r.mi for r in res], ddof=1)),
                    'mean_width': float(np.mean([r.upper - r.lower for r in ok]))
                    if ok else float('nan')})
                log(f'coverage AR(1) rho={rho} {null} N={n}: {records[-1]["coverage"]:.2f}')
    return records


def run_type1(est, args, log) -> list:
    table = table_for(est)
    records = []
    for n in args.type1_n:
        rng = np.random.default_rng([21, n])
        x = rng.standard_normal((args.type1_trials, n))
        y = rng.standard_normal((args.type1_trials, n))
        res = in_chunks(est, x, y, null='iid', n_halves=0)
        p = np.array([r.p_value for r in res])
        records.append({'test': 'iid null, i.i.d. data', 'n': n, 'trials': len(p),
                        'rejection': float(np.mean(p <= ALPHA)), 'p_values': _hist(p)})
        log(f'type1 iid N={n}: {records[-1]["rejection"]:.4f}')
    for n in [v for v in args.type1_n if v in args.n]:
        rng = np.random.default_rng([22, n])
        x, y = ar1(rng, (args.type1_trials, n)), ar1(rng, (args.type1_trials, n))
        res = in_chunks(est, x, y, null='shift', n_halves=0)
        p_shift = np.array([r.p_value for r in res])
        p_iid = np.array([table.p_value(r.mi, n, est.max_set_size) for r in res])
        usable = np.isfinite(p_shift)
        records.append({'test': f'shift null, AR(1) {AR_PHI}', 'n': n, 'trials': len(res),
                        'rejection': float(np.mean(p_shift[usable] <= ALPHA))
                        if usable.any() else float('nan'),
                        'with_p_value': int(usable.sum()),
                        'mean_shifts': float(np.mean([r.n_null for r in res])),
                        'mean_dependence_length': float(np.mean([r.dependence_length
                                                                 for r in res])),
                        'p_values': _hist(p_shift[usable])})
        records.append({'test': f'iid null, AR(1) {AR_PHI}', 'n': n, 'trials': len(res),
                        'rejection': float(np.mean(p_iid <= ALPHA)), 'p_values': _hist(p_iid)})
        log(f'type1 AR(1) N={n}: shift {records[-2]["rejection"]:.4f}, '
            f'iid {records[-1]["rejection"]:.4f}')
    return records


def _hist(p) -> list:
    """Count p-values in ten bins of width 0.1 (uniform: equal counts)."""
    return np.histogram(p, bins=10, range=(0.0, 1.0))[0].tolist()


def ksg_permutation_p(x, y, permutations, rng) -> float:
    obs = ksg_mi(x, y)
    null = [ksg_mi(x, y[rng.permutation(len(y))]) for _ in range(permutations)]
    return (1.0 + np.count_nonzero(np.asarray(null) >= obs)) / (permutations + 1.0)


def run_power(est, args, log) -> list:
    records = []
    for ci, case in enumerate(power_cases()):
        for n in args.power_n:
            x, y = draw(case, n, args.power_trials, (31, ci, n))
            res = in_chunks(est, x, y, null='iid', n_halves=0)
            rng = np.random.default_rng([32, ci, n])
            p_ksg = np.array([ksg_permutation_p(a, b, args.permutations, rng)
                              for a, b in zip(x, y)])
            p_inf = np.array([r.p_value for r in res])
            records.append({'family': case.family, 'case': case.label, 'truth': case.truth,
                            'n': n, 'trials': len(res),
                            'infonet_power': float(np.mean(p_inf <= ALPHA)),
                            'ksg_power': float(np.mean(p_ksg <= ALPHA))})
            log(f'power {case.label} N={n}: InfoNet {records[-1]["infonet_power"]:.2f}, '
                f'KSG {records[-1]["ksg_power"]:.2f}')
    return records


def run_cost(est, args, log) -> list:
    rng = np.random.default_rng(41)
    x, y = rng.standard_normal((16, 1000)), rng.standard_normal((16, 1000))
    variants = {
        'estimate_batch (no uncertainty)': lambda: est.estimate_batch(x, y),
        'iid null, no interval': lambda: estimate_batch_with_uncertainty(
            est, x, y, null='iid', n_halves=0),
        'iid null, interval (16 halves)': lambda: estimate_batch_with_uncertainty(
            est, x, y, null='iid'),
        'shift null (39 shifts), block interval': lambda: estimate_batch_with_uncertainty(
            est, x, y, null='shift'),
    }
    records = []
    for name, fn in variants.items():
        records.append({'variant': name, 'seconds': results_io.median_seconds(fn)})
        log(f'cost {name}: {records[-1]["seconds"] * 1e3:.0f} ms')
    return records


def markdown(args, results, seconds) -> list:
    lines = ['# Uncertainty of every estimate: calibration', '',
             f'{results_io.stamp(args.threads)}; weights {args.weights}; level {LEVEL}, '
             f'alpha {ALPHA}; {seconds:.0f} s; sections: {", ".join(results)}.']
    if 'coverage' in results:
        lines += _coverage_tables(args, results['coverage'])
    if 'type1' in results:
        lines += ['', f'## Type-I error at alpha = {ALPHA} (target [0.035, 0.065])', '',
                  f'{args.type1_trials} trials per N (binomial standard error '
                  f'{np.sqrt(ALPHA * (1 - ALPHA) / args.type1_trials):.4f}). Shift null: '
                  f'p = (1 + #{{shifted >= observed}}) / (K + 1), 19 <= K <= 39: K = 39 '
                  f'when 40 shifts fit a dependence length apart, else as many as fit, and at '
                  f'least 19 (then closer; mean K shown).', '',
                  '| test | N | rejection rate | windows with a p-value | mean K | '
                  'p-value histogram (10 bins) |', '|---|---|---|---|---|---|']
        for r in results['type1']:
            lines.append(f'| {r["test"]} | {r["n"]} | {r["rejection"]:.4f} | '
                         f'{r.get("with_p_value", r["trials"])} | '
                         f'{r.get("mean_shifts", float("nan")):.1f} | {r["p_values"]} |')
    if 'power' in results:
        lines += ['', f'## Power at alpha = {ALPHA}: InfoNet (i.i.d. null table) against KSG '
                  f'(k = 3, {args.permutations} permutations), same samples', '',
                  f'{args.power_trials} trials per case and N.', '',
                  '| family | case | true MI | N | InfoNet | KSG |', '|---|---|---|---|---|---|']
        for r in results['power']:
            lines.append(f'| {r["family"]} | {r["case"]} | {r["truth"]:.3f} | {r["n"]} | '
                         f'{r["infonet_power"]:.2f} | {r["ksg_power"]:.2f} |')
    if 'cost' in results:
        lines += results_io.cost_table('## Cost: 16 pairs, N = 1000 (median of 5 calls)',
                                       results['cost'])
    return lines


def _coverage_tables(args, records) -> list:
    lines = ['', f'## Coverage of the {LEVEL:.0%} interval (target 85-95 %)', '',
             f'{args.coverage_trials} trials per case and N; i.i.d. families: half-sampling '
             'with 16 halves of single samples. Pooled over the cases of each family.', '',
             '| family | ' + ' | '.join(f'N = {n}' for n in args.n) + ' |',
             '|---' * (len(args.n) + 1) + '|']
    families = list(dict.fromkeys(r['family'] for r in records))
    for fam in families:
        cells = []
        for n in args.n:
            rows = [r for r in records if r['family'] == fam and r['n'] == n]
            cells.append(f'{np.nanmean([r["coverage"] for r in rows]):.1%}' if rows else '-')
        lines.append(f'| {fam} | ' + ' | '.join(cells) + ' |')
    lines += ['', '### Per case: coverage, bias / spread of the estimate, interval half-width',
              '', 'bias: mean estimate - truth; sd: spread of the estimate over trials; '
              'hw: mean half-width of the interval (about 1.86 sd when the spread is '
              'estimated right). A case with |bias| above ~sd is missed whatever the spread.',
              '', '| family | case | true MI | ' + ' | '.join(f'N = {n}' for n in args.n)
              + ' |', '|---|---|---' + '|---' * len(args.n) + '|']
    for fam in families:
        for label in dict.fromkeys(r['case'] for r in records if r['family'] == fam):
            rows = {r['n']: r for r in records if r['family'] == fam and r['case'] == label}
            truth = next(iter(rows.values()))['truth']
            cells = [f'{rows[n]["coverage"]:.0%} ({rows[n]["bias"]:+.3f} / {rows[n]["sd"]:.3f}'
                     f' / {rows[n].get("mean_half_width", rows[n]["mean_width"] / 2):.3f})'
                     if n in rows else '-' for n in args.n]
            lines.append(f'| {fam} | {label} | {truth:.3f} | ' + ' | '.join(cells) + ' |')
    return lines


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--weights', default='default')
    ap.add_argument('--n', type=int, nargs='+', default=[64, 256, 1000, 2048])
    ap.add_argument('--type1-n', type=int, nargs='+', default=[64, 256, 600, 1000, 2048, 5000],
                    help='N of the type-I runs (600: between tabulated N; 5000: subsets)')
    ap.add_argument('--power-n', type=int, nargs='+', default=[64, 256, 1000])
    ap.add_argument('--coverage-trials', type=int, default=60)
    ap.add_argument('--type1-trials', type=int, default=2000)
    ap.add_argument('--power-trials', type=int, default=40)
    ap.add_argument('--permutations', type=int, default=49)
    ap.add_argument('--gmm', type=int, default=6, help='random GMMs of the training family')
    ap.add_argument('--sections', nargs='+', default=list(SECTIONS), choices=SECTIONS)
    ap.add_argument('--threads', type=int, default=1)
    results_io.add_output_arguments(ap, 'uncertainty_calibration')
    return ap


def main(argv=None):
    args = results_io.parse(build_parser(), argv, __file__)
    if args.quick:
        args.n, args.type1_n, args.power_n = [64, 1000], [64, 1000], [256]
        args.coverage_trials, args.type1_trials, args.power_trials = 10, 200, 10
        args.permutations, args.gmm = 19, 2
    torch.set_num_threads(args.threads)
    est = InfoNetEstimator.from_pretrained(args.weights, device='cpu')
    runners = {'coverage': run_coverage, 'type1': run_type1, 'power': run_power,
               'cost': run_cost}
    t0 = time.time()
    results = {}
    for section in args.sections:
        results[section] = runners[section](est, args, lambda s: print(s, flush=True))
        results_io.write(args, {**results_io.run_facts(args), **results},
                         markdown(args, results, time.time() - t0),
                         echo=section == args.sections[-1])


if __name__ == '__main__':
    main()
