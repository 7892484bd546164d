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

Writes ``OUT_DIR/NAME.json`` (the command that wrote it, settings, environment, every
estimate, summaries) and ``OUT_DIR/NAME.md`` (the tables, also printed). The command line is
parsed in :mod:`infonet_ros.cli.evaluate`. :func:`write_results` is the one writer of result
files: the benchmark scripts (``benchmarks/results_io.py``) write through it too, so every
result file starts with the command that reproduces it.
"""

from __future__ import annotations

import datetime
import json
import math
import os
import platform
import shlex
import time

import numpy as np
import torch

from infonet_ros.core.ksg import ksg_mi
from infonet_ros.core.model import resolve_weights
from infonet_ros.training import groundtruth as gt
from infonet_ros.training.ablations import AblatedEstimator
from infonet_ros.training.baselines import mine_mi
from infonet_ros.training.triplets import gaussian_triplets, gmm_triplets

DEFAULT_NS = (300, 1000, 5000)
MINE_N = 1000
# Order preservation: a triplet counts when its true MIs differ by at least this much
# (nats) and by at least ORDER_MIN_SE Monte-Carlo standard errors, so the true order is
# itself certain.
ORDER_DELTA = 0.01
ORDER_MIN_SE = 4.0
ORDER_EXTRA_DELTAS = (0.05, 0.1)
# 'oracle' is a reference, not an estimator: see groundtruth.Triplets.
ORDER_METHODS = ('InfoNet', 'KSG', 'oracle')
BIAS_REL = 0.05  # target: |bias| within 5 % of the true MI ...
BIAS_MAX_MI = 2.0  # ... for true MI up to 2 nats
BIAS_ABS_AT_ZERO = 0.01  # for a true MI of 0 the 5 % rule is replaced by 0.01 nats
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


def order_share(rows, delta, min_se=ORDER_MIN_SE):
    """(share correct, counted, total) among triplets with |dI| >= delta and >= min_se SE."""
    counted = correct = 0
    for r in rows:
        d = r['i_xy'] - r['i_xz']
        se = math.hypot(r['se_xy'], r['se_xz'])
        if abs(d) < delta or abs(d) < min_se * se:
            continue
        counted += 1
        correct += (r['est_xy'] - r['est_xz']) * d > 0  # a tie in the estimates is wrong
    return (correct / counted if counted else float('nan')), counted, len(rows)


# ---- summaries and tables ---------------------------------------------------------------

def _errors(recs):
    e = np.array([r['estimate'] - r['truth'] for r in recs])
    sd = float(np.array([r['estimate'] for r in recs]).std())
    # Standard error of the bias: with 10 samples it is about a third of the spread, which
    # is more than 5 % of the weakest dependences' MI (rho = 0.3: 0.0024 nats).
    se = sd / math.sqrt(len(recs) - 1) if len(recs) > 1 else float('nan')
    return {'bias': float(e.mean()), 'mae': float(np.abs(e).mean()), 'sd': sd,
            'bias_se': se, 'count': len(recs),
            'seconds': float(np.median([r['seconds'] for r in recs]))}


def _select(records, **kw):
    return [r for r in records if all(r[k] == v for k, v in kw.items())]


def _fmt(v, digits=3):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return '-'
    return f'{v:.{digits}f}'


def md_table(headers, rows) -> str:
    """Format a GitHub markdown table."""
    out = ['| ' + ' | '.join(headers) + ' |', '|' + '|'.join('---' for _ in headers) + '|']
    out += ['| ' + ' | '.join(str(c) for c in row) + ' |' for row in rows]
    return '\n'.join(out)


def bias_ok(bias: float, truth: float) -> bool:
    """Check the bias target: |bias| <= 5 % of the true MI (0.01 nats at a truth of 0)."""
    return abs(bias) <= (BIAS_REL * truth if truth > 1e-9 else BIAS_ABS_AT_ZERO)


def _ok_mark(bias: float, truth: float) -> str:
    """Mark a case for the bias target: 'yes', 'NO', or '-' above the target's MI range."""
    if truth > BIAS_MAX_MI:
        return '-'
    return 'yes' if bias_ok(bias, truth) else 'NO'


