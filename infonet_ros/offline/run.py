# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The analysis of a bag: the MI of each pair over rolling windows, updated through the bag.

One implementation with the node: the bag's messages (:mod:`~infonet_ros.offline.bag_stream`)
go, in recorded order, through the node's :class:`~infonet_ros.streams.window_engine.WindowEngine`
(validation, stamps, pairing, rolling windows) with the node's parameters
(:class:`~infonet_ros.streams.node_config.NodeConfig`, from the node's YAML or flags:
:mod:`~infonet_ros.offline.params`), and the windows through the node's
:func:`~infonet_ros.streams.batch_estimate.estimate_windows`. A window holds the same samples
as in the node, so the estimate is the same number (``test/ros/test_replay_dds.py``); offline,
the windows of many updates share one forward pass (:mod:`~infonet_ros.offline.window_batches`).

Updates (:class:`UpdatePolicy`):

- ``rate``: every ``period`` seconds of recorded (receive) time, as the node's timer would
  fire on replay (the node's ``update_rate``);
- ``every``: once K new messages of one topic (default: the x topic of the first pair) were
  accepted, just before that topic's next message is fed, so that messages of the other topics
  with the same stamps are in; plus a final update at the end of the bag.

A pair's window is estimated at an update when it is full and newer than its last one.

Documented skips (counted in the result, never silent): a pair whose window never fills (too
few paired samples: short bag, slow topic, no matches within ``slop``) gets no records;
messages with a missing array index, NaN/inf, a repeated or slightly older stamp or an unset
(zero) stamp are dropped by the engine and counted per topic; a message that cannot be decoded
is skipped and counted per topic (``AnalysisResult.undecodable``), as the node skips it. Errors
(:class:`~infonet_ros.offline.params.AnalysisError`,
:class:`~infonet_ros.offline.bag_reader.BagError`): missing or corrupt bag; a topic not in the
bag or of another type than configured; a type with no definition; a topic none of whose first
messages decodes; a field absent from the first message of its topic; weights or a device that
cannot be loaded. Storage that breaks mid-way (corrupt or truncated: reading cannot go on) after
estimates were made ends the analysis with what it has (``complete`` False).
"""

from __future__ import annotations

from dataclasses import dataclass, field
import time

from infonet_ros.offline.bag_reader import BagError, BagSource
from infonet_ros.offline.bag_stream import (bag_items, fast_read_notes, message_stream,
                                            UndecodableMessages)
from infonet_ros.offline.params import AnalysisError, bag_topic_entries, make_config
from infonet_ros.offline.report import pair_stats
from infonet_ros.offline.window_batches import AUTO_BATCH_ROWS, WindowBatcher
from infonet_ros.streams.feed import feed, item_stamp, replay
from infonet_ros.streams.node_config import null_table_error
from infonet_ros.streams.pairs import topic_fields
from infonet_ros.streams.topic_input import OK, TIME_JUMP
from infonet_ros.streams.window_engine import WindowEngine


@dataclass
class UpdatePolicy:
    """When updates happen: ``kind`` 'rate' (every ``period`` [s]) or 'every' K messages."""

    kind: str
    period: float = 0.0  # 'rate': seconds of receive time between updates
    every: int = 0  # 'every': accepted messages of ``topic`` between updates
    topic: str = ''  # 'every': the counted topic ('' : the x topic of the first pair)

    def describe(self) -> str:
        """Human-readable form for the summary."""
        if self.kind == 'rate':
            return f'every {self.period:g} s of recorded time ({1.0 / self.period:g} Hz)'
        return f'every {self.every} messages of {self.topic}'


@dataclass
class AnalysisResult:
    """Everything an analysis produced; ``complete`` is False when the bag broke mid-way."""

    bag: str
    storage: str
    config: object  # NodeConfig
    policy: UpdatePolicy
    records: list = field(default_factory=list)  # Record per pair and update, in order
    updates: int = 0
    topics: dict = field(default_factory=dict)  # topic -> info dict
    pairs: dict = field(default_factory=dict)  # pair name -> info dict (report.pair_stats)
    signals: dict = field(default_factory=dict)  # (topic, field) -> (stamps list, values list)
    matrices: list = field(default_factory=list)  # MatrixSpec
    warnings: list = field(default_factory=list)
    timings: dict = field(default_factory=dict)
    options: dict = field(default_factory=dict)
    complete: bool = True  # False: the storage broke before its end (``error`` says how)
    error: str | None = None
    undecodable: dict = field(default_factory=dict)  # topic -> messages skipped, undecodable
    t0: float = 0.0  # first receive time of the bag [s]


def load_estimator(cfg, weights=None, device=None):
    """
    Load the InfoNet estimator of a configuration (``weights`` / ``device`` override it).

    :raises AnalysisError: missing or corrupt weights, or a device this machine lacks.
    """
    from infonet_ros.core.estimator import InfoNetEstimator  # torch: loaded only to estimate
    from infonet_ros.core.model import WeightsError
    try:
        return InfoNetEstimator.from_pretrained(weights or cfg.weights or None,
                                                device or cfg.device, jit=cfg.jit,
                                                backend=cfg.backend, precision=cfg.precision)
    except (WeightsError, ValueError, ImportError) as exc:
        raise AnalysisError(str(exc)) from None


def run_analysis(bag_path, cfg=None, *, params=None, matrices=(), policy=None, estimator=None,
                 msg_files=(), msg_dirs=(), use_ament=True, ksg=False,
                 shuffle_control=False, batch_rows=AUTO_BATCH_ROWS, progress=False,
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
    :param batch_rows: estimator rows per forward pass; ``AUTO_BATCH_ROWS`` (0): the size that
        is fastest per row in the first passes. Estimates do not depend on it.
    :param progress: show a progress bar on stderr.
    :param keep_signals: keep the raw values of the fields (for figures).

    AnalysisError, BagError: the analysis cannot start (nothing was estimated). A bag that
    breaks after estimates were made gives a result with ``complete`` False and
    ``error`` set instead.
    """
    if isinstance(batch_rows, bool) or not isinstance(batch_rows, int) or batch_rows < 0:
        raise AnalysisError(f'batch rows must be an integer >= 0 (0: chosen by timing), got '
                            f'{batch_rows!r}')
    t_start = time.perf_counter()
    with BagSource(bag_path, msg_files, msg_dirs, use_ament) as bag:
        bag_topics = bag.topics()
        if cfg is None:
            cfg = _config_of(params, bag_topics)
        policy = policy or UpdatePolicy('rate', period=cfg.update_period)
        # The node's sync_mode drives the engine as it is; offline, 'approximate' is the
        # engine's own approximate-time pairing (the node's is message_filters; see
        # infonet_ros.streams.sync for how the two differ).
        engine = WindowEngine(**cfg.engine_kwargs())
        topics = list(engine.topics)
        _check_inputs(bag_path, bag_topics, topics, policy, cfg)
        bag.build_typestore(topics)
        result = AnalysisResult(str(bag_path), bag.storage, cfg, policy,
                                matrices=list(matrices), t0=bag.time_range_ns()[0] / 1e9,
                                warnings=list(bag.warnings))
        estimator = estimator if estimator is not None else load_estimator(cfg)
        no_table = null_table_error(cfg, estimator)
        if no_table:
            raise AnalysisError(no_table)
        batcher = WindowBatcher(estimator, cfg, batch_rows, ksg, shuffle_control)
        signals = {} if keep_signals else None
        intakes = {}
        undecodable = UndecodableMessages()
        stream = message_stream(bag, topics, topic_fields(cfg.pairs), cfg.use_receive_time,
                                signals, progress, intakes, undecodable)
        _estimate_updates(result, batcher, _updates(engine, stream, policy, cfg))
        result.warnings.extend(fast_read_notes(intakes))
        result.warnings.extend(undecodable.warnings())
        result.undecodable = dict(undecodable.counts)
        result.signals = signals or {}
        _fill_stats(result, bag, bag_topics, engine, intakes)
    result.timings = batcher.timings(time.perf_counter() - t_start)
    result.options = batcher.options()
    return result


def _config_of(params, bag_topics):
    # NodeConfig of a parameter dict; topics left out are those of the bag.
    p = dict(params or {})
    if not p.get('topics'):
        p['topics'] = bag_topic_entries(bag_topics, {})
    return make_config(p)


def _check_inputs(bag_path, bag_topics, topics, policy, cfg) -> None:
    # Every input topic is in the bag; the topic counted by 'every' updates is an input.
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


def _updates(engine, stream, policy, cfg):
    # (update time, ready windows) of the policy.
    if policy.kind == 'rate':
        return replay(engine, stream, policy.period, use_receive_time=cfg.use_receive_time)
    return every_updates(engine, stream, policy.every, policy.topic, cfg.use_receive_time)


def _estimate_updates(result, batcher, updates) -> None:
    # Estimate the windows of every update; a bag that breaks after estimates were made
    # ends the analysis with what it has (result.complete False).
    n_updates = 0
    try:
        for t, windows in updates:
            n_updates += 1
            if windows:
                batcher.add(n_updates, t, windows)
    except BagError as exc:
        if not batcher.records and not batcher.pending:
            raise
        result.complete = False
        result.error = str(exc)
    batcher.flush()
    result.records = batcher.records
    result.updates = n_updates


def every_updates(engine, messages, every: int, ref_topic: str, use_receive_time: bool):
    """
    Feed ``(topic, arrival [s], msg or Values)`` in order; yield ``(update time, windows)``.

    An update happens once ``every`` new messages of ``ref_topic`` were accepted, just before
    its next message is fed, so that messages of other topics with the same stamps are in;
    after the last message a final update is made.
    """
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


def _fill_stats(result, bag, bag_topics, engine, intakes) -> None:
    # Per topic: messages received, accepted, dropped by reason, skipped as undecodable (never
    # reached the engine), how fields were read; per pair: report.pair_stats; and a warning
    # when the bag's time jumped back.
    for t, s in engine.topic_stats().items():
        intake = intakes.get(t)
        result.topics[t] = {
            'type': bag_topics[t][0], 'messages_in_bag': bag_topics[t][1],
            'definition': bag.type_sources.get(bag_topics[t][0], ''),
            'received': s.received, 'accepted': s.accepted,
            'dropped': {k: v for k, v in s.dropped.items() if v}, 'time_jumps': s.time_jumps,
            'undecodable': result.undecodable.get(t, 0)}
        if intake is not None:  # see bag_stream.bag_items
            result.topics[t]['read_without_decoding'] = (0 if isinstance(intake, str)
                                                         else intake.fast)
    result.pairs = pair_stats(result.records, result.config.pairs, engine.fill(),
                              result.config.window)
    if engine.resets:
        result.warnings.append(f'time jumped back {engine.resets} time(s): buffers were '
                               'cleared (bag loop or reset in the recording)')


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
    engine = WindowEngine(**cfg.engine_kwargs())
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
