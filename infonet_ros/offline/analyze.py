# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
r"""
``infonet-ros analyze BAG``: offline MI time series and MI matrices from a rosbag2.

    infonet-ros analyze my_bag --params config/mi.yaml            # the node's own settings
    infonet-ros analyze my_bag --pair '/a:linear_acceleration.x ~ /b:linear_acceleration.x' \\
        --window 256 --update-every 12
    infonet-ros analyze walk --matrix 'legs=/thigh/imu:linear_acceleration.x,... ~ ...' --ksg

One implementation with the node: the bag's messages go, in recorded order, through the
node's :class:`~infonet_ros.streams.windowing.WindowEngine` (validation, pairing, rolling windows)
with the node's parameters (:class:`~infonet_ros.streams.node_config.NodeConfig`, from the node's
YAML or flags), and the windows through the node's
:func:`~infonet_ros.streams.batch_estimate.estimate_windows` (one batched forward pass for many
windows). As in the node, the watched fields are read from the serialized messages where the type
allows (:func:`bag_items`; the same numbers as decoding, checked against it on each topic's first
messages, a record of the wrong size is decoded instead and reported). A window holds the same
samples as in the node, so the estimate is the same number (tests:
``test/ros/test_replay_dds.py``). Offline, windows of many updates share one forward pass (a row's
estimate does not depend on its batch).

Updates:
- ``--update-rate HZ`` (the node's ``update_rate``, default from the YAML): every 1/HZ seconds
  of recorded (receive) time, as the node's timer would fire on replay;
- ``--update-every K``: once K new messages of ``--update-topic`` (default: the x topic of the
  first pair) were accepted, just before that topic's next message is fed, so that messages of
  the other topics with the same stamps are in; plus a final update at the end of the bag.
A pair's window is estimated at an update when it is full and newer than its last one.

Outputs (``-o DIR``): ``mi.csv`` (one row per update and pair: update, time, pair, sources, mi,
sample_count, window_start, window_end, method, sliced, n_slices, p_value, and mi_ksg /
mi_shuffled with ``--ksg`` / ``--shuffle-control``), ``summary.json``, ``mi_timeseries.png``
(MI over time above the raw signals) and ``matrix_<name>.png`` per ``--matrix`` (one window
and the mean over all windows). The CSV is written under a temporary name and renamed when
the analysis completed; an analysis stopped by a corrupt bag writes no ``mi.csv`` (with
``--keep-partial``: ``mi.partial.csv``, and ``"complete": false`` in the summary).

Documented skips (counted in the summary, never silent): a pair whose window never fills
(too few paired samples: short bag, slow topic, no matches within ``slop``) gets no rows;
messages with a missing array index, NaN/inf, a repeated or slightly older stamp are dropped
by the engine and counted per topic. Errors (exit 1, a message naming the cause): missing,
corrupt or truncated bag; a topic not in the bag or of another type than configured; a type
with no definition; a field absent from the first message of its topic.
"""

from __future__ import annotations

import argparse
import csv
from dataclasses import dataclass, field
import json
import math
import os
from pathlib import Path
import sys
import time

import numpy as np

from infonet_ros.offline.bag_reader import BagError, BagSource
from infonet_ros.streams.fields import compile_field, FieldError
from infonet_ros.streams.mi_matrix import MatrixSpec, parse_matrix, short_label
from infonet_ros.streams.pairs import PairSpecError

CSV_NAME = 'mi.csv'
PARTIAL_CSV_NAME = 'mi.partial.csv'
SUMMARY_NAME = 'summary.json'
TIMESERIES_NAME = 'mi_timeseries.png'
CSV_COLUMNS = ('update', 'time', 'pair', 'x_source', 'y_source', 'mi', 'sample_count',
               'window_start', 'window_end', 'method', 'sliced', 'n_slices', 'p_value')
# Estimator rows per forward pass offline (windows of several updates together); 0: chosen
# by timing the first passes (infonet_ros.offline.batch_tuner: the best size depends on the model
# and the machine, from 32 rows for 'default' on a 2-core CPU to thousands on a GPU).
DEFAULT_BATCH_ROWS = 0
# Figures: all pairs up to this many, else the pairs with the largest mean MI.
MAX_PLOTTED_PAIRS = 6
# Node parameters that flags of ``analyze`` can override (same names, '-' for '_').
OVERRIDABLE = ('window', 'update_rate', 'sync_mode', 'slop', 'queue_size', 'max_gap',
               'time_jump', 'use_receive_time', 'max_buffer', 'n_slices', 'slice_seed',
               'p_value', 'n_permutations', 'device', 'weights', 'jit')


class AnalysisError(RuntimeError):
    """A configuration or bag the analysis cannot use (the message says why)."""


@dataclass
class UpdatePolicy:
    """When updates happen: ``rate`` (period [s] of receive time) or ``every`` K messages."""

    kind: str
    period: float = 0.0
    every: int = 0
    topic: str = ''

    def describe(self) -> str:
        """Human-readable form for the summary."""
        if self.kind == 'rate':
            return f'every {self.period:g} s of recorded time ({1.0 / self.period:g} Hz)'
        return f'every {self.every} messages of {self.topic}'


@dataclass
class Record:
    """One estimate: a pair over one window at one update."""

    update: int
    time: float  # update time [s] (receive clock of the bag)
    pair: object  # PairSpec
    mi: float
    sample_count: int
    window_start: float
    window_end: float
    n_slices: int
    p_value: float = math.nan
    mi_ksg: float = math.nan
    mi_shuffled: float = math.nan

    @property
    def method(self) -> str:
        """'infonet' or 'infonet-sliced', as in MutualInformation.method."""
        return 'infonet-sliced' if self.n_slices else 'infonet'


