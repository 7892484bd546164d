# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Offline bag analysis of the walking recording: speed against KSG, agreement, control.

The shipped Xsens walking recordings (thigh and shank, 120 Hz, 3,511 samples) are converted to
an mcap bag (``infonet-ros imu-to-bag``) and analyzed as ``examples/walking_analysis.sh`` does:
the 6 x 6 channel pairs (acc x/y/z, gyro x/y/z of the thigh against the same of the shank),
window 256, an update every 12 samples (10 Hz), interpolate pairing. Measured:

- the analysis as ``infonet-ros analyze`` runs it (``offline.run.run_analysis``: bag reading,
  pairing, windows, batched forward passes, the batch size chosen by timing the first
  passes): total wall time, and InfoNet estimates per second (end to end and forward
  passes only);
- a second run at the batch size the first one chose, with KSG (scikit-learn
  ``mutual_info_regression``, k = 3) and the shuffled control on exactly the same windows:
  the same estimates (checked), KSG's time, and the ratio to InfoNet (forward passes; and the
  whole analysis);
- agreement of the InfoNet and KSG series: Pearson correlation over all estimates and the
  median over pairs of the per-pair correlation over time;
- the time-shuffled control: each window's y permuted in time (mean and max |MI|);
- batching: the offline estimates (windows of many updates per forward pass) against the
  node's way (one ``estimate_windows`` call per update): max |difference| on identical windows.

Target: InfoNet >= 20x faster than KSG on the same windows.

    python benchmarks/bag_analysis.py                # full run (~2 min on an idle machine)
    python benchmarks/bag_analysis.py --quick        # smoke run (6 pairs, fewer updates)
    python benchmarks/bag_analysis.py --weights fast --name bag_analysis_fast

Writes benchmarks/results/NAME.{json,md} (NAME: bag_analysis; --quick: bag_analysis_quick).
"""

import argparse
import datetime
import os
from pathlib import Path
import platform
import sys
import tempfile
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from infonet_ros.core.estimator import InfoNetEstimator  # noqa: E402
from infonet_ros.offline import imu_bag  # noqa: E402
from infonet_ros.offline.run import run_analysis, UpdatePolicy, windows_at  # noqa: E402
from infonet_ros.offline.window_batches import AUTO_BATCH_ROWS  # noqa: E402
from infonet_ros.streams.batch_estimate import estimate_windows  # noqa: E402
from infonet_ros.streams.mi_matrix import parse_matrix  # noqa: E402
from infonet_ros.training.result_files import md_table, weights_identity  # noqa: E402
import results_io  # noqa: E402  (benchmarks/, the script's own folder)

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / 'data' / 'xsens_walking'
IMU6 = ('linear_acceleration.x,linear_acceleration.y,linear_acceleration.z,'
        'angular_velocity.x,angular_velocity.y,angular_velocity.z')
TARGET_SPEEDUP = 20.0


def make_bag(path):
    inputs = [('/thigh/imu', imu_bag.read_xsens(DATA / 'walking_xsens_upperLeg.txt')),
              ('/shank/imu', imu_bag.read_xsens(DATA / 'walking_xsens_lowerLeg.txt'))]
    imu_bag.write_imu_bag(path, inputs, 'mcap')
    return path


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.strip().split('\n')[0])
    p.add_argument('--weights', help='checkpoint (default: the shipped weights)')
    p.add_argument('--window', type=int, default=256)
    p.add_argument('--every', type=int, default=12)
    p.add_argument('--uncertainty', default='off', choices=('off', 'iid', 'shift'),
                   help='uncertainty of every estimate (default off: the estimate alone, '
                   'as KSG gives it)')
    p.add_argument('--batch-rows', type=int, default=AUTO_BATCH_ROWS,
                   help='rows per forward pass (default 0: chosen by timing, as analyze does)')
    p.add_argument('--threads', type=int, default=0, help='torch threads (0: default)')
    p.add_argument('--no-jit', action='store_true',
                   help='eager forward passes (default: TorchScript traces, as analyze)')
    results_io.add_output_arguments(p, 'bag_analysis')
    return p


def analysis_setup(args):
    """Return (matrix spec, pair names, analysis parameters, update policy)."""
    fields = 'linear_acceleration.x,angular_velocity.z' if args.quick else IMU6
    spec = parse_matrix(f'legs=/thigh/imu:{fields} ~ /shank/imu:'
                        + ('linear_acceleration.x,angular_velocity.x,angular_velocity.z'
                           if args.quick else IMU6))
    pairs, names = spec.pair_strings()
    params = {'pairs': pairs, 'pair_names': names, 'window': args.window,
              'sync_mode': 'interpolate', 'uncertainty': args.uncertainty}
    every = args.every * (4 if args.quick else 1)
    return spec, names, params, UpdatePolicy('every', every=every)


def node_style_difference(bag, result, est) -> tuple[float, float]:
    """
    Return (max |offline - per update| estimate, seconds) on the very same windows.

    The node estimates the windows of one update per forward pass; the analysis batches many
    updates into one pass. Both must give the same numbers.
    """
    cfg = result.config
    windows = windows_at(bag, cfg, [(r.estimate.pair.name, r.estimate.window_end)
                                    for r in result.records])
    wins_by_update, recs_by_update = {}, {}
    for r, w in zip(result.records, windows):
        wins_by_update.setdefault(r.update, []).append(w)
        recs_by_update.setdefault(r.update, []).append(r)
    max_diff = 0.0
    t0 = time.perf_counter()
    for u, wins in wins_by_update.items():
        ests, _ = estimate_windows(est, wins, cfg.n_slices, cfg.slice_seed)
        for r, e in zip(recs_by_update[u], ests):
            max_diff = max(max_diff, abs(r.estimate.mi - e.mi))
    return max_diff, time.perf_counter() - t0


def measure(args, est, spec, params, policy) -> dict:
    """Run the analysis as users do, again with KSG and the control, then the node's way."""
    with tempfile.TemporaryDirectory() as tmp:
        bag = make_bag(Path(tmp) / 'walking')
        # Warm-up (imports, first forward pass) outside the timings.
        est.estimate_batch(np.random.default_rng(0).standard_normal((2, args.window)),
                           np.random.default_rng(1).standard_normal((2, args.window)))
        # Timed as users run it; KSG and the control in a second run, so that their work
        # between passes does not disturb the batch-size search or the InfoNet timings.
        result = run_analysis(bag, params=params, matrices=[spec], policy=policy,
                              estimator=est, batch_rows=args.batch_rows, keep_signals=False)
        t0 = time.perf_counter()
        compared = run_analysis(bag, params=params, matrices=[spec], policy=policy,
                                estimator=est, batch_rows=result.options['batch_rows_used'],
                                ksg=True, shuffle_control=True, keep_signals=False)
        wall = time.perf_counter() - t0
        same = max(abs(a.estimate.mi - b.estimate.mi)
                   for a, b in zip(result.records, compared.records))
        assert len(result.records) == len(compared.records) and same <= 1e-6, same
        max_diff, per_update_s = node_style_difference(bag, result, est)
    return {'result': result, 'compared': compared, 'wall': wall, 'max_diff': max_diff,
            'per_update_s': per_update_s}


