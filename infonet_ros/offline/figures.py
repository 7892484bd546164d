# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
PNG figures of an analysis (matplotlib, headless Agg backend).

- :func:`write_figures`: ``mi_timeseries.png`` (MI over time above the raw signals) and one
  ``matrix_<name>.png`` per ``--matrix`` (single windows and the mean over all windows).
- :func:`plot_timeseries`: MI over time per pair (top) above the raw signals (bottom).
- :func:`plot_matrices`: heatmaps of MI matrices side by side (e.g. one window and the mean
  over all windows), each cell annotated with its value.

Files are written to a temporary name and renamed, so a failed plot never leaves a partial PNG.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from infonet_ros.offline.params import AnalysisError
from infonet_ros.offline.report import matrix_at, mean_matrix
from infonet_ros.streams.mi_matrix import short_label

TIMESERIES_NAME = 'mi_timeseries.png'
# Time series figure: all pairs up to this many, else the pairs with the largest mean MI.
MAX_PLOTTED_PAIRS = 6
# Colour scale of the heatmaps starts at 0 nats: negative estimates (independence, up to
# estimator noise) are shown as 0 but printed with their value.
MATRIX_CMAP = 'viridis'


def write_figures(result, out_dir, plot_pairs=None, matrix_times=(),
                  plot_range=None) -> list[Path]:
    """
    Write mi_timeseries.png and matrix_<name>.png of an AnalysisResult; return their paths.

    :param plot_pairs: names of the pairs of the time series (default: up to
        :data:`MAX_PLOTTED_PAIRS`, those of the largest mean MI).
    :param matrix_times: times [s from the bag start] of the single-window matrix panels
        (default: the middle of the bag).
    :param plot_range: (t0, t1) [s from the bag start] limits the time series figure.

    :raises AnalysisError: a name of ``plot_pairs`` is not a pair of the analysis.
    """
    out_dir = Path(out_dir)
    if not result.records:
        return []
    names = list(plot_pairs or [])
    if not names:
        means = {n: p['mean'] for n, p in result.pairs.items() if p.get('mean') is not None}
        names = sorted(means, key=lambda n: -means[n])[:MAX_PLOTTED_PAIRS]
    unknown = [n for n in names if n not in result.pairs]
    if unknown:
        raise AnalysisError(f'--plot-pairs: unknown pair(s) {unknown}')
    written = [_timeseries_figure(result, out_dir / TIMESERIES_NAME, names, plot_range)]
    for spec in result.matrices:
        written.append(_matrix_figure(result, out_dir / f'matrix_{spec.name}.png', spec,
                                      matrix_times))
    return written


def _timeseries_figure(result, path, names, plot_range) -> Path:
    # MI of the named pairs above one panel of raw signals per input topic.
    labels = _pair_labels(result)
    lo, hi = plot_range if plot_range else (-math.inf, math.inf)
    series = {}
    for n in names:
        recs = [r for r in result.records if r.estimate.pair.name == n
                and lo <= r.time - result.t0 <= hi]
        series[labels.get(n, n)] = ([r.time - result.t0 for r in recs],
                                    [r.estimate.mi for r in recs],
                                    [r.estimate.mi_lower for r in recs],
                                    [r.estimate.mi_upper for r in recs])
    signals: dict = {}  # one panel per topic
    pairs = {p.name: p for p in result.config.pairs}
    for n in names:
        for side in (pairs[n].x, pairs[n].y):
            panel = signals.setdefault(side.topic, {})
            for f in side.fields:
                key = (side.topic, f)
                if key in result.signals and short_label(*key) not in panel:
                    ts = np.asarray(result.signals[key][0]) - result.t0
                    keep = (ts >= lo) & (ts <= hi)
                    panel[short_label(*key)] = (ts[keep], np.asarray(result.signals[key][1])[keep])
    title = (f'{Path(result.bag).name}: MI per pair (window {result.config.window}, '
             f'{result.policy.describe()})')
    return plot_timeseries(path, series, signals, title)


def _matrix_figure(result, path, spec, matrix_times) -> Path:
    # The matrix at single updates, its mean over all updates and, with the control, the
    # mean of the time-shuffled control.
    rows, cols = spec.labels()
    mats, titles = [], []
    duration = max(r.time for r in result.records) - result.t0
    for t in (matrix_times or [duration / 2.0]):
        m, t_u = matrix_at(result, spec, t)
        mats.append(m)
        titles.append(f'window ending {t_u:.2f} s')
    cells = {spec.pair_name(i, j) for i, j in spec.cells()}
    n_upd = len({r.update for r in result.records if r.estimate.pair.name in cells})
    mats.append(mean_matrix(result, spec))
    titles.append(f'mean over {n_upd} updates')
    if result.options.get('shuffle_control'):
        mats.append(mean_matrix(result, spec, control=True))
        titles.append('time-shuffled control (mean)')
    return plot_matrices(
        path, mats, rows, cols, titles,
        suptitle=f'{spec.name}: MI [nats] of x channels (rows) and y channels (columns)')


def _pair_labels(result) -> dict:
    # Legend labels: 'topic.field ~ topic.field' for scalar pairs, the pair name otherwise.
    out = {}
    for p in result.config.pairs:
        if p.sliced:
            out[p.name] = p.name
        else:
            out[p.name] = (f'{short_label(p.x.topic, p.x.fields[0])} ~ '
                           f'{short_label(p.y.topic, p.y.fields[0])}')
    return out


def _pyplot():
    import matplotlib
    matplotlib.use('Agg')  # headless: never needs a display
    import matplotlib.pyplot as plt
    return plt


def _save(fig, path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f'.{path.stem}.tmp{path.suffix}')
    fig.savefig(tmp, dpi=fig.dpi)
    os.replace(tmp, path)
    return path