@dataclass
class AnalysisResult:
    """Everything an analysis produced; ``complete`` is False when the bag broke mid-way."""

    bag: str
    storage: str
    config: object  # NodeConfig
    engine_mode: str
    policy: UpdatePolicy
    records: list = field(default_factory=list)
    updates: int = 0
    topics: dict = field(default_factory=dict)  # topic -> info dict
    pairs: dict = field(default_factory=dict)  # pair name -> info dict
    signals: dict = field(default_factory=dict)  # (topic, field) -> (stamps list, values list)
    matrices: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    timings: dict = field(default_factory=dict)
    options: dict = field(default_factory=dict)
    complete: bool = True
    error: str | None = None
    t0: float = 0.0  # first receive time of the bag [s]


# ---- configuration ---------------------------------------------------------------------

def build_params(bag_topics: dict, params_file=None, node_name: str = 'mi_node',
                 pairs=(), pair_names=(), matrices=(), overrides=None) -> tuple[dict, list]:
    """
    Node parameters for the analysis: YAML, then pairs/matrices/flags, topics from the bag.

    Returns (params dict for NodeConfig.from_params, list of MatrixSpec). Pairs given by
    flags (``pairs`` or ``matrices``) replace the YAML's pairs.
    """
    from infonet_ros.streams.pairs import load_params_yaml
    params: dict = {}
    if params_file:
        try:
            params = load_params_yaml(params_file, node_name)
        except (OSError, ValueError) as exc:
            raise AnalysisError(f'cannot read parameters: {exc}') from None
    specs = []
    for k, text in enumerate(matrices):
        try:
            specs.append(parse_matrix(text, default_name=f'm{k + 1}'))
        except PairSpecError as exc:
            raise AnalysisError(str(exc)) from None
    if len({s.name for s in specs}) != len(specs):
        raise AnalysisError('two matrices have the same name: name them NAME=SPEC')
    if pairs or specs:
        if pair_names and len(pair_names) != len(pairs):
            raise AnalysisError(f'{len(pair_names)} --pair-name for {len(pairs)} --pair')
        all_pairs, names = list(pairs), list(pair_names)
        if not names and pairs:
            from infonet_ros.streams.pairs import parse_pair, parse_topics
            known = parse_topics(_topic_entries(bag_topics, {}))
            try:
                names = [parse_pair(p, known).name for p in pairs]
            except PairSpecError as exc:
                raise AnalysisError(str(exc)) from None
        for s in specs:
            p, n = s.pair_strings()
            all_pairs += p
            names += n
        params['pairs'], params['pair_names'] = all_pairs, names
    elif 'pairs' not in params:
        raise AnalysisError("no pairs to analyze: give --params FILE (the node's YAML), "
                            "--pair 'TOPIC:FIELD ~ TOPIC:FIELD' or --matrix SPEC")
    declared = {}
    for entry in params.get('topics', []):
        topic, _, msg_type = str(entry).partition('=')
        declared[topic.strip()] = msg_type.strip()
    params['topics'] = _topic_entries(bag_topics, declared)
    params.update({k: v for k, v in (overrides or {}).items() if v is not None})
    return params, specs


def _topic_entries(bag_topics: dict, declared: dict) -> list[str]:
    # Every topic of the bag with its recorded type; a type declared in the YAML must match.
    from infonet_ros.streams.pairs import normalize_msg_type
    out = []
    for topic, (msg_type, _) in sorted(bag_topics.items()):
        if topic in declared and declared[topic]:
            try:
                want = normalize_msg_type(declared[topic])
            except PairSpecError as exc:
                raise AnalysisError(str(exc)) from None
            if want != msg_type:
                raise AnalysisError(f'topic {topic} is {msg_type} in the bag but {want} in '
                                    'the parameters')
        if msg_type and msg_type.count('/') == 2:
            out.append(f'{topic}={msg_type}')
    return out


def make_config(params: dict):
    """NodeConfig.from_params, with its ConfigError as AnalysisError."""
    from infonet_ros.streams.node_config import ConfigError, NodeConfig
    try:
        return NodeConfig.from_params(params)
    except ConfigError as exc:
        raise AnalysisError(str(exc)) from None


def engine_mode_for(sync_mode: str) -> str:
    """
    Offline engine mode of the node's ``sync_mode``.

    'approximate' uses the engine's own approximate-time pairing (message_filters is a node
    dependency; see infonet_ros.streams.windowing for how the two differ); 'interpolate' is
    identical.
    """
    return 'approximate' if sync_mode == 'approximate' else sync_mode


# ---- the pass over the bag ---------------------------------------------------------------

def _numeric_fields(msg, prefix: str = '', depth: int = 0, out=None) -> list[str]:
    # Numeric leaves of a message, for error messages (arrays shown as name[i]).
    out = [] if out is None else out
    if depth > 6 or len(out) > 60:
        return out
    names = [n for n in getattr(msg, '__dataclass_fields__', {}) if not n.startswith('__')]
    for name in names:
        v = getattr(msg, name)
        path = f'{prefix}{name}'
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            out.append(path)
        elif isinstance(v, np.ndarray) and v.dtype.kind in 'biuf':
            out.append(f'{path}[0..{len(v) - 1}]' if len(v) else f'{path}[] (empty)')
        elif hasattr(v, '__dataclass_fields__'):
            _numeric_fields(v, path + '.', depth + 1, out)
    return out


