# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
What an analysis reports: ``mi.csv``, ``summary.json`` and the terminal summary.

``mi.csv`` has one row per update and pair (:data:`CSV_COLUMNS`, plus ``mi_ksg`` /
``mi_shuffled`` with ``--ksg`` / ``--shuffle-control``); :func:`read_csv` reads it back. Files
are written under a temporary name and renamed once complete, so a reader never sees half a
file. An analysis whose storage broke before its end writes no ``mi.csv``; with
``--keep-partial`` its estimates go to ``mi.partial.csv`` instead and the summary says
``"complete": false``. Messages skipped as undecodable are counted per topic
(``undecodable``) and in all (``undecodable_messages``); they leave the analysis complete.
:func:`mean_matrix` and :func:`matrix_at` assemble the MI matrices of ``--matrix`` specs.
"""

from __future__ import annotations

import csv
import json
import math
import os
from pathlib import Path

import numpy as np

CSV_NAME = 'mi.csv'
PARTIAL_CSV_NAME = 'mi.partial.csv'
SUMMARY_NAME = 'summary.json'
CSV_COLUMNS = ('update', 'time', 'pair', 'x_source', 'y_source', 'mi', 'sample_count',
               'window_start', 'window_end', 'method', 'sliced', 'n_slices', 'mi_lower',
               'mi_upper', 'p_value', 'noise_floor', 'null_model')
# Pairs listed in the terminal summary, those of the largest mean MI first.
SUMMARY_MAX_PAIRS = 12


# ---- the table ------------------------------------------------------------------------------

def write_csv(result, path) -> Path:
    """Write the records of an AnalysisResult (atomically: temporary file, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    ksg, control = result.options.get('ksg'), result.options.get('shuffle_control')
    cols = list(CSV_COLUMNS)
    if ksg:
        cols.append('mi_ksg')
    if control:
        cols.append('mi_shuffled')
    tmp = path.with_name(f'.{path.name}.tmp')
    with open(tmp, 'w', newline='') as fh:
        w = csv.writer(fh)
        w.writerow(cols)
        for r in result.records:
            e = r.estimate
            row = [r.update, f'{r.time:.9f}', e.pair.name, e.pair.x.source, e.pair.y.source,
                   repr(float(e.mi)), e.sample_count, f'{e.window_start:.9f}',
                   f'{e.window_end:.9f}', e.method, str(e.pair.sliced).lower(), e.n_slices,
                   repr(float(e.mi_lower)), repr(float(e.mi_upper)), repr(float(e.p_value)),
                   repr(float(e.noise_floor)), e.null]
            if ksg:
                row.append(repr(float(r.mi_ksg)))
            if control:
                row.append(repr(float(r.mi_shuffled)))
            w.writerow(row)
    os.replace(tmp, path)
    return path


def read_csv(path) -> list[dict]:
    """Rows of an analysis CSV as dicts with numbers converted (for tests and notebooks)."""
    ints = {'update', 'sample_count', 'n_slices'}
    text = {'pair', 'x_source', 'y_source', 'method', 'null_model'}
    out = []
    with open(path, newline='') as fh:
        for row in csv.DictReader(fh):
            conv = {}
            for k, v in row.items():
                if k in ints:
                    conv[k] = int(v)
                elif k in text:
                    conv[k] = v
                elif k == 'sliced':
                    conv[k] = v == 'true'
                else:
                    conv[k] = float(v)
            out.append(conv)
    return out


# ---- statistics -----------------------------------------------------------------------------

def finite_or_none(x) -> float | None:
    """Return ``x`` as a float, or None (JSON null) when it is NaN or infinite."""
    x = float(x)
    return x if math.isfinite(x) else None


def correlation(a, b) -> float | None:
    """Pearson correlation over the entries finite in both; None when it is undefined."""
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 3 or np.std(a[ok]) == 0 or np.std(b[ok]) == 0:
        return None
    return float(np.corrcoef(a[ok], b[ok])[0, 1])


def pair_stats(records, pairs, fill: dict, window: int) -> dict:
    """
    Return {pair name: statistics} of the summary, a skipped pair with the reason.

    :param records: the Records of the analysis.
    :param pairs: the PairSpecs of the configuration.
    :param fill: ``WindowEngine.fill()``: {pair name: (paired samples, window)} at the end.
    :param window: the configured window (for a pair missing from ``fill``).
    """
    by_pair: dict = {}
    for r in records:
        by_pair.setdefault(r.estimate.pair.name, []).append(r)
    out = {}
    for p in pairs:
        recs = by_pair.get(p.name, [])
        info = {'x_source': p.x.source, 'y_source': p.y.source, 'sliced': p.sliced,
                'estimates': len(recs)}
        if recs:
            mi = np.array([r.estimate.mi for r in recs])
            info.update(mean=finite_or_none(np.nanmean(mi)),
                        min=finite_or_none(np.nanmin(mi)), max=finite_or_none(np.nanmax(mi)),
                        nan=int(np.isnan(mi).sum()))
            ksg = np.array([r.mi_ksg for r in recs])
            if np.isfinite(ksg).any():
                info['ksg_mean'] = finite_or_none(np.nanmean(ksg))
                info['corr_infonet_ksg'] = correlation(mi, ksg)
            ctrl = np.array([r.mi_shuffled for r in recs])
            if np.isfinite(ctrl).any():
                info['shuffled_mean'] = finite_or_none(np.nanmean(ctrl))
        else:
            have, want = fill.get(p.name, (0, window))
            info['skipped'] = (f'window never filled: at most {have} paired samples at the end '
                               f'of the bag, window {want}')
        out[p.name] = info
    return out


# ---- matrices -------------------------------------------------------------------------------

def mean_matrix(result, spec, control: bool = False) -> np.ndarray:
    """Return the mean over all updates of each cell (of the shuffled control with ``control``)."""
    vals: dict = {}
    for r in result.records:
        vals.setdefault(r.estimate.pair.name, []).append(
            r.mi_shuffled if control else r.estimate.mi)
    return spec.assemble({k: float(np.nanmean(v)) for k, v in vals.items()
                          if np.isfinite(v).any()})


def matrix_at(result, spec, t: float) -> tuple[np.ndarray, float]:
    """Return the matrix of the update nearest ``t`` [s from the bag start] and its time."""
    names = {spec.pair_name(i, j) for i, j in spec.cells()}
    updates: dict = {}
    for r in result.records:
        if r.estimate.pair.name in names:
            updates.setdefault(r.update, {})[r.estimate.pair.name] = r
    if not updates:
        return spec.assemble({}), math.nan
    best = min(updates, key=lambda u: abs(next(iter(updates[u].values())).time - result.t0 - t))
    recs = updates[best]
    t_u = next(iter(recs.values())).time - result.t0
    return spec.assemble({k: r.estimate.mi for k, r in recs.items()}), t_u


# ---- summary --------------------------------------------------------------------------------

def summary_dict(result, files=()) -> dict:
    """JSON-ready summary of an AnalysisResult; ``files``: the files the analysis wrote."""
    cfg = result.config
    n = len(result.records)
    mi = np.array([r.estimate.mi for r in result.records])
    ksg = np.array([r.mi_ksg for r in result.records])
    ctrl = np.array([r.mi_shuffled for r in result.records])
    t = result.timings
    out = {
        'bag': result.bag, 'storage': result.storage, 'complete': result.complete,
        'error': result.error, 'undecodable_messages': sum(result.undecodable.values()),
        'settings': {'window': cfg.window, 'updates': result.policy.describe(),
                     'sync_mode': cfg.sync_mode, 'slop': cfg.slop, 'max_gap': cfg.max_gap,
                     'n_slices': cfg.n_slices, 'slice_seed': cfg.slice_seed,
                     'use_receive_time': cfg.use_receive_time, 'pairs': len(cfg.pairs),
                     'precision': result.options.get('precision'),
                     'backend': result.options.get('backend')},
        'topics': result.topics, 'updates': result.updates, 'estimates': n,
        'pairs': result.pairs, 'warnings': result.warnings, 'timings': t,
        'files': [str(f) for f in files],
    }
    if n:
        out['estimates_per_s'] = n / t['infonet_s'] if t.get('infonet_s') else None
    if result.options.get('ksg') and np.isfinite(ksg).any():
        out['ksg'] = {'windows': t['ksg_windows'], 'seconds': t['ksg_s'],
                      'speedup_infonet_vs_ksg': (t['ksg_s'] / t['infonet_s']
                                                 if t['infonet_s'] else None),
                      'corr_all_estimates': correlation(mi, ksg)}
    if result.matrices and n:
        out['matrices'] = {}
        for spec in result.matrices:
            rows, cols = spec.labels()
            out['matrices'][spec.name] = {
                'rows': rows, 'columns': cols,
                'mean': [[finite_or_none(v) for v in row] for row in mean_matrix(result, spec)]}
    if result.options.get('shuffle_control') and np.isfinite(ctrl).any():
        out['shuffle_control'] = {'mean': finite_or_none(np.nanmean(ctrl)),
                                  'mean_abs': finite_or_none(np.nanmean(np.abs(ctrl))),
                                  'max': finite_or_none(np.nanmax(ctrl)),
                                  'mean_real': finite_or_none(np.nanmean(mi))}
    return out


def write_summary(result, out_dir, files=()) -> dict:
    """Write ``summary.json`` (listing ``files`` and itself) atomically; return the summary."""
    out_dir = Path(out_dir)
    summary = summary_dict(result, list(files) + [out_dir / SUMMARY_NAME])
    tmp = out_dir / f'.{SUMMARY_NAME}.tmp'
    tmp.write_text(json.dumps(summary, indent=2) + '\n')
    os.replace(tmp, out_dir / SUMMARY_NAME)
    return summary


def format_summary(s: dict, max_pairs: int = SUMMARY_MAX_PAIRS) -> str:
    """Terminal summary of :func:`summary_dict`."""
    st = s['settings']
    flag = '' if s['complete'] else '  ** INCOMPLETE **'
    lines = [f"bag {s['bag']} ({s['storage']}){flag}"]
    for t, info in s['topics'].items():
        drops = ', '.join(f'{k} {v}' for k, v in info['dropped'].items())
        skipped = info.get('undecodable', 0)
        lines.append(f"  {t} [{info['type']}] {info['accepted']}/{info['messages_in_bag']} "
                     f"accepted (definition: {info['definition']})"
                     + (f'; dropped: {drops}' if drops else '')
                     + (f'; undecodable, skipped: {skipped}' if skipped else ''))
    lines.append(f"settings: window {st['window']}, updates {st['updates']}, sync "
                 f"{st['sync_mode']}, {st['pairs']} pair(s)")
    lines += _timing_lines(s)
    lines += _pair_lines(s['pairs'], max_pairs)
    for name, m in s.get('matrices', {}).items():
        lines += _matrix_lines(name, m)
    skipped = [(n, p['skipped']) for n, p in s['pairs'].items() if 'skipped' in p]
    if skipped:
        lines.append(f'skipped pairs ({len(skipped)}), no estimate:')
        lines += [f'  {n}: {why}' for n, why in skipped]
    lines += [f'warning: {w}' for w in s['warnings']]
    if s.get('error'):
        lines.append(f"error: {s['error']}")
    if s['files']:
        lines.append('wrote ' + ', '.join(s['files']))
    return '\n'.join(lines)


def _timing_lines(s: dict) -> list[str]:
    t = s['timings']
    rate = s.get('estimates_per_s')
    lines = [f"estimates: {s['estimates']} in {s['updates']} updates; InfoNet "
             f"{t['infonet_s']:.2f} s" + (f' ({rate:.0f}/s)' if rate else '')
             + f", total {t['total_s']:.2f} s"]
    if 'ksg' in s:
        k = s['ksg']
        sp = k['speedup_infonet_vs_ksg']
        corr = k['corr_all_estimates']
        lines.append(f"KSG (k=3) on the same {k['windows']} windows: {k['seconds']:.2f} s"
                     + (f' = {sp:.1f}x the InfoNet time' if sp else '')
                     + (f'; correlation of all estimates {corr:.3f}' if corr is not None
                        else ''))
    if 'shuffle_control' in s:
        c = s['shuffle_control']
        lines.append(f"time-shuffled control: mean {c['mean']:.4f} nats (mean |.| "
                     f"{c['mean_abs']:.4f}, max {c['max']:.4f}) vs {c['mean_real']:.4f} real")
    return lines


def _pair_lines(pairs: dict, max_pairs: int) -> list[str]:
    est = [(n, p) for n, p in pairs.items() if p['estimates']]
    est.sort(key=lambda kv: -(kv[1].get('mean') or -1e9))
    if not est:
        return []
    lines = [f'pairs by mean MI [nats] (top {min(max_pairs, len(est))} of {len(est)}):']
    for n, p in est[:max_pairs]:
        extra = ''
        if p.get('ksg_mean') is not None:
            c = p.get('corr_infonet_ksg')
            extra += f"  ksg {p['ksg_mean']:.3f}" + (f' r={c:.2f}' if c is not None else '')
        if p.get('shuffled_mean') is not None:
            extra += f"  shuffled {p['shuffled_mean']:.3f}"
        mean = p.get('mean')
        lines.append(f"  {n:<28} n={p['estimates']:<5} mean "
                     f"{mean if mean is None else format(mean, '.3f')}"
                     f"  [{_fmt(p.get('min'))}, {_fmt(p.get('max'))}]{extra}")
    return lines


def _matrix_lines(name: str, m: dict) -> list[str]:
    lines = [f'matrix {name}: mean MI [nats] over all updates (rows x, columns y)']
    width = max(len(c) for c in m['columns'] + ['']) + 1
    lead = max(len(r) for r in m['rows'])
    lines.append(' ' * (lead + 2) + ''.join(f'{c:>{width}}' for c in m['columns']))
    for label, row in zip(m['rows'], m['mean']):
        cells = ''.join(f'{"-" if v is None else format(v, ".3f"):>{width}}' for v in row)
        lines.append(f'  {label:<{lead}}{cells}')
    return lines


def _fmt(x) -> str:
    return 'nan' if x is None else f'{x:.3f}'