def summarize(args, est, names, every, m, loads) -> dict:
    """Return the JSON of a run: settings, times, rates, agreement, control, machine."""
    result, compared = m['result'], m['compared']
    t = dict(result.timings)
    t['ksg_s'], t['control_s'] = compared.timings['ksg_s'], compared.timings['control_s']
    n = len(result.records)
    analysis_s = result.timings['total_s']
    mi = np.array([r.estimate.mi for r in compared.records])
    ksg = np.array([r.mi_ksg for r in compared.records])
    ctrl = np.array([r.mi_shuffled for r in compared.records])
    per_pair = []
    for name in names:
        a = np.array([r.estimate.mi for r in compared.records if r.estimate.pair.name == name])
        b = np.array([r.mi_ksg for r in compared.records if r.estimate.pair.name == name])
        per_pair.append(float(np.corrcoef(a, b)[0, 1]) if a.std() > 0 and b.std() > 0
                        else float('nan'))
    load_before, load_after = loads
    return {
        'settings': {'pairs': len(names), 'window': args.window, 'update_every': every,
                     'updates': result.updates, 'estimates': n, 'sync_mode': 'interpolate',
                     'batch_rows': result.options['batch_rows'],
                     'batch_ms_per_row_searched': result.options.get('batch_ms_per_row', {}),
                     'torch_threads': torch.get_num_threads(), 'jit': est.jit,
                     'precision': est.precision,
                     'ksg': 'sklearn k=3, 1 core'},
        'time': {'analysis_s': analysis_s, 'infonet_forward_s': t['infonet_s'],
                 'read_and_pair_s': t['read_and_pair_s'], 'ksg_s': t['ksg_s'],
                 'shuffle_control_s': t['control_s'],
                 'second_run_with_ksg_and_control_s': m['wall'],
                 'node_style_per_update_s': m['per_update_s']},
        'rates': {'estimates_per_s_end_to_end': n / analysis_s,
                  'estimates_per_s_forward': n / t['infonet_s'],
                  'ksg_estimates_per_s': n / t['ksg_s']},
        'speedup_vs_ksg': {'forward': t['ksg_s'] / t['infonet_s'],
                           'end_to_end': t['ksg_s'] / analysis_s,
                           'target': TARGET_SPEEDUP},
        'agreement_with_ksg': {'pearson_all': float(np.corrcoef(mi, ksg)[0, 1]),
                               'median_per_pair_pearson': float(np.nanmedian(per_pair)),
                               'per_pair': dict(zip(names, per_pair))},
        'shuffle_control': {'mean': float(ctrl.mean()), 'mean_abs': float(np.abs(ctrl).mean()),
                            'max': float(ctrl.max()), 'mean_real': float(mi.mean())},
        'batching': {'max_abs_diff_offline_vs_per_update': m['max_diff'], 'tolerance': 1e-5},
        'environment': {'date': datetime.datetime.now(datetime.timezone.utc).isoformat(),
                        'python': platform.python_version(), 'torch': torch.__version__,
                        'cpu_count': os.cpu_count(), 'loadavg_before': load_before,
                        'loadavg_after': load_after,
                        'under_load': max(load_before[0], load_after[0]) > 1.5,
                        'weights': os.path.basename(args.weights or 'default'),
                        'weights_provenance': weights_identity(est.provenance)},
    }


