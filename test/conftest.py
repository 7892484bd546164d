# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Shared configuration and fixtures of the infonet_ros test suite.

Option and marker
    ``--run-slow`` also runs the tests marked ``@pytest.mark.slow``; without it they are
    skipped with a reason that names the flag.

ROS 2 isolation
    Before any test runs (so before any ``rclpy.init``), ``pytest_configure`` puts the test
    session on its own DDS domain and keeps its traffic and logs local. The variables are set
    in ``os.environ`` of the test process, and therefore reach every subprocess started with
    the environment passed whole (the ``node_process`` fixture does that):

    * ``ROS_DOMAIN_ID``: 1 + (pid mod 100), so two test sessions side by side rarely share a
      domain; ``INFONET_ROS_TEST_DOMAIN_ID`` overrides it.
    * ``ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST`` (and ``ROS_LOCALHOST_ONLY=1`` on Humble,
      which predates the former); ``ROS_STATIC_PEERS`` is cleared.
    * ``ROS_HOME`` and ``ROS_LOG_DIR``: folders in a temporary directory of the session,
      removed at its end.

Fixtures
    ``ros_env``        dict of the isolation variables above (session scope).
    ``rclpy_context``  a freshly initialised ``rclpy.context.Context``, shut down after the test.
    ``spin_until``     ``spin_until(executor, predicate, timeout_sec=10.0) -> bool``.
    ``node_process``   starts a ROS node (or any command) in a subprocess and stops it reliably:
                       at teardown, or in ``wait_exit`` on a timeout, its whole process group
                       gets SIGINT, SIGTERM, then SIGKILL; no test waits on a child unbounded.
    ``ros_executable`` path of an installed node executable, e.g. ``ros_executable('mi_node')``.

