# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
launch/mi.launch.py: its arguments, nodes, and what ``ros2 launch`` does with them.

The first test reads the file's syntax tree, so its declared interface is checked
everywhere. The others need ``launch`` and ``launch_ros`` (and ``ros2 launch`` for the runs:
a full ROS 2 install) and are skipped without them.
"""

import ast
import importlib.util
import os
import shutil
import signal
import sys
import time

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LAUNCH_FILE = os.path.join(REPO, 'launch', 'mi.launch.py')
ARGUMENTS = {'params_file', 'namespace', 'weights', 'device', 'use_sim_time', 'log_level',
             'respawn', 'start_demo', 'echo'}
EXECUTABLES = {'demo_source', 'mi_node', 'mi_echo'}
LAUNCH_S = 180.0  # bound on a launch run (start-up, torch import, discovery under load)


def test_launch_file_declares_the_documented_interface():
    tree = ast.parse(open(LAUNCH_FILE).read(), LAUNCH_FILE)
    arguments, executables = None, set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and getattr(node.targets[0], 'id', '') == 'ARGUMENTS':
            arguments = {entry[0] for entry in ast.literal_eval(node.value)}
        if isinstance(node, ast.Call) and getattr(node.func, 'id', '') == 'Node':
            kw = {k.arg: k.value for k in node.keywords}
            assert kw['package'].value == 'infonet_ros'
            executables.add(kw['executable'].value)
    assert arguments == ARGUMENTS
    assert executables == EXECUTABLES
    # The arguments table of docs/node.md lists every argument.
    doc = open(os.path.join(REPO, 'docs', 'node.md')).read()
    assert all(f'| `{name}` |' in doc for name in ARGUMENTS)


def load_launch_module():
    pytest.importorskip('launch')
    pytest.importorskip('launch_ros')
    spec = importlib.util.spec_from_file_location('mi_launch', LAUNCH_FILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def context_with(**values):
    from launch import LaunchContext
    context = LaunchContext()
    defaults = {'params_file': os.path.join(REPO, 'config', 'mi.yaml'), 'namespace': '',
                'weights': '', 'device': '', 'use_sim_time': 'false', 'log_level': 'info',
                'respawn': 'false', 'start_demo': 'true', 'echo': 'false'}
    context.launch_configurations.update({**defaults, **values})
    return context


def test_launch_description_builds_the_nodes_from_the_arguments(tmp_path):
    module = load_launch_module()
    from launch import LaunchDescription
    ld = module.generate_launch_description()
    assert isinstance(ld, LaunchDescription)
    assert {a.name for a in ld.get_launch_arguments()} == ARGUMENTS
    nodes = module._nodes(context_with(echo='true', weights='fast'))
    assert [n.node_executable for n in nodes] == ['demo_source', 'mi_node', 'mi_echo']
    assert [n.node_executable for n in module._nodes(context_with(start_demo='false'))] == \
        ['mi_node']
    for bad, needle in (({'params_file': str(tmp_path / 'missing.yaml')}, 'does not exist'),
                        ({'log_level': 'loud'}, 'log_level'),
                        ({'respawn': 'maybe'}, 'respawn')):
        with pytest.raises(module.LaunchArgumentError, match=needle):
            module._nodes(context_with(**bad))


@pytest.fixture
def ros2_launch(node_process, ros_env):
    """Return ``run(*arguments) -> NodeProcess`` of ``ros2 launch infonet_ros mi.launch.py``."""
    load_launch_module()
    pytest.importorskip('ros2launch')
    ros2 = shutil.which('ros2')
    if ros2 is None:
        pytest.skip('the ros2 command is not installed')

    def run(*arguments):
        return node_process([sys.executable, ros2, 'launch', 'infonet_ros', 'mi.launch.py',
                             *arguments])
    return run


def test_a_missing_params_file_fails_the_launch(tmp_path, ros2_launch):
    missing = tmp_path / 'missing.yaml'
    proc = ros2_launch(f'params_file:={missing}')
    code = proc.wait_exit(LAUNCH_S)
    out = proc.output()
    assert code != 0 and f"params_file '{missing}' does not exist" in out, out
    assert 'process started' not in out, out  # no node ran on built-in topics


def test_mi_node_exiting_ends_the_launch(ros2_launch):
    # A device this machine lacks: mi_node ends with its FATAL line, the demo with it.
    proc = ros2_launch('device:=cuda:7', 'start_demo:=true')
    proc.wait_exit(LAUNCH_S)
    out = proc.output()
    assert 'FATAL' in out and 'shutting down launched system' in out, out
    assert 'demo_source-1]: process has finished cleanly' in out, out
    assert 'Traceback' not in out, out


def test_respawn_restarts_mi_node(ros2_launch):
    # respawn:=true: mi_node is started again after it exits, and the launch goes on.
    proc = ros2_launch('device:=cuda:7', 'start_demo:=false', 'respawn:=true')

    def restarted():
        return proc.output().count('FATAL') >= 2 or proc.proc.poll() is not None
    deadline = time.monotonic() + LAUNCH_S
    while not restarted() and time.monotonic() < deadline:
        time.sleep(0.5)
    out = proc.output()
    assert proc.alive() and out.count('[mi_node-1]: process started') >= 2, out


def test_namespace_moves_the_demo_and_the_estimates(ros2_launch, rclpy_context, spin_until):
    import rclpy
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.qos import QoSProfile, QoSReliabilityPolicy

    from infonet_ros.msg import MutualInformationArray
    node = rclpy.create_node('launch_probe', context=rclpy_context)
    executor = SingleThreadedExecutor(context=rclpy_context)
    executor.add_node(node)
    got = []
    node.create_subscription(MutualInformationArray, '/r1/infonet/mi', got.append,
                             QoSProfile(depth=10, reliability=QoSReliabilityPolicy.RELIABLE))
    proc = ros2_launch('namespace:=r1', 'device:=cpu', 'weights:=fast', 'echo:=true')
    assert spin_until(executor, lambda: bool(got) or proc.proc.poll() is not None, LAUNCH_S), \
        proc.output()
    assert got, proc.output()
    e = got[-1].estimates[0]
    assert e.x_source.startswith('/r1/imu_'), e.x_source
    assert node.count_publishers('/imu_a') == 0 and node.count_publishers('/r1/imu_a') == 1
    # A terminal's Ctrl-C: SIGINT to the whole process group, every node ends cleanly.
    assert spin_until(executor, lambda: ' MI ' in proc.output(), LAUNCH_S), proc.output()
    os.killpg(proc.proc.pid, signal.SIGINT)
    code = proc.wait_exit(60.0)
    out = proc.output()
    assert code == 0, out
    for needle in ('Traceback', 'KeyboardInterrupt', 'Exception ignored', 'exit code -2',
                   'terminate called'):
        assert needle not in out, out
    executor.shutdown()
    node.destroy_node()
