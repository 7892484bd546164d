# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The windows a node published, estimated again offline, and how far the two differ.

``infonet-ros analyze BAG --windows-from-topic /infonet/mi``: BAG holds the node's input and
its output (recorded while a bag was played into the node, or live). Every estimate of the
``MutualInformationArray`` (or ``MutualInformation``) messages on that topic names its pair and
the stamp of its newest sample; the same window is rebuilt from the input with the node's
configuration (:func:`infonet_ros.offline.run.windows_at`), estimated with the same settings
(uncertainty included), and compared field by field. Same weights, same configuration: the
differences are those of floating point (1e-6 nats and below).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
import math
import os
from pathlib import Path

from infonet_ros.offline.bag_reader import BagSource
from infonet_ros.offline.params import AnalysisError
from infonet_ros.offline.run import windows_at
from infonet_ros.streams.batch_estimate import estimate_windows
from infonet_ros.streams.node_config import null_table_error

CSV_NAME = 'published_windows.csv'
MESSAGE_TYPES = ('infonet_ros/msg/MutualInformationArray', 'infonet_ros/msg/MutualInformation')
# Fields compared, as (message field, PairEstimate attribute).
COMPARED = (('mi', 'mi'), ('p_value', 'p_value'), ('mi_lower', 'mi_lower'),
            ('mi_upper', 'mi_upper'), ('noise_floor', 'noise_floor'))
# The package's own message definitions, where the source tree is at hand (an install finds
# them through AMENT_PREFIX_PATH).
OWN_MSG_DIR = Path(__file__).resolve().parents[2] / 'msg'


@dataclass
class Comparison:
    """Published estimates against their offline estimates."""

    topic: str
    rows: list = field(default_factory=list)  # one dict per published estimate
    unknown_pairs: dict = field(default_factory=dict)  # pair name -> estimates not configured

    def largest(self, name: str):
        """(largest |node - offline| of field ``name``, its row) over matched rows."""
        best, where = 0.0, None
        for r in self.rows:
            a, b = r.get(f'{name}_node'), r.get(f'{name}_offline')
            if r['matched'] and a is not None and math.isfinite(a) and math.isfinite(b):
                if abs(a - b) >= best:
                    best, where = abs(a - b), r
        return best, where

    def summary(self) -> dict:
        """Return the counts and the largest difference of each compared field (JSON)."""
        matched = [r for r in self.rows if r['matched']]
        out = {'topic': self.topic, 'published': len(self.rows) + sum(
            self.unknown_pairs.values()), 'compared': len(matched),
            'unmatched': len(self.rows) - len(matched), 'unknown_pairs': self.unknown_pairs}
        for name, _ in COMPARED:
            diff, row = self.largest(name)
            out[f'max_abs_diff_{name}'] = diff
            if name == 'mi' and row is not None:
                out['max_abs_diff_mi_at'] = {'pair': row['pair'],
                                             'window_end': row['window_end']}
        return out

    def lines(self) -> list[str]:
        """Return the lines of the terminal report."""
        s = self.summary()
        out = [f'{s["compared"]} of {s["published"]} estimates on {self.topic} estimated '
               f'again offline from the same windows']
        if s['compared']:
            at = s.get('max_abs_diff_mi_at', {})
            out.append(f'largest |mi difference| {s["max_abs_diff_mi"]:.3g} nats'
                       + (f' (pair {at["pair"]}, window end {at["window_end"]:.6f} s)'
                          if at else ''))
            out.append('largest |difference| of p_value {:.3g}, mi_lower {:.3g}, mi_upper '
                       '{:.3g} nats'.format(s['max_abs_diff_p_value'],
                                            s['max_abs_diff_mi_lower'],
                                            s['max_abs_diff_mi_upper']))
        if s['unmatched']:
            out.append(f'{s["unmatched"]} estimate(s) whose window could not be rebuilt from the '
                       'input in the bag (its start is missing, or another configuration)')
        for name, n in s['unknown_pairs'].items():
            out.append(f'{n} estimate(s) of pair {name!r}, which the configuration does not have')
        return out