def bag_items(bag, topics, fields_by_topic, intakes=None):
    """
    Yield (topic, receive time [ns], message or Values, serialized message, type) in order.

    The watched fields are read from the serialized message where the CDR reader walks the
    type (:class:`~infonet_ros.streams.raw_intake.RawIntake`: the same numbers as decoding, checked
    against it on each topic's first messages, with the size check of a full decode); other
    messages are decoded. ``intakes`` (a dict) receives each topic's RawIntake, or the reason
    why its messages are decoded.
    """
    from infonet_ros.offline.bag_reader import rosbags_fields_of
    from infonet_ros.streams.cdr_reader import CdrUnsupported
    from infonet_ros.streams.raw_intake import RawIntake
    from infonet_ros.streams.windowing import Values
    intakes = {} if intakes is None else intakes
    if bag.typestore is None:
        bag.build_typestore(topics)  # BagError for a topic the bag does not have
    in_bag = bag.topics()
    types = {t: in_bag[t][0] for t in topics}
    fields_of = rosbags_fields_of(bag.typestore)
    for topic in topics:
        msgtype = types[topic]
        try:
            intakes[topic] = RawIntake(
                msgtype, fields_by_topic[topic],
                lambda raw, t=msgtype, name=topic: bag.decode(raw, t, name),
                fields_of=fields_of, whole=True)
        except CdrUnsupported as exc:
            intakes[topic] = f'decoded: {exc}'
    for topic, msgtype, recv_ns, raw, index in bag.raw_messages(topics):
        intake = intakes[topic]
        got = None if isinstance(intake, str) else intake.values(raw)
        if got is None:
            yield topic, recv_ns, bag.decode(raw, msgtype, topic, index), raw, msgtype
        else:
            yield topic, recv_ns, Values(*got), raw, msgtype


def fast_read_notes(intakes) -> list[str]:
    """Warnings for topics whose fast field reading was turned off while reading."""
    return [f'{t}: fields read by decoding every message, the fast reader was turned off '
            f'({i.disabled})' for t, i in intakes.items() if not isinstance(i, str)
            and i.disabled]


def _message_stream(bag, topics, fields_by_topic, signals, progress, intakes=None):
    # Bag messages as (topic, receive time [s], msg or Values); checks each topic's fields on
    # its first message and keeps the raw values for the figures.
    from infonet_ros.streams.fields import header_stamp
    from infonet_ros.streams.windowing import Values
    readers = {t: [(f, compile_field(f)) for f in fs] for t, fs in fields_by_topic.items()}
    checked = set()
    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(total=bag.message_count(topics), unit='msg', desc='reading bag',
                   file=sys.stderr, mininterval=0.5)
    try:
        items = bag_items(bag, topics, fields_by_topic, intakes)
        for topic, recv_ns, item, raw, msgtype in items:
            if bar is not None:
                bar.update(1)
            if topic not in checked:
                checked.add(topic)
                msg = bag.decode(raw, msgtype, topic, 0) if isinstance(item, Values) else item
                for f, r in readers[topic]:
                    try:
                        r(msg)
                    except FieldError as exc:
                        avail = ', '.join(_numeric_fields(msg)) or 'none'
                        raise AnalysisError(f'{topic} [{msgtype}]: {exc}. Numeric '
                                            f'fields of its first message: {avail}') from None
            if signals is not None:
                if isinstance(item, Values):
                    stamp = recv_ns / 1e9 if item.stamp is None else item.stamp
                    values = zip(fields_by_topic[topic], item.row)
                else:
                    stamp = header_stamp(item)
                    stamp = recv_ns / 1e9 if stamp is None else stamp
                    values = _read_present(readers[topic], item)
                for f, v in values:
                    s = signals.setdefault((topic, f), ([], []))
                    s[0].append(stamp)
                    s[1].append(v)
            # ns / 1e9 is the double nearest the stamp (ns * 1e-9 can miss it by one ulp,
            # which would move a message across an update time).
            yield topic, recv_ns / 1e9, item
    finally:
        if bar is not None:
            bar.close()


def _read_present(readers, msg):
    # (field, value) of the fields the message has.
    for f, r in readers:
        try:
            yield f, r(msg)
        except FieldError:
            continue


def _every_updates(engine, messages, every: int, ref_topic: str, use_receive_time: bool):
    # Update once `every` new messages of ref_topic were accepted, just before its next one.
    from infonet_ros.streams.windowing import feed, OK, TIME_JUMP
    count = 0
    last = None
    for topic, arrival, item in messages:
        if topic == ref_topic and count >= every:
            yield last, engine.ready_windows()
            count = 0
        if topic in engine.topics:
            status, _ = feed(engine, topic, arrival, item, use_receive_time)
            if topic == ref_topic and status in (OK, TIME_JUMP):
                count += 1
        last = arrival
    if last is not None:
        yield last, engine.ready_windows()


def _shuffled(window, rng):
    from infonet_ros.streams.windowing import Window
    perm = rng.permutation(window.n)
    return Window(window.pair, window.stamps, window.x, window.y[perm])