def _method_cells(method: str, s: dict | None, truth: float) -> list[str]:
    """Cells of one method in a per-case row: bias, MAE (InfoNet also se and bias ok)."""
    if s is None:
        return ['-'] * (4 if method == 'InfoNet' else 2)
    cells = [_fmt(s['bias']), _fmt(s['mae'])]
    if method == 'InfoNet':
        cells += [_fmt(s['bias_se']), _ok_mark(s['bias'], truth)]
    return cells


def _case_cells(per_case: list, recs, section: str, case: str, n: int, truth: float,
                methods) -> list[str]:
    """Cells of one case's row for ``methods``; each method's errors go to ``per_case``."""
    cells = []
    for m in methods:
        rm = _select(recs, method=m)
        s = _errors(rm) if rm else None
        if s is not None:
            per_case.append({'section': section, 'case': case, 'n': n, 'method': m,
                             'truth': truth, **s})
        cells += _method_cells(m, s, truth)
    return cells


METHODS = ('InfoNet', 'KSG', 'MINE', 'InfoNet-shuffle')  # the tables' methods, in order


def _gaussian_table(records, cfg, summary) -> list[str]:
    """Section 1: the Gaussian sweep, one row per rho and N."""
    rows = []
    for case in sorted({r['case'] for r in _select(records, section='gaussian')},
                       key=lambda c: float(c.split('=')[1])):
        for n in cfg['ns']:
            recs = _select(records, section='gaussian', case=case, n=n)
            truth = recs[0]['truth']
            rows.append([case, n, _fmt(truth)]
                        + _case_cells(summary['per_case'], recs, 'gaussian', case, n, truth,
                                      ('InfoNet', 'KSG', 'MINE')))
    return [
        '### Bivariate Gaussians\n',
        f"{cfg['seeds']} samples per rho and N; bias = mean(estimate - truth), MAE = "
        'mean |estimate - truth| (nats); "se": standard error of the bias (spread / '
        'sqrt(samples - 1)). "bias ok": |bias| <= 5 % of the true MI '
        f'(<= {BIAS_ABS_AT_ZERO} nats at rho = 0). MINE only at N = {MINE_N} with '
        f"{cfg['mine_seeds']} samples per rho ({cfg['mine_steps']} Adam steps).\n",
        md_table(['case', 'N', 'true MI', 'InfoNet bias', 'InfoNet MAE', 'InfoNet se',
                  'bias ok', 'KSG bias', 'KSG MAE', 'MINE bias', 'MINE MAE'], rows)]


def _group_table(records, cfg, summary) -> list[str]:
    """Sections 2, 3, 6, 7 pooled: per section or family, N and method."""
    groups = [('gaussian', 'gaussian sweep'), ('gmm', 'random GMMs (training family)')]
    fams = sorted({r['family'] for r in _select(records, section='unseen')})
    groups += [(('unseen', f), f'unseen: {f}') for f in fams]
    groups.append(('unseen', 'unseen: all families'))
    if _select(records, section='quantized'):
        groups.append(('quantized', 'quantized Gaussians (ties)'))
    if _select(records, section='shapes'):
        groups.append(('shapes', 'held-out shapes (hard edges)'))
    rows = []
    for key, label in groups:
        for n in cfg['ns']:
            if isinstance(key, tuple):
                recs = _select(records, section=key[0], family=key[1], n=n)
            else:
                recs = _select(records, section=key, n=n)
            row = [label, n]
            for m in METHODS[:3]:
                rm = _select(recs, method=m)
                if rm:
                    s = _errors(rm)
                    summary['per_group'].append({'group': label, 'n': n, 'method': m, **s})
                    row += [_fmt(s['mae']), _fmt(s['bias'])]
                else:
                    row += ['-', '-']
            rows.append(row)
    return [
        '\n### Accuracy by family\n',
        'MAE and bias in nats, pooled over the cases of each group. MINE: N = '
        f"{MINE_N} only, on {cfg['mine_seeds']} samples per Gaussian rho, the first "
        f"{cfg['mine_gmm']} GMMs and 1 sample per unseen case.\n",
        md_table(['group', 'N', 'InfoNet MAE', 'InfoNet bias', 'KSG MAE', 'KSG bias',
                  'MINE MAE', 'MINE bias'], rows)]


