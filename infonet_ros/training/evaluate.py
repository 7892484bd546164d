# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
``infonet-ros evaluate``: accuracy of InfoNet against ground truth, KSG and MINE.

Every estimator sees the very same samples in the same run. Sections (distributions and their
true MI come from :mod:`infonet_ros.training.groundtruth`):

1. bivariate Gaussians, rho in {0, .3, .5, .75, .9, .95, .99}, ``--seeds`` samples each;
2. random Gaussian mixtures of the training family, Monte-Carlo truth (1e5 samples each);
3. families never used in training: additive uniform noise, Student-t, monotone transforms
   of Gaussians, a bimodal mixture of bivariate t;
4. order preservation: triplets (X, Y, Z) with known I(X;Y), I(X;Z); the share of triplets
   whose estimates order the two as the truth does, with the same share for the oracle
   (the sample mean of the true log density ratio, the efficiency bound) as a ceiling;
5. readout ablation: the same network with the exact product-of-marginals term
   (``marginal='exact'``, the default) against the authors' shuffled pairs ('shuffle');
6. quantized Gaussians (tied values), reported apart from the targets;
7. held-out shapes (uniform on a triangle and on rings), reported apart as well.

Methods: InfoNet (``InfoNetEstimator.estimate``, one call per sample set), KSG
(scikit-learn, k = 3) and MINE (:mod:`infonet_ros.training.baselines`; slow, so only at
N = 1000 on a subset, as the tables say). Times are wall-clock seconds per estimate, single
calls.

