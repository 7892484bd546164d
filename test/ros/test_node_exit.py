# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
How mi_node ends: the FATAL line before teardown, a teardown that cannot hang the process.

Each case runs ``mi_node.main`` in a child process whose node fails (or is interrupted) at
once and whose teardown is made to hang, as Fast DDS can (eProsima/Fast-DDS#6502): sleeping
with the interpreter lock released, or blocked in C with it held (as a deadlocked C++
destructor is). The child must still end, within the bound, with the status it meant.
"""

import sys
import time

import pytest

pytest.importorskip('rclpy')

from infonet_ros.ros.process_exit import (BACKSTOP_EXTRA_S, init_error_message,  # noqa: E402
                                          params_files, TEARDOWN_TIMEOUT_S)

CHILD = """
import ctypes, sys, time
import rclpy
from infonet_ros.ros import mi_node
from infonet_ros.streams.node_config import ConfigError

outcome, hang = sys.argv[1], sys.argv[2]


def failing_node(*args, **kwargs):
    if outcome == 'fatal':
        raise ConfigError('window = 5 is out of range [32, 100000]')
    raise KeyboardInterrupt  # Ctrl-C while the node starts: a normal exit


def hung_shutdown(*args, **kwargs):
    if hang == 'released':
        time.sleep(600)
    else:  # libc sleep called with the interpreter lock held (ctypes.PyDLL keeps it)
        ctypes.PyDLL(None).sleep(600)


mi_node.MiNode = failing_node
rclpy.try_shutdown = hung_shutdown
mi_node.main(['mi_node'])
print('main returned', flush=True)  # never: main always ends the process
"""


@pytest.mark.parametrize('outcome, hang, status', [
    ('fatal', 'released', 1), ('normal', 'released', 0), ('fatal', 'held', 1)])
def test_a_hung_teardown_ends_in_bounded_time_with_the_status_meant(node_process, outcome,
                                                                    hang, status):
    started = time.monotonic()
    proc = node_process([sys.executable, '-c', CHILD, outcome, hang])
    bound = TEARDOWN_TIMEOUT_S + BACKSTOP_EXTRA_S + 60.0  # + start-up under load
    code = proc.wait_exit(bound)
    took = time.monotonic() - started
    out = proc.output()
    assert code == status, out
    assert 'main returned' not in out
    if outcome == 'fatal':
        # One line, printed before the teardown began (the teardown never ended).
        (line,) = [ln for ln in out.splitlines() if 'FATAL' in ln]
        assert line == '[mi_node] FATAL: window = 5 is out of range [32, 100000]'
    else:
        assert 'FATAL' not in out
    if hang == 'released':
        assert f'teardown did not finish within {TEARDOWN_TIMEOUT_S:g} s' in out, out
    else:  # the C-level backstop: where each thread was stuck, then status 1
        assert 'Timeout' in out and 'hung_shutdown' in out, out
    assert took >= TEARDOWN_TIMEOUT_S


def test_params_file_arguments_and_their_one_line_errors(tmp_path):
    args = ['mi_node', '--ros-args', '-p', 'x:=1', '--params-file', 'a.yaml', '--',
            '--params-file', 'not_ros.yaml', '--ros-args', '--params-file', 'b.yaml']
    assert params_files(args) == ['a.yaml', 'b.yaml']
    missing = str(tmp_path / 'missing.yaml')
    err = RuntimeError("failed to initialize rcl: Couldn't parse params file")
    assert init_error_message(['n', '--ros-args', '--params-file', missing], err) == \
        f'params file {missing!r} not found'
    bad = tmp_path / 'bad.yaml'
    bad.write_text('/**:\n  ros__parameters:\n    window: [1, 2\n')
    text = init_error_message(['n', '--ros-args', '--params-file', str(bad)], err)
    assert text.startswith(f'params file {str(bad)!r} is not valid YAML (line ') and \
        '\n' not in text, text
    assert init_error_message(['n'], RuntimeError('boom\nat rcl.c:1')) == \
        'cannot start ROS with these arguments: boom'
