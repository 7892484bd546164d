# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Start mi_node with its parameters file, optionally the demo source and a live printer.

ros2 launch infonet_ros mi.launch.py [params_file:=FILE] [namespace:=NS]
[use_sim_time:=false] [device:=auto] [start_demo:=true] [echo:=false]
"""

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument
from launch.conditions import IfCondition
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node
from launch_ros.parameter_descriptions import ParameterValue
from launch_ros.substitutions import FindPackageShare


def generate_launch_description():
    params_file = LaunchConfiguration('params_file')
    namespace = LaunchConfiguration('namespace')
    sim_time = ParameterValue(LaunchConfiguration('use_sim_time'), value_type=bool)
    return LaunchDescription([
        DeclareLaunchArgument(
            'params_file', description='parameters file of mi_node',
            default_value=PathJoinSubstitution([FindPackageShare('infonet_ros'), 'config',
                                                'mi.yaml'])),
        DeclareLaunchArgument('namespace', default_value='',
                              description='namespace of the nodes'),
        DeclareLaunchArgument('use_sim_time', default_value='false',
                              description='follow /clock (bag replay, simulator)'),
        DeclareLaunchArgument('device', default_value='auto',
                              description='torch device of mi_node: auto, cpu or cuda'),
        DeclareLaunchArgument('start_demo', default_value='true',
                              description='also start demo_source (two simulated IMUs)'),
        DeclareLaunchArgument('echo', default_value='false',
                              description='also start mi_echo, printing every estimate'),
        Node(package='infonet_ros', executable='demo_source', name='demo_source',
             namespace=namespace, output='screen', parameters=[{'use_sim_time': sim_time}],
             condition=IfCondition(LaunchConfiguration('start_demo'))),
        Node(package='infonet_ros', executable='mi_node', name='mi_node',
             namespace=namespace, output='screen',
             parameters=[params_file, {
                 'use_sim_time': sim_time,
                 'device': ParameterValue(LaunchConfiguration('device'), value_type=str)}]),
        Node(package='infonet_ros', executable='mi_echo', name='mi_echo',
             namespace=namespace, output='screen', emulate_tty=True,
             parameters=[{'use_sim_time': sim_time}],
             condition=IfCondition(LaunchConfiguration('echo'))),
    ])
