# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Speed against accuracy of several InfoNet checkpoints, on the same samples, in one run.

For each checkpoint (shipped names 'default', 'fine', 'fast', or files), and for KSG (k = 3):

- accuracy at N = 1000: MAE over the bivariate-Gaussian sweep (rho 0 ... 0.99, ``--seeds``
  samples each), MAE over the unseen families of benchmarks/README.md (3 samples per case),
  bias on random Gaussian mixtures (``--gmm`` mixtures, Monte-Carlo truths);
- short windows: the mean estimate of 100 independent Gaussian pairs at N = 64 and 256
  (truth 0);
- speed: median time of one ``estimate`` at N = 1000; per pair in one ``estimate_batch`` of
  64 pairs at N = 1000 and at N = 256 (the window of the bag example); KSG per pair on the
  same pairs. Each checkpoint is timed twice: eager, and as TorchScript traces
  (``InfoNetEstimator(jit=True)``, rows "(jit)"; same estimates, checked).

The accuracy numbers are a smaller version of eval_accuracy.py (which has the full tables);
this script exists to put every model in one table measured under the same conditions.

    python benchmarks/model_tradeoff.py [--weights default fine fast FILE ...] [--seeds 10]
                                        [--gmm 20] [--threads K] [--name NAME]

Writes benchmarks/results/NAME.{json,md} (NAME: model_tradeoff). Timings need an otherwise
idle machine.
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

from infonet_ros.core.estimator import InfoNetEstimator  # noqa: E402
from infonet_ros.core.ksg import ksg_mi  # noqa: E402
from infonet_ros.core.model import resolve_weights, SHIPPED_WEIGHTS  # noqa: E402
from infonet_ros.training import groundtruth as gt  # noqa: E402
from infonet_ros.training.result_files import md_table  # noqa: E402
import results_io  # noqa: E402  (benchmarks/, the script's own folder)

RHOS = (0.0, 0.3, 0.5, 0.75, 0.9, 0.95, 0.99)
N = 1000


def draw(cases, reps, n, seed):
    """Sample every case ``reps`` times: list of (case, x, y), the same for every method."""
    out = []
    for i, case in enumerate(cases):
        for s in range(reps):
            x, y = case.sample(n, np.random.default_rng([seed, i, s]))
            out.append((case, x, y))
    return out


def errors(est_fn, sets):
    est = est_fn(np.stack([s[1] for s in sets]), np.stack([s[2] for s in sets]))
    err = np.asarray(est) - np.array([s[0].truth for s in sets])
    return {'mae': float(np.abs(err).mean()), 'bias': float(err.mean())}


def median_time(fn, calls, warmup=3):
    for _ in range(warmup):
        fn()
    ts = []
    for _ in range(calls):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return float(np.median(ts))


def ksg_rows(x, y):
    return np.array([ksg_mi(a, b) for a, b in zip(x, y)])


