# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Start mi_node with its parameters file, optionally the demo source and a live printer.

ros2 launch infonet_ros mi.launch.py [params_file:=FILE] [namespace:=NS] [weights:=NAME]
[device:=DEV] [use_sim_time:=false] [log_level:=info] [respawn:=false] [start_demo:=true]
[echo:=false]

Every node uses relative topic names, so ``namespace`` (or a PushRosNamespace / SetRemap
around an IncludeLaunchDescription of this file) moves its inputs and outputs together.
The arguments are read when the launch runs (an OpaqueFunction): the same file works from
Humble, whose actions take plain values only, to Kilted.
"""

import os

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, OpaqueFunction, Shutdown
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node
from launch_ros.substitutions import FindPackageShare

ARGUMENTS = (
    ('params_file', None, 'parameters file of mi_node (default: the demo, config/mi.yaml); '
     'a file that does not exist fails the launch'),
    ('namespace', '', 'namespace of every node; topic names are relative, so it moves inputs '
     'and outputs'),
    ('weights', '', "model of mi_node: 'default', 'fine', 'fast' or a checkpoint file; "
     'empty: the params file'),
    ('device', '', 'torch device of mi_node: auto, cpu, cuda or cuda:N; empty: the params '
     'file'),
    ('use_sim_time', 'false', 'follow /clock (bag replay, simulator)'),
    ('log_level', 'info', 'log level of every node: debug, info, warn, error or fatal'),
    ('respawn', 'false', 'restart mi_node when it exits (2 s later); false: its exit ends the '
     'launch'),
    ('start_demo', 'true', 'also start demo_source (two simulated IMUs)'),
    ('echo', 'false', 'also start mi_echo, printing every estimate'),
)
TRUE = ('true', '1', 'yes', 'on')
LOG_LEVELS = ('debug', 'info', 'warn', 'error', 'fatal')
RESPAWN_DELAY_S = 2.0


class LaunchArgumentError(RuntimeError):
    """A launch argument that cannot be used (the message names it)."""


def _flag(context, name: str) -> bool:
    value = LaunchConfiguration(name).perform(context).strip().lower()
    if value not in TRUE + ('false', '0', 'no', 'off'):
        raise LaunchArgumentError(f'{name}:={value!r} is not a boolean (true or false)')
    return value in TRUE


def _nodes(context):
    """Build the nodes from the argument values (raises LaunchArgumentError)."""
    params_file = LaunchConfiguration('params_file').perform(context)
    if not os.path.isfile(params_file):
        raise LaunchArgumentError(f'params_file {params_file!r} does not exist')
    namespace = LaunchConfiguration('namespace').perform(context)
    level = LaunchConfiguration('log_level').perform(context).strip().lower()
    if level not in LOG_LEVELS:
        raise LaunchArgumentError(f'log_level:={level!r} is not one of {", ".join(LOG_LEVELS)}')
    sim_time = {'use_sim_time': _flag(context, 'use_sim_time')}
    overrides = dict(sim_time)
    for name in ('weights', 'device'):
        value = LaunchConfiguration(name).perform(context).strip()
        if value:
            overrides[name] = value
    ros_args = ['--ros-args', '--log-level', level]
    respawn = _flag(context, 'respawn')
    mi_node = Node(package='infonet_ros', executable='mi_node', name='mi_node',
                   namespace=namespace, output='screen', arguments=ros_args,
                   parameters=[params_file, overrides], respawn=respawn,
                   respawn_delay=RESPAWN_DELAY_S,
                   # Without respawn, mi_node ending (a FATAL configuration, a crash) ends the
                   # launch: the demo must not publish on for nobody.
                   on_exit=None if respawn else [Shutdown(reason='mi_node exited')])
    nodes = [mi_node]
    if _flag(context, 'start_demo'):
        nodes.insert(0, Node(package='infonet_ros', executable='demo_source',
                             name='demo_source', namespace=namespace, output='screen',
                             arguments=ros_args, parameters=[sim_time]))
    if _flag(context, 'echo'):
        nodes.append(Node(package='infonet_ros', executable='mi_echo', name='mi_echo',
                          namespace=namespace, output='screen', emulate_tty=True,
                          arguments=ros_args, parameters=[sim_time]))
    return nodes


def generate_launch_description():
    demo_params = PathJoinSubstitution([FindPackageShare('infonet_ros'), 'config', 'mi.yaml'])
    declared = [DeclareLaunchArgument(name, default_value=demo_params if default is None
                                      else default, description=text)
                for name, default, text in ARGUMENTS]
    return LaunchDescription(declared + [OpaqueFunction(function=_nodes)])
