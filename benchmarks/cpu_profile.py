# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Where an estimate's CPU time goes, and the per-estimate time against the CPU targets.

For each precision (``--precisions``, default fp32 and bf16) and window length N
(``--n``), on B windows of Gaussian pairs (``--batch``):

1. **Per estimate**: ``InfoNetEstimator(jit=True, precision=P).estimate_batch`` of the B
   windows as a user calls it (its default row workers), median over ``--seconds``, in ms
   per estimate, against the targets ``TARGET_MS`` (for the default model on 2 cores:
   0.12 ms at N = 256, 0.2 ms at N = 1000); the same for ``backend='onnxruntime'``
   (float32) where it is installed; and the first call's time (trace or export).
2. **Split of one call**: input checks and stacking, copula ranks (numpy), the traced
   network with its readout, and the rest (conversions, the NaN guard), each timed alone
   on the same windows with one row worker.
3. **Operators of the traced pass**: torch.profiler's self CPU time per operator of the
   frozen trace over ``--profile-passes`` passes (torch threads as given), the ``--top``
   largest with their share.

    python benchmarks/cpu_profile.py [--weights default] [--n 256 1000] [--batch 256]
        [--precisions fp32 bf16] [--threads 2] [--seconds 3] [--quick] [--name NAME]

Writes benchmarks/results/NAME.{json,md} (NAME: cpu_profile; --quick: cpu_profile_quick).
"""

import argparse
import os
import sys
import time

import numpy as np
import torch
from torch.profiler import profile, ProfilerActivity

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from infonet_ros.core.checks import validate_pairs  # noqa: E402
from infonet_ros.core.copula import pair_ranks  # noqa: E402
from infonet_ros.core.estimator import InfoNetEstimator  # noqa: E402
from infonet_ros.core.precision import cpu_has_bf16  # noqa: E402
import results_io  # noqa: E402  (benchmarks/, the script's own folder)

# ms per estimate of the default model in batches of 256 on 2 cores, by N.
TARGET_MS = {256: 0.12, 1000: 0.2}


def windows(batch: int, n: int, seed: int = 0):
    """Return (x, y) (batch, n) Gaussian pairs, correlations spread over [0, 0.95]."""
    rng = np.random.default_rng(seed)
    rho = np.linspace(0.0, 0.95, batch)[:, None]
    x = rng.standard_normal((batch, n))
    return x, rho * x + np.sqrt(1 - rho ** 2) * rng.standard_normal((batch, n))


def call_ms(fn, seconds: float) -> tuple[float, float]:
    """Return (median, fastest) wall time of ``fn()`` in ms over at least ``seconds``."""
    times = results_io.call_seconds(fn, seconds)
    return 1e3 * float(np.median(times)), 1e3 * float(np.min(times))


def fastest_ms(fn, seconds: float) -> float:
    """Return the fastest call of ``fn()`` in ms: the least disturbed by other load."""
    return call_ms(fn, seconds)[1]


def split(est: InfoNetEstimator, x, y, seconds: float) -> dict:
    """Time the steps of one estimate_batch call with one row worker, ms per call."""
    xy = np.stack([x, y], axis=-2)  # (B, 2, N)
    ranks = torch.from_numpy(pair_ranks(xy)).to(torch.float32)  # (B, 2, N)

    def network():
        with torch.no_grad():
            est._ranks_mi(ranks)

    parts = {'total': fastest_ms(lambda: est.estimate_batch(x, y), seconds),
             'checks and stacking': fastest_ms(
                 lambda: np.stack(validate_pairs(x, y, ndim=2), axis=-2), seconds),
             'copula ranks (numpy)': fastest_ms(lambda: pair_ranks(xy), seconds),
             'network and readout (trace)': fastest_ms(network, seconds)}
    parts['rest'] = parts['total'] - sum(v for k, v in parts.items() if k != 'total')
    return parts


def operators(est: InfoNetEstimator, x, y, passes: int, top: int) -> list[dict]:
    """Self CPU time per operator of the traced pass, largest first (ms per pass)."""
    ranks = torch.from_numpy(pair_ranks(np.stack([x, y], axis=-2))).to(torch.float32)
    with torch.no_grad():
        est._ranks_mi(ranks)  # traced before profiling
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            for _ in range(passes):
                est._ranks_mi(ranks)
    events = [e for e in prof.key_averages() if e.key.startswith('aten::')]
    total = sum(e.self_cpu_time_total for e in events)
    events.sort(key=lambda e: e.self_cpu_time_total, reverse=True)
    return [{'op': e.key, 'calls_per_pass': e.count / passes,
             'ms_per_pass': e.self_cpu_time_total / 1e3 / passes,
             'share': e.self_cpu_time_total / total} for e in events[:top]]


def backend_rows(args) -> list[dict]:
    """Return the onnxruntime backend's ms per estimate (float32) at each N, if installed."""
    rows = []
    for n in args.n:
        x, y = windows(args.batch, n)
        try:
            est = InfoNetEstimator.from_pretrained(args.weights, 'cpu', backend='onnxruntime')
        except ImportError as exc:
            print(f'onnxruntime backend not measured: {exc}', file=sys.stderr)
            return []
        t0 = time.perf_counter()
        est.warm_up(n)
        export_s = time.perf_counter() - t0
        per, best = (t / args.batch for t in call_ms(lambda: est.estimate_batch(x, y),
                                                     args.seconds))
        print(f'onnxruntime N={n}: {per:.3f} ms per estimate', flush=True)
        rows.append({'backend': 'onnxruntime', 'precision': est.precision, 'n': n,
                     'batch': args.batch, 'row_workers': est.worker_count(),
                     'ms_per_estimate': per, 'best_ms_per_estimate': best,
                     'first_call_s': export_s,
                     'target_ms': TARGET_MS.get(n) if args.weights == 'default' else None})
    return rows


