# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Speed and peak memory of InfoNet against KSG and MINE on this machine.

Measured, each on fresh bivariate Gaussian samples (rho = 0.7) that every method shares:

- one estimate (``InfoNetEstimator.estimate``, the whole call: checks, ranks, forward pass,
  readout) against one ``ksg_mi`` call, at each N; MINE (``--mine-steps`` Adam steps) at
  N = 1000 only; median and 90th percentile over ``--repeats`` calls after 3 warm-up calls;
- a batch of ``--batch`` pairs at N = 1000 (``estimate_batch``, one forward pass), per pair,
  against KSG per pair; InfoNet eager and as TorchScript traces (``jit=True``, rows "-jit"),
  each with the default ``workers='auto'`` (traced: the rows shared by the torch threads,
  one intra-op thread each; eager: 1) and with ``workers=1`` (torch's own threading), timed
  in alternating blocks of 5 calls (the first of each block not counted) so that drift of
  the machine's speed hits all four alike;
- the differentiable path (``mi_torch``, soft ranks, forward + backward) at N = 1000;
- peak memory: each measurement runs once in a fresh subprocess that resets the kernel's
  resident-set high-water mark (``/proc/self/clear_refs``) after loading everything, then
  reports VmHWM - VmRSS, the extra resident memory the call needed at its peak, and the
  process's peak resident set (VmHWM over setup and call; not ru_maxrss, which Linux carries
  over from the forking parent). tracemalloc cannot see torch's allocations, hence this.

Targets: one InfoNet estimate at N = 1000 takes at most half a KSG estimate; per pair in a
batch of 64, at most 1/20 of a KSG estimate.

    python benchmarks/estimator_speed.py             # full settings (~2 min)
    python benchmarks/estimator_speed.py --quick     # smoke run
    python benchmarks/estimator_speed.py --weights fast --name estimator_speed_fast