def _case_tables(records, n_mid, summary) -> list[str]:
    """Unseen, quantized and shape cases one by one at N = ``n_mid``."""
    md = []
    for section, title, shown in (
            ('unseen', 'Unseen families', METHODS[:3]),
            ('quantized', 'Quantized Gaussians (rounded to a step: ties; InfoNet-avg-ties: '
             'the same network on averaged ranks of tied values)',
             ('InfoNet', 'InfoNet-avg-ties', 'KSG')),
            ('shapes', 'Held-out shapes (uniform on a triangle and on rings: hard edges '
             'unlike any training family; reported apart from the targets)', METHODS[:2])):
        rows = []
        for case in dict.fromkeys(r['case'] for r in _select(records, section=section)):
            recs = _select(records, section=section, case=case, n=n_mid)
            truth = recs[0]['truth']
            rows.append([recs[0]['family'], case, _fmt(truth)]
                        + _case_cells(summary['per_case'], recs, section, case, n_mid, truth,
                                      shown))
        if rows:
            cols = [f'{m} {e}' for m in shown
                    for e in (('bias', 'MAE', 'se', 'bias ok') if m == 'InfoNet'
                              else ('bias', 'MAE'))]
            md += [f'\n### {title}, case by case (N = {n_mid})\n',
                   md_table(['family', 'case', 'true MI'] + cols, rows)]
    return md


def _order_table(order_rows, cfg, summary) -> list[str]:
    """Section 4: the share of triplets in the true order, per N, kind, method and delta."""
    rows = []
    deltas = (ORDER_DELTA,) + ORDER_EXTRA_DELTAS
    for n in cfg['ns']:
        for kind in ('gmm', 'gaussian', 'all'):
            for m in ORDER_METHODS:
                sel = [r for r in order_rows if r['n'] == n and r['method'] == m
                       and (kind == 'all' or r['kind'] == kind)]
                row = [n, kind, m]
                for d in deltas:
                    share, counted, total = order_share(sel, d)
                    summary['order'].append({'n': n, 'kind': kind, 'method': m, 'delta': d,
                                             'share': share, 'counted': counted,
                                             'total': total})
                    row.append(f'{100 * share:.1f} % ({counted})')
                rows.append(row)
    return [
        '\n### Order preservation\n',
        f"{cfg['triplets']} random 3-D GMM triplets (K <= 10, Monte-Carlo truths) and "
        f"{cfg['triplets']} random trivariate Gaussian triplets per N. Share of "
        'triplets whose estimates order I(X;Y) and I(X;Z) as the truth does, counting '
        'only triplets whose true MIs differ by at least delta nats and by at least '
        f'{ORDER_MIN_SE:g} Monte-Carlo standard errors (counted triplets in '
        f'parentheses). Primary rule: delta = {ORDER_DELTA}. MINE is not run here '
        '(too slow for hundreds of estimates). "oracle" is no estimator: it averages '
        'the true log density ratio log p(x, y) / (p(x) p(y)) over the same samples, '
        'an unbiased estimate whose variance is the efficiency bound, so its share is '
        'about the best any estimator can reach from N points.\n',
        md_table(['N', 'triplets', 'method'] + [f'delta = {d}' for d in deltas], rows)]