This module draws the samples and runs the methods. The summaries and tables come from
:mod:`infonet_ros.training.evaluate_report`. Writes ``OUT_DIR/NAME.json`` (the command that
wrote it, settings, environment, every estimate, summaries) and ``OUT_DIR/NAME.md`` (the
tables, also printed) through :func:`infonet_ros.training.result_files.write_results`, the
one writer of result files. The command line is parsed in :mod:`infonet_ros.cli.evaluate`.
"""

from __future__ import annotations

import datetime
import os
import platform
import time

import numpy as np
import torch

from infonet_ros.core.ksg import ksg_mi
from infonet_ros.core.model import resolve_weights
from infonet_ros.training import groundtruth as gt
from infonet_ros.training.ablations import AblatedEstimator
from infonet_ros.training.baselines import mine_mi
from infonet_ros.training.evaluate_report import summarize
from infonet_ros.training.result_files import result_stem, weights_identity, write_results
from infonet_ros.training.triplets import gaussian_triplets, gmm_triplets

DEFAULT_NS = (300, 1000, 5000)
MINE_N = 1000

# Seeds of the sample streams: every method sees the same samples, runs are reproducible.
SECTION_IDS = {'gaussian': 101, 'gmm': 202, 'unseen': 303, 'quantized': 404, 'shapes': 505}


def settings(args) -> dict:
    """
    Resolve defaults (full or quick) into one dict that is stored with the results.

    ``args`` holds the options of ``infonet-ros evaluate`` (infonet_ros.cli.evaluate): an
    option left at None takes the full or the quick default.
    """
    q = args.quick

    def pick(value, full, quick):
        return value if value is not None else (quick if q else full)
    return {
        'quick': q,
        'seeds': pick(args.seeds, 10, 2),
        'ns': list(pick(args.n, DEFAULT_NS, (1000,))),
        'gmm': pick(args.gmm, 40, 6),
        'triplets': pick(args.triplets, 150, 30),
        'mine': not args.no_mine,
        'mine_steps': pick(args.mine_steps, 1000, 200),
        'mine_seeds': pick(args.mine_seeds, 3, 1),
        'mine_gmm': pick(args.mine_gmm, 10, 2),
        'mine_n': MINE_N,
        'ksg_neighbors': 3,
    }


def _timed(fn, x, y):
    t0 = time.perf_counter()
    v = fn(x, y)
    return float(v), time.perf_counter() - t0


class Runner:
    """Draws each sample set once and hands it to every method; keeps all records."""

    def __init__(self, est, cfg: dict, log=print):
        self.cfg, self.log = cfg, log
        shuffle = AblatedEstimator(est, marginal='shuffle')
        averaged = AblatedEstimator(est, ties='average')
        steps = cfg['mine_steps']
        self.methods = {
            'InfoNet': est.estimate,
            'InfoNet-shuffle': shuffle.estimate,
            'InfoNet-avg-ties': averaged.estimate,  # ablation: averaged ranks of ties
            'KSG': lambda x, y: ksg_mi(x, y, n_neighbors=cfg['ksg_neighbors'], random_state=0),
            'MINE': lambda x, y: mine_mi(x, y, steps=steps, seed=0),
        }
        self.est = est
        self.records: list[dict] = []

    def run_case(self, section: str, case: gt.Case, index: int, methods_for):
        """Estimate ``case`` for every N and seed with the methods ``methods_for(n, seed)``."""
        for n in self.cfg['ns']:
            for seed in range(self.cfg['seeds'] if section != 'gmm' else 1):
                rng = np.random.default_rng([SECTION_IDS[section], index, seed, n])
                x, y = case.sample(n, rng)
                for name in methods_for(n, seed):
                    v, dt = _timed(self.methods[name], x, y)
                    self.records.append({
                        'section': section, 'family': case.family, 'case': case.label,
                        'truth': case.truth, 'truth_se': case.truth_se, 'n': n, 'seed': seed,
                        'method': name, 'estimate': v, 'seconds': dt})


def _mine_ok(cfg, n, seed, max_seed):
    return cfg['mine'] and n == cfg['mine_n'] and seed < max_seed


# ---- order preservation -----------------------------------------------------------------

def order_preservation(est, cfg, log=print) -> list[dict]:
    """Per N, kind and method: estimates of I(X;Y) and I(X;Z) for every triplet."""
    n_max = max(cfg['ns'])
    t0 = time.time()
    sets = [gmm_triplets(cfg['triplets'], n_max), gaussian_triplets(cfg['triplets'], n_max)]
    log(f'  triplet truths: {time.time() - t0:.1f} s')
    rows = []
    for n in cfg['ns']:
        for full in sets:
            tr = full.head(n)
            est_xy, est_xz = [], []
            for lo in range(0, tr.x.shape[0], 32):  # bounded memory at large N
                sl = slice(lo, lo + 32)
                est_xy.append(est.estimate_batch(tr.x[sl], tr.y[sl]))
                est_xz.append(est.estimate_batch(tr.x[sl], tr.z[sl]))
            results = {'InfoNet': (np.concatenate(est_xy), np.concatenate(est_xz))}
            ksg = [(ksg_mi(tr.x[i], tr.y[i]), ksg_mi(tr.x[i], tr.z[i]))
                   for i in range(tr.x.shape[0])]
            results['KSG'] = tuple(np.array(v) for v in zip(*ksg))
            # Not an estimator (it reads the true densities): the reference for how often
            # the best possible estimate from these n points orders the pair correctly.
            results['oracle'] = tr.oracle()
            for method, (a, b) in results.items():
                for i in range(tr.x.shape[0]):
                    rows.append({'n': n, 'kind': tr.kind, 'method': method, 'triplet': i,
                                 'i_xy': float(tr.i_xy[i]), 'i_xz': float(tr.i_xz[i]),
                                 'se_xy': float(tr.se_xy[i]), 'se_xz': float(tr.se_xz[i]),
                                 'est_xy': float(a[i]), 'est_xz': float(b[i])})
    return rows


# ---- main -------------------------------------------------------------------------------

def environment(est, weights) -> dict:
    return {'python': platform.python_version(), 'torch': torch.__version__,
            'threads': torch.get_num_threads(), 'cpu': platform.processor() or
            platform.machine(), 'cpu_count': os.cpu_count(), 'device': str(est.device),
            'precision': est.precision,
            'weights': os.path.basename(resolve_weights(weights)),
            'weights_provenance': weights_identity(est.provenance),
            'date': datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds')}


def run(args, log=print) -> tuple[dict, str]:
    """Run every section; return (results dict, markdown)."""
    from infonet_ros.core.estimator import InfoNetEstimator
    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = settings(args)
    est = InfoNetEstimator.from_pretrained(args.weights, device=args.device,
                                           precision=getattr(args, 'precision', 'fp32'))
    runner = Runner(est, cfg, log)
    warm = np.random.default_rng(0).standard_normal((2, max(cfg['ns'])))
    for n in cfg['ns']:  # first calls pay one-off allocation costs; keep them out of timing
        est.estimate(warm[0, :n], warm[1, :n])
    t_start = time.time()
    nets = ['InfoNet', 'InfoNet-shuffle', 'KSG']

    # (log line, section, cases (built when the section starts), methods_for(index, n, seed))
    sections = (
        (f'gaussian sweep ({len(gt.GAUSSIAN_RHOS)} rho x {cfg["ns"]} x {cfg["seeds"]} seeds)',
         'gaussian', lambda: [gt.gaussian_case(rho) for rho in gt.GAUSSIAN_RHOS],
         lambda i, n, s: nets + (['MINE'] if _mine_ok(cfg, n, s, cfg['mine_seeds']) else [])),
        (f"random GMMs ({cfg['gmm']}, Monte-Carlo truths)", 'gmm',
         lambda: gt.gmm_cases(cfg['gmm']),
         lambda i, n, s: nets + (
             ['MINE'] if _mine_ok(cfg, n, s, 1) and i < cfg['mine_gmm'] else [])),
        ('unseen families ({} cases)', 'unseen', gt.unseen_cases,
         lambda i, n, s: ['InfoNet', 'KSG'] + (['MINE'] if _mine_ok(cfg, n, s, 1) else [])),
        ('quantized Gaussians ({} cases, tied samples)', 'quantized', gt.quantized_cases,
         lambda i, n, s: ['InfoNet', 'InfoNet-avg-ties', 'KSG']),
        ('held-out shapes ({} cases, hard edges)', 'shapes', gt.shape_cases,
         lambda i, n, s: ['InfoNet', 'KSG']),
    )
    for title, section, make_cases, methods_for in sections:
        cases = make_cases()
        log(title.format(len(cases)))
        for i, case in enumerate(cases):
            runner.run_case(section, case, i, lambda n, s, i=i: methods_for(i, n, s))
        log(f'  {time.time() - t_start:.0f} s')

    log(f"order preservation ({cfg['triplets']} GMM + {cfg['triplets']} Gaussian triplets)")
    order_rows = order_preservation(est, cfg, log)
    log(f'  {time.time() - t_start:.0f} s')

    summary, md = summarize(runner.records, order_rows, cfg)
    env = environment(est, args.weights)
    head = (f"Weights: {env['weights']} (steps {est.provenance.get('steps', '?')}, "
            f"commit {est.provenance.get('commit', '?')}). {env['cpu_count']} CPUs, torch "
            f"{env['torch']} with {env['threads']} threads, device {env['device']}. "
            f'Run took {time.time() - t_start:.0f} s'
            + (' (--quick settings).' if cfg['quick'] else '.') + '\n\n')
    md = head + md
    return {'settings': cfg, 'environment': env, 'summary': summary,
            'records': runner.records, 'order_records': order_rows}, md


def evaluate(args, command: str, log=print) -> tuple[str, tuple[str, str]]:
    """
    Run every section and write OUT_DIR/NAME{,_quick}.{json,md} headed by ``command``.

    Returns the markdown report and the paths written. Raises WeightsError or ValueError
    on bad input (nothing is written then).
    """
    results, md = run(args, log=log)
    stem = result_stem(args.name, args.quick)
    return md, write_results(args.out_dir, stem, command, results, md)
