# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Threads of the MI node: the executor that runs it and the torch threads of the forward pass.

The executor thread takes every input message; the forward pass runs in a thread of its own
(:class:`infonet_ros.ros.forward_worker.ForwardWorker`) with the torch threads of
:func:`forward_threads`.
"""

from __future__ import annotations

import os

import rclpy

from infonet_ros.streams.node_config import effective_executor

# Longest wait of one executor.spin_once [s]: bounds the reaction to a shutdown.
SPIN_TIMEOUT = 0.5


def forward_threads(requested: int, cpus: int | None = None) -> int:
    """
    Torch CPU threads of the forward pass: ``requested``, or for 0 all cores but one.

    The executor thread takes every input message in Python; a forward pass that takes every
    core starves it and best-effort input is lost (benchmarks/node_latency.py, 2 cores, 4
    IMUs: with traced passes and row workers, 2 threads held 2 kHz but lost 25 messages at
    4 kHz, 1 thread none). Input first: complete windows matter more than extra updates.
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


def spin_until_shutdown(executor) -> None:
    """
    Spin until the context shuts down.

    A loop of spin_once instead of executor.spin(): the EventsExecutor of rclpy 9.1 (Kilted)
    busy-waits in spin() (~65 % of a core with no input) and ignores Ctrl-C there; spin_once
    with a timeout sleeps until work arrives and sees the shutdown.
    """
    while rclpy.ok():
        try:
            executor.spin_once(timeout_sec=SPIN_TIMEOUT)
        except RuntimeError:
            # Humble's wait set raises once a signal has shut the context down in the
            # middle of spin_once; that is a shutdown, anything else is a real error.
            if rclpy.ok():
                raise
