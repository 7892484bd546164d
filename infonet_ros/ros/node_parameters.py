# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The MI node's ROS parameters: declared from :data:`~infonet_ros.streams.node_config.PARAMS`.

Names, defaults, ranges and checks live in :mod:`infonet_ros.streams.node_config` (no ROS);
here they become ROS parameter descriptors, declared parameters, and the checks of a change
requested while the node runs.
"""

from __future__ import annotations

from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor
import rclpy
from rclpy.parameter import Parameter

from infonet_ros.streams.node_config import PARAM_BY_NAME, PARAMS
from infonet_ros.streams.pairs import PairSpecError, parse_pairs


def parameter_descriptor(spec) -> ParameterDescriptor:
    """ROS descriptor of a :class:`~infonet_ros.streams.node_config.ParamSpec`."""
    d = ParameterDescriptor(description=spec.description, read_only=spec.read_only)
    if spec.choices is not None:
        d.additional_constraints = 'one of: ' + ', '.join(repr(c) for c in spec.choices)
    if spec.bounds is not None:
        lo, hi = spec.bounds
        if isinstance(spec.default, float):
            d.floating_point_range = [FloatingPointRange(from_value=float(lo),
                                                         to_value=float(hi), step=0.0)]
        else:
            d.integer_range = [IntegerRange(from_value=int(lo), to_value=int(hi), step=0)]
    return d


def default_pair_names(topics, pairs) -> list:
    """Names built from the pairs, or [] when they do not parse (the config check says why)."""
    try:
        return [p.name for p in parse_pairs(topics, pairs)]
    except (PairSpecError, TypeError, ValueError):
        return []


def declare_node_parameters(node) -> dict:
    """Declare every parameter of :data:`PARAMS` on ``node``; return {name: value}."""
    values = {}
    for spec in PARAMS:
        desc = parameter_descriptor(spec)
        default = spec.default
        if spec.name == 'pair_names':
            # The names the node will use (built from the pairs unless the parameter file
            # gives them), so `ros2 param get/dump` shows them. An unset parameter also
            # makes `ros2 param dump` of some Humble releases fail.
            default = default_pair_names(values['topics'], values['pairs'])
        if isinstance(default, list) and not default:
            # An empty list has no ROS type: declare it typed and unset.
            node.declare_parameter(spec.name, Parameter.Type.STRING_ARRAY, desc)
        else:
            node.declare_parameter(spec.name, default, desc)
        try:
            values[spec.name] = node.get_parameter(spec.name).value
        except rclpy.exceptions.ParameterUninitializedException:
            values[spec.name] = spec.default
    return values


def override_names(node) -> list:
    """
    Return the names of every parameter override the node was given.

    Overrides come from params files, ``-p`` and the ``parameter_overrides`` of the node's
    constructor. rclpy (Humble to Kilted) keeps them, already filtered to this node (``/**``
    and its own name), in ``Node._parameter_overrides``; no public call lists the overrides
    of names the node never declares, and those are exactly the misspelled ones.
    """
    return sorted(getattr(node, '_parameter_overrides', None) or {})


def checked_changes(params) -> tuple[dict, str]:
    """
    Check parameters set at run time; return ({name: value} of ours, refusal reason or '').

    Parameters that are not the node's own (use_sim_time and other parameters of rclpy) are
    left out of the changes; a read-only or invalid one refuses the whole request.
    """
    changes = {}
    for p in params:
        spec = PARAM_BY_NAME.get(p.name)
        if spec is None:
            continue
        if spec.read_only:
            return {}, f'{p.name} is read-only: restart the node'
        reason = spec.check(p.value)
        if reason:
            return {}, reason
        changes[p.name] = float(p.value) if isinstance(spec.default, float) else p.value
    return changes, ''
