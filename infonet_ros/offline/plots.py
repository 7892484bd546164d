# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
PNG figures of an offline analysis (matplotlib, headless Agg backend).

- :func:`plot_timeseries`: MI over time per pair (top) above the raw signals (bottom).
- :func:`plot_matrices`: heatmaps of MI matrices side by side (e.g. one window and the mean
  over all windows), each cell annotated with its value.

Files are written to a temporary name and renamed, so a failed plot never leaves a partial PNG.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

# Colour scale of the heatmaps starts at 0 nats: negative estimates (independence, up to
# estimator noise) are shown as 0 but printed with their value.
MATRIX_CMAP = 'viridis'


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
    :param mi_series: {pair label: (t [s], mi [nats])}, t of each update.
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
    for i, (name, (t, mi)) in enumerate(mi_series.items()):
        ax_mi.plot(np.asarray(t), np.asarray(mi), lw=1.3, label=name, color=cmap(i % cmap.N))
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
