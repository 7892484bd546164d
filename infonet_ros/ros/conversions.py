# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Conversions between the ROS-free toolbox and ROS 2 types (stamps, messages, QoS, types)."""

from __future__ import annotations

import importlib
import math

from builtin_interfaces.msg import Time
from rclpy.qos import (qos_profile_sensor_data, qos_profile_system_default,
                       QoSDurabilityPolicy, QoSHistoryPolicy, QoSProfile, QoSReliabilityPolicy)


def output_qos(durability: str = 'volatile') -> QoSProfile:
    """
    Return the QoS of the estimates: reliable (every estimate matters to a consumer).

    'volatile': keep last 10. 'transient_local': keep last 1, kept for subscribers that join
    later and ask for transient_local (they get the last estimate at once; a volatile
    subscriber matches too, and gets the next one).
    """
    if durability == 'transient_local':
        return QoSProfile(depth=1, reliability=QoSReliabilityPolicy.RELIABLE,
                          history=QoSHistoryPolicy.KEEP_LAST,
                          durability=QoSDurabilityPolicy.TRANSIENT_LOCAL)
    return QoSProfile(depth=10, reliability=QoSReliabilityPolicy.RELIABLE,
                      history=QoSHistoryPolicy.KEEP_LAST)


class MessageTypeError(ValueError):
    """A message type that cannot be imported (names the type and why)."""


def time_to_float(t) -> float:
    """builtin_interfaces/Time (or anything with sec, nanosec) -> seconds."""
    return t.sec + t.nanosec * 1e-9


def float_to_time(seconds: float) -> Time:
    """Seconds -> builtin_interfaces/Time, rounded to the nearest nanosecond."""
    if not math.isfinite(seconds):
        return Time()
    ns = round(seconds * 1e9)
    return Time(sec=int(ns // 1_000_000_000), nanosec=int(ns % 1_000_000_000))


def import_message_type(name: str):
    """
    ``'pkg/msg/Type'`` or ``'pkg/Type'`` -> the rclpy message class.

    :raises MessageTypeError: naming the type when its package or class cannot be imported.
    """
    from infonet_ros.streams.pairs import normalize_msg_type, PairSpecError
    try:
        full = normalize_msg_type(name)
    except PairSpecError as exc:
        raise MessageTypeError(str(exc)) from None
    pkg, _, cls = full.split('/')
    try:
        module = importlib.import_module(f'{pkg}.msg')
    except ImportError as exc:
        raise MessageTypeError(f'unknown message type {name!r}: cannot import {pkg}.msg '
                               f'({exc}); is the package built and its workspace '
                               'sourced?') from None
    try:
        return getattr(module, cls)
    except AttributeError:
        raise MessageTypeError(f'unknown message type {name!r}: package {pkg} has no '
                               f'message {cls}') from None


def input_qos(profile: str, reliability: str = '', depth: int = 0) -> QoSProfile:
    """Build the QoS of the input subscriptions from the node's qos_* parameters."""
    base = {'sensor_data': qos_profile_sensor_data,
            'system_default': qos_profile_system_default,
            'default': QoSProfile(depth=10)}[profile]
    qos = QoSProfile(history=base.history, depth=base.depth, reliability=base.reliability,
                     durability=base.durability)
    if reliability:
        qos.reliability = (QoSReliabilityPolicy.RELIABLE if reliability == 'reliable'
                           else QoSReliabilityPolicy.BEST_EFFORT)
    if depth:
        qos.history = QoSHistoryPolicy.KEEP_LAST
        qos.depth = depth
    return qos


def estimate_to_msg(est, header_stamp: Time | None = None, sources: dict | None = None):
    """
    Convert a :class:`infonet_ros.streams.batch_estimate.PairEstimate` to MutualInformation.

    ``sources``: {pair name: (x_source, y_source)} with the topic names as the node resolved
    them (namespace, remapping); default: the configured names.
    """
    from infonet_ros.msg import MutualInformation
    m = MutualInformation()
    m.header.stamp = header_stamp if header_stamp is not None else float_to_time(
        est.window_end)
    m.pair_name = est.pair.name
    m.x_source, m.y_source = (sources or {}).get(est.pair.name,
                                                 (est.pair.x.source, est.pair.y.source))
    m.mi = float(est.mi)
    m.method = est.method
    m.sliced = bool(est.n_slices)
    m.n_slices = int(est.n_slices)
    m.window_start = float_to_time(est.window_start)
    m.window_end = float_to_time(est.window_end)
    m.sample_count = int(est.sample_count)
    m.inference_latency = float(est.inference_latency)
    m.mi_lower = float(est.mi_lower)
    m.mi_upper = float(est.mi_upper)
    m.p_value = float(est.p_value)
    m.noise_floor = float(est.noise_floor)
    m.null_model = est.null
    return m


def estimates_to_array(estimates, latency: float, sources: dict | None = None):
    """
    Convert the estimates of one update to a MutualInformationArray (newest end).

    ``publish_latency`` is NaN: the publisher sets it just before it publishes. ``sources``:
    as :func:`estimate_to_msg`.
    """
    from infonet_ros.msg import MutualInformationArray
    arr = MutualInformationArray()
    arr.publish_latency = math.nan
    arr.estimates = [estimate_to_msg(e, sources=sources) for e in estimates]
    if estimates:
        arr.header.stamp = float_to_time(max(e.window_end for e in estimates))
    arr.inference_latency = float(latency)
    return arr