def _stamp(t) -> float:
    return t.sec + t.nanosec * 1e-9


def published_estimates(bag_path, topic: str, msg_files=(), msg_dirs=(),
                        use_ament: bool = True) -> list:
    """
    Return every estimate on ``topic`` of the bag as a dict.

    Keys: pair, window_start, window_end, sample_count, and ``<field>_node`` of the compared
    fields.

    :raises AnalysisError: the topic is not in the bag or not of the package's types.
    """
    files = list(msg_files)
    if OWN_MSG_DIR.is_dir():
        files += [f'infonet_ros/msg/{p.stem}={p}' for p in sorted(OWN_MSG_DIR.glob('*.msg'))]
    out = []
    with BagSource(bag_path, files, msg_dirs, use_ament) as bag:
        topics = bag.topics()
        if topic not in topics:
            raise AnalysisError(f'--windows-from-topic: {topic} is not in the bag (topics: '
                                f'{", ".join(sorted(topics))})')
        msg_type = topics[topic][0]
        if msg_type not in MESSAGE_TYPES:
            raise AnalysisError(f'--windows-from-topic: {topic} is {msg_type}, not one of '
                                f'{", ".join(MESSAGE_TYPES)}')
        bag.build_typestore([topic])
        for _, _, msg in bag.messages([topic]):
            for e in getattr(msg, 'estimates', [msg]):
                row = {'pair': e.pair_name, 'window_start': _stamp(e.window_start),
                       'window_end': _stamp(e.window_end), 'sample_count': int(e.sample_count)}
                row.update({f'{name}_node': float(getattr(e, name, math.nan))
                            for name, _ in COMPARED})
                out.append(row)
    return out


def compare_published(bag_path, cfg, estimator, topic: str, msg_files=(), msg_dirs=(),
                      use_ament: bool = True) -> Comparison:
    """Rebuild and estimate every published window (see the module doc)."""
    no_table = null_table_error(cfg, estimator)
    if no_table:
        raise AnalysisError(no_table)
    published = published_estimates(bag_path, topic, msg_files, msg_dirs, use_ament)
    result = Comparison(topic)
    names = {p.name for p in cfg.pairs}
    rows = []
    for r in published:
        if r['pair'] in names:
            rows.append(r)
        else:
            result.unknown_pairs[r['pair']] = result.unknown_pairs.get(r['pair'], 0) + 1
    windows = windows_at(bag_path, cfg, [(r['pair'], r['window_end']) for r in rows],
                         msg_files, msg_dirs, use_ament)
    usable = [i for i, w in enumerate(windows) if w is not None
              and w.n == rows[i]['sample_count']
              and abs(w.start - rows[i]['window_start']) < 1e-6]
    estimates, _ = estimate_windows(estimator, [windows[i] for i in usable], cfg.n_slices,
                                    cfg.slice_seed, cfg.uncertainty_options())
    for r in rows:
        r['matched'] = False
    for i, est in zip(usable, estimates):
        rows[i]['matched'] = True
        rows[i].update({f'{name}_offline': float(getattr(est, attr))
                        for name, attr in COMPARED})
    result.rows = rows
    return result


def write_comparison_csv(comparison: Comparison, path) -> Path:
    """One row per published estimate: node and offline values side by side."""
    path = Path(path)
    cols = ['pair', 'window_start', 'window_end', 'sample_count', 'matched']
    for name, _ in COMPARED:
        cols += [f'{name}_node', f'{name}_offline']
    tmp = path.with_name(f'.{path.name}.tmp')
    with open(tmp, 'w', newline='') as fh:
        w = csv.writer(fh)
        w.writerow(cols)
        for r in comparison.rows:
            w.writerow([r.get(c, math.nan) if not isinstance(r.get(c), float)
                        else repr(r[c]) for c in cols])
    os.replace(tmp, path)
    return path