def markdown(s: dict) -> list[str]:
    """Return the tables of a run's summary as markdown lines."""
    st, t, env = s['settings'], s['time'], s['environment']
    load_before, load_after = env['loadavg_before'], env['loadavg_after']
    return [
        '# Offline bag analysis: walking recording', '',
        f"{st['pairs']} channel pairs, window {st['window']}, update every "
        f"{st['update_every']} samples: {st['updates']} updates, {st['estimates']} estimates; "
        f"{'TorchScript traces' if st['jit'] else 'eager forward passes'} in "
        f"{st.get('precision', 'fp32')}, "
        f"{st['torch_threads']} torch threads, {st['batch_rows']} rows "
        'per pass. Load average before/after: '
        f"{load_before[0]:.1f} / {load_after[0]:.1f} on {env['cpu_count']} cores"
        + (' (machine under load: timings pessimistic)' if env['under_load'] else '') + '.',
        '',
        md_table(['measure', 'value'], [
            ['analysis, total (read, pair, estimate)', f"{t['analysis_s']:.2f} s"],
            ['  of which InfoNet forward passes', f"{t['infonet_forward_s']:.2f} s"],
            ['InfoNet estimates / s (end to end)',
             f"{s['rates']['estimates_per_s_end_to_end']:.0f}"],
            ['InfoNet estimates / s (forward passes)',
             f"{s['rates']['estimates_per_s_forward']:.0f}"],
            ['KSG (k=3) on the same windows', f"{t['ksg_s']:.2f} s"],
            ['KSG / InfoNet time (forward passes)', f"{s['speedup_vs_ksg']['forward']:.1f}x"],
            ['KSG / InfoNet time (whole analysis)',
             f"{s['speedup_vs_ksg']['end_to_end']:.1f}x"],
            ['target', f'>= {TARGET_SPEEDUP:.0f}x'],
            ['Pearson r of InfoNet vs KSG, all estimates',
             f"{s['agreement_with_ksg']['pearson_all']:.3f}"],
            ['median per-pair r over time',
             f"{s['agreement_with_ksg']['median_per_pair_pearson']:.3f}"],
            ['mean MI, real windows', f"{s['shuffle_control']['mean_real']:.4f} nats"],
            ['mean MI, time-shuffled control', f"{s['shuffle_control']['mean']:.4f} nats "
             f"(max {s['shuffle_control']['max']:.4f})"],
            ['max |offline batched - per update|',
             f"{s['batching']['max_abs_diff_offline_vs_per_update']:.2e} nats "
             '(tolerance 1e-5)'],
        ])]


def main(argv=None) -> int:
    args = results_io.parse(build_parser(), argv, __file__)
    if args.threads:
        torch.set_num_threads(args.threads)
    load_before = os.getloadavg()
    est = InfoNetEstimator.from_pretrained(args.weights, device='cpu', jit=not args.no_jit)
    spec, names, params, policy = analysis_setup(args)
    measured = measure(args, est, spec, params, policy)
    summary = summarize(args, est, names, policy.every, measured,
                        (load_before, os.getloadavg()))
    results_io.write(args, summary, markdown(summary))
    return 0


if __name__ == '__main__':
    sys.exit(main())
