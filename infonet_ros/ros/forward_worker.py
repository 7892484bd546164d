# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The forward-pass thread of ``mi_node``: an update's estimates, off the executor thread.

The executor thread takes the input and runs the update timer; an update hands its windows
to this thread, which estimates them (:func:`infonet_ros.streams.batch_estimate.
estimate_windows`, one forward pass per update) and publishes them, so that input keeps
flowing while the network computes. One update runs at a time: an update that finds the
previous pass still running is skipped and counted (``skipped``). With a real-time priority
(``forward_priority``) the thread builds the windows itself, so that the whole update runs
ahead of every normal thread. The statistics the diagnostics report (pass latency, update
time, counts, the last estimate of each pair and when) live here.
"""

from __future__ import annotations

import queue
import threading
import time

from infonet_ros.ros.diagnostics import LatencyStats
from infonet_ros.ros.thread_priority import describe_policy, use_fifo
from infonet_ros.streams.batch_estimate import estimate_windows


class ForwardWorker:
    """A daemon thread that estimates and publishes the windows of one update at a time."""

    def __init__(self, ready_windows, publish, warn, alive, priority: int = 0):
        """
        Start the thread.

        :param ready_windows: () -> the windows of an update (list; empty: nothing to do).
        :param publish: (estimates, latency) -> None: publishes one update's estimates.
        :param warn: (key, text) -> None: a rate-limited warning.
        :param alive: () -> bool: False while the node shuts down (a failure then is quiet).
        :param priority: SCHED_FIFO priority of the thread, 0: normal scheduling.
        """
        self._ready_windows = ready_windows
        self._publish = publish
        self._warn = warn
        self._alive = alive
        self._priority = priority
        self.latency = LatencyStats()  # forward passes of an update (inference_latency)
        self.update_time = LatencyStats()  # the call that runs them, timed around it
        self.updates = 0
        self.skipped = 0
        self.last = {}  # pair name -> its last PairEstimate
        self.estimated_at = {}  # pair name -> time.monotonic() its last estimate was published
        self.skipped_at = {}  # pair name -> self.skipped when its last estimate was published
        self.scheduling = 'normal'  # set by the thread as it starts
        self.fifo = False  # the thread runs SCHED_FIFO (set as it starts)
        self.busy = threading.Event()
        self._jobs = queue.Queue()
        self._thread = threading.Thread(target=self._run, name='infonet_forward', daemon=True)
        self._thread.start()

    def request(self, estimator, cfg) -> None:
        """Start an update with this estimator and configuration, or count it skipped."""
        if self.busy.is_set():
            self.skipped += 1
            return
        if self.fifo:
            # A real-time thread builds the windows itself: the whole update then runs
            # ahead of every normal thread (docs/node.md, Threads and timing). Under normal
            # scheduling it could be preempted while holding the
            # engine, stalling the input: the caller's thread builds them, as it takes input.
            self.busy.set()
            self._jobs.put((None, estimator, cfg))
            return
        windows = self._ready_windows()
        if windows:
            self.busy.set()
            self._jobs.put((windows, estimator, cfg))

    def stop(self, timeout: float) -> None:
        """Ask the thread to end after its pass; wait at most ``timeout`` [s] for it."""
        self._jobs.put(None)
        self._thread.join(timeout=timeout)

    def _run(self):
        if self._priority:
            refused = use_fifo(self._priority)
            if refused:
                self._warn('priority', f'forward_priority {self._priority}: SCHED_FIFO '
                           f'refused ({refused}); the forward pass keeps the normal '
                           'scheduling')
                self.scheduling = f'normal (SCHED_FIFO refused: {refused})'
            else:
                self.scheduling = describe_policy()
                self.fifo = True
        while True:
            job = self._jobs.get()
            if job is None:
                return
            windows, estimator, cfg = job
            try:
                if windows is None:
                    windows = self._ready_windows()
                if windows:
                    self._update(windows, estimator, cfg)
            except Exception as exc:  # the node must not die of one bad update
                if self._alive():  # else: shutting down while a pass was running
                    self._warn('update', f'update failed: {type(exc).__name__}: {exc}')
            finally:
                self.busy.clear()

    def _update(self, windows, estimator, cfg):
        t0 = time.perf_counter()
        estimates, latency = estimate_windows(estimator, windows, cfg.n_slices,
                                              cfg.slice_seed, cfg.uncertainty_options())
        update_time = time.perf_counter() - t0
        self._publish(estimates, latency)
        self.latency.add(latency)
        self.update_time.add(update_time)
        self.updates += 1
        self.last.update({e.pair.name: e for e in estimates})
        now = time.monotonic()
        self.estimated_at.update({e.pair.name: now for e in estimates})
        self.skipped_at.update({e.pair.name: self.skipped for e in estimates})
