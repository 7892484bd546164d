# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
``mi_node``: live mutual information between fields of ROS 2 topics.

A thin shell around the ROS-free stream pipeline: :mod:`infonet_ros.streams.node_config`
(parameters), :mod:`infonet_ros.streams.raw_intake` (fields read from the serialized message),
:mod:`infonet_ros.streams.feed` (the stamp rule), :mod:`infonet_ros.streams.window_engine`
(validation, pairing, windows), :mod:`infonet_ros.streams.batch_estimate` (one forward pass per
update). Subscriptions and timers run in the executor thread; the forward pass runs in a worker
thread (``forward_worker``) so that input keeps flowing while the network computes (an update
that finds the previous pass still running is skipped and counted). Around the node class, in
``ros/``:
parameter declaration (``node_parameters``), message_filters pairing
(``message_filters_sync``), executor and threads (``executor_threads``), ``diagnostics``
(with ``input_health`` and ``graph_checks``), ``conversions``, and how the process ends
(``process_exit``: the FATAL line first, a teardown under a watchdog).

Topics: subscribes to the configured inputs; publishes ``infonet/mi``
(MutualInformationArray, reliable, keep last 10), optionally ``infonet/mi/<pair>``
(MutualInformation), and ``/diagnostics``. See docs/node.md.
"""

from __future__ import annotations

import dataclasses
import faulthandler
import socket
import sys
import threading
import time
import traceback

from rcl_interfaces.msg import SetParametersResult
import rclpy
from rclpy.clock import Clock, ClockType
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from rclpy.serialization import deserialize_message

from infonet_ros.ros.conversions import (estimates_to_array, import_message_type, input_qos,
                                         MessageTypeError, output_qos, time_to_float)
from infonet_ros.ros.diagnostics import DiagnosticsBuilder, HealthInput, intake_state, jit_state
from infonet_ros.ros.executor_threads import forward_threads, make_executor, spin_until_shutdown
from infonet_ros.ros.forward_worker import ForwardWorker
from infonet_ros.ros.graph_checks import ClockWatch, MixedStreams, TypeConflicts
from infonet_ros.ros.message_filters_sync import (have_message_filters, make_synchronizers,
                                                  StampedRow)
from infonet_ros.ros.node_parameters import (checked_changes, declare_node_parameters,
                                             override_names)
from infonet_ros.ros.process_exit import (init_error_message, leave, print_fatal,
                                          teardown_within)
from infonet_ros.streams.cdr_reader import CdrUnsupported
from infonet_ros.streams.feed import add_item, item_stamp
from infonet_ros.streams.fields import check_field_path, FieldError
from infonet_ros.streams.node_config import (ConfigError, effective_sync_mode, NodeConfig,
                                             null_table_error, rows_per_update,
                                             unknown_parameter_warnings, update_cost_error)
from infonet_ros.streams.pairs import normalize_msg_type
from infonet_ros.streams.raw_intake import RawIntake
from infonet_ros.streams.topic_input import DROP_REASONS, OK, TIME_JUMP
from infonet_ros.streams.window_engine import WindowEngine

NODE_NAME = 'mi_node'
OUTPUT_TOPIC = 'infonet/mi'
# At shutdown, a forward pass still running after this is abandoned [s]: the worker is a
# daemon thread and the process leaves by os._exit (process_exit), so the interpreter never
# finalizes around a thread inside torch.
WORKER_JOIN_S = 1.0


class MiNode(Node):
    """Estimates MI of the configured pairs and publishes it (see the module doc)."""

    def __init__(self, **kwargs):
        super().__init__(NODE_NAME, **kwargs)
        values = declare_node_parameters(self)
        # Before the checks: a misspelled name may be why a value is missing or bad.
        for text in unknown_parameter_warnings(dict.fromkeys(override_names(self))):
            self.get_logger().warning(text)
        self.cfg = NodeConfig.from_params(values)
        too_costly = update_cost_error(self.cfg)
        if too_costly:
            raise ConfigError(too_costly)
        # Cheap checks first: a typo in the configuration fails before the model loads.
        self._msg_types, self._type_names = self._check_inputs()
        from infonet_ros.core.model import resolve_weights
        self._weights_path = resolve_weights(self.cfg.weights)
        self.estimator = self._load_estimator(self.cfg.device)
        no_table = null_table_error(self.cfg, self.estimator)
        if no_table:
            raise ConfigError(no_table)
        import torch
        torch.set_num_threads(forward_threads(self.cfg.torch_threads))
        # The first pass (and with jit, the trace for this window length) now, not in the
        # first update.
        self.estimator.warm_up(self.cfg.window)

        mode, note = effective_sync_mode(self.cfg.sync_mode, have_message_filters())
        if note and any(not p.same_topic for p in self.cfg.pairs):
            self.get_logger().info(note)
        self.sync_mode = mode
        self.engine = WindowEngine(**self.cfg.engine_kwargs(mode))
        # The executor thread adds input to the engine, the forward thread reads windows.
        self._engine_lock = threading.Lock()
        self._create_publishers()
        self._clock_watch = ClockWatch(self._now,
                                       lambda: self.get_parameter('use_sim_time').value)
        self._conflicts = TypeConflicts(self, self._type_names)
        self._mixed = MixedStreams(self)
        # x_source / y_source as this node resolves them (namespace, remapping).
        self._sources = {p.name: tuple(
            f'{self.resolve_topic_name(s.topic)}:{",".join(s.fields)}' for s in (p.x, p.y))
            for p in self.cfg.pairs}
        self._warned = {}  # warning key -> time it was last logged (monotonic)

        self._sync_inputs = {}
        if mode == 'external':
            self._setup_message_filters()
        qos = input_qos(self.cfg.qos_profile, self.cfg.qos_reliability, self.cfg.qos_depth)
        self._raw, self._raw_off = {}, set()
        self._subs = [self._subscribe(t, qos) for t in self.engine.topics]

        self.executor_kind = ''  # set by main() (or whoever spins the node)
        self._forward = ForwardWorker(self._ready_windows, self._publish_estimates, self._warn,
                                      self.context.ok, self.cfg.forward_priority)
        self._timer = self.create_timer(self.cfg.update_period, self._on_update)
        # Diagnostics on the wall clock: with use_sim_time and no /clock the node clock stands
        # still, and so do the updates; the reports must go on to say so.
        self._diag_timer = self.create_timer(self.cfg.diagnostics_period,
                                             self._on_diagnostics,
                                             clock=Clock(clock_type=ClockType.STEADY_TIME))
        self.add_on_set_parameters_callback(self._on_set_parameters)
        pairs = ', '.join(p.name for p in self.cfg.pairs)
        self.get_logger().info(
            f'watching {len(self.cfg.pairs)} pair(s) [{pairs}] on {len(self.engine.topics)} '
            f'topic(s); window {self.cfg.window}, {self.cfg.update_rate:g} Hz, sync '
            f'{mode}, device {self.estimator.device}, weights {self._weights_path}')

    # ---- setup ---------------------------------------------------------------------------

    def _check_inputs(self) -> tuple[dict, dict]:
        """
        Import every input type and check every field path against it.

        :return: ({topic: message class}, {topic: 'pkg/msg/Type'}).
        :raises ConfigError, MessageTypeError: naming the pair, topic or type.
        """
        msg_types, type_names = {}, {}
        for entry in self.cfg.topics:
            topic, _, name = entry.partition('=')
            msg_types[topic.strip()] = import_message_type(name.strip())
            type_names[topic.strip()] = normalize_msg_type(name.strip())
        for pair in self.cfg.pairs:
            for side in (pair.x, pair.y):
                for f in side.fields:
                    try:
                        check_field_path(msg_types[side.topic](), f)
                    except FieldError as exc:
                        raise ConfigError(f'pair {pair.name}, topic {side.topic}: {exc}') \
                            from None
        return msg_types, type_names

    def _create_publishers(self):
        from diagnostic_msgs.msg import DiagnosticArray
        from infonet_ros.msg import MutualInformation, MutualInformationArray
        qos = output_qos(self.cfg.output_durability)
        self._pub = self.create_publisher(MutualInformationArray, OUTPUT_TOPIC, qos)
        self._pair_pubs = {p.name: self.create_publisher(
            MutualInformation, f'{OUTPUT_TOPIC}/{p.name}', qos)
            for p in self.cfg.pairs if self.cfg.per_pair_topics}
        self._diag_pub = self.create_publisher(DiagnosticArray, '/diagnostics', 10)
        # Input is judged from now, after the model loaded: right before the subscriptions.
        # Status names carry the fully qualified node name (two instances in two namespaces
        # stay apart); hardware_id names the computer the estimator runs on.
        self._diag = DiagnosticsBuilder(self.get_fully_qualified_name(),
                                        hardware_id=socket.gethostname(),
                                        start=time.monotonic())

    def _load_estimator(self, device: str):
        """
        Build the estimator of this node's weights and settings on ``device``; ConfigError.

        The one place the node makes an estimator, at start and when ``device`` changes: every
        setting (jit here; max_set_size and the rest from the checkpoint and the library's
        defaults) is the same on the new device.
        """
        from infonet_ros.core.estimator import InfoNetEstimator, resolve_device
        try:
            dev = resolve_device(device)
        except ValueError as exc:
            raise ConfigError(f'device: {exc}') from None
        try:
            return InfoNetEstimator.from_pretrained(self._weights_path, dev, jit=self.cfg.jit,
                                                    backend=self.cfg.backend,
                                                    precision=self.cfg.precision)
        except ImportError as exc:  # backend onnxruntime without its packages
            raise ConfigError(f'backend {self.cfg.backend}: {exc}') from None
        except ValueError as exc:  # e.g. a precision the backend does not run (names it)
            raise ConfigError(str(exc)) from None

    def _setup_message_filters(self):
        self._sync_inputs = make_synchronizers(self.engine.link_topics, self.cfg.queue_size,
                                               self.cfg.slop, self._on_synced)

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
        values = intake.values(data)
        if values is None:  # not for the fast path: decode, validate as any message
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
        self._on_message(topic, values)

    def _on_message(self, topic, item):
        """Add a message, or the Values read from its bytes, under the streams' stamp rule."""
        stamp = item_stamp(item, self._now, self.cfg.use_receive_time)
        with self._engine_lock:
            status, row = add_item(self.engine, topic, stamp, item)
        self._after_add(topic, stamp, status, row)

    def _now(self) -> float:
        """Node clock [s]: the arrival time of a message."""
        return self.get_clock().now().nanoseconds * 1e-9

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
                    source.signalMessage(StampedRow(stamp, row))
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
        # The status tells message_filters_sync to offer a refused pair's newer message again.
        with self._engine_lock:
            return self.engine.add_synced(key, a.stamp, a.row, b.stamp, b.row)

    def _warn(self, key, text):
        now = time.monotonic()
        if now - self._warned.get(key, -1e18) >= self.cfg.warn_period:
            self._warned[key] = now
            self.get_logger().warning(text)

    # ---- updates -------------------------------------------------------------------------

    def _on_update(self):
        self._forward.request(self.estimator, self.cfg)

    def _ready_windows(self):
        with self._engine_lock:  # input callbacks wait the ~1-2 ms this takes
            windows = self.engine.ready_windows()
        mixed = self._mixed.topics  # withheld: two streams in one window (MixedStreams)
        return [w for w in windows if w.pair.x.topic not in mixed
                and w.pair.y.topic not in mixed] if mixed else windows

    def _publish_estimates(self, estimates, latency):
        """Publish an update's estimates (forward thread): the array, then per pair."""
        arr = estimates_to_array(estimates, latency, self._sources)
        arr.publish_latency = self._now() - time_to_float(arr.header.stamp)
        self._pub.publish(arr)
        for est, msg in zip(estimates, arr.estimates):
            pub = self._pair_pubs.get(est.pair.name)
            if pub is not None:
                pub.publish(msg)

    def _on_diagnostics(self):
        prov, fw = self.estimator.provenance, self._forward
        info = {'device': str(self.estimator.device), 'weights': self._weights_path,
                'model_steps': prov.get('steps', 'unknown'),
                'model_commit': prov.get('commit', 'unknown'),
                'sync_mode': self.sync_mode, 'executor': self.executor_kind,
                'jit': jit_state(self.estimator), 'precision': self.estimator.precision,
                'intake': intake_state(self.engine.topics, self._raw),
                # Threads sharing each pass's rows: the forward thread has the torch threads
                # set in __init__, as this (executor) thread has.
                'row_workers': self.estimator.worker_count(),
                'forward_scheduling': fw.scheduling, 'window': self.cfg.window,
                'update_rate_hz': self.cfg.update_rate, 'updates_published': fw.updates,
                'updates_skipped_busy': fw.skipped, 'time_jumps': self.engine.resets,
                'rows_per_update': rows_per_update(self.cfg),
                'uncertainty': self.cfg.uncertainty}
        health = HealthInput(
            now=time.monotonic(), stale_periods=self.cfg.stale_periods,
            no_input_timeout=self.cfg.no_input_timeout, update_period=self.cfg.update_period,
            estimated_at=dict(fw.estimated_at), expected_types=self._type_names,
            skipped_busy=fw.skipped, skipped_at_estimate=dict(fw.skipped_at),
            pass_running=fw.busy.is_set(),
            clock_problem=self._clock_watch.problem(
                max(2.0 * self.cfg.diagnostics_period, 1.0)))
        if health.clock_problem.startswith('sim time'):
            self._warn('clock', health.clock_problem)
        health.foreign_types, health.publishers = self._conflicts.check()
        health.single_publisher = self.cfg.single_publisher
        self._mixed.update(health.publishers, self.cfg.single_publisher)
        with self._engine_lock:
            status = self._diag.build(self.get_clock().now().to_msg(), self.engine, info,
                                      fw.latency, dict(fw.last), health, fw.update_time)
        self._diag_pub.publish(status)

    # ---- parameters ----------------------------------------------------------------------

    def _on_set_parameters(self, params) -> SetParametersResult:
        changes, refused = checked_changes(params)
        if refused:
            return SetParametersResult(successful=False, reason=refused)
        new_cfg = dataclasses.replace(self.cfg, **changes)
        too_costly = update_cost_error(new_cfg) or null_table_error(new_cfg, self.estimator)
        if too_costly:
            return SetParametersResult(successful=False, reason=too_costly)
        if 'device' in changes:
            # A new estimator: the worker may be running the current one right now.
            try:
                self.estimator = self._load_estimator(changes['device'])
            except ConfigError as exc:
                return SetParametersResult(successful=False, reason=str(exc))
            except Exception as exc:  # noqa: B902 (a refused change must not stop the node)
                return SetParametersResult(successful=False,
                                           reason=f'device: {type(exc).__name__}: {exc}')
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
        for name in ('_timer', '_diag_timer'):  # absent if __init__ failed before them
            if hasattr(self, name):
                getattr(self, name).cancel()
        if hasattr(self, '_forward'):
            # A pass in progress is given WORKER_JOIN_S, then abandoned (see WORKER_JOIN_S).
            self._forward.stop(WORKER_JOIN_S)
        return super().destroy_node()


