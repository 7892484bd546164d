# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
MI estimates of the sync modes of two topics under message loss (docs/node.md, sync modes).

Two 1 kHz topics carry values whose true MI is 0.83 nats at the same instant; each message
is lost with probability LOSS per topic, and arrives after an exponential delay (mean
0.3 ms), so the two topics interleave unevenly. The messages are fed in arrival order to
:class:`infonet_ros.streams.window_engine.WindowEngine` (offline, no ROS), which pairs them
by one of three rules:

- ``approximate``: the engine's matcher (nearest partner within the pair limit: ``slop``
  and at most half the faster topic's sample interval);
- ``interpolate``: the slower topic's samples against the faster one interpolated;
- ``nearest within slop``: what message_filters' Python ApproximateTimeSynchronizer alone
  would pair (nearest queued message of the other topic with |dt| < slop, both removed),
  emulated here (:class:`NearestWithinSlop`) and buffered without the engine's pair limit.

Every 0.5 s of arrival time the ready windows of 1000 pairs are estimated with the default
model. Cases: equal stamps and white noise; two clocks 0.3 ms apart with a 20 Hz or 150 Hz
band-limited signal plus white noise; 1 kHz against 200 Hz, 1.3 ms apart, 20 Hz signal.

    python benchmarks/sync_modes.py [--seconds 30] [--loss 0 0.001 0.01] [--threads 1]
        [--quick] [--name NAME]

Writes benchmarks/results/NAME.{json,md} (NAME: sync_modes; --quick: sync_modes_quick).
"""

import argparse
from dataclasses import dataclass
import os
import sys
import time

import numpy as np
from scipy.signal import butter, sosfiltfilt
import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from infonet_ros.core.estimator import InfoNetEstimator  # noqa: E402
from infonet_ros.streams.pairs import parse_pairs  # noqa: E402
from infonet_ros.streams.window_engine import WindowEngine  # noqa: E402
import results_io  # noqa: E402  (benchmarks/, the script's own folder)

TRUTH = 0.83  # nats, between the two topics' values at the same instant
RHO = float(np.sqrt(1 - np.exp(-2 * TRUTH)))  # the Gaussian correlation with that MI
WINDOW, SLOP, QUEUE_SIZE, MAX_GAP = 1000, 0.01, 100, 0.1
UPDATE_EVERY = 0.5  # s of arrival time between updates, as the node's update timer
MEAN_DELAY = 3e-4  # s, mean arrival delay
MODES = ('approximate', 'interpolate', 'nearest within slop')


# Annotations stay evaluated (no ``from __future__ import annotations``): test/lint/
# test_results.py imports this file without registering it as a module, and a dataclass with
# string annotations looks its module up. ``float | None`` needs Python 3.10.
@dataclass(frozen=True)
class Case:
    """Two topics: rates [Hz], stamp offset of b [s], signal band [Hz] (None: white noise)."""

    label: str
    rate_b: int = 1000
    offset: float = 0.0
    band: float | None = None
    length: int = 1  # multiple of --seconds (the 200 Hz topic needs more for its windows)


CASES = (
    Case('same stamps, white noise'),
    Case('two clocks 0.3 ms apart, 20 Hz motion + white noise', offset=3e-4, band=20.0),
    Case('two clocks 0.3 ms apart, 150 Hz motion + white noise', offset=3e-4, band=150.0),
    Case('1 kHz and 200 Hz, 1.3 ms apart, 20 Hz motion + white noise', rate_b=200,
         offset=1.3e-3, band=20.0, length=2),
)


def delivered(topic: str, stamps, values, loss: float, rng) -> list[tuple]:
    """(arrival, topic, stamp, value) of the messages of one topic that are not lost."""
    kept = rng.random(len(values)) >= loss
    arrival = np.maximum.accumulate(stamps + rng.exponential(MEAN_DELAY, len(values)))
    return [(float(a), topic, float(t), float(v))
            for a, t, v, k in zip(arrival, stamps, values, kept) if k]


def events(case: Case, seconds: float, loss: float, rng) -> list[tuple]:
    """(arrival, topic, stamp, value) of both topics' delivered messages, by arrival."""
    out = []
    if case.band is None:  # one value per stamp, the same stamps on both topics
        n = int(seconds * 1000)
        stamps = 1.0 + np.arange(n) / 1000
        x = rng.standard_normal(n)
        y = RHO * x + np.sqrt(1 - RHO ** 2) * rng.standard_normal(n)
        out += delivered('/a', stamps, x, loss, rng) + delivered('/b', stamps, y, loss, rng)
    else:
        # A common Gaussian signal band-limited to `band` Hz on a 20 kHz grid, plus white
        # noise per sensor: X = s + n_x, Y = s + n_y with correlation 1 / (1 + sigma^2) = RHO.
        fs = 20000
        sos = butter(6, case.band, fs=fs, output='sos')
        s = sosfiltfilt(sos, rng.standard_normal(int((seconds + 1) * fs)))
        s /= s.std()
        sigma = np.sqrt(1 / RHO - 1)
        for topic, rate, offset in (('/a', 1000, 0.0), ('/b', case.rate_b, case.offset)):
            t = offset + np.arange(int(seconds * rate)) / rate
            v = s[np.round((t + 0.5) * fs).astype(int)] + sigma * rng.standard_normal(len(t))
            out += delivered(topic, 1.0 + t, v, loss, rng)
    out.sort()
    return out