class _Estimator:
    """Batches windows of many updates into forward passes; KSG and control on request."""

    def __init__(self, estimator, cfg, batch_rows, ksg, shuffle_control, seed=0):
        from infonet_ros.offline.batch_tuner import BatchTuner
        self.estimator, self.cfg = estimator, cfg
        self.fixed_rows = max(int(batch_rows), 0)
        self.tuner = None if self.fixed_rows else BatchTuner()
        self.ksg, self.shuffle_control, self.seed = ksg, shuffle_control, seed
        self.pending = []  # (update, time, window, index of the window in its update)
        self.rows = 0
        self.records = []
        self.infonet_s = self.ksg_s = self.control_s = 0.0
        self.n_ksg = 0

    def _rows(self, w) -> int:
        return 1 if (w.x.shape[1] == 1 and w.y.shape[1] == 1) else self.cfg.n_slices

    def add(self, update, t, windows):
        for k, w in enumerate(windows):
            self.pending.append((update, t, w, k))
            self.rows += self._rows(w)
        if self.rows >= self.batch_rows:
            self.flush()

    @property
    def batch_rows(self) -> int:
        """Rows of the next forward pass."""
        return self.fixed_rows or self.tuner.size

    def flush(self):
        from infonet_ros.streams.batch_estimate import estimate_windows
        if not self.pending:
            return
        cfg = self.cfg
        wins = [p[2] for p in self.pending]
        t0 = time.perf_counter()
        ests, _ = estimate_windows(self.estimator, wins, cfg.n_slices, cfg.slice_seed,
                                   cfg.p_value, cfg.n_permutations)
        elapsed = time.perf_counter() - t0
        self.infonet_s += elapsed
        if self.tuner is not None:
            self.tuner.record(self.rows, elapsed)
        recs = [Record(u, t, e.pair, e.mi, e.sample_count, e.window_start, e.window_end,
                       e.n_slices, e.p_value) for (u, t, _, _), e in zip(self.pending, ests)]
        if self.shuffle_control:
            t0 = time.perf_counter()
            shuffled = [_shuffled(w, np.random.default_rng([self.seed, u, k]))
                        for u, _, w, k in self.pending]  # seeded per window, not batch
            ctrl, _ = estimate_windows(self.estimator, shuffled, cfg.n_slices, cfg.slice_seed)
            for r, c in zip(recs, ctrl):
                r.mi_shuffled = c.mi
            self.control_s += time.perf_counter() - t0
        if self.ksg:
            from infonet_ros.core.ksg import ksg_mi
            t0 = time.perf_counter()
            for r, w in zip(recs, wins):
                if w.x.shape[1] == 1 and w.y.shape[1] == 1:
                    r.mi_ksg = ksg_mi(w.x[:, 0], w.y[:, 0], n_neighbors=3)
                    self.n_ksg += 1
            self.ksg_s += time.perf_counter() - t0
        self.records.extend(recs)
        self.pending, self.rows = [], 0


def load_estimator(cfg, weights=None, device=None):
    """Load the InfoNet estimator of a configuration (``weights`` / ``device`` override it)."""
    from infonet_ros.core.estimator import InfoNetEstimator
    return InfoNetEstimator.from_pretrained(weights or cfg.weights or None,
                                            device or cfg.device, jit=cfg.jit)


def run_analysis(bag_path, cfg=None, *, params=None, matrices=(), policy=None, estimator=None,
                 msg_files=(), msg_dirs=(), use_ament=True, ksg=False,
                 shuffle_control=False, batch_rows=DEFAULT_BATCH_ROWS, progress=False,
                 keep_signals=True) -> AnalysisResult:
    """
    Analyze a bag; see the module docstring.

    :param bag_path: bag directory or storage file.
    :param cfg: a NodeConfig; or None with ``params`` (a parameter dict whose topics may be left
        out: they come from the bag) to build one.
    :param params: see ``cfg``.
    :param matrices: list of MatrixSpec whose cells are among the pairs (for the figures).
    :param policy: UpdatePolicy (default: the config's update_rate).
    :param estimator: an InfoNetEstimator (default: the config's weights and device).
    msg_files, msg_dirs, use_ament: message definitions (see infonet_ros.offline.bag_reader).
    :param ksg: also estimate every scalar window with KSG (k = 3).
    :param shuffle_control: also estimate every window with y permuted in time.
    :param batch_rows: estimator rows per forward pass; 0: the size that is fastest per row in
        the first passes (:class:`infonet_ros.offline.batch_tuner.BatchTuner`). Estimates do not
        depend on it.
    :param progress: show a progress bar on stderr.
    :param keep_signals: keep the raw values of the fields (for figures).

    AnalysisError, BagError: the analysis cannot start (nothing was estimated). A bag that
    breaks after estimates were made gives a result with ``complete`` False and
    ``error`` set instead.
    """
    from infonet_ros.streams.pairs import topic_fields
    from infonet_ros.streams.windowing import replay, WindowEngine
    if isinstance(batch_rows, bool) or not isinstance(batch_rows, int) or batch_rows < 0:
        raise AnalysisError(f'batch rows must be an integer >= 0 (0: chosen by timing), got '
                            f'{batch_rows!r}')
    t_start = time.perf_counter()
    with BagSource(bag_path, msg_files, msg_dirs, use_ament) as bag:
        bag_topics = bag.topics()
        if cfg is None:
            p = dict(params or {})
            if 'topics' not in p or not p['topics']:
                p['topics'] = _topic_entries(bag_topics, {})
            cfg = make_config(p)
        mode = engine_mode_for(cfg.sync_mode)
        policy = policy or UpdatePolicy('rate', period=cfg.update_period)
        engine = WindowEngine(**cfg.engine_kwargs(mode))
        topics = list(engine.topics)
        for t in topics:
            if t not in bag_topics:
                raise AnalysisError(f'topic {t} is not in bag {bag_path}; it has: '
                                    + ', '.join(f'{k} [{v[0]}]' for k, v in
                                                sorted(bag_topics.items())))
        if policy.kind == 'every':
            policy.topic = policy.topic or cfg.pairs[0].x.topic
            if policy.topic not in topics:
                raise AnalysisError(f'--update-topic {policy.topic} is not an input of the '
                                    f'pairs ({", ".join(topics)})')
        bag.build_typestore(topics)
        t0_bag = bag.time_range_ns()[0] / 1e9
        result = AnalysisResult(str(bag_path), bag.storage, cfg, mode, policy,
                                matrices=list(matrices), t0=t0_bag)
        result.warnings.extend(bag.warnings)
        signals = {} if keep_signals else None
        est = _Estimator(estimator if estimator is not None else load_estimator(cfg), cfg,
                         batch_rows, ksg, shuffle_control)
        intakes = {}
        stream = _message_stream(bag, topics, topic_fields(cfg.pairs), signals, progress,
                                 intakes)
        if policy.kind == 'rate':
            updates = replay(engine, stream, policy.period,
                             use_receive_time=cfg.use_receive_time)
        else:
            updates = _every_updates(engine, stream, policy.every, policy.topic,
                                     cfg.use_receive_time)
        n_updates = 0
        try:
            for t, windows in updates:
                n_updates += 1
                if windows:
                    est.add(n_updates, t, windows)
        except BagError as exc:
            if not est.records and not est.pending:
                raise
            result.complete = False
            result.error = str(exc)
        est.flush()
        result.warnings.extend(fast_read_notes(intakes))
        result.records = est.records
        result.updates = n_updates
        result.signals = signals or {}
        _fill_stats(result, bag, bag_topics, engine, cfg)
        for t, intake in intakes.items():  # how the fields were read (see bag_items)
            result.topics[t]['read_without_decoding'] = (0 if isinstance(intake, str)
                                                         else intake.fast)
    total = time.perf_counter() - t_start
    result.timings = {'total_s': total, 'infonet_s': est.infonet_s, 'ksg_s': est.ksg_s,
                      'control_s': est.control_s, 'ksg_windows': est.n_ksg,
                      'read_and_pair_s': total - est.infonet_s - est.ksg_s - est.control_s}
    result.options = {'ksg': ksg, 'shuffle_control': shuffle_control,
                      'batch_rows': batch_rows or f'auto ({est.batch_rows})',
                      'batch_rows_used': est.batch_rows}
    if est.tuner is not None:  # what the search measured: ms per row by batch size
        result.options['batch_ms_per_row'] = {k: round(v * 1e3, 4)
                                              for k, v in est.tuner.costs.items()}
    return result


