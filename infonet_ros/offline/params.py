# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The node configuration of a bag analysis: the node's YAML, pair flags and overrides.

An analysis runs with the node's own parameters (:class:`~infonet_ros.streams.node_config.
NodeConfig`): read from the node's parameter YAML when given, with pairs given on the command
line (``--pair``, ``--matrix``) replacing the YAML's, flags overriding single parameters
(:data:`OVERRIDABLE`), and the topics' message types taken from the bag itself.
"""

from __future__ import annotations

from infonet_ros.streams.mi_matrix import parse_matrix
from infonet_ros.streams.node_config import (ConfigError, load_params_yaml, NodeConfig,
                                             unknown_parameter_warnings)
from infonet_ros.streams.pairs import normalize_msg_type, PairSpecError, parse_pair, parse_topics

# Node parameters that flags of ``infonet-ros analyze`` can override (same names, '-' for '_').
OVERRIDABLE = ('window', 'update_rate', 'sync_mode', 'slop', 'queue_size', 'max_gap',
               'time_jump', 'use_receive_time', 'max_buffer', 'n_slices', 'slice_seed',
               'uncertainty', 'uncertainty_level', 'null_draws', 'n_halves',
               'uncertainty_slices', 'null_table', 'device', 'weights', 'backend', 'precision',
               'jit')


class AnalysisError(RuntimeError):
    """A configuration or bag the analysis cannot use (the message says why)."""


def build_params(bag_topics: dict, params_file=None, node_name: str = 'mi_node',
                 pairs=(), pair_names=(), matrices=(), overrides=None
                 ) -> tuple[dict, list, list]:
    """
    Node parameters for the analysis: YAML, then pairs/matrices/flags, topics from the bag.

    :param bag_topics: ``BagSource.topics()`` of the bag: {topic: (message type, count)}.
    :param params_file: the node's parameter YAML, or None.
    :param node_name: node key in ``params_file``.
    :param pairs: pair strings ``'X_SIDE ~ Y_SIDE'``; with ``matrices``, they replace the
        YAML's pairs.
    :param pair_names: one name per entry of ``pairs`` (default: names built from the sides).
    :param matrices: matrix specs ``[NAME=]SPEC`` (:func:`~infonet_ros.streams.mi_matrix.
        parse_matrix`); their cells become pairs.
    :param overrides: {parameter: value}; None values are left out.

    :return: (params dict for NodeConfig.from_params, list of MatrixSpec, warnings: one per
        key of ``params_file`` that is not a node parameter, naming the nearest one).
    """
    params: dict = {}
    warnings: list = []
    if params_file:
        try:
            params = load_params_yaml(params_file, node_name)
        except (OSError, ValueError) as exc:
            raise AnalysisError(f'cannot read parameters: {exc}') from None
        # A misspelled key would be ignored, and the analysis run with the default.
        warnings = [f'{params_file}: {w}' for w in unknown_parameter_warnings(params)]
    specs = _matrix_specs(matrices)
    if pairs or specs:
        params['pairs'], params['pair_names'] = _flag_pairs(bag_topics, pairs, pair_names,
                                                            specs)
    elif 'pairs' not in params:
        raise AnalysisError("no pairs to analyze: give --params FILE (the node's YAML), "
                            "--pair 'TOPIC:FIELD ~ TOPIC:FIELD' or --matrix SPEC")
    declared = {}
    for entry in params.get('topics', []):
        topic, _, msg_type = str(entry).partition('=')
        declared[topic.strip()] = msg_type.strip()
    params['topics'] = bag_topic_entries(bag_topics, declared)
    params.update({k: v for k, v in (overrides or {}).items() if v is not None})
    return params, specs, warnings


def _matrix_specs(matrices) -> list:
    # MatrixSpec of each --matrix, named m1, m2, ... unless named; names must differ because
    # each names its figure file.
    specs = []
    for k, text in enumerate(matrices):
        try:
            specs.append(parse_matrix(text, default_name=f'm{k + 1}'))
        except PairSpecError as exc:
            raise AnalysisError(str(exc)) from None
    if len({s.name for s in specs}) != len(specs):
        raise AnalysisError('two matrices have the same name: name them NAME=SPEC')
    return specs


def _flag_pairs(bag_topics, pairs, pair_names, specs) -> tuple[list, list]:
    # (pair strings, pair names) of --pair and the cells of --matrix.
    if pair_names and len(pair_names) != len(pairs):
        raise AnalysisError(f'{len(pair_names)} --pair-name for {len(pairs)} --pair')
    all_pairs, names = list(pairs), list(pair_names)
    if not names and pairs:
        known = parse_topics(bag_topic_entries(bag_topics, {}))
        try:
            names = [parse_pair(p, known).name for p in pairs]
        except PairSpecError as exc:
            raise AnalysisError(str(exc)) from None
    for s in specs:
        p, n = s.pair_strings()
        all_pairs += p
        names += n
    return all_pairs, names


def bag_topic_entries(bag_topics: dict, declared: dict) -> list[str]:
    """
    Return the node's ``topics`` entries (``TOPIC=TYPE``) of every topic of the bag.

    The type is the one recorded in the bag; a type ``declared`` for a topic (in the YAML)
    must be the same. Topics whose type is not ``pkg/msg/Type`` are left out.
    """
    out = []
    for topic, (msg_type, _) in sorted(bag_topics.items()):
        if topic in declared and declared[topic]:
            try:
                want = normalize_msg_type(declared[topic])
            except PairSpecError as exc:
                raise AnalysisError(str(exc)) from None
            if want != msg_type:
                raise AnalysisError(f'topic {topic} is {msg_type} in the bag but {want} in '
                                    'the parameters')
        if msg_type and msg_type.count('/') == 2:
            out.append(f'{topic}={msg_type}')
    return out


def make_config(params: dict):
    """NodeConfig.from_params, with its ConfigError as AnalysisError."""
    try:
        return NodeConfig.from_params(params)
    except ConfigError as exc:
        raise AnalysisError(str(exc)) from None