class NearestWithinSlop:
    """
    message_filters' Python ApproximateTimeSynchronizer for two inputs, without ROS.

    A message joins its topic's queue (at most ``queue_size``, the oldest goes); the nearest
    queued message of the other topic with |dt| < slop (integer nanoseconds) pairs with it
    and both leave their queues; older unmatched messages stay.
    """

    def __init__(self, queue_size: int, slop: float, on_pair):
        self.queues = ({}, {})  # stamp [ns] -> (stamp [s], row), per side
        self.queue_size = queue_size
        self.slop_ns = round(slop * 1e9)
        self.on_pair = on_pair

    def add(self, side: int, stamp: float, row) -> None:
        ns = round(stamp * 1e9)
        own, other = self.queues[side], self.queues[1 - side]
        own[ns] = (stamp, row)
        while len(own) > self.queue_size:
            del own[min(own)]
        near = [(abs(s - ns), s) for s in other if abs(s - ns) < self.slop_ns]
        if not near:
            return
        partner = min(near)[1]
        mine, theirs = own.pop(ns), other.pop(partner)
        stamp_a, row_a, stamp_b, row_b = mine + theirs if side == 0 else theirs + mine
        self.on_pair(stamp_a, row_a, stamp_b, row_b)


def run_mode(mode: str, evs: list[tuple], est) -> dict:
    """Feed one case's messages to an engine in ``mode``; estimate its windows at updates."""
    pairs = parse_pairs(['/a=x/msg/A', '/b=x/msg/B'], ['/a:v ~ /b:v'])
    engine_mode = 'external' if mode == 'nearest within slop' else mode
    engine = WindowEngine(pairs, WINDOW, sync_mode=engine_mode, slop=SLOP,
                          queue_size=QUEUE_SIZE, max_gap=MAX_GAP)
    synced, off = None, [0]
    if engine_mode == 'external':
        link = engine.links[engine.link_topics[0]]

        def push(stamp_a, row_a, stamp_b, row_b):
            # Buffered as message_filters hands it over, without the engine's pair limit;
            # counted when further apart than that limit (a neighbour of the true partner).
            off[0] += abs(stamp_a - stamp_b) > link.limit(SLOP)
            link.push(stamp_a, row_a, stamp_b, row_b)
        synced = NearestWithinSlop(QUEUE_SIZE, SLOP, push)
    estimates, next_update = [], evs[0][0] + UPDATE_EVERY
    for arrival, topic, stamp, value in evs:
        if arrival > next_update:
            estimates += [est.estimate(w.x[:, 0], w.y[:, 0]) for w in engine.ready_windows()]
            next_update += UPDATE_EVERY
        status, row = engine.add_values(topic, stamp, [value])
        if synced is not None and status == 'ok':
            synced.add(0 if topic == '/a' else 1, stamp, row)
    stats = next(iter(engine.pairing_stats().values()), None)
    formed = stats.formed if stats is not None else None
    return {'estimates': [round(float(e), 5) for e in estimates],
            'mean': float(np.mean(estimates)), 'std': float(np.std(estimates)),
            'windows': len(estimates), 'pairs_formed': formed,
            'refused_rate': None if mode != 'approximate' else stats.refused_rate,
            'off_pair_rate': off[0] / formed if engine_mode == 'external' else None}