Writes benchmarks/results/NAME.{json,md} (NAME: estimator_speed; --quick: *_quick).
"""

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from infonet_ros.core.estimator import InfoNetEstimator  # noqa: E402
from infonet_ros.core.ksg import ksg_mi  # noqa: E402
from infonet_ros.core.model import resolve_weights  # noqa: E402
from infonet_ros.training.ablations import AblatedEstimator  # noqa: E402
from infonet_ros.training.baselines import mine_mi  # noqa: E402
from infonet_ros.training.result_files import md_table, weights_identity  # noqa: E402
import results_io  # noqa: E402  (benchmarks/, the script's own folder)

RHO = 0.7


def pairs(rng, b, n):
    """B Gaussian pairs of length n: x, y of shape (B, n)."""
    x = rng.standard_normal((b, n))
    return x, RHO * x + np.sqrt(1 - RHO ** 2) * rng.standard_normal((b, n))


def timed(fn, args_list, warmup=3):
    """Median and 90th percentile (seconds) of fn(*args) over args_list after warm-ups."""
    for a in args_list[:warmup]:
        fn(*a)
    ts = []
    for a in args_list:
        t0 = time.perf_counter()
        fn(*a)
        ts.append(time.perf_counter() - t0)
    return float(np.median(ts)), float(np.percentile(ts, 90))


def interleaved(fns, rounds, block=5):
    """
    Median and 90th percentile (seconds) of each fn, timed in alternating blocks.

    Each round calls every fn ``block`` times in a row and keeps all but the first call:
    torch's OpenMP threads spin for a while after a parallel operation, so a call right
    after another way of running (an eager pass on 2 intra-op threads) is slowed by it, which
    a user repeating one kind of call does not see.
    """
    ts = {k: [] for k in fns}
    for _ in range(rounds):
        for k, fn in fns.items():
            fn()
            for _ in range(block - 1):
                t0 = time.perf_counter()
                fn()
                ts[k].append(time.perf_counter() - t0)
    return {k: (float(np.median(v)), float(np.percentile(v, 90))) for k, v in ts.items()}


def _proc_status_kb(field):
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith(field + ':'):
                return int(line.split()[1])
    return None


def child_memory(method, n, b, weights, mine_steps):
    """Run one measurement in this (fresh) process; print JSON with memory in MiB."""
    rng = np.random.default_rng(1)
    x, y = pairs(rng, b, n)
    est = InfoNetEstimator.from_pretrained(weights, device='cpu')
    xt = torch.tensor(x[0], requires_grad=True)
    yt = torch.tensor(y[0])
    calls = {
        'InfoNet': lambda: est.estimate(x[0], y[0]),
        'InfoNet batch': lambda: est.estimate_batch(x, y),
        'InfoNet mi_torch': lambda: est.mi_torch(xt, yt).backward(),
        'KSG': lambda: ksg_mi(x[0], y[0]),
        'MINE': lambda: mine_mi(x[0], y[0], steps=mine_steps),
    }
    ksg_mi(x[0, :64], y[0, :64])  # import scikit-learn before the baseline
    before = _proc_status_kb('VmRSS')
    setup_peak = _proc_status_kb('VmHWM')  # peak of this process image so far
    reset = True
    try:  # reset the peak-RSS mark (VmHWM) to the current RSS (Linux >= 4.0)
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')
    except OSError:
        reset = False
    calls[method]()
    hwm = _proc_status_kb('VmHWM')
    # ru_maxrss is not used: Linux carries it over from the forking parent across exec.
    out = {'method': method, 'n': n, 'batch': b, 'hwm_reset': reset,
           'rss_before_mib': before / 1024 if before else None,
           'extra_peak_mib': (hwm - before) / 1024 if (reset and hwm and before) else None,
           'process_peak_mib': max(setup_peak or 0, hwm or 0) / 1024}
    print(json.dumps(out))


def measure_memory(method, n, b, args):
    """Spawn a fresh interpreter for one memory measurement."""
    cmd = [sys.executable, os.path.abspath(__file__), '--child-memory', method, str(n), str(b),
           '--mine-steps', str(args.mine_steps)]
    if args.weights:
        cmd += ['--weights', args.weights]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    if out.returncode:
        raise RuntimeError(f'memory child failed: {out.stderr[-2000:]}')
    return json.loads(out.stdout.strip().splitlines()[-1])


def run(args):
    if args.threads:
        torch.set_num_threads(args.threads)
    q = args.quick
    ns = args.n or ([1000] if q else [300, 1000, 5000])
    reps = args.repeats or (5 if q else 30)
    est = InfoNetEstimator.from_pretrained(args.weights, device='cpu')
    shuffle = AblatedEstimator(est, marginal='shuffle')
    jit = InfoNetEstimator(est.model, est.device, est.provenance, jit=True)
    rng = np.random.default_rng(0)
    res = {'single': [], 'batch': [], 'memory': []}
    for n in ns:
        x, y = pairs(rng, reps, n)
        data = list(zip(x, y))
        row = {'n': n}
        for name, fn in (('InfoNet', est.estimate), ('InfoNet-jit', jit.estimate),
                         ('InfoNet-shuffle', shuffle.estimate), ('KSG', ksg_mi)):
            row[name] = timed(fn, data)
        if not args.no_mine and n == 1000:
            k = 3 if not q else 1
            row['MINE'] = timed(lambda a, b: mine_mi(a, b, steps=args.mine_steps), data[:k],
                                warmup=0)
        res['single'].append(row)
        print(f'single N={n}: ' + ', '.join(f'{k} {1e3 * v[0]:.2f} ms' for k, v in row.items()
                                            if k != 'n'), file=sys.stderr)
    n = 1000
    x, y = pairs(rng, args.batch, n)
    variants = {'eager': est, 'jit': jit,
                'eager_workers1': InfoNetEstimator(est.model, est.device, est.provenance,
                                                   workers=1),
                'jit_workers1': InfoNetEstimator(est.model, est.device, est.provenance,
                                                 jit=True, workers=1)}
    bts = interleaved({k: (lambda e=e: e.estimate_batch(x, y)) for k, e in variants.items()},
                      rounds=max(3, reps // 4))
    bt, bt_jit = bts['eager'], bts['jit']
    kt = timed(ksg_mi, list(zip(x, y)), warmup=3)
    xt = [torch.tensor(x[i], requires_grad=True) for i in range(min(reps, args.batch))]
    gt = timed(lambda a, b: est.mi_torch(a, torch.tensor(b)).backward(),
               [(xt[i], y[i]) for i in range(len(xt))])
    res['batch'] = {'n': n, 'batch': args.batch, 'batch_s': bt, 'per_pair_s': bt[0] / args.batch,
                    'jit_batch_s': bt_jit, 'jit_per_pair_s': bt_jit[0] / args.batch,
                    'row_workers': est.worker_count(), 'jit_row_workers': jit.worker_count(),
                    'workers1_per_pair_s': bts['eager_workers1'][0] / args.batch,
                    'jit_workers1_per_pair_s': bts['jit_workers1'][0] / args.batch,
                    'ksg_per_pair_s': kt[0], 'mi_torch_fwd_bwd_s': gt}
    mem_jobs = [('InfoNet', m, 1) for m in ns] + [('KSG', m, 1) for m in ns]
    mem_jobs += [('InfoNet batch', 1000, args.batch), ('InfoNet mi_torch', 1000, 1)]
    if not args.no_mine:
        mem_jobs.append(('MINE', 1000, 1))
    if not args.no_memory:
        for method, m, b in mem_jobs:
            res['memory'].append(measure_memory(method, m, b, args))
            print(f'memory {method} N={m} B={b}: {res["memory"][-1]}', file=sys.stderr)
    return res, est


def markdown(res, est, args) -> str:
    ms = (lambda v: f'{1e3 * v:.2f}')
    rows = []
    for r in res['single']:
        for name in ('InfoNet', 'InfoNet-jit', 'InfoNet-shuffle', 'KSG', 'MINE'):
            if name in r:
                ratio = r[name][0] / r['KSG'][0]
                rows.append([r['n'], name, ms(r[name][0]), ms(r[name][1]), f'{ratio:.3f}'])
    b = res['batch']
    speed = md_table(['N', 'method', 'median ms', 'p90 ms', 'time / KSG time'], rows)
    single_1000 = next((r for r in res['single'] if r['n'] == 1000), None)
    t_rows = []
    for label, key in (('InfoNet', 'InfoNet'), ('InfoNet jit', 'InfoNet-jit')):
        if single_1000 and key in single_1000:
            t_rows.append([f'one estimate, N = 1000: {label} / KSG',
                           f"{single_1000[key][0] / single_1000['KSG'][0]:.3f}", '<= 0.5'])
    for label, key in (('InfoNet', 'per_pair_s'), ('InfoNet jit', 'jit_per_pair_s')):
        if key in b:
            t_rows.append([f"batch of {b['batch']}, N = 1000: {label} per pair / KSG per pair",
                           f"{b[key] / b['ksg_per_pair_s']:.4f}", '<= 0.05'])
    batch = md_table(['measure', 'value'], [
        [f"InfoNet estimate_batch, {b['batch']} pairs, N = {b['n']} (median ms)",
         ms(b['batch_s'][0])],
        [f"InfoNet per pair in the batch (ms), {b.get('row_workers', '?')} row workers",
         ms(b['per_pair_s'])],
        [f"InfoNet jit per pair in the batch (ms), {b.get('jit_row_workers', '?')} row "
         'workers', ms(b['jit_per_pair_s'])],
        ['InfoNet per pair, workers=1 (torch threads) (ms)', ms(b['workers1_per_pair_s'])],
        ['InfoNet jit per pair, workers=1 (torch threads) (ms)',
         ms(b['jit_workers1_per_pair_s'])],
        ['KSG per pair, same pairs (median ms)', ms(b['ksg_per_pair_s'])],
        ['InfoNet mi_torch forward + backward, N = 1000 (median ms)',
         ms(b['mi_torch_fwd_bwd_s'][0])]])
    mem = md_table(['method', 'N', 'pairs', 'extra peak MiB', 'process peak MiB'], [
        [m['method'], m['n'], m['batch'],
         f"{m['extra_peak_mib']:.1f}" if m['extra_peak_mib'] is not None else 'n/a',
         f"{m['process_peak_mib']:.0f}"] for m in res['memory']])
    prov = est.provenance
    weights = os.path.basename(resolve_weights(args.weights))
    head = (f"Weights: {args.weights or 'default'} ({weights}, steps {prov.get('steps', '?')}). "
            f'{os.cpu_count()} CPUs '
            f'({platform.machine()}), torch {torch.__version__} with '
            f'{torch.get_num_threads()} threads, InfoNet in {est.precision}; KSG: '
            'scikit-learn, single-threaded; MINE: '
            f'{args.mine_steps} Adam steps, N = 1000 only'
            + (' (--quick settings).' if args.quick else '.') + '\n')
    parts = [head, '### Targets\n', md_table(['measure', 'value', 'target'], t_rows),
             '\n### One estimate\n', speed, '\n### Batch and differentiable path\n', batch]
    if res['memory']:
        parts += ['\n### Peak memory\n',
                  'Each row is one call in a fresh process: "extra peak" is the rise of the '
                  'resident-set high-water mark over the resident set just before the call '
                  '(model, data and libraries already loaded); "process peak" is the whole '
                  "process's peak resident set (VmHWM), most of it torch and scikit-learn.\n",
                  mem]
    return '\n'.join(parts) + '\n'


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.strip().split('\n')[0])
    p.add_argument('--weights', default=None, help='checkpoint (default: shipped weights)')
    p.add_argument('--n', type=int, nargs='+', default=None, help='sample sizes')
    p.add_argument('--seeds', '--repeats', dest='repeats', type=int, default=None,
                   help='timed calls per measurement (default 30, quick 5)')
    p.add_argument('--batch', type=int, default=64, help='pairs in the batch measurement')
    p.add_argument('--mine-steps', type=int, default=1000)
    p.add_argument('--no-mine', action='store_true')
    p.add_argument('--no-memory', action='store_true', help='skip the memory subprocesses')
    p.add_argument('--threads', type=int, default=0, help='torch threads (0 = default)')
    p.add_argument('--child-memory', nargs=3, metavar=('METHOD', 'N', 'B'),
                   help=argparse.SUPPRESS)
    results_io.add_output_arguments(p, 'estimator_speed')
    return p


def main(argv=None):
    args = results_io.parse(build_parser(), argv, __file__)
    if args.child_memory:
        method, n, b = args.child_memory
        child_memory(method, int(n), int(b), args.weights, args.mine_steps)
        return 0
    t0 = time.time()
    res, est = run(args)
    settings = results_io.arguments(args)
    del settings['child_memory']
    environment = {'torch': torch.__version__, 'threads': torch.get_num_threads(),
                   'cpu_count': os.cpu_count(), 'python': platform.python_version(),
                   'weights_provenance': weights_identity(est.provenance),
                   'date': datetime.datetime.now(datetime.timezone.utc)
                   .isoformat(timespec='seconds'),
                   'seconds': round(time.time() - t0, 1)}
    results_io.write(args, {'results': res, 'settings': settings, 'environment': environment},
                     markdown(res, est, args))
    return 0


if __name__ == '__main__':
    sys.exit(main())
