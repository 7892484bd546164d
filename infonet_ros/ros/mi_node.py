# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
``mi_node``: live mutual information between fields of ROS 2 topics.

A thin shell around the ROS-free toolbox: :mod:`infonet_ros.streams.node_config` (parameters),
:mod:`infonet_ros.streams.windowing` (validation, pairing, windows),
:mod:`infonet_ros.streams.batch_estimate` (one forward pass per update). Subscriptions and timers
run in the executor thread; the forward pass runs in a worker thread so that input keeps flowing
while the network computes (an update that finds the previous pass still running is skipped and
counted).

Topics: subscribes to the configured inputs; publishes ``infonet/mi``
(MutualInformationArray, reliable, keep last 10), optionally ``infonet/mi/<pair>``
(MutualInformation), and ``/diagnostics``. See docs/node.md.
"""

from __future__ import annotations

import dataclasses
import os
import queue
import sys
import threading
import time

from rcl_interfaces.msg import (FloatingPointRange, IntegerRange, ParameterDescriptor,
                                SetParametersResult)
import rclpy
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.serialization import deserialize_message

from infonet_ros.ros.conversions import (estimates_to_array, float_to_time, import_message_type,
                                         input_qos, MessageTypeError, OUTPUT_QOS, time_to_float)
from infonet_ros.ros.diagnostics import DiagnosticsBuilder, LatencyStats
from infonet_ros.ros.thread_priority import describe_policy, use_fifo
from infonet_ros.streams.batch_estimate import estimate_windows
from infonet_ros.streams.cdr_reader import CdrUnsupported
from infonet_ros.streams.fields import check_field_path, FieldError, header_stamp
from infonet_ros.streams.node_config import (ConfigError, effective_executor, effective_sync_mode,
                                             NodeConfig, PARAM_BY_NAME, PARAMS)
from infonet_ros.streams.pairs import normalize_msg_type
from infonet_ros.streams.raw_intake import RawIntake
from infonet_ros.streams.windowing import DROP_REASONS, OK, TIME_JUMP, WindowEngine

NODE_NAME = 'mi_node'
OUTPUT_TOPIC = 'infonet/mi'
# Longest wait of one executor.spin_once in main() [s]: bounds the reaction to a shutdown.
SPIN_TIMEOUT = 0.5
# Parameters applied while running; every other one is read-only (needs a restart).
_DYNAMIC = {p.name for p in PARAMS if not p.read_only}


def _descriptor(spec) -> ParameterDescriptor:
    d = ParameterDescriptor(description=spec.description, read_only=spec.read_only)
    if spec.choices is not None:
        d.additional_constraints = 'one of: ' + ', '.join(repr(c) for c in spec.choices)
    if spec.bounds is not None:
        lo, hi = spec.bounds
        if isinstance(spec.default, float):
            d.floating_point_range = [FloatingPointRange(from_value=float(lo),
                                                         to_value=float(hi), step=0.0)]
        else:
            d.integer_range = [IntegerRange(from_value=int(lo), to_value=int(hi), step=0)]
    return d


def forward_threads(requested: int, cpus: int | None = None) -> int:
    """
    Torch CPU threads of the forward pass: ``requested``, or for 0 all cores but one.

    The executor thread takes every input message in Python; a forward pass that takes every
    core starves it and best-effort input is lost (benchmarks/node_latency.py, 2 cores, 4 IMUs:
    the first, eager node lost 23-48 % at 1 kHz with 2 torch threads and none with 1; with
    traced passes and row workers, 2 threads held 2 kHz but lost 25 messages at 4 kHz, 1
    thread none). Input first: complete windows matter more than extra updates.
    """
    if requested:
        return int(requested)
    cpus = cpus if cpus is not None else (os.cpu_count() or 1)
    return max(1, cpus - 1)


def make_executor(requested: str, context=None):
    """
    Build the executor of the ``executor`` parameter; return (executor, its kind).

    rclpy's EventsExecutor (rclpy.experimental: Kilted, Jazzy from rclpy 7.1.4) dispatches
    each message without rebuilding a wait set, which leaves the forward pass more of the CPU
    and the GIL (benchmarks/node_latency.py: 8 instead of 2.7 updates per second,
    docs/node.md).
    """
    try:
        from rclpy.experimental import EventsExecutor
    except ImportError:
        EventsExecutor = None  # noqa: N806 (a class)
    kind = effective_executor(requested, EventsExecutor is not None)
    if kind == 'events':
        return EventsExecutor(context=context), kind
    from rclpy.executors import SingleThreadedExecutor
    return SingleThreadedExecutor(context=context), kind


def _jit_state(estimator) -> str:
    """'on', 'off', or 'failed: <reason>' (the eager model runs instead)."""
    if not estimator.jit:
        return 'off'
    return f'failed: {estimator.jit_failure}' if estimator.jit_failure else 'on'


def _default_pair_names(topics, pairs) -> list:
    """Names built from the pairs, or [] when they do not parse (the config check says why)."""
    from infonet_ros.streams.pairs import PairSpecError, parse_pairs
    try:
        return [p.name for p in parse_pairs(topics, pairs)]
    except (PairSpecError, TypeError, ValueError):
        return []


def _have_message_filters() -> bool:
    try:
        import message_filters  # noqa: F401
    except ImportError:
        return False
    return True


class _Stamped:
    """
    What the approximate-time synchronizer queues: our stamp and the accepted row.

    message_filters reads ``header.stamp`` (a real builtin_interfaces/Time); handing it our
    stamps makes it synchronize on exactly the times the engine uses.
    """

    __slots__ = ('header', 'stamp', 'row')

    class _Header:
        __slots__ = ('stamp',)

    def __init__(self, stamp: float, row):
        self.header = self._Header()
        self.header.stamp = float_to_time(stamp)
        self.stamp = stamp
        self.row = row


class _SyncInput:
    """A message_filters-style source (registerCallback / signalMessage) of accepted rows."""

    def __init__(self):
        self.callbacks = []

    def registerCallback(self, cb, *args):  # noqa: N802 (message_filters' API)
        self.callbacks.append((cb, args))
        return len(self.callbacks) - 1

    def signalMessage(self, *msg):  # noqa: N802
        for cb, args in self.callbacks:
            cb(*(msg + args))


class MiNode(Node):
    """Estimates MI of the configured pairs and publishes it (see the module doc)."""

    def __init__(self, **kwargs):
        super().__init__(NODE_NAME, **kwargs)
        self.cfg = NodeConfig.from_params(self._declare_parameters())
        # Cheap checks first: a typo in the configuration fails before the model loads.
        self._msg_types, self._type_names = {}, {}
        for entry in self.cfg.topics:
            topic, _, name = entry.partition('=')
            self._msg_types[topic.strip()] = import_message_type(name.strip())
            self._type_names[topic.strip()] = normalize_msg_type(name.strip())
        for pair in self.cfg.pairs:
            for side in (pair.x, pair.y):
                for f in side.fields:
                    try:
                        check_field_path(self._msg_types[side.topic](), f)
                    except FieldError as exc:
                        raise ConfigError(f'pair {pair.name}, topic {side.topic}: {exc}') \
                            from None
        self._load_estimator(self.cfg.device)
        import torch
        torch.set_num_threads(forward_threads(self.cfg.torch_threads))
        # The first pass (and with jit, the trace for this window length) now, not in the
        # first update.
        self.estimator.warm_up(self.cfg.window)

        mode, warning = effective_sync_mode(self.cfg.sync_mode, _have_message_filters())
        if warning and any(not p.same_topic for p in self.cfg.pairs):
            self.get_logger().warning(warning)
        self.sync_mode = mode
        self.engine = WindowEngine(**self.cfg.engine_kwargs(mode))
        # The executor thread adds input to the engine, the forward thread reads windows.
        self._engine_lock = threading.Lock()

        from infonet_ros.msg import MutualInformation, MutualInformationArray
        from diagnostic_msgs.msg import DiagnosticArray
        self._pub = self.create_publisher(MutualInformationArray, OUTPUT_TOPIC, OUTPUT_QOS)
        self._pair_pubs = {}
        if self.cfg.per_pair_topics:
            for p in self.cfg.pairs:
                self._pair_pubs[p.name] = self.create_publisher(
                    MutualInformation, f'{OUTPUT_TOPIC}/{p.name}', OUTPUT_QOS)
        self._diag_pub = self.create_publisher(DiagnosticArray, '/diagnostics', 10)
        self._diag = DiagnosticsBuilder(self.get_name())
        self._latency = LatencyStats()
        self._last = {}
        self._updates = 0
        self._skipped = 0
        self._warned = {}

        self._sync_inputs = {}
        if mode == 'external':
            self._setup_message_filters()
        qos = input_qos(self.cfg.qos_profile, self.cfg.qos_reliability, self.cfg.qos_depth)
        self._raw, self._raw_off = {}, set()
        self._subs = [self._subscribe(t, qos) for t in self.engine.topics]

        self.executor_kind = ''  # set by main() (or whoever spins the node)
        self.forward_scheduling = 'normal'  # set by the forward thread as it starts
        self._fifo_forward = False  # the forward thread runs SCHED_FIFO (set as it starts)
        self._busy = threading.Event()
        self._jobs = queue.Queue()
        self._worker = threading.Thread(target=self._work, name='infonet_forward',
                                        daemon=True)
        self._worker.start()
        self._timer = self.create_timer(self.cfg.update_period, self._on_update)
        self._diag_timer = self.create_timer(self.cfg.diagnostics_period,
                                             self._on_diagnostics)
        self.add_on_set_parameters_callback(self._on_set_parameters)
        pairs = ', '.join(p.name for p in self.cfg.pairs)
        self.get_logger().info(
            f'watching {len(self.cfg.pairs)} pair(s) [{pairs}] on {len(self.engine.topics)} '
            f'topic(s); window {self.cfg.window}, {self.cfg.update_rate:g} Hz, sync '
            f'{mode}, device {self.estimator.device}, weights {self._weights_path}')

    # ---- setup ---------------------------------------------------------------------------

    def _declare_parameters(self) -> dict:
        values = {}
        for spec in PARAMS:
            desc = _descriptor(spec)
            default = spec.default
            if spec.name == 'pair_names':
                # The names the node will use (built from the pairs unless the parameter file
                # gives them), so `ros2 param get/dump` shows them. An unset parameter also
                # made `ros2 param dump` of older Humble releases fail.
                default = _default_pair_names(values['topics'], values['pairs'])
            if isinstance(default, list) and not default:
                # An empty list has no ROS type: declare it typed and unset.
                self.declare_parameter(spec.name, Parameter.Type.STRING_ARRAY, desc)
            else:
                self.declare_parameter(spec.name, default, desc)
            try:
                values[spec.name] = self.get_parameter(spec.name).value
            except rclpy.exceptions.ParameterUninitializedException:
                values[spec.name] = spec.default
        return values

    def _load_estimator(self, device: str):
        from infonet_ros.core.estimator import InfoNetEstimator, resolve_device
        from infonet_ros.core.model import resolve_weights
        try:
            dev = resolve_device(device)
        except ValueError as exc:
            raise ConfigError(f'device: {exc}') from None
        self._weights_path = resolve_weights(self.cfg.weights)
        self.estimator = InfoNetEstimator.from_pretrained(self._weights_path, dev,
                                                          jit=self.cfg.jit)

    def _setup_message_filters(self):
        import message_filters
        self._sync_inputs = {}
        for key in self.engine.link_topics:
            for t in key:
                self._sync_inputs.setdefault(t, _SyncInput())
            sync = message_filters.ApproximateTimeSynchronizer(
                [self._sync_inputs[key[0]], self._sync_inputs[key[1]]],
                self.cfg.queue_size, self.cfg.slop)
            sync.registerCallback(self._on_synced, key)

    def _subscribe(self, topic, qos):
        msg_type = self._msg_types[topic]
        if self.cfg.raw_intake:
            try:
                intake = RawIntake(self._type_names[topic], self.engine.topics[topic].fields,
                                   lambda data: deserialize_message(data, msg_type))
            except CdrUnsupported as exc:
                self.get_logger().info(f'{topic}: decoding every message ({exc})')
            else:
                self._raw[topic] = intake
                return self.create_subscription(
                    msg_type, topic, lambda data: self._on_serialized(topic, data), qos,
                    raw=True)
        return self.create_subscription(msg_type, topic,
                                        lambda msg: self._on_message(topic, msg), qos)

    # ---- input ---------------------------------------------------------------------------

    def _on_serialized(self, topic, data):
        intake = self._raw[topic]
        got = intake.values(data)
        if got is None:  # not for the fast path: decode, validate as any message
            if intake.disabled and topic not in self._raw_off:
                self._raw_off.add(topic)
                self.get_logger().warning(f'{topic}: fast field reading off, decoding every '
                                          f'message instead: {intake.disabled}')
            try:
                msg = deserialize_message(data, self._msg_types[topic])
            except Exception as exc:  # noqa: B902 (whatever the type support raises)
                self._warn(f'decode:{topic}', f'cannot decode a message on {topic}: {exc}')
                return
            self._on_message(topic, msg)
            return
        stamp, row = got
        if self.cfg.use_receive_time or stamp is None:
            stamp = self.get_clock().now().nanoseconds * 1e-9
        with self._engine_lock:
            added = self.engine.add_values(topic, stamp, row)
        self._after_add(topic, stamp, *added)

    def _on_message(self, topic, msg):
        stamp = None if self.cfg.use_receive_time else header_stamp(msg)
        if stamp is None:
            stamp = self.get_clock().now().nanoseconds * 1e-9
        with self._engine_lock:
            added = self.engine.add_message(topic, stamp, msg)
        self._after_add(topic, stamp, *added)

    def _after_add(self, topic, stamp, status, row):
        if status in (OK, TIME_JUMP):
            if status == TIME_JUMP:
                self._warn(f'jump:{topic}', f'time jumped back on {topic} (stamp {stamp:.3f}); '
                           'cleared all buffers')
                if self._sync_inputs:
                    # message_filters keeps queues of its own and evicts the oldest stamp when
                    # one is full: after a jump back every new message would be the oldest
                    # and never pair. Start the synchronizers afresh, like the buffers.
                    self._setup_message_filters()
            source = self._sync_inputs.get(topic)
            if source is not None:
                try:
                    source.signalMessage(_Stamped(stamp, row))
                except Exception as exc:  # noqa: B902 (the node must not die of one message)
                    # e.g. a negative stamp: message_filters converts every stamp to an
                    # rclpy Time, which refuses it.
                    self._warn(f'sync:{topic}', f'cannot pair a message on {topic} (stamp '
                               f'{stamp:.9f}) in approximate mode: {type(exc).__name__}: '
                               f'{exc}')
            return
        st = self.engine.topics[topic].stats
        counts = ', '.join(f'{k} {st.dropped[k]}' for k in DROP_REASONS if st.dropped[k])
        self._warn(f'drop:{topic}', f'dropped a message on {topic} ({status}); dropped so '
                   f'far: {counts}')

    def _on_synced(self, a, b, key):
        with self._engine_lock:
            self.engine.add_synced(key, a.stamp, a.row, b.stamp, b.row)

    def _warn(self, key, text):
        now = time.monotonic()
        if now - self._warned.get(key, -1e18) >= self.cfg.warn_period:
            self._warned[key] = now
            self.get_logger().warning(text)

    # ---- updates -------------------------------------------------------------------------

    def _on_update(self):
        if self._busy.is_set():
            self._skipped += 1
            return
        if self._fifo_forward:
            # A real-time forward thread builds the windows itself: the whole update then
            # runs ahead of every normal thread (p99 target met; docs/node.md, Threads and
            # timing). Under normal scheduling it could be preempted while holding the
            # engine, stalling the input: this thread builds them, as it takes the input.
            self._busy.set()
            self._jobs.put((None, self.estimator, self.cfg))
            return
        windows = self._ready_windows()
        if windows:
            self._busy.set()
            self._jobs.put((windows, self.estimator, self.cfg))

    def _ready_windows(self):
        with self._engine_lock:  # input callbacks wait the ~1-2 ms this takes
            return self.engine.ready_windows()

    def _work(self):
        if self.cfg.forward_priority:
            refused = use_fifo(self.cfg.forward_priority)
            if refused:
                self.get_logger().warning(
                    f'forward_priority {self.cfg.forward_priority}: SCHED_FIFO refused '
                    f'({refused}); the forward pass keeps the normal scheduling')
                self.forward_scheduling = f'normal (SCHED_FIFO refused: {refused})'
            else:
                self.forward_scheduling = describe_policy()
                self._fifo_forward = True
        while True:
            job = self._jobs.get()
            if job is None:
                return
            windows, estimator, cfg = job
            try:
                if windows is None:
                    windows = self._ready_windows()
                if not windows:
                    continue
                estimates, latency = estimate_windows(
                    estimator, windows, cfg.n_slices, cfg.slice_seed, cfg.p_value,
                    cfg.n_permutations)
                arr = estimates_to_array(estimates, latency)
                now = self.get_clock().now().nanoseconds * 1e-9
                arr.publish_latency = now - time_to_float(arr.header.stamp)
                self._pub.publish(arr)
                for est, msg in zip(estimates, arr.estimates):
                    pub = self._pair_pubs.get(est.pair.name)
                    if pub is not None:
                        pub.publish(msg)
                self._latency.add(latency)
                self._updates += 1
                self._last.update({e.pair.name: e for e in estimates})
            except Exception as exc:  # the node must not die of one bad update
                if self.context.ok():  # else: shutting down while a pass was running
                    self._warn('update', f'update failed: {type(exc).__name__}: {exc}')
            finally:
                self._busy.clear()

    def _on_diagnostics(self):
        prov = self.estimator.provenance
        info = {'device': str(self.estimator.device), 'weights': self._weights_path,
                'model_steps': prov.get('steps', 'unknown'),
                'model_commit': prov.get('commit', 'unknown'),
                'sync_mode': self.sync_mode, 'executor': self.executor_kind,
                'jit': _jit_state(self.estimator), 'intake': self._intake_state(),
                # Threads sharing each pass's rows: the forward thread has the torch threads
                # set in __init__, as this (executor) thread has.
                'row_workers': self.estimator.worker_count(),
                'forward_scheduling': self.forward_scheduling,
                'window': self.cfg.window,
                'update_rate_hz': self.cfg.update_rate, 'updates_published': self._updates,
                'updates_skipped_busy': self._skipped, 'time_jumps': self.engine.resets}
        with self._engine_lock:
            status = self._diag.build(self.get_clock().now().to_msg(), self.engine, info,
                                      self._latency, dict(self._last))
        self._diag_pub.publish(status)

    def _intake_state(self) -> str:
        """Per topic: fields read from the bytes or decoded messages, and how many."""
        parts = []
        for topic in self.engine.topics:
            intake = self._raw.get(topic)
            if intake is None:
                parts.append(f'{topic}: decoded')
            elif intake.disabled:
                parts.append(f'{topic}: decoded (fast reading off: {intake.disabled})')
            else:
                parts.append(f'{topic}: raw {intake.fast}, decoded {intake.decoded}')
        return '; '.join(parts)

    # ---- parameters ----------------------------------------------------------------------

    def _on_set_parameters(self, params) -> SetParametersResult:
        changes = {}
        for p in params:
            spec = PARAM_BY_NAME.get(p.name)
            if spec is None:
                continue  # use_sim_time and other parameters of rclpy
            if spec.read_only:
                return SetParametersResult(successful=False,
                                           reason=f'{p.name} is read-only: restart the node')
            reason = spec.check(p.value)
            if reason:
                return SetParametersResult(successful=False, reason=reason)
            changes[p.name] = float(p.value) if isinstance(spec.default, float) else p.value
        if 'device' in changes:
            from infonet_ros.core.estimator import InfoNetEstimator, resolve_device
            try:
                dev = resolve_device(changes['device'])
            except ValueError as exc:
                return SetParametersResult(successful=False, reason=f'device: {exc}')
            est = self.estimator
            # Copy the model: the worker may be running the old one right now.
            import copy
            self.estimator = InfoNetEstimator(copy.deepcopy(est.model), dev, est.provenance,
                                              est.split_seed, est.marginal, est.jit,
                                              ties=est.ties, workers=est.workers)
        if 'window' in changes:
            with self._engine_lock:
                self.engine.set_window(changes['window'])
        self.cfg = dataclasses.replace(self.cfg, **changes)
        if 'update_rate' in changes:
            self.destroy_timer(self._timer)
            self._timer = self.create_timer(self.cfg.update_period, self._on_update)
        return SetParametersResult(successful=True)

    def destroy_node(self):
        """Stop the timers and the forward-pass worker, then destroy the node."""
        self._timer.cancel()
        self._diag_timer.cancel()
        self._jobs.put(None)
        # A pass in progress finishes first: a thread left inside torch while the
        # interpreter exits aborts the process.
        self._worker.join(timeout=60.0)
        return super().destroy_node()


def main(args=None):
    """Run the node; a configuration error exits with status 1 and a message naming it."""
    from infonet_ros.core.model import WeightsError
    rclpy.init(args=args)
    node = None
    executor = None
    error = None
    try:
        node = MiNode()
        executor, node.executor_kind = make_executor(node.cfg.executor)
        node.get_logger().info(f'executor: {node.executor_kind}')
        executor.add_node(node)
        # Our own loop instead of executor.spin(): the EventsExecutor of rclpy 9.1 (Kilted)
        # busy-waits in spin() (~65 % of a core with no input) and ignores Ctrl-C there;
        # spin_once with a timeout sleeps until work arrives and sees the shutdown.
        while rclpy.ok():
            try:
                executor.spin_once(timeout_sec=SPIN_TIMEOUT)
            except RuntimeError:
                # Humble's wait set raises once a signal has shut the context down in the
                # middle of spin_once; that is a shutdown, anything else is a real error.
                if rclpy.ok():
                    raise
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    except (ConfigError, MessageTypeError, WeightsError) as exc:
        error = str(exc)
    except rclpy.exceptions.ParameterException as exc:
        error = f'invalid parameter: {exc}'
        if 'INTEGER' in str(exc) and 'DOUBLE' in str(exc):
            error += ' (a float parameter needs a decimal point in YAML: 5.0, not 5)'
    finally:
        if executor is not None:
            executor.shutdown()
        if node is not None:
            node.destroy_node()
        rclpy.try_shutdown()
    if error is not None:
        print(f'[{NODE_NAME}] FATAL: {error}', file=sys.stderr, flush=True)
        sys.exit(1)


if __name__ == '__main__':
    main()