def run(args, est) -> list[dict]:
    records = []
    for case in CASES:
        for loss in args.loss:
            # The same messages for every mode: one draw per case and loss.
            evs = events(case, args.seconds * case.length, loss, np.random.default_rng(1))
            rec = {'case': case.label, 'loss': loss, 'messages': len(evs), 'modes': {}}
            for mode in MODES:
                rec['modes'][mode] = run_mode(mode, evs, est)
            records.append(rec)
            print(f'{case.label} | loss {loss:.1%} | ' + ' | '.join(
                f'{m} {r["mean"]:.3f} ± {r["std"]:.3f} (n {r["windows"]})'
                for m, r in rec['modes'].items()), flush=True)
    return records


def table(records: list[dict]) -> list[str]:
    """Markdown: mean ± std over windows per case, loss and mode; the rates of bad pairs."""
    lines = ['| topics | loss per topic | windows | ' + ' | '.join(f'`{m}`' for m in MODES)
             + ' | `approximate`: refused | nearest: pairs beyond the pair limit |',
             '|---|---|---' + '|---' * len(MODES) + '|---|---|']
    for r in records:
        m = r['modes']
        cells = [f'{m[k]["mean"]:.3f} ± {m[k]["std"]:.3f}' for k in MODES]
        n = sorted({m[k]['windows'] for k in MODES})
        lines.append(f'| {r["case"]} | {r["loss"]:.1%} | {"-".join(map(str, n))} | '
                     + ' | '.join(cells)
                     + f' | {m["approximate"]["refused_rate"]:.1%}'
                     f' | {m["nearest within slop"]["off_pair_rate"]:.1%} |')
    return lines


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--seconds', type=float, default=30.0,
                    help='length of each case [s] (the 200 Hz case: twice that)')
    ap.add_argument('--loss', type=float, nargs='+', default=[0.0, 0.001, 0.01],
                    help='probability that a message is lost, per topic')
    ap.add_argument('--threads', type=int, default=1)
    results_io.add_output_arguments(ap, 'sync_modes')
    return ap


def main(argv=None):
    args = results_io.parse(build_parser(), argv, __file__)
    if args.quick:
        args.seconds, args.loss = 3.0, [0.0, 0.01]
    torch.set_num_threads(args.threads)
    t0 = time.time()
    est = InfoNetEstimator.from_pretrained('default', device='cpu')
    records = run(args, est)
    lines = ['# Sync modes under message loss', '',
             f'{results_io.stamp(args.threads)}; true MI {TRUTH} nats; 1 kHz; windows of '
             f'{WINDOW} pairs estimated every {UPDATE_EVERY} s with the default model; slop '
             f'{SLOP} s, queue {QUEUE_SIZE}, max_gap {MAX_GAP} s; arrival delays exponential, '
             f'mean {MEAN_DELAY * 1e3:.1f} ms; the same messages for every mode; mean ± '
             f'standard deviation over windows; {time.time() - t0:.0f} s.', '']
    lines += table(records)
    results_io.write(args, {**results_io.run_facts(args), 'truth': TRUTH, 'records': records},
                     lines)


if __name__ == '__main__':
    main()
