# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Real-time scheduling of one thread: applied to that thread only, or refused with why."""

import os
import threading

import pytest

from infonet_ros.ros.thread_priority import describe_policy, use_fifo


def in_thread(fn):
    """Run ``fn`` in a new thread; return its result."""
    out = []
    t = threading.Thread(target=lambda: out.append(fn()))
    t.start()
    t.join()
    return out[0]


@pytest.mark.parametrize('bad', [0, 100, -5])
def test_priority_out_of_range_is_refused(bad):
    with pytest.raises(ValueError, match='1..99'):
        use_fifo(bad)


def test_fifo_is_applied_to_the_calling_thread_only_or_refused_with_the_reason():
    def request():
        refused = use_fifo(3)
        child = in_thread(describe_policy)  # a thread started afterwards inherits it
        return refused, describe_policy(), child

    refused, policy, child = in_thread(request)
    if refused:  # no rtprio limit or CAP_SYS_NICE here: the thread keeps the normal policy
        assert 'not permitted' in refused or 'Linux only' in refused, refused
        assert policy == child == 'normal'
    else:
        assert policy == child == 'SCHED_FIFO 3'
    # Either way the thread that asked for nothing is untouched.
    assert describe_policy() == 'normal'
    if hasattr(os, 'sched_getscheduler'):
        assert os.sched_getscheduler(0) == os.SCHED_OTHER