def interleaved_ms(calls: dict, seconds: float) -> dict:
    """
    Time ``calls`` ({key: fn}) in turn, round after round, for ``seconds`` each.

    Return {key: (median, fastest) ms}. Taking turns spreads drifting load (another
    process, the host) over every variant alike, which separate runs would not.
    """
    times = {k: [] for k in calls}
    start = time.perf_counter()
    while min(map(len, times.values())) < 3 or \
            time.perf_counter() - start < seconds * len(calls):
        for k, fn in calls.items():
            t0 = time.perf_counter()
            fn()
            times[k].append(time.perf_counter() - t0)
    return {k: (1e3 * float(np.median(t)), 1e3 * float(np.min(t))) for k, t in times.items()}


def run(args) -> list[dict]:
    rows = []
    for n in args.n:
        x, y = windows(args.batch, n)
        ests, first = {}, {}
        for precision in args.precisions:
            ests[precision] = InfoNetEstimator.from_pretrained(args.weights, 'cpu', jit=True,
                                                               precision=precision)
            t0 = time.perf_counter()
            ests[precision].warm_up(n)
            first[precision] = time.perf_counter() - t0
        timed = interleaved_ms({p: (lambda e=e: e.estimate_batch(x, y))
                                for p, e in ests.items()}, args.seconds)
        for precision, est in ests.items():
            trace_s = first[precision]
            per, best = (t / args.batch for t in timed[precision])
            one = InfoNetEstimator.from_pretrained(args.weights, 'cpu', jit=True, workers=1,
                                                   precision=precision)
            row = {'backend': 'torch jit', 'precision': est.precision, 'requested': precision,
                   'n': n,
                   'batch': args.batch, 'row_workers': est.worker_count(),
                   'ms_per_estimate': per, 'best_ms_per_estimate': best,
                   'first_call_s': trace_s,
                   'target_ms': TARGET_MS.get(n) if args.weights == 'default' else None,
                   'split_ms': split(one, x, y, args.seconds),
                   'operators': operators(one, x, y, args.profile_passes, args.top)}
            print(f'{precision} N={n}: {per:.3f} ms per estimate', flush=True)
            rows.append(row)
    return sorted(rows, key=lambda r: (args.precisions.index(r['requested']), r['n']))


