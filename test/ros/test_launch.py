# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
launch/mi.launch.py: its arguments and nodes.

The first test needs launch_ros (a full ROS 2 install) and is skipped without it; the second
reads the file's syntax tree so that its declared interface is checked everywhere.
"""

import ast
import importlib.util
import os

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LAUNCH_FILE = os.path.join(REPO, 'launch', 'mi.launch.py')
ARGUMENTS = {'params_file', 'namespace', 'use_sim_time', 'device', 'start_demo', 'echo'}
EXECUTABLES = ['demo_source', 'mi_node', 'mi_echo']


def test_launch_description_loads():
    pytest.importorskip('launch')
    launch_ros = pytest.importorskip('launch_ros')
    from launch import LaunchDescription
    spec = importlib.util.spec_from_file_location('mi_launch', LAUNCH_FILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    ld = module.generate_launch_description()
    assert isinstance(ld, LaunchDescription)
    assert {a.name for a in ld.get_launch_arguments()} == ARGUMENTS
    defaults = {a.name: a.default_value for a in ld.get_launch_arguments()}
    assert all(defaults[name] for name in ('use_sim_time', 'device', 'start_demo', 'echo'))
    nodes = [e for e in ld.entities if isinstance(e, launch_ros.actions.Node)]
    assert [n.node_executable for n in nodes] == EXECUTABLES
    assert all(n.node_package == 'infonet_ros' for n in nodes)


def test_launch_file_declares_the_documented_interface():
    tree = ast.parse(open(LAUNCH_FILE).read(), LAUNCH_FILE)
    declared, executables = set(), []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, 'id', getattr(node.func, 'attr', ''))
        if name == 'DeclareLaunchArgument':
            declared.add(node.args[0].value)
        if name == 'Node':
            kw = {k.arg: k.value for k in node.keywords}
            assert kw['package'].value == 'infonet_ros'
            executables.append(kw['executable'].value)
    assert declared == ARGUMENTS
    assert executables == EXECUTABLES
    assert any(isinstance(n, ast.FunctionDef) and n.name == 'generate_launch_description'
               for n in tree.body)
