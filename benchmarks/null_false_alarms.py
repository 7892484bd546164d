# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
What the i.i.d. null declares on sensor data, against the shift null, and what each costs.

The node's windows are autocorrelated. Here, pairs that are independent by construction but
carry the autocorrelation of real node input are tested window by window with both nulls of
:mod:`infonet_ros.core.uncertainty` (the node's settings: 19 null draws, alpha 0.05):

- demo: the demo source's simulator (:class:`infonet_ros.ros.demo_source.CoupledImuSimulator`,
  AR(1) axes with a 0.2 s time constant) sampled at 50 Hz, windows of 500 (config/mi.yaml)
  every second. Independent pairs: axes of the two IMUs that the simulator never mixes. The
  coupled pair ``a.acc_x ~ b.acc_x`` is reported where its coupling exceeds 0.5 (dependent).
- walking: the Xsens thigh and shank recordings (data/xsens_walking, 120 Hz), windows of 256
  every 12 samples (examples/walking_analysis.sh). Independent pairs: each thigh channel
  against a phase-randomized copy of the shank channel (same spectrum, so the same
  autocorrelation, and independent of the thigh); the real thigh ~ shank pairs beside them.

The share of windows declared dependent (p <= 0.05) is the false-alarm rate of a decision
node on the independent pairs (alpha is what it should be) and the detection rate on the
dependent ones. Section ``cost``: one update of 16 scalar pairs at window 1000 through
``estimate_windows`` (the node's code), plain and with each kind of uncertainty.

    python benchmarks/null_false_alarms.py [--weights default] [--demo-seconds 600]
        [--surrogates 4] [--sections alarms cost] [--quick] [--name NAME]

Writes benchmarks/results/NAME.{json,md} (NAME: null_false_alarms; --quick: *_quick).
"""

import argparse
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from infonet_ros.core.estimator import InfoNetEstimator  # noqa: E402
from infonet_ros.core.uncertainty import estimate_batch_with_uncertainty  # noqa: E402
from infonet_ros.offline.imu_bag import read_xsens  # noqa: E402
from infonet_ros.ros.demo_source import AXES, CoupledImuSimulator, coupling  # noqa: E402
from infonet_ros.streams.batch_estimate import estimate_windows, Uncertainty  # noqa: E402
from infonet_ros.streams.pairs import parse_pairs  # noqa: E402
from infonet_ros.streams.window_engine import Window  # noqa: E402
import results_io  # noqa: E402  (benchmarks/, the script's own folder)

ALPHA = 0.05
DRAWS = 19  # the node's null_draws
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WALKING = os.path.join(REPO, 'data', 'xsens_walking')
# Demo axes never mixed across the IMUs: B's axis k mixes A's axis k only.
DEMO_INDEPENDENT = [('acc_z', 'acc_x'), ('acc_x', 'acc_y'), ('gyro_y', 'gyro_z')]
SECTIONS = ('alarms', 'cost')


def windows_of(x, y, window, step):
    """(B, window) windows of two series, one every ``step`` samples."""
    starts = np.arange(0, len(x) - window + 1, step)
    idx = starts[:, None] + np.arange(window)
    return x[idx], y[idx], starts


def test_windows(est, x, y, null):
    """p-values of (B, N) windows under ``null`` (no interval), 64 windows per call."""
    out = []
    for s in range(0, len(x), 64):
        out += estimate_batch_with_uncertainty(est, x[s:s + 64], y[s:s + 64], null=null,
                                               n_shifts=DRAWS, n_halves=0)
    return np.array([r.p_value for r in out]), np.array([r.dependence_length for r in out])


def row(data, pair, truth, est, x, y):
    p_iid, lengths = test_windows(est, x, y, 'iid')
    p_shift, _ = test_windows(est, x, y, 'shift')
    return {'data': data, 'pair': pair, 'truth': truth, 'windows': len(x),
            'dependent_iid': float(np.mean(p_iid <= ALPHA)),
            'dependent_shift': float(np.mean(p_shift <= ALPHA)),
            'median_dependence_length': float(np.median(lengths))}


def demo_rows(est, args, log) -> list:
    rate, window, step = 50.0, 500, 50
    sim = CoupledImuSimulator(seed=args.seed)
    t = np.arange(int(args.demo_seconds * rate)) / rate
    a = np.empty((len(t), len(AXES)))
    b = np.empty_like(a)
    for k, tk in enumerate(t):
        a[k], b[k] = sim.imu_a(tk), sim.imu_b(tk)
    rows = []
    for xa, yb in DEMO_INDEPENDENT:
        x, y, _ = windows_of(a[:, AXES.index(xa)], b[:, AXES.index(yb)], window, step)
        rows.append(row('demo', f'a.{xa} ~ b.{yb}', 'independent', est, x, y))
        log(rows[-1])
    x, y, starts = windows_of(a[:, 0], b[:, 0], window, step)
    centre = t[starts + window // 2]
    strong = np.array([coupling(c, sim.period, sim.rho_max) for c in centre]) > 0.5
    rows.append(row('demo', 'a.acc_x ~ b.acc_x, coupling > 0.5', 'dependent', est, x[strong],
                    y[strong]))
    log(rows[-1])
    return rows


def phase_randomized(v, rng):
    """Return a series with the spectrum of ``v`` (its autocorrelation), random phases."""
    f = np.fft.rfft(v - v.mean())
    phases = rng.uniform(0, 2 * np.pi, len(f))
    phases[0] = 0.0
    if len(v) % 2 == 0:
        phases[-1] = 0.0
    return np.fft.irfft(np.abs(f) * np.exp(1j * phases), len(v)) + v.mean()


def walking_rows(est, args, log) -> list:
    thigh = read_xsens(os.path.join(WALKING, 'walking_xsens_upperLeg.txt'))
    shank = read_xsens(os.path.join(WALKING, 'walking_xsens_lowerLeg.txt'))
    n = min(len(thigh.acc), len(shank.acc))
    channels = {f'acc_{c}': (thigh.acc[:n, i], shank.acc[:n, i]) for i, c in enumerate('xyz')}
    channels.update({f'gyro_{c}': (thigh.gyro[:n, i], shank.gyro[:n, i])
                     for i, c in enumerate('xyz')})
    rng = np.random.default_rng(args.seed)
    rows = []
    for name, (xt, ys) in channels.items():
        xs, ysur = [], []
        for _ in range(args.surrogates):
            x, y, _ = windows_of(xt, phase_randomized(ys, rng), 256, 12)
            xs.append(x)
            ysur.append(y)
        rows.append(row('walking', f'thigh {name} ~ surrogate shank {name}', 'independent',
                        est, np.concatenate(xs), np.concatenate(ysur)))
        log(rows[-1])
        x, y, _ = windows_of(xt, ys, 256, 12)
        rows.append(row('walking', f'thigh {name} ~ shank {name}', 'real pair', est, x, y))
        log(rows[-1])
    return rows


def cost_rows(est, args, log) -> list:
    """One update of 16 scalar pairs at window 1000 through estimate_windows (median of 5)."""
    topics = [f'/s{k}=sensor_msgs/msg/Imu' for k in range(2)]
    pairs = parse_pairs(topics, ['/s0:linear_acceleration.x ~ /s1:linear_acceleration.x'] * 16,
                        [f'p{k}' for k in range(16)])
    rng = np.random.default_rng(41)
    stamps = np.arange(1000) * 0.001
    wins = [Window(p, stamps, rng.standard_normal((1000, 1)), rng.standard_normal((1000, 1)))
            for p in pairs]
    variants = {'no uncertainty': None,
                'iid null, no interval': Uncertainty('iid', n_halves=0),
                'iid null, interval (8 halves)': Uncertainty('iid'),
                'shift null (19 shifts), no interval': Uncertainty('shift', n_halves=0),
                'shift null (19 shifts), interval (8 halves): node default': Uncertainty()}
    rows = []
    for name, opts in variants.items():
        seconds = results_io.median_seconds(lambda: estimate_windows(est, wins,
                                                                     uncertainty=opts))
        rows.append({'variant': name, 'seconds': seconds})
        log(rows[-1])
    return rows


def markdown(args, results, seconds) -> list:
    lines = ['# The i.i.d. null on sensor data, the shift null, and their cost', '',
             f'{results_io.stamp(args.threads)}; weights {args.weights}; {DRAWS} null draws, '
             f'alpha {ALPHA}; {seconds:.0f} s.']
    if 'alarms' in results:
        lines += ['', '## Windows declared dependent (p <= 0.05)', '',
                  'Independent pairs: the share is the false-alarm rate (should be about '
                  f'{ALPHA}). Windows of one pair overlap, so the shares of one pair are '
                  'correlated.', '',
                  '| data | pair | truth | windows | i.i.d. null | shift null | '
                  'median dependence length |', '|---|---|---|---|---|---|---|']
        for r in results['alarms']:
            lines.append(f'| {r["data"]} | {r["pair"]} | {r["truth"]} | {r["windows"]} | '
                         f'{r["dependent_iid"]:.1%} | {r["dependent_shift"]:.1%} | '
                         f'{r["median_dependence_length"]:.0f} |')
    if 'cost' in results:
        lines += results_io.cost_table(
            '## Cost: one update of 16 scalar pairs, window 1000 (median of 5)', results['cost'])
    return lines


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__.strip().split('\n')[0])
    ap.add_argument('--weights', default='default')
    ap.add_argument('--demo-seconds', type=float, default=600.0)
    ap.add_argument('--surrogates', type=int, default=4,
                    help='phase-randomized copies per walking channel')
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--sections', nargs='+', default=list(SECTIONS), choices=SECTIONS)
    results_io.add_output_arguments(ap, 'null_false_alarms')
    return ap


def main(argv=None):
    args = results_io.parse(build_parser(), argv, __file__)
    if args.quick:
        args.demo_seconds, args.surrogates = 120.0, 1
    torch.set_num_threads(args.threads)
    est = InfoNetEstimator.from_pretrained(args.weights, device='cpu')
    t0 = time.perf_counter()
    results = {}
    if 'alarms' in args.sections:
        results['alarms'] = demo_rows(est, args, print) + walking_rows(est, args, print)
    if 'cost' in args.sections:
        results['cost'] = cost_rows(est, args, print)
    seconds = time.perf_counter() - t0
    payload = {**results_io.run_facts(args), 'seconds': seconds, **results}
    results_io.write(args, payload, markdown(args, results, seconds))
    return 0


if __name__ == '__main__':
    sys.exit(main())