def tables(rows: list[dict], others: list[dict], args) -> list[str]:
    lines = ['### Per estimate (estimate_batch, default row workers)', '',
             'First call: the trace (torch jit) or the export and session (onnxruntime) of '
             'that N, once per process.', '',
             'ms per estimate: median call / fastest call, over the batch; the torch '
             'precisions of one N are timed in turn, call after call. The target is met if the '
             'median is at most the target.', '',
             '| backend | precision | N | batch | row workers | ms per estimate | target | met '
             '| first call [s] |', '|---|---|---:|---:|---:|---:|---:|---|---:|']
    for r in rows + others:
        target = r['target_ms']
        lines.append(f"| {r['backend']} | {r['precision']} | {r['n']} | {r['batch']} | "
                     f"{r['row_workers']} | {r['ms_per_estimate']:.3f} / "
                     f"{r['best_ms_per_estimate']:.3f} | {target or '-'} | "
                     + ('-' if target is None else
                        'yes' if r['ms_per_estimate'] <= target else 'NO')
                     + f" | {r['first_call_s']:.1f} |")
    lines += ['', '### Split of one call (one row worker), ms per call of '
              f'{args.batch} windows', '',
              'Each part timed alone on the same windows, fastest call; the rest is the total '
              'minus the parts (conversions, the NaN guard).', '',
              '| precision | N | ' + ' | '.join(rows[0]['split_ms']) + ' |',
              '|---|---:' + '|---:' * len(rows[0]['split_ms']) + '|']
    for r in rows:
        lines.append(f"| {r['precision']} | {r['n']} | "
                     + ' | '.join(f'{v:.1f}' for v in r['split_ms'].values()) + ' |')
    for r in rows:
        lines += ['', f"### Operators of the traced pass: {r['precision']}, N = {r['n']}, "
                  f"batch {r['batch']}", '',
                  '| operator | calls per pass | ms per pass | share of self time |',
                  '|---|---:|---:|---:|']
        lines += [f"| {o['op']} | {o['calls_per_pass']:g} | {o['ms_per_pass']:.2f} | "
                  f"{100 * o['share']:.1f} % |" for o in r['operators']]
    return lines


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--weights', default='default',
                    help="a shipped model ('default', 'fine', 'fast') or a checkpoint file")
    ap.add_argument('--n', type=int, nargs='+', default=[256, 1000], help='window lengths')
    ap.add_argument('--batch', type=int, default=256, help='windows per call')
    ap.add_argument('--precisions', nargs='+', default=['fp32', 'bf16'],
                    choices=['fp32', 'bf16', 'fp16', 'auto'])
    ap.add_argument('--threads', type=int, default=2, help='torch threads')
    ap.add_argument('--seconds', type=float, default=3.0,
                    help='least time of calls per measurement [s]')
    ap.add_argument('--profile-passes', type=int, default=5)
    ap.add_argument('--top', type=int, default=12, help='operators listed per profile')
    ap.add_argument('--no-onnxruntime', action='store_true',
                    help='skip the onnxruntime backend row (float32)')
    results_io.add_output_arguments(ap, 'cpu_profile')
    return ap


def main(argv=None):
    args = results_io.parse(build_parser(), argv, __file__)
    if args.quick:
        args.n, args.batch, args.seconds, args.profile_passes = [256], 16, 0.2, 1
    torch.set_num_threads(args.threads)
    t0 = time.time()
    rows = run(args)
    others = [] if args.no_onnxruntime else backend_rows(args)
    lines = ['# CPU time of an estimate', '',
             f'{results_io.stamp(args.threads)}; bfloat16 instructions: '
             f"{'yes' if cpu_has_bf16() else 'no'}; weights {args.weights}; load average "
             f'{os.getloadavg()[0]:.1f} at the end; {time.time() - t0:.0f} s.', '']
    lines += tables(rows, others, args)
    results_io.write(args, {**results_io.run_facts(args, bf16=cpu_has_bf16()),
                            'rows': rows, 'other_backends': others}, lines)


if __name__ == '__main__':
    main()