def windows_at(bag_path, cfg, requests, msg_files=(), msg_dirs=(), use_ament=True,
               tolerance: float = 1e-7) -> list:
    """
    Offline windows of given pairs ending at given stamps, e.g. those a node published.

    The bag is fed through the node's engine in recorded order; just before the first message
    stamped after a requested end time, the window of that pair ending at or before it is
    taken (``WindowEngine.window_at``), as the node had it when it estimated that window.

    :param bag_path: bag directory or storage file.
    :param cfg: the NodeConfig the node ran with.
    :param requests: list of (pair name, window end [s]).
    msg_files, msg_dirs, use_ament: message definitions (see infonet_ros.offline.bag_reader).
    :param tolerance: slack on the end stamps [s] (a stamp round-trips through nanoseconds).

    :return: One Window (or None when the pair had no full window then) per request, in order.
    """
    from infonet_ros.streams.pairs import topic_fields
    from infonet_ros.streams.windowing import feed, item_stamp, WindowEngine
    engine = WindowEngine(**cfg.engine_kwargs(engine_mode_for(cfg.sync_mode)))
    order = sorted(range(len(requests)), key=lambda i: requests[i][1])
    out = [None] * len(requests)
    k = 0

    def take_until(stamp):
        nonlocal k
        while k < len(order) and (stamp is None or stamp > requests[order[k]][1] + tolerance):
            name, end = requests[order[k]]
            out[order[k]] = engine.window_at(name, until=end + tolerance)
            k += 1

    with BagSource(bag_path, msg_files, msg_dirs, use_ament) as bag:
        topics = list(engine.topics)
        bag.build_typestore(topics)
        for topic, recv_ns, item, _, _ in bag_items(bag, topics, topic_fields(cfg.pairs)):
            arrival = recv_ns / 1e9
            take_until(item_stamp(item, arrival, cfg.use_receive_time))
            feed(engine, topic, arrival, item, cfg.use_receive_time)
    take_until(None)
    return out


def _fill_stats(result, bag, bag_topics, engine, cfg):
    stats = engine.topic_stats()
    for t, s in stats.items():
        result.topics[t] = {
            'type': bag_topics[t][0], 'messages_in_bag': bag_topics[t][1],
            'definition': bag.type_sources.get(bag_topics[t][0], ''),
            'received': s.received, 'accepted': s.accepted,
            'dropped': {k: v for k, v in s.dropped.items() if v}, 'time_jumps': s.time_jumps}
    by_pair: dict = {}
    for r in result.records:
        by_pair.setdefault(r.pair.name, []).append(r)
    fill = engine.fill()
    for p in cfg.pairs:
        recs = by_pair.get(p.name, [])
        info = {'x_source': p.x.source, 'y_source': p.y.source, 'sliced': p.sliced,
                'estimates': len(recs)}
        if recs:
            mi = np.array([r.mi for r in recs])
            info.update(mean=_f(np.nanmean(mi)), min=_f(np.nanmin(mi)), max=_f(np.nanmax(mi)),
                        nan=int(np.isnan(mi).sum()))
            ksg = np.array([r.mi_ksg for r in recs])
            if np.isfinite(ksg).any():
                info['ksg_mean'] = _f(np.nanmean(ksg))
                info['corr_infonet_ksg'] = _corr(mi, ksg)
            ctrl = np.array([r.mi_shuffled for r in recs])
            if np.isfinite(ctrl).any():
                info['shuffled_mean'] = _f(np.nanmean(ctrl))
        else:
            have, want = fill.get(p.name, (0, cfg.window))
            info['skipped'] = (f'window never filled: at most {have} paired samples at the end '
                               f'of the bag, window {want}')
        result.pairs[p.name] = info
    if engine.resets:
        result.warnings.append(f'time jumped back {engine.resets} time(s): buffers were '
                               'cleared (bag loop or reset in the recording)')


def _f(x) -> float | None:
    x = float(x)
    return x if math.isfinite(x) else None


def _corr(a, b) -> float | None:
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 3 or np.std(a[ok]) == 0 or np.std(b[ok]) == 0:
        return None
    return float(np.corrcoef(a[ok], b[ok])[0, 1])