def _ablation_table(records, cfg, summary) -> list[str]:
    """Section 5: the exact product-of-marginals term against shuffled pairs."""
    rows = []
    for n in cfg['ns']:
        for section in ('gaussian', 'gmm'):
            row = [section, n]
            for m in ('InfoNet', 'InfoNet-shuffle'):
                s = _errors(_select(records, section=section, n=n, method=m))
                summary['per_group'].append({'group': f'ablation {section}', 'n': n,
                                             'method': m, **s})
                row += [_fmt(s['mae']), _fmt(s['bias']), _fmt(1e3 * s['seconds'], 1)]
            rows.append(row)
    return [
        '\n### Readout ablation: exact product-of-marginals term vs shuffled pairs\n',
        'Same network and samples; "shuffle" averages e^T over 5 permutations of y '
        '(the InfoNet authors\' readout), "exact" integrates e^T over the table.\n',
        md_table(['set', 'N', 'exact MAE', 'exact bias', 'exact ms',
                  'shuffle MAE', 'shuffle bias', 'shuffle ms'], rows)]


def _time_table(records, cfg) -> list[str]:
    """Median time per estimate of each method and N, over all sections."""
    rows = []
    for n in cfg['ns']:
        row = [n]
        for m in METHODS:
            rm = _select(records, n=n, method=m)
            row.append(_fmt(1e3 * float(np.median([r['seconds'] for r in rm])), 1)
                       if rm else '-')
        rows.append(row)
    return ['\n### Time per estimate (median ms, single calls, all sections)\n',
            md_table(['N'] + list(METHODS), rows)]


def _targets(records, n_mid, summary) -> dict:
    """Return the target measures at N = ``n_mid`` (from the records and the summary)."""
    tg = {}
    for key in ('gaussian', 'unseen', 'gmm'):
        for m in ('InfoNet', 'KSG'):
            rm = _select(records, section=key, n=n_mid, method=m)
            if rm:
                tg[f'{key}_mae_{m}'] = _errors(rm)['mae']
    # The target's cases: the Gaussian sweep and the unseen families (quantized: reported).
    for m, suffix in (('InfoNet', ''), ('KSG', '_KSG')):
        bias_rows = [c for c in summary['per_case'] if c['n'] == n_mid
                     and c['section'] in ('gaussian', 'unseen')
                     and c['method'] == m and c['truth'] <= BIAS_MAX_MI]
        tg['bias_within_5pct' + suffix] = sum(bias_ok(c['bias'], c['truth']) for c in bias_rows)
        tg['bias_cases' + suffix] = len(bias_rows)
    for o in summary['order']:
        if o['n'] == n_mid and o['kind'] == 'all' and o['delta'] == ORDER_DELTA:
            tg[f"order_share_{o['method']}"] = o['share']
    return tg


def _targets_table(tg: dict, n_mid: int) -> str:
    """Return the "Targets" table that opens the report."""
    rows = [
        [f'MAE Gaussian sweep, N = {n_mid}', _fmt(tg.get('gaussian_mae_InfoNet')),
         _fmt(tg.get('gaussian_mae_KSG')), 'InfoNet <= KSG'],
        [f'MAE unseen families, N = {n_mid}', _fmt(tg.get('unseen_mae_InfoNet')),
         _fmt(tg.get('unseen_mae_KSG')), 'InfoNet <= KSG'],
        [f'MAE random GMMs, N = {n_mid}', _fmt(tg.get('gmm_mae_InfoNet')),
         _fmt(tg.get('gmm_mae_KSG')), '-'],
        [f'cases with |bias| <= 5 % (true MI <= 2), N = {n_mid}',
         f"{tg['bias_within_5pct']} / {tg['bias_cases']}",
         f"{tg['bias_within_5pct_KSG']} / {tg['bias_cases_KSG']}", 'all (InfoNet)'],
        [f'order preservation (delta = {ORDER_DELTA}), N = {n_mid}',
         _fmt(100 * tg.get('order_share_InfoNet', float('nan')), 1) + ' %',
         _fmt(100 * tg.get('order_share_KSG', float('nan')), 1) + ' %', '>= 98.9 %'],
    ]
    oracle = _fmt(100 * tg.get('order_share_oracle', float('nan')), 1)
    return ('### Targets\n\n' + md_table(['measure', 'InfoNet', 'KSG', 'target'], rows)
            + f'\n\nReference for the order: the oracle orders {oracle} % of the same '
            'triplets (about the ceiling for them at this N; see "Order preservation").\n')