def main(args=None):
    """
    Run the node until shutdown; exit 0, or 1 with a one-line ``FATAL`` reason.

    The reason is printed before anything is torn down, and the teardown cannot hang the
    process (:mod:`infonet_ros.ros.process_exit`): the process always ends here.
    """
    try:
        rclpy.init(args=args)
    except RuntimeError as exc:  # rclpy's RCLError: e.g. a bad or missing --params-file
        print_fatal(NODE_NAME, init_error_message(sys.argv if args is None else args, exc))
        leave(1)
    # A crash in C (a DDS segfault) prints where it happened instead of nothing.
    faulthandler.enable()
    made = {}  # 'node', 'executor' as far as they were made; 'error' that ended the spin
    error = _spin(made)
    if error is not None:
        print_fatal(NODE_NAME, error)
    steps = []
    if 'executor' in made:
        steps.append(made['executor'].shutdown)
    if 'node' in made:
        steps.append(made['node'].destroy_node)
    steps += [rclpy.try_shutdown, rclpy.utilities.get_default_context().destroy]
    teardown_within(steps, 0 if error is None else 1, NODE_NAME)


def _spin(made: dict) -> str | None:
    """Make and spin the node (into ``made``) until shutdown; return the error that ended it."""
    from infonet_ros.core.model import WeightsError
    try:
        made['node'] = node = MiNode()
        made['executor'], node.executor_kind = make_executor(node.cfg.executor)
        node.get_logger().info(f'executor: {node.executor_kind}')
        made['executor'].add_node(node)
        spin_until_shutdown(made['executor'])
    except (KeyboardInterrupt, ExternalShutdownException):
        return None
    except (ConfigError, MessageTypeError, WeightsError) as exc:
        # Keep the exception: its traceback holds the half-made node, which would otherwise
        # be destroyed here, before the FATAL line, and DDS teardown can crash or hang
        # (process_exit). The process leaves by os._exit without destroying it.
        made['error'] = exc
        return str(exc)
    except rclpy.exceptions.ParameterException as exc:
        made['error'] = exc
        error = f'invalid parameter: {exc}'
        if 'INTEGER' in str(exc) and 'DOUBLE' in str(exc):
            error += ' (a float parameter needs a decimal point in YAML: 5.0, not 5)'
        return error
    except Exception as exc:  # noqa: B902 (a bug: its traceback, then the same exit path)
        made['error'] = exc
        traceback.print_exc()
        return f'{type(exc).__name__}: {exc}'
    return None


if __name__ == '__main__':
    main()
