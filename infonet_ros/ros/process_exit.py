# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
How a node process ends: the reason first, then a teardown that cannot hang the process.

Tearing a node down can block for good inside DDS: Fast DDS 3.x can deadlock between the
destruction of a DataReader and its discovery thread when sibling participants leave at the
same moment (eProsima/Fast-DDS#6502, #6193). The process then prints nothing more and ignores
SIGINT and SIGTERM. Therefore:

- the FATAL line is printed and flushed before any teardown (:func:`print_fatal`);
- the teardown steps run under two watchdogs (:func:`teardown_within`): a Python thread that,
  past :data:`TEARDOWN_TIMEOUT_S`, flushes the output and leaves with the status the process
  meant to exit with; and, :data:`BACKSTOP_EXTRA_S` later, faulthandler's C thread, which needs
  no interpreter lock (a DDS destructor deadlocked in C++ holds it, so the Python thread cannot
  run): it writes where every thread is stuck and exits with status 1;
- the process always leaves through ``os._exit`` (:func:`leave`) after flushing: interpreter
  finalization would destroy the remaining DDS entities (the same deadlock) and could find
  the forward-pass thread inside torch (``terminate called without an active exception``,
  exit 134), which a daemon thread abandoned by ``os._exit`` never does.
"""

from __future__ import annotations

import faulthandler
import os
import signal
import sys
import threading

# Longest teardown [s]: executor, node, context. A clean one takes well under a second; a
# pass in progress is not waited for beyond WORKER_JOIN_S (mi_node).
TEARDOWN_TIMEOUT_S = 5.0
# The interpreter-lock-free backstop fires this much after the Python watchdog [s].
BACKSTOP_EXTRA_S = 2.0


def print_fatal(node_name: str, text: str) -> None:
    """Print ``[node] FATAL: text`` on stderr as one line and flush it."""
    one_line = ' '.join(str(text).split())
    print(f'[{node_name}] FATAL: {one_line}', file=sys.stderr, flush=True)


def leave(status: int) -> None:
    """Flush stdout and stderr, then end the process with ``status`` (no finalization)."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError, AttributeError):  # closed or replaced stream
            pass
    os._exit(status)


def ignore_interrupts() -> None:
    """
    Ignore SIGINT from here on (main thread only; elsewhere a no-op).

    A terminal's Ctrl-C reaches every process of the group, and ``ros2 launch`` sends its own
    SIGINT on top: the second one lands while the node tears down, after rclpy has given the
    signal back to Python, and would end the process with a KeyboardInterrupt traceback (or
    killed by the signal, status -2). The teardown is bounded (:func:`teardown_within`), so
    nothing needs a second Ctrl-C.
    """
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def teardown_within(steps, status: int, node_name: str, timeout_s: float | None = None) -> None:
    """
    Run the teardown ``steps`` (callables, in order) and leave with ``status`` in any case.

    A step that raises is reported and the next one runs. Past ``timeout_s`` (default
    :data:`TEARDOWN_TIMEOUT_S`) the process
    leaves with ``status`` from a watchdog thread; past ``timeout_s + BACKSTOP_EXTRA_S``
    (the interpreter lock held by a deadlocked C++ destructor) faulthandler dumps the threads
    and exits with status 1. Does not return.
    """
    timeout_s = TEARDOWN_TIMEOUT_S if timeout_s is None else timeout_s
    done = threading.Event()

    def watchdog():
        if not done.wait(timeout_s):
            print(f'[{node_name}] teardown did not finish within {timeout_s:g} s (a DDS '
                  f'teardown deadlock?): exiting with status {status}', file=sys.stderr,
                  flush=True)
            leave(status)

    threading.Thread(target=watchdog, name='teardown_watchdog', daemon=True).start()
    faulthandler.dump_traceback_later(timeout_s + BACKSTOP_EXTRA_S, exit=True)
    ignore_interrupts()
    for step in steps:
        try:
            step()
        except (Exception, KeyboardInterrupt) as exc:  # noqa: B902 (teardown goes on)
            print(f'[{node_name}] teardown: {type(exc).__name__}: {exc}', file=sys.stderr,
                  flush=True)
    done.set()
    faulthandler.cancel_dump_traceback_later()
    leave(status)


def params_files(args) -> list[str]:
    """Return the ``--params-file`` paths among the ROS arguments of a command line."""
    files, in_ros, it = [], False, iter(args or [])
    for arg in it:
        if arg == '--ros-args':
            in_ros = True
        elif arg == '--':
            in_ros = False
        elif in_ros and arg == '--params-file':
            files.append(next(it, ''))
    return files


def init_error_message(args, exc: Exception) -> str:
    """
    One line for ``rclpy.init`` failing on the command line: the params file named, and why.

    rcl's own message ("Couldn't parse params file ... at parse.c:776") names neither a
    missing file nor the YAML error plainly; reading the file again here does.
    """
    for path in params_files(args):
        if not os.path.isfile(path):
            return f'params file {path!r} not found'
        try:
            import yaml
            with open(path) as f:
                yaml.safe_load(f)
        except OSError as err:
            return f'params file {path!r} cannot be read: {err}'
        except yaml.YAMLError as err:
            where = getattr(err, 'problem_mark', None)
            at = f' (line {where.line + 1}, column {where.column + 1})' if where else ''
            problem = getattr(err, 'problem', None) or str(err)
            return f'params file {path!r} is not valid YAML{at}: {problem}'
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return f'cannot start ROS with these arguments: {first}'