def plot_timeseries(path, mi_series: dict, signals: dict, title: str = '',
                    mi_label: str = 'MI [nats]', max_signals: int = 8,
                    spans: list | None = None):
    """
    MI over time per pair above the raw signals.

    :param path: PNG file to write.
    :param mi_series: {pair label: (t [s], mi [nats])}, t of each update; or
        (t, mi, lower, upper): the interval [lower, upper] is shaded (NaN: not shaded).
    :param signals: {panel title: {label: (t [s], values)}}: one panel per entry (e.g. per
        topic) under the MI panel, at most ``max_signals`` curves each, each z-scored so
        that channels of different units share an axis.
    :param title: figure title.
    :param mi_label: y label of the MI panel.
    :param max_signals: cap on the curves of one signal panel.
    :param spans: optional [(t0, t1, label)] shaded in every panel (e.g. one window).

    :return: The written path.
    """
    plt = _pyplot()
    n_sig = len(signals)
    fig, axes = plt.subplots(1 + n_sig, 1, figsize=(11, 4.2 + 1.9 * n_sig), sharex=True,
                             dpi=110, squeeze=False,
                             gridspec_kw={'height_ratios': [3] + [1.4] * n_sig})
    axes = list(axes[:, 0])
    ax_mi = axes[0]
    cmap = plt.get_cmap('tab10' if len(mi_series) <= 10 else 'tab20')
    for i, (name, (t, mi, *band)) in enumerate(mi_series.items()):
        color = cmap(i % cmap.N)
        ax_mi.plot(np.asarray(t), np.asarray(mi), lw=1.3, label=name, color=color)
        if band:
            lower, upper = (np.asarray(b, dtype=np.float64) for b in band)
            ax_mi.fill_between(np.asarray(t), lower, upper, color=color, alpha=0.18, lw=0,
                               where=np.isfinite(lower) & np.isfinite(upper))
    ax_mi.axhline(0.0, color='0.5', lw=0.6)
    ax_mi.set_ylabel(mi_label)
    if mi_series:
        ax_mi.legend(fontsize=7, ncol=2 if len(mi_series) > 4 else 1, loc='upper left')
    ax_mi.grid(alpha=0.3)
    sig_cmap = plt.get_cmap('tab10')
    for ax, (panel, curves) in zip(axes[1:], signals.items()):
        for j, (label, (t, v)) in enumerate(list(curves.items())[:max_signals]):
            v = np.asarray(v, dtype=np.float64)
            sd = v.std()
            z = (v - v.mean()) / sd if sd > 0 else v - v.mean()
            ax.plot(np.asarray(t), z, lw=0.7, label=label, color=sig_cmap(j % 10))
        ax.set_ylabel(f'{panel}\n(z-scored)', fontsize=8)
        ax.legend(fontsize=7, ncol=min(len(curves), 6), loc='upper left')
        ax.grid(alpha=0.3)
    axes[-1].set_xlabel('time [s]')
    for t0, t1, label in spans or []:
        for ax in axes:
            ax.axvspan(t0, t1, color='orange', alpha=0.15)
        ax_mi.text(t0, ax_mi.get_ylim()[1], label, fontsize=7, va='top')
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    try:
        return _save(fig, path)
    finally:
        plt.close(fig)


def plot_matrices(path, matrices, row_labels, col_labels, titles, suptitle: str = '',
                  vmax: float | None = None, unit: str = 'nats'):
    """
    Heatmaps of one or more MI matrices of the same shape, on one colour scale.

    :param path: PNG file to write.
    :param matrices: list of (R, C) arrays (NaN cells are left blank).
    :param row_labels: R labels (y channels).
    :param col_labels: C labels (x channels).
    :param titles: one title per matrix.
    :param suptitle: figure title.
    :param vmax: top of the colour scale (default: the largest finite value).
    :param unit: colour-bar label.

    :return: The written path.
    """
    plt = _pyplot()
    mats = [np.asarray(m, dtype=np.float64) for m in matrices]
    finite = np.concatenate([m[np.isfinite(m)] for m in mats]) if mats else np.array([])
    top = vmax if vmax is not None else (float(finite.max()) if finite.size else 1.0)
    top = max(top, 1e-6)
    r, c = mats[0].shape
    ncols = len(mats) if len(mats) <= 3 else 2
    nrows = -(-len(mats) // ncols)
    cell = 0.55
    fig, axes = plt.subplots(nrows, ncols, squeeze=False, dpi=110, layout='constrained',
                             figsize=(ncols * (c * cell + 1.6) + 1.2,
                                      nrows * (r * cell + 1.5) + 0.5))
    im = None
    for k, ax in enumerate(axes.ravel()):
        if k >= len(mats):
            ax.set_axis_off()
            continue
        m = mats[k]
        im = ax.imshow(np.clip(m, 0.0, None), cmap=MATRIX_CMAP, vmin=0.0, vmax=top)
        ax.set_xticks(range(c), col_labels, rotation=45, ha='right', fontsize=8)
        # Row labels on the left column only: the panels share them.
        ax.set_yticks(range(r), row_labels if k % ncols == 0 else [], fontsize=8)
        ax.set_title(titles[k], fontsize=9)
        for i in range(r):
            for j in range(c):
                if np.isfinite(m[i, j]):
                    ax.text(j, i, f'{m[i, j]:.2f}', ha='center', va='center', fontsize=7,
                            color='white' if m[i, j] < 0.6 * top else 'black')
    fig.colorbar(im, ax=axes, shrink=0.8, label=f'MI [{unit}]')
    if suptitle:
        fig.suptitle(suptitle, fontsize=10)
    try:
        return _save(fig, path)
    finally:
        plt.close(fig)
