# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Summaries and the markdown report of ``infonet-ros evaluate`` (:func:`summarize`).

From the estimates that :mod:`infonet_ros.training.evaluate` records: bias, MAE and their
standard errors per case and group, the share of triplets in the true order
(:func:`order_share`), the readout ablation, times, and the targets table that opens the
report.
"""

from __future__ import annotations

import math

import numpy as np

from infonet_ros.training.result_files import md_table

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
METHODS = ('InfoNet', 'KSG', 'MINE', 'InfoNet-shuffle')  # the tables' methods, in order


# ---- order preservation -----------------------------------------------------------------

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
        f'(<= {BIAS_ABS_AT_ZERO} nats at rho = 0). MINE only at N = {cfg["mine_n"]} with '
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
        f"{cfg['mine_n']} only, on {cfg['mine_seeds']} samples per Gaussian rho, the first "
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
    mine_n = cfg['mine_n']
    n_mid = mine_n if mine_n in ns else ns[len(ns) // 2]  # MINE's N (1000), or the middle N
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