Tests that need rclpy skip (``pytest.importorskip``) where it is not installed, e.g. after a
ROS-free ``pip install .``; in the build of scripts/setup.sh it always is.
"""

import os
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

# The isolation variables of this session, filled by pytest_configure.
_ROS_ENV = {}
_SESSION_TMP = []


def pytest_addoption(parser):
    parser.addoption('--run-slow', action='store_true', default=False,
                     help='also run tests marked slow (long benchmarks-like checks)')


def pytest_configure(config):
    config.addinivalue_line('markers', 'slow: long test, runs only with --run-slow')
    tmp = tempfile.mkdtemp(prefix='infonet_ros_test_')
    _SESSION_TMP.append(tmp)
    domain = os.environ.get('INFONET_ROS_TEST_DOMAIN_ID') or str(1 + os.getpid() % 100)
    _ROS_ENV.update({
        'ROS_DOMAIN_ID': domain,
        'ROS_AUTOMATIC_DISCOVERY_RANGE': 'LOCALHOST',
        'ROS_HOME': os.path.join(tmp, 'ros_home'),
        'ROS_LOG_DIR': os.path.join(tmp, 'ros_log'),
        # Plain log lines in captured output.
        'RCUTILS_COLORIZED_OUTPUT': '0',
    })
    if os.environ.get('ROS_DISTRO') == 'humble':
        _ROS_ENV['ROS_LOCALHOST_ONLY'] = '1'
    else:
        # Deprecated since Jazzy; a stray value would override the discovery range.
        os.environ.pop('ROS_LOCALHOST_ONLY', None)
    os.environ.pop('ROS_STATIC_PEERS', None)
    os.makedirs(_ROS_ENV['ROS_HOME'])
    os.makedirs(_ROS_ENV['ROS_LOG_DIR'])
    os.environ.update(_ROS_ENV)


def pytest_unconfigure(config):
    for tmp in _SESSION_TMP:
        shutil.rmtree(tmp, ignore_errors=True)


def pytest_report_header(config):
    return (f"ROS isolation: ROS_DOMAIN_ID={_ROS_ENV.get('ROS_DOMAIN_ID')} "
            f"ROS_AUTOMATIC_DISCOVERY_RANGE={_ROS_ENV.get('ROS_AUTOMATIC_DISCOVERY_RANGE')}")


def pytest_collection_modifyitems(config, items):
    if config.getoption('--run-slow'):
        return
    skip_slow = pytest.mark.skip(reason='slow test: run with --run-slow')
    for item in items:
        if 'slow' in item.keywords:
            item.add_marker(skip_slow)


@pytest.fixture(scope='session')
def ros_env():
    """Isolation variables of this test session (already set in ``os.environ``)."""
    return dict(_ROS_ENV)


@pytest.fixture
def rclpy_context(ros_env):
    """
    Initialise a fresh rclpy context for one test and shut it down afterwards.

    Create nodes and executors with ``context=rclpy_context``; destroy them in the test (or
    let the shutdown invalidate them).
    """
    rclpy = pytest.importorskip('rclpy')
    context = rclpy.context.Context()
    rclpy.init(context=context)
    try:
        yield context
    finally:
        rclpy.try_shutdown(context=context)


@pytest.fixture
def spin_until():
    """
    Return a function that spins an executor until a condition holds.

    Call it as ``spin_until(executor, predicate, timeout_sec=10.0) -> bool``. It spins the
    executor in small steps until ``predicate()`` is true (returns True) or the timeout passes
    (returns False). The timeout bounds a wait for DDS discovery and delivery; it is not a
    speed requirement.
    """
    def spin(executor, predicate, timeout_sec=10.0):
        deadline = time.monotonic() + timeout_sec
        while not predicate():
            if time.monotonic() > deadline:
                return False
            executor.spin_once(timeout_sec=0.05)
        return True
    return spin


class NodeProcess:
    """
    A command running in its own process group, its output collected in a file.

    ``proc`` is the ``subprocess.Popen``; ``output()`` returns stdout and stderr so far;
    ``stop()`` ends the whole process group (SIGINT, then SIGTERM, then SIGKILL) and returns
    the exit code; ``wait_exit(timeout)`` waits for the process to end by itself and fails
    the test, after killing the group, when it has not within the timeout.
    """

    def __init__(self, args, log_path, env, cwd):
        self.args = [str(a) for a in args]
        self.log_path = log_path
        self._log = open(log_path, 'wb')
        # A new session makes the command and any children one process group to signal.
        self.proc = subprocess.Popen(self.args, stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=env, cwd=cwd,
                                     start_new_session=True)

    def output(self):
        """Return everything the process wrote to stdout and stderr so far."""
        if not self._log.closed:
            self._log.flush()
        with open(self.log_path, 'rb') as f:
            return f.read().decode('utf-8', errors='replace')

    def alive(self):
        """Return True while the process runs."""
        return self.proc.poll() is None

    def wait_exit(self, timeout_sec):
        """Return the exit code once the process ends; past the timeout kill it and fail."""
        try:
            return self.proc.wait(timeout=timeout_sec)
        except subprocess.TimeoutExpired:
            code = self.stop(timeout_sec=3.0)
            pytest.fail(f'{" ".join(self.args)} did not exit within {timeout_sec} s (killed, '
                        f'exit {code}):\n{self.output()}')

    def stop(self, timeout_sec=10.0):
        """End the process group: SIGINT first (rclpy shuts down cleanly), then harder."""
        for sig, wait in ((signal.SIGINT, timeout_sec), (signal.SIGTERM, 3.0),
                          (signal.SIGKILL, 3.0)):
            if self.proc.poll() is not None:
                break
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                self.proc.wait(timeout=wait)
            except subprocess.TimeoutExpired:
                continue
        # The leader may be gone while children of its group still run.
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self._log.close()
        return self.proc.wait()


@pytest.fixture
def node_process(tmp_path, ros_env):
    """
    Return ``start(args, env=None, cwd=None) -> NodeProcess``.

    The command gets this process's whole environment (with the ROS isolation variables and
    the venv's library path, which the ROS wheels need) updated with ``env``. Every process
    started is stopped at teardown, and its output is printed there, so pytest shows it when
    the test fails.
    """
    started = []

    def start(args, env=None, cwd=None):
        full_env = dict(os.environ)
        full_env.update(env or {})
        log_path = tmp_path / f'process_{len(started)}.log'
        process = NodeProcess(args, log_path, full_env, cwd)
        started.append(process)
        return process

    yield start
    for process in started:
        code = process.stop()
        print(f'--- {" ".join(process.args)} (exit {code}) ---\n{process.output()}')


@pytest.fixture
def ros_executable():
    """
    Return ``find(name) -> str``: the installed executable ``lib/infonet_ros/<name>``.

    Run it as ``[sys.executable, path, ...]`` so the test's interpreter (the venv's) is used.
    Fails with a hint when the package is not built or its install tree is not sourced.
    """
    pytest.importorskip('rclpy')

    def find(name):
        for prefix in os.environ.get('AMENT_PREFIX_PATH', '').split(os.pathsep):
            path = os.path.join(prefix, 'lib', 'infonet_ros', name)
            if prefix and os.path.isfile(path):
                return path
        pytest.fail(f'executable {name!r} of infonet_ros not found in AMENT_PREFIX_PATH: run '
                    'scripts/setup.sh and source install/setup.bash (scripts/run_tests.sh does)')
    return find