# ---- outputs -------------------------------------------------------------------------------

def write_csv(result: AnalysisResult, path) -> Path:
    """Write the records (atomically: temporary file, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    cols = list(CSV_COLUMNS)
    if result.options.get('ksg'):
        cols.append('mi_ksg')
    if result.options.get('shuffle_control'):
        cols.append('mi_shuffled')
    tmp = path.with_name(f'.{path.name}.tmp')
    with open(tmp, 'w', newline='') as fh:
        w = csv.writer(fh)
        w.writerow(cols)
        for r in result.records:
            row = [r.update, f'{r.time:.9f}', r.pair.name, r.pair.x.source, r.pair.y.source,
                   repr(float(r.mi)), r.sample_count, f'{r.window_start:.9f}',
                   f'{r.window_end:.9f}', r.method, str(r.pair.sliced).lower(), r.n_slices,
                   repr(float(r.p_value))]
            if result.options.get('ksg'):
                row.append(repr(float(r.mi_ksg)))
            if result.options.get('shuffle_control'):
                row.append(repr(float(r.mi_shuffled)))
            w.writerow(row)
    os.replace(tmp, path)
    return path


def read_csv(path) -> list[dict]:
    """Rows of an analysis CSV as dicts with numbers converted (for tests and notebooks)."""
    ints = {'update', 'sample_count', 'n_slices'}
    text = {'pair', 'x_source', 'y_source', 'method'}
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


def summary_dict(result: AnalysisResult, files=()) -> dict:
    """JSON-ready summary of an analysis."""
    cfg = result.config
    n = len(result.records)
    mi = np.array([r.mi for r in result.records]) if n else np.zeros(0)
    ksg = np.array([r.mi_ksg for r in result.records]) if n else np.zeros(0)
    ctrl = np.array([r.mi_shuffled for r in result.records]) if n else np.zeros(0)
    t = result.timings
    out = {
        'bag': result.bag, 'storage': result.storage, 'complete': result.complete,
        'error': result.error,
        'settings': {'window': cfg.window, 'updates': result.policy.describe(),
                     'sync_mode': result.engine_mode, 'slop': cfg.slop, 'max_gap': cfg.max_gap,
                     'n_slices': cfg.n_slices, 'slice_seed': cfg.slice_seed,
                     'use_receive_time': cfg.use_receive_time, 'pairs': len(cfg.pairs)},
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
                      'corr_all_estimates': _corr(mi, ksg)}
    if result.matrices and n:
        out['matrices'] = {}
        for spec in result.matrices:
            rows, cols = spec.labels()
            m = mean_matrix(result, spec)
            out['matrices'][spec.name] = {
                'rows': rows, 'columns': cols,
                'mean': [[_f(v) for v in row] for row in m]}
    if result.options.get('shuffle_control') and np.isfinite(ctrl).any():
        out['shuffle_control'] = {'mean': _f(np.nanmean(ctrl)),
                                  'mean_abs': _f(np.nanmean(np.abs(ctrl))),
                                  'max': _f(np.nanmax(ctrl)), 'mean_real': _f(np.nanmean(mi))}
    return out


def format_summary(s: dict, max_pairs: int = 12) -> str:
    """Terminal summary of :func:`summary_dict`."""
    st = s['settings']
    flag = '' if s['complete'] else '  ** INCOMPLETE **'
    lines = [f"bag {s['bag']} ({s['storage']}){flag}"]
    for t, info in s['topics'].items():
        drops = ', '.join(f'{k} {v}' for k, v in info['dropped'].items())
        lines.append(f"  {t} [{info['type']}] {info['accepted']}/{info['messages_in_bag']} "
                     f"accepted (definition: {info['definition']})"
                     + (f'; dropped: {drops}' if drops else ''))
    lines.append(f"settings: window {st['window']}, updates {st['updates']}, sync "
                 f"{st['sync_mode']}, {st['pairs']} pair(s)")
    t = s['timings']
    rate = s.get('estimates_per_s')
    lines.append(f"estimates: {s['estimates']} in {s['updates']} updates; InfoNet "
                 f"{t['infonet_s']:.2f} s" + (f' ({rate:.0f}/s)' if rate else '')
                 + f", total {t['total_s']:.2f} s")
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
    est = [(n, p) for n, p in s['pairs'].items() if p['estimates']]
    est.sort(key=lambda kv: -(kv[1].get('mean') or -1e9))
    if est:
        lines.append(f'pairs by mean MI [nats] (top {min(max_pairs, len(est))} of {len(est)}):')
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
    for name, m in s.get('matrices', {}).items():
        lines.append(f'matrix {name}: mean MI [nats] over all updates (rows x, columns y)')
        width = max(len(c) for c in m['columns'] + ['']) + 1
        lead = max(len(r) for r in m['rows'])
        lines.append(' ' * (lead + 2) + ''.join(f'{c:>{width}}' for c in m['columns']))
        for label, row in zip(m['rows'], m['mean']):
            cells = ''.join(f'{"-" if v is None else format(v, ".3f"):>{width}}' for v in row)
            lines.append(f'  {label:<{lead}}{cells}')
    skipped = [(n, p['skipped']) for n, p in s['pairs'].items() if 'skipped' in p]
    if skipped:
        lines.append(f'skipped pairs ({len(skipped)}), no estimate:')
        lines += [f'  {n}: {why}' for n, why in skipped]
    for w in s['warnings']:
        lines.append(f'warning: {w}')
    if s.get('error'):
        lines.append(f"error: {s['error']}")
    if s['files']:
        lines.append('wrote ' + ', '.join(s['files']))
    return '\n'.join(lines)


def _fmt(x) -> str:
    return 'nan' if x is None else f'{x:.3f}'


def mean_matrix(result: AnalysisResult, spec: MatrixSpec, column: str = 'mi') -> np.ndarray:
    """Mean over all updates of each cell of a matrix."""
    vals: dict = {}
    for r in result.records:
        vals.setdefault(r.pair.name, []).append(getattr(r, column))
    return spec.assemble({k: float(np.nanmean(v)) for k, v in vals.items()
                          if np.isfinite(v).any()})


def matrix_at(result: AnalysisResult, spec: MatrixSpec, t: float) -> tuple[np.ndarray, float]:
    """Return the matrix of the update nearest ``t`` [s from the bag start] and its time."""
    names = {spec.pair_name(i, j) for i, j in spec.cells()}
    updates: dict = {}
    for r in result.records:
        if r.pair.name in names:
            updates.setdefault(r.update, {})[r.pair.name] = r
    if not updates:
        return spec.assemble({}), math.nan
    best = min(updates, key=lambda u: abs(next(iter(updates[u].values())).time - result.t0 - t))
    recs = updates[best]
    t_u = next(iter(recs.values())).time - result.t0
    return spec.assemble({k: r.mi for k, r in recs.items()}), t_u


def write_figures(result: AnalysisResult, out_dir, plot_pairs=None, matrix_times=(),
                  plot_range=None):
    """
    Write mi_timeseries.png and matrix_<name>.png; returns the written paths.

    ``plot_range`` = (t0, t1) [s from the bag start] limits the time series figure.
    """
    from infonet_ros.offline import plots
    out_dir = Path(out_dir)
    written = []
    if not result.records:
        return written
    names = list(plot_pairs or [])
    means = {n: p.get('mean') for n, p in result.pairs.items() if p.get('mean') is not None}
    if not names:
        names = sorted(means, key=lambda n: -means[n])
        if len(names) > MAX_PLOTTED_PAIRS:
            names = names[:MAX_PLOTTED_PAIRS]
    unknown = [n for n in names if n not in result.pairs]
    if unknown:
        raise AnalysisError(f'--plot-pairs: unknown pair(s) {unknown}')
    labels = _pair_labels(result)
    lo, hi = plot_range if plot_range else (-math.inf, math.inf)
    series = {}
    for n in names:
        recs = [r for r in result.records if r.pair.name == n
                and lo <= r.time - result.t0 <= hi]
        series[labels.get(n, n)] = ([r.time - result.t0 for r in recs], [r.mi for r in recs])
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
    written.append(plots.plot_timeseries(out_dir / TIMESERIES_NAME, series, signals, title))
    for spec in result.matrices:
        rows, cols = spec.labels()
        mats, titles = [], []
        duration = max(r.time for r in result.records) - result.t0
        for t in (matrix_times or [duration / 2.0]):
            m, t_u = matrix_at(result, spec, t)
            mats.append(m)
            titles.append(f'window ending {t_u:.2f} s')
        cells = {spec.pair_name(i, j) for i, j in spec.cells()}
        n_upd = len({r.update for r in result.records if r.pair.name in cells})
        mats.append(mean_matrix(result, spec))
        titles.append(f'mean over {n_upd} updates')
        if result.options.get('shuffle_control'):
            mats.append(mean_matrix(result, spec, 'mi_shuffled'))
            titles.append('time-shuffled control (mean)')
        written.append(plots.plot_matrices(
            out_dir / f'matrix_{spec.name}.png', mats, rows, cols, titles,
            suptitle=f'{spec.name}: MI [nats] of x channels (rows) and y channels (columns)'))
    return written


def _pair_labels(result) -> dict:
    out = {}
    for p in result.config.pairs:
        if p.x.dim == 1 and p.y.dim == 1:
            out[p.name] = (f'{short_label(p.x.topic, p.x.fields[0])} ~ '
                           f'{short_label(p.y.topic, p.y.fields[0])}')
        else:
            out[p.name] = p.name
    return out


# ---- command line --------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    """Command-line options of ``infonet-ros analyze``."""
    from infonet_ros.streams.node_config import PARAM_BY_NAME
    p = argparse.ArgumentParser(
        prog='infonet-ros analyze',
        description='Offline MI time series and matrices of a rosbag2 (sqlite3 or mcap), with '
                    "the MI node's pairing, windows and estimator.")
    p.add_argument('bag', help='bag directory (with metadata.yaml) or a .mcap / .db3 file')
    p.add_argument('-o', '--output', help='output directory (default: <bag name>_mi)')
    g = p.add_argument_group('pairs (flags replace the pairs of --params)')
    g.add_argument('--params', help="the node's parameter YAML (config/mi.yaml format)")
    g.add_argument('--node-name', default='mi_node', help='node key in --params')
    g.add_argument('--pair', action='append', default=[], metavar="'X ~ Y'",
                   help="a pair 'TOPIC:FIELD ~ TOPIC:FIELD' (comma list: vector side)")
    g.add_argument('--pair-name', action='append', default=[], help='name of each --pair')
    g.add_argument('--matrix', action='append', default=[], metavar='[NAME=]SPEC',
                   help="all scalar pairs of 'TOPIC:F1,F2,.. ~ TOPIC:G1,..' or among "
                        "'TOPIC:F1,F2,..' (name[a:b] expands to name[a]..name[b-1])")
    g = p.add_argument_group('node parameters (override --params; see docs/node.md)')
    for name in OVERRIDABLE:
        spec = PARAM_BY_NAME[name]
        flag = '--' + name.replace('_', '-')
        if isinstance(spec.default, bool):
            g.add_argument(flag, action=argparse.BooleanOptionalAction, default=None,
                           help=spec.description)
        else:
            kw = {'choices': spec.choices} if spec.choices and name != 'device' else {}
            g.add_argument(flag, type=type(spec.default), default=None, help=spec.description,
                           **kw)
    g.add_argument('--update-every', type=int, metavar='K',
                   help='update after every K messages of --update-topic instead of at '
                        'update_rate')
    g.add_argument('--update-topic', help='topic counted by --update-every (default: the x '
                                          'topic of the first pair)')
    g = p.add_argument_group('message definitions')
    g.add_argument('--msg', action='append', default=[], metavar='[pkg/msg/Name=]FILE',
                   help='a .msg or .idl file (type from .../<pkg>/msg/<Name>.msg)')
    g.add_argument('--msg-dir', action='append', default=[],
                   help='directory searched for <pkg>/msg/<Name>.msg (or .idl)')
    g.add_argument('--no-ament', action='store_true',
                   help='do not search AMENT_PREFIX_PATH for definitions')
    g = p.add_argument_group('analysis and output')
    g.add_argument('--ksg', action='store_true',
                   help='also estimate each scalar window with KSG (sklearn, k=3) and compare')
    g.add_argument('--shuffle-control', action='store_true',
                   help='also estimate each window with y permuted in time (expect ~0)')
    g.add_argument('--batch-rows', type=int, default=DEFAULT_BATCH_ROWS,
                   help='estimator rows per forward pass (default 0: the fastest per row in '
                        'the first passes)')
    g.add_argument('--plot-pairs', help='comma list of pairs to plot (default: up to '
                                        f'{MAX_PLOTTED_PAIRS} with the largest mean MI)')
    g.add_argument('--matrix-at', type=float, action='append', default=[],
                   help='time [s from the bag start] of a single-window matrix panel '
                        '(repeatable; default: the middle of the bag)')
    g.add_argument('--plot-range', type=float, nargs=2, metavar=('T0', 'T1'),
                   help='time range of the time series figure [s from the bag start]')
    g.add_argument('--no-plots', action='store_true', help='write no figures')
    g.add_argument('--keep-partial', action='store_true',
                   help='when the bag breaks mid-way, keep the estimates so far in '
                        f'{PARTIAL_CSV_NAME}')
    g.add_argument('--no-progress', action='store_true', help='no progress bar')
    g.add_argument('--info', action='store_true', help='list the topics of the bag and exit')
    return p


def _info(bag, args) -> int:
    with BagSource(bag, args.msg, args.msg_dir, not args.no_ament) as b:
        t0, t1 = b.time_range_ns()
        print(f'{bag} ({b.storage}): {(t1 - t0) * 1e-9:.3f} s')
        for t, (ty, n) in sorted(b.topics().items()):
            stored = 'stored definition' if b.has_stored_definition(t) else 'no stored definition'
            print(f'  {t:<32} {ty:<36} {n:>8} msgs  {stored}')
    return 0


def main(argv=None) -> int:
    """Entry point of ``infonet-ros analyze``; returns the exit code."""
    args = build_parser().parse_args(argv)
    prog = 'infonet-ros analyze'
    try:
        if args.info:
            return _info(args.bag, args)
        overrides = {n: getattr(args, n) for n in OVERRIDABLE}
        if args.update_every is not None and args.update_every < 1:
            raise AnalysisError('--update-every must be at least 1')
        with BagSource(args.bag, args.msg, args.msg_dir, not args.no_ament) as b:
            bag_topics = b.topics()
        params, specs = build_params(bag_topics, args.params, args.node_name, args.pair,
                                     args.pair_name, args.matrix, overrides)
        cfg = make_config(params)
        policy = (UpdatePolicy('every', every=args.update_every, topic=args.update_topic or '')
                  if args.update_every else UpdatePolicy('rate', period=cfg.update_period))
        result = run_analysis(args.bag, cfg, matrices=specs, policy=policy,
                              msg_files=args.msg, msg_dirs=args.msg_dir,
                              use_ament=not args.no_ament, ksg=args.ksg,
                              shuffle_control=args.shuffle_control,
                              batch_rows=args.batch_rows,
                              progress=not args.no_progress and sys.stderr.isatty())
    except (AnalysisError, BagError) as exc:
        print(f'{prog}: error: {exc}', file=sys.stderr)
        return 1
    except OSError as exc:
        print(f'{prog}: error: {exc}', file=sys.stderr)
        return 1
    out_dir = Path(args.output or f'{Path(args.bag).name.rsplit(".", 1)[0]}_mi')
    out_dir.mkdir(parents=True, exist_ok=True)
    files = []
    for stale in (CSV_NAME, PARTIAL_CSV_NAME):
        # A previous run's table must not pass for this run's.
        (out_dir / stale).unlink(missing_ok=True)
    if result.complete:
        files.append(write_csv(result, out_dir / CSV_NAME))
    elif args.keep_partial:
        files.append(write_csv(result, out_dir / PARTIAL_CSV_NAME))
    if not args.no_plots and result.complete:
        try:
            files += write_figures(result, out_dir, args.plot_pairs.split(',')
                                   if args.plot_pairs else None, args.matrix_at,
                                   args.plot_range)
        except AnalysisError as exc:
            print(f'{prog}: error: {exc}', file=sys.stderr)
            return 1
    summary = summary_dict(result, files + [out_dir / SUMMARY_NAME])
    tmp = out_dir / f'.{SUMMARY_NAME}.tmp'
    tmp.write_text(json.dumps(summary, indent=2) + '\n')
    os.replace(tmp, out_dir / SUMMARY_NAME)
    print(format_summary(summary))
    if not result.complete:
        print(f'{prog}: error: the bag broke after {len(result.records)} estimates: '
              f'{result.error}' + ('' if args.keep_partial else
                                   f' (no {CSV_NAME} written; --keep-partial keeps them)'),
              file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
