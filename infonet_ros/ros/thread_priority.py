# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Real-time scheduling of the calling thread (Linux), for the MI node's forward-pass thread.

On a loaded CPU the forward pass shares the cores with the executor thread, the sensor
drivers and everything else; under the normal (time-sharing) policy the scheduler hands
them turns in the middle of a pass, which stretches its tail latency. ``SCHED_FIFO``
lets the pass run until it blocks, ahead of every normal thread. A robot's real-time set-up
grants that by an ``rtprio`` limit (``/etc/security/limits.conf``, as ros2_control and the
ROS 2 real-time guides set up) or ``CAP_SYS_NICE``; without it the request is refused and
the thread keeps the normal policy.

The kernel keeps 5 % of each second for normal threads by default
(``/proc/sys/kernel/sched_rt_runtime_us``), so a pass that ran without end could not lock
the machine up; a pass longer than the update period still starves the other threads of
its core, which is why the node leaves it off by default.
"""

from __future__ import annotations

import os

# SCHED_FIFO priorities accepted by Linux.
MIN_FIFO_PRIORITY = 1
MAX_FIFO_PRIORITY = 99


def use_fifo(priority: int) -> str:
    """
    Run the calling thread under SCHED_FIFO at ``priority``; return '' or why it could not.

    Linux applies the policy to the calling thread only (``sched_setscheduler`` with pid 0);
    threads it starts afterwards inherit it.

    :raises ValueError: ``priority`` outside [1, 99].
    """
    if not MIN_FIFO_PRIORITY <= priority <= MAX_FIFO_PRIORITY:
        raise ValueError(f'a SCHED_FIFO priority is {MIN_FIFO_PRIORITY}..{MAX_FIFO_PRIORITY}, '
                         f'got {priority}')
    if not hasattr(os, 'sched_setscheduler'):
        return 'this platform has no sched_setscheduler (Linux only)'
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(priority))
    except PermissionError:
        return ('not permitted: grant an rtprio limit (/etc/security/limits.conf) or '
                'CAP_SYS_NICE')
    except OSError as exc:
        return f'{type(exc).__name__}: {exc}'
    return ''


def describe_policy() -> str:
    """Scheduling of the calling thread: 'SCHED_FIFO <priority>' or 'normal'."""
    if not hasattr(os, 'sched_getscheduler'):
        return 'normal'
    if os.sched_getscheduler(0) == os.SCHED_FIFO:
        return f'SCHED_FIFO {os.sched_getparam(0).sched_priority}'
    return 'normal'