def summarize(records, order_rows, cfg) -> tuple[dict, str]:
    """Return the summary dict and the markdown report (targets first, then each section)."""
    ns = cfg['ns']
    n_mid = MINE_N if MINE_N in ns else ns[len(ns) // 2]  # N = 1000, or the middle N
    summary: dict = {'per_case': [], 'per_group': [], 'order': [], 'targets': {}}
    md = _gaussian_table(records, cfg, summary)
    md += _group_table(records, cfg, summary)
    md += _case_tables(records, n_mid, summary)
    md += _order_table(order_rows, cfg, summary)
    md += _ablation_table(records, cfg, summary)
    md += _time_table(records, cfg)
    summary['targets'] = _targets(records, n_mid, summary)
    md.insert(0, _targets_table(summary['targets'], n_mid))
    return summary, '\n'.join(md) + '\n'


# ---- main -------------------------------------------------------------------------------

def environment(est, weights) -> dict:
    return {'python': platform.python_version(), 'torch': torch.__version__,
            'threads': torch.get_num_threads(), 'cpu': platform.processor() or
            platform.machine(), 'cpu_count': os.cpu_count(), 'device': str(est.device),
            'weights': os.path.basename(resolve_weights(weights)),
            'weights_provenance': weights_identity(est.provenance),
            'date': datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds')}


def run(args, log=print) -> tuple[dict, str]:
    """Run every section; return (results dict, markdown)."""
    from infonet_ros.core.estimator import InfoNetEstimator
    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = settings(args)
    est = InfoNetEstimator.from_pretrained(args.weights, device=args.device)
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


# ---- result files ------------------------------------------------------------------------

# Provenance fields that identify a checkpoint. The rest (training command, notes) is the
# model card's: result files name the weights they measured, not how they were trained.
WEIGHTS_IDENTITY = ('steps', 'seed', 'commit', 'date')


def weights_identity(provenance: dict) -> dict:
    """Return the fields of a checkpoint's provenance that identify it in a result file."""
    return {k: provenance[k] for k in WEIGHTS_IDENTITY if k in provenance}


def command_line(program: str, argv: list[str]) -> str:
    """
    Return the command that reproduces a run: ``program`` and ``argv`` without ``--out-dir``.

    The output directory is left out because a result file must not name the machine it was
    written on; a rerun writes to the default directory, over the file it reproduces.
    """
    kept, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg == '--out-dir':
            skip = True
        elif not arg.startswith('--out-dir='):
            kept.append(arg)
    return ' '.join([program] + ([shlex.join(kept)] if kept else []))


def result_stem(name: str, quick: bool) -> str:
    """Return the base name of a run's files: NAME, or NAME_quick for a smoke run."""
    return name + ('_quick' if quick else '')


def write_results(out_dir: str, stem: str, command: str, payload: dict,
                  markdown: str) -> tuple[str, str]:
    """
    Write ``stem``.json and ``stem``.md in ``out_dir``; return their paths.

    The JSON opens with ``command`` (its header: the command line that wrote it, so that a
    reader can rerun it; it replaces a ``command`` entry of ``payload``), then ``payload``.
    A rerun replaces both files.
    """
    os.makedirs(out_dir, exist_ok=True)
    jpath, mpath = (os.path.join(out_dir, stem + ext) for ext in ('.json', '.md'))
    data = {'command': command, **{k: v for k, v in payload.items() if k != 'command'}}
    with open(jpath, 'w') as f:
        f.write(json.dumps(data, indent=1, default=float) + '\n')
    with open(mpath, 'w') as f:
        f.write(markdown if markdown.endswith('\n') else markdown + '\n')
    return jpath, mpath


def evaluate(args, command: str, log=print) -> tuple[str, tuple[str, str]]:
    """
    Run every section and write OUT_DIR/NAME{,_quick}.{json,md} headed by ``command``.

    Returns the markdown report and the paths written. Raises WeightsError or ValueError
    on bad input (nothing is written then).
    """
    results, md = run(args, log=log)
    stem = result_stem(args.name, args.quick)
    return md, write_results(args.out_dir, stem, command, results, md)