def speed(batch_fn, single_fn, rng, calls):
    """Time one estimate at N = 1000 and per pair in batches of 64 at N = 1000 and 256."""
    out = {}
    x, y = rng.standard_normal((2, 64, N))
    out['single_ms'] = 1e3 * median_time(lambda: single_fn(x[0], y[0]), calls)
    for n in (N, 256):
        xb, yb = x[:, :n], y[:, :n]
        out[f'batch64_n{n}_ms_per_pair'] = 1e3 * median_time(
            lambda: batch_fn(xb, yb), max(3, calls // 10), warmup=1) / 64
    return out


def run(args):
    if args.threads:
        torch.set_num_threads(args.threads)
    independent = gt.gaussian_case(0.0)
    sets = {'gaussian': draw([gt.gaussian_case(r) for r in RHOS], args.seeds, N, 1),
            'unseen': draw(gt.unseen_cases(), 3, N, 2),
            'gmm': draw(gt.gmm_cases(args.gmm, seed=3), 1, N, 3),
            # Short windows: the bias on independent data (truth 0) at N = 64 and 256.
            'independent_n64': draw([independent], 100, 64, 5),
            'independent_n256': draw([independent], 100, 256, 6)}
    rows = []
    for w in args.weights:
        est = InfoNetEstimator.from_pretrained(w, device='cpu')
        r = {'model': w if w in SHIPPED_WEIGHTS else os.path.basename(w),
             'file': os.path.basename(resolve_weights(w)),
             'parameters': est.model.num_params(),
             'steps': est.provenance.get('steps'), 'commit': est.provenance.get('commit'),
             'precision': est.precision}
        r.update({k: errors(est.estimate_batch, v) for k, v in sets.items()})
        r.update(speed(est.estimate_batch, est.estimate, np.random.default_rng(4), args.calls))
        rows.append(r)
        print(json.dumps(r), file=sys.stderr, flush=True)
        if args.no_jit:
            continue
        # The same model through TorchScript traces: the same estimates (checked), timed.
        jit = InfoNetEstimator(est.model, 'cpu', est.provenance, jit=True)
        rj = {**r, 'model': r['model'] + ' (jit)'}
        rj.update({k: errors(jit.estimate_batch, v) for k, v in sets.items()})
        for k in sets:
            assert abs(rj[k]['mae'] - r[k]['mae']) < 1e-5, (k, rj[k], r[k])
        rj.update(speed(jit.estimate_batch, jit.estimate, np.random.default_rng(4), args.calls))
        rows.append(rj)
        print(json.dumps(rj), file=sys.stderr, flush=True)
    k = {'model': 'KSG (k=3)', 'file': '', 'parameters': None, 'steps': None, 'commit': None}
    k.update({name: errors(ksg_rows, v) for name, v in sets.items()})
    k.update(speed(ksg_rows, ksg_mi, np.random.default_rng(4), args.calls))
    rows.append(k)
    return rows


def markdown(rows, meta) -> str:
    ksg = rows[-1]
    table = []
    for r in rows:
        table.append([
            r['model'] + (f" ({r['file']})" if r['file'] else ''),
            f"{r['parameters']:,}" if r['parameters'] else '',
            r['steps'] or '',
            f"{r['gaussian']['mae']:.3f}", f"{r['unseen']['mae']:.3f}",
            f"{r['gmm']['bias']:+.3f}", f"{r['independent_n64']['bias']:+.3f}",
            f"{r['independent_n256']['bias']:+.3f}",
            f"{r['single_ms']:.2f}", f"{r['single_ms'] / ksg['single_ms']:.2f}",
            f"{r['batch64_n1000_ms_per_pair']:.2f}",
            f"{r['batch64_n1000_ms_per_pair'] / ksg['batch64_n1000_ms_per_pair']:.3f}",
            f"{r['batch64_n256_ms_per_pair']:.2f}",
            f"{r['batch64_n256_ms_per_pair'] / ksg['batch64_n256_ms_per_pair']:.3f}"])
    head = (f"{meta['date']}; {meta['cpu_count']} CPUs ({meta['machine']}), torch "
            f"{meta['torch']} with {meta['threads']} threads, load average {meta['load'][0]:.1f}"
            f' at start; InfoNet in '
            f"{', '.join(sorted({r['precision'] for r in rows if r.get('precision')}))}"
            f". N = {N}; {meta['seeds']} samples per Gaussian rho, 3 per unseen case, "
            f"{meta['gmm']} random GMMs; the same samples for every method.\n")
    return head + '\n' + md_table(
        ['model', 'parameters', 'steps', 'Gaussian MAE', 'unseen MAE', 'GMM bias',
         'independent N=64 bias', 'independent N=256 bias',
         'one estimate ms', '/ KSG', 'batch N=1000 ms/pair', '/ KSG', 'batch N=256 ms/pair',
         '/ KSG'], table) + '\n\nTargets: one estimate <= 0.5 x KSG; per pair in a ' \
        'batch of 64 <= 0.05 x KSG; MAE <= KSG.\n'


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.strip().split('\n')[0])
    p.add_argument('--weights', nargs='+', default=['default', 'fine', 'fast'],
                   help='checkpoints: shipped names or files')
    p.add_argument('--seeds', type=int, default=10, help='samples per Gaussian rho')
    p.add_argument('--gmm', type=int, default=20, help='random Gaussian mixtures')
    p.add_argument('--calls', type=int, default=30, help='timed single calls')
    p.add_argument('--threads', type=int, default=0, help='torch threads (0 = default)')
    p.add_argument('--no-jit', action='store_true',
                   help='skip the rows of the TorchScript-traced models (InfoNetEstimator jit)')
    p.add_argument('--title', default='Speed against accuracy of the InfoNet checkpoints')
    results_io.add_output_arguments(p, 'model_tradeoff', quick=False)
    return p


def main(argv=None):
    args = results_io.parse(build_parser(), argv, __file__)
    meta = {'date': datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'),
            'cpu_count': os.cpu_count(), 'machine': platform.machine(),
            'torch': torch.__version__, 'load': os.getloadavg(), 'seeds': args.seeds,
            'gmm': args.gmm}
    rows = run(args)
    meta['threads'] = torch.get_num_threads()
    results_io.write(args, {'meta': meta, 'rows': rows},
                     f'# {args.title}\n\n' + markdown(rows, meta))


if __name__ == '__main__':
    main()
