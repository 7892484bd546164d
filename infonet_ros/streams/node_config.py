# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The MI node's configuration, without ROS: its parameters and the YAML files that set them.

The node declares its ROS parameters from :data:`PARAMS` (names, defaults, descriptions,
ranges, read-only flags) and checks them with :meth:`NodeConfig.from_params`; offline tools
build the same configuration from the node's YAML (:func:`load_params_yaml`)::

    >>> cfg = NodeConfig.from_yaml('config/mi.yaml', 'mi_node')
    >>> cfg.window, cfg.update_period, cfg.sync_mode, cfg.max_gap, cfg.slop

The built-in defaults watch nothing: ``topics`` and ``pairs`` come from a parameters file
(``config/mi.yaml`` watches the demo source's two simulated IMUs), and a node started without
them ends with a FATAL line instead of watching topics a robot does not have.
"""

from __future__ import annotations

from dataclasses import dataclass
import fnmatch
import math

from infonet_ros.core.limits import MIN_SAMPLES
from infonet_ros.streams.pairs import PairSpecError, parse_pairs

DEVICES = ('auto', 'cpu', 'cuda')
QOS_PROFILES = ('sensor_data', 'default', 'system_default')
UNCERTAINTY_MODES = ('shift', 'iid', 'off')
QOS_RELIABILITY = ('', 'reliable', 'best_effort')
OUTPUT_DURABILITY = ('volatile', 'transient_local')
EXECUTORS = ('auto', 'events', 'single')


class ConfigError(ValueError):
    """A parameter value the node cannot run with (the message names the parameter)."""


@dataclass(frozen=True)
class ParamSpec:
    """One parameter: default, description, inclusive range or choices, read-only flag."""

    name: str
    default: object
    description: str
    read_only: bool = False
    bounds: tuple | None = None  # (low, high), inclusive
    choices: tuple | None = None
    constraints: str = ''

    def check(self, value) -> str | None:
        """None when ``value`` is acceptable, else the reason."""
        want = type(self.default)
        if want is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if want is list:
            ok = isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value)
            if not ok:
                return f'{self.name} must be a list of strings'
            return None
        if not isinstance(value, want) or (want is int and isinstance(value, bool)):
            return f'{self.name} must be of type {want.__name__}, got {value!r}'
        if want is float and not math.isfinite(value):
            return f'{self.name} must be finite, got {value!r}'
        if self.name == 'n_halves' and (value % 2 or value == 2):
            return f'n_halves must be 0 (no interval) or an even number >= 4, got {value}'
        if self.bounds is not None and not self.bounds[0] <= value <= self.bounds[1]:
            return (f'{self.name} = {value!r} is out of range [{self.bounds[0]}, '
                    f'{self.bounds[1]}]')
        if self.choices is not None and value not in self.choices:
            if self.name == 'device' and isinstance(value, str) and value.startswith('cuda:'):
                return None
            return (f'{self.name} = {value!r} is not one of '
                    f'{", ".join(repr(c) for c in self.choices)}')
        return None


_P = ParamSpec
PARAMS = (
    _P('topics', [], 'Input topics as TOPIC=pkg/msg/Type; relative names resolve in the '
       "node's namespace.", read_only=True),
    _P('pairs', [],
       "Pairs 'TOPIC:FIELD ~ TOPIC:FIELD'; a comma list of fields makes a vector side "
       '(sliced MI).', read_only=True),
    _P('pair_names', [], 'Names of the pairs, one per entry of pairs (default: built from '
       'the sides).', read_only=True),
    _P('window', 1000, 'Paired samples per estimate [count]; windows longer than the '
       "model's largest training set are read as interleaved subsets and averaged.",
       bounds=(MIN_SAMPLES, 100_000)),
    _P('update_rate', 10.0, 'Estimates per second [Hz].', bounds=(0.01, 1000.0)),
    _P('device', 'auto', "Torch device: 'auto' (CUDA if present), 'cpu', 'cuda' or "
       "'cuda:N'.", choices=DEVICES),
    _P('weights', '', "InfoNet checkpoint file, or a shipped model: 'default', 'fine' "
       "(cross-fitted: a lower bound in expectation, conservative) or 'fast' (3-4x the "
       "throughput, less accurate; docs/model_card.md); empty: 'default'.",
       read_only=True),
    _P('sync_mode', 'approximate',
       "Pairing of two topics: 'approximate' (nearest stamps, never further apart than half "
       "the faster topic's sample interval; message_filters ApproximateTimeSynchronizer, "
       "the engine's own matcher where message_filters is missing) or 'interpolate'.",
       read_only=True, choices=('approximate', 'interpolate')),
    _P('slop', 0.01, 'approximate: largest stamp difference within a pair [s].',
       read_only=True, bounds=(1e-6, 10.0)),
    # At most 1000: message_filters' Python synchronizer scans the whole queue for every
    # message (~6 ms per message at 1000 on a 2-core CPU).
    _P('queue_size', 100, 'approximate: messages queued per topic while waiting for a '
       'match [count].', read_only=True, bounds=(1, 1000)),
    _P('max_gap', 0.1, 'interpolate: no pair across a gap of the faster stream longer than '
       'this [s].', read_only=True, bounds=(1e-6, 3600.0)),
    _P('time_jump', 1.0, 'A stamp going back by more than this clears all buffers '
       '(bag loop, simulator reset); smaller steps back are dropped [s].', read_only=True,
       bounds=(0.0, 1e9)),
    _P('use_receive_time', False, 'Stamp samples with the node clock at reception instead of '
       'header.stamp (messages without a header always use the reception time).',
       read_only=True),
    _P('max_buffer', 100_000, 'interpolate: largest per-topic buffer [rows].',
       read_only=True, bounds=(MIN_SAMPLES, 10_000_000)),
    _P('qos_profile', 'sensor_data', 'QoS preset of the input subscriptions.',
       read_only=True, choices=QOS_PROFILES),
    _P('qos_reliability', '', "Override of the preset's reliability: '', 'reliable' or "
       "'best_effort'.", read_only=True, choices=QOS_RELIABILITY),
    _P('qos_depth', 0, "Override of the preset's history depth; 0 keeps the preset's "
       '[count].', read_only=True, bounds=(0, 100_000)),
    _P('output_durability', 'volatile', "Durability of infonet/mi: 'volatile' (keep last 10; "
       "a late subscriber gets the next update) or 'transient_local' (keep last 1, kept for "
       'late subscribers that ask for transient_local: a decision node starting late gets '
       'the last estimate at once).', read_only=True, choices=OUTPUT_DURABILITY),
    _P('single_publisher', True, 'A watched topic with more than one publisher mixes two '
       'streams into one window: withhold its pairs while it lasts (WARN in diagnostics); '
       'false accepts several publishers (a deliberate merge).'),
    _P('per_pair_topics', False, 'Also publish each estimate as MutualInformation on '
       'infonet/mi/<pair_name>.', read_only=True),
    _P('n_slices', 64, 'Random projections per sliced (vector) pair [count].',
       bounds=(1, 4096)),
    _P('slice_seed', 0, 'Seed of the sliced-MI projections (fixed: comparable over time).',
       bounds=(0, 2**31 - 1)),
    _P('uncertainty', 'shift', 'p-value, noise floor and interval of every estimate: '
       "'shift' (null of time shifts of y: valid for autocorrelated sensor windows), 'iid' "
       "(the model's null table, no extra pass for scalar pairs: valid only for i.i.d. "
       "samples) or 'off' (NaN).", choices=UNCERTAINTY_MODES),
    _P('uncertainty_level', 0.9, 'Coverage of the interval [mi_lower, mi_upper] '
       '[probability].', bounds=(0.5, 0.999)),
    _P('null_draws', 19, "Null draws per window: shifts of y ('shift'), permutations of a "
       "sliced pair ('iid'); p-values are multiples of 1 / (null_draws + 1) [count].",
       bounds=(1, 100_000)),
    _P('n_halves', 8, 'Half-samples per window behind the interval: 0 (no interval, '
       'NaN) or an even number >= 4 [count].', bounds=(0, 10_000)),
    _P('uncertainty_slices', 8, 'Projections of a sliced pair behind its p-value and '
       'interval (at most n_slices) [count].', bounds=(1, 4096)),
    _P('null_table', '', "'iid' null table of custom weights (python -m "
       'infonet_ros.core.null_table); empty: the shipped table of the model.',
       read_only=True),
    _P('torch_threads', 0, 'Threads of torch on the CPU; 0: all cores but one, which the '
       'executor keeps for the input [count].',
       read_only=True, bounds=(0, 1024)),
    _P('forward_priority', 0, 'Real-time priority of the forward-pass thread: 0 keeps the '
       'normal scheduling; 1-99 runs it SCHED_FIFO at that priority, ahead of every normal '
       'thread (needs an rtprio limit or CAP_SYS_NICE; refused: a warning, normal '
       'scheduling). Shortens each update on a loaded CPU.', read_only=True,
       bounds=(0, 99)),
    _P('backend', 'torch', "Runtime of the network: 'torch' or 'onnxruntime' (each window "
       'length exported to ONNX at its first use; needs the onnx and onnxruntime packages; '
       'docs/jetson.md).', read_only=True, choices=('torch', 'onnxruntime')),
    _P('precision', 'auto', "Dtype of the network's stages: 'auto' (bf16 on a CPU with "
       "bfloat16 instructions when the model's measured accuracy cost there is below 0.002 "
       "nats, else fp32), 'fp32', 'bf16' or 'fp16' (the last convolution and the readout "
       'stay float32; the onnxruntime backend runs fp32; docs/jetson.md).', read_only=True,
       choices=('auto', 'fp32', 'bf16', 'fp16')),
    _P('jit', True, 'Run each estimate (ranks, network, readout) as a TorchScript trace, '
       'one per window length: same estimates, faster; each new length is traced once '
       '(~1 s).',
       read_only=True),
    _P('raw_intake', True, 'Take input messages serialized and read the watched fields '
       'straight from the bytes (checked against full decoding on the first messages; '
       'types it cannot walk are decoded): less CPU per message.', read_only=True),
    _P('executor', 'auto', "Executor that runs the node: 'events' (rclpy's EventsExecutor, "
       "Kilted, Jazzy from rclpy 7.1.4: takes 1 kHz input at far less CPU), 'single' "
       "(SingleThreadedExecutor) or 'auto' (events where rclpy has it).", read_only=True,
       choices=EXECUTORS),
    _P('diagnostics_period', 1.0, 'Period of /diagnostics [s].', read_only=True,
       bounds=(0.01, 3600.0)),
    _P('warn_period', 5.0, 'Throttle period of warnings about bad input [s].',
       bounds=(0.0, 3600.0)),
    _P('max_rows_per_update', 20_000, 'Largest cost of one update, in estimator rows: per '
       'scalar pair 1, plus null_draws (shift) and n_halves; per sliced pair n_slices, plus '
       'uncertainty_slices x (1 + null_draws + n_halves). A configuration or a change above '
       'it is refused [rows].', bounds=(1, 100_000_000)),
    _P('stale_periods', 10.0, 'Diagnostics: an input is stale (WARN) after this many of '
       'its expected periods without a message, a pair after this many update periods '
       'without an estimate [count].', bounds=(1.0, 1e6)),
    _P('no_input_timeout', 10.0, 'Diagnostics: an input that has received nothing this long '
       'after the start is an ERROR (before: WARN) [s].', bounds=(0.0, 1e6)),
)
PARAM_BY_NAME = {p.name: p for p in PARAMS}
# Parameters of every rclpy node (and prefixes of families of them): not misspellings.
ROS_PARAMETERS = ('use_sim_time', 'start_type_description_service', 'start_parameter_services')
ROS_PREFIXES = ('qos_overrides.',)


@dataclass(frozen=True)
class NodeConfig:
    """A checked configuration of the MI node (one field per parameter, pairs parsed)."""

    topics: tuple
    pairs: tuple  # of PairSpec
    window: int
    update_rate: float
    device: str
    weights: str
    sync_mode: str
    slop: float
    queue_size: int
    max_gap: float
    time_jump: float
    use_receive_time: bool
    max_buffer: int
    qos_profile: str
    qos_reliability: str
    qos_depth: int
    output_durability: str
    single_publisher: bool
    per_pair_topics: bool
    n_slices: int
    slice_seed: int
    uncertainty: str
    uncertainty_level: float
    null_draws: int
    n_halves: int
    uncertainty_slices: int
    null_table: str
    torch_threads: int
    forward_priority: int
    backend: str
    precision: str
    jit: bool
    raw_intake: bool
    executor: str
    diagnostics_period: float
    warn_period: float
    max_rows_per_update: int
    stale_periods: float
    no_input_timeout: float

    @property
    def update_period(self) -> float:
        """Seconds between updates."""
        return 1.0 / self.update_rate

    @classmethod
    def from_params(cls, params: dict | None = None) -> 'NodeConfig':
        """
        Build from a parameter dict (missing names take defaults; unknown names ignored).

        :raises ConfigError: a value out of range / of the wrong type, or unusable pairs.
        """
        params = dict(params or {})
        values = {}
        for spec in PARAMS:
            value = params.get(spec.name, spec.default)
            reason = spec.check(value)
            if reason:
                raise ConfigError(reason)
            if isinstance(spec.default, float):
                value = float(value)
            values[spec.name] = list(value) if isinstance(spec.default, list) else value
        if not values['pairs']:
            raise ConfigError('no pairs to watch: set the parameters topics and pairs (a params '
                              'file; config/mi.yaml is the demo)')
        try:
            pairs = parse_pairs(values['topics'], values['pairs'], values['pair_names'])
        except PairSpecError as exc:
            raise ConfigError(str(exc)) from None
        values['pairs'] = tuple(pairs)
        values['topics'] = tuple(values['topics'])
        del values['pair_names']
        return cls(**values)

    @classmethod
    def from_yaml(cls, path, node_name: str | None = None) -> 'NodeConfig':
        """
        Build from a ROS 2 parameters file (:func:`load_params_yaml`, then :meth:`from_params`).

        :raises OSError: the file cannot be read.
        :raises ValueError: not a parameters file for the node; ConfigError: a bad value.
        """
        return cls.from_params(load_params_yaml(path, node_name))

    def engine_kwargs(self, sync_mode: str | None = None) -> dict:
        """
        Arguments of :class:`~infonet_ros.streams.window_engine.WindowEngine` of this config.

        :param sync_mode: the engine's mode; default: the configured ``sync_mode``, whose
            'approximate' is then the engine's own matcher (offline tools). The node passes
            the mode of :func:`effective_sync_mode`.
        """
        return {'pairs': list(self.pairs), 'window': self.window,
                'sync_mode': sync_mode or self.sync_mode, 'slop': self.slop,
                'queue_size': self.queue_size, 'max_gap': self.max_gap,
                'time_jump': self.time_jump, 'max_buffer': self.max_buffer}

    def uncertainty_options(self):
        """Return the :class:`~infonet_ros.streams.batch_estimate.Uncertainty` of this, or None."""
        if self.uncertainty == 'off':
            return None
        from infonet_ros.streams.batch_estimate import Uncertainty
        return Uncertainty(self.uncertainty, self.uncertainty_level, self.null_draws,
                           self.n_halves, self.uncertainty_slices, self.null_table or None)


def rows_per_update(cfg: NodeConfig) -> int:
    """
    Estimator rows of one update of ``cfg`` (the cost bounded by ``max_rows_per_update``).

    As :func:`infonet_ros.streams.batch_estimate.estimate_windows` spends them: one row per
    scalar pair, ``n_slices`` per sliced pair, and with uncertainty the null draws and
    half-samples (:meth:`~infonet_ros.streams.batch_estimate.Uncertainty.rows`; a half row
    holds half a window but counts as one). Each row holds one window; its time grows with the
    window length, its count bounds memory and CPU of a pass. An upper bound: short windows
    get fewer shifts.
    """
    opts = cfg.uncertainty_options()
    if opts is None:
        return sum(cfg.n_slices if p.sliced else 1 for p in cfg.pairs)
    return sum(opts.rows(cfg.n_slices, p.sliced) for p in cfg.pairs)


def update_cost_error(cfg: NodeConfig) -> str | None:
    """None when one update of ``cfg`` fits ``max_rows_per_update``, else the reason."""
    rows = rows_per_update(cfg)
    if rows <= cfg.max_rows_per_update:
        return None
    sliced = sum(1 for p in cfg.pairs if p.sliced)
    how = (f'{len(cfg.pairs) - sliced} scalar pair(s), {sliced} sliced pair(s) of n_slices '
           f'{cfg.n_slices}')
    if cfg.uncertainty != 'off':
        how += (f', uncertainty {cfg.uncertainty} with null_draws {cfg.null_draws}, n_halves '
                f'{cfg.n_halves}, uncertainty_slices {cfg.uncertainty_slices}')
    return (f'one update would cost {rows:,} estimator rows ({how}), more than '
            f'max_rows_per_update {cfg.max_rows_per_update:,}: lower n_slices, null_draws or '
            'n_halves, set uncertainty off, or raise max_rows_per_update')


def null_table_error(cfg: NodeConfig, estimator) -> str | None:
    """
    None when ``cfg``'s uncertainty can run with ``estimator``, else the reason.

    ``uncertainty: iid`` reads the model's null table for scalar pairs: a shipped model has
    one, a checkpoint of one's own needs ``null_table`` (a file of
    :mod:`infonet_ros.core.null_table` for exactly that checkpoint).
    """
    if cfg.uncertainty != 'iid' or all(p.sliced for p in cfg.pairs):
        return None
    from infonet_ros.core.null_table import NullTableError, table_for
    try:
        table_for(estimator, cfg.null_table or None)
    except (NullTableError, OSError, ValueError) as exc:
        return f'uncertainty iid: {exc}'
    return None


def unknown_parameter_warnings(params: dict) -> list[str]:
    """
    One warning per key of ``params`` that is not a parameter of the node, naming the nearest.

    Keys rclpy itself declares (``use_sim_time``, ``qos_overrides.*`` and the like) are known.
    A misspelled key (``windw: 300``) would otherwise be ignored without a word, and the node
    would run with the default.
    """
    import difflib
    names = list(PARAM_BY_NAME)
    out = []
    for key in sorted(map(str, params)):
        if key in PARAM_BY_NAME or key in ROS_PARAMETERS or key.startswith(ROS_PREFIXES):
            continue
        near = difflib.get_close_matches(key, names, n=1, cutoff=0.6)
        hint = f'; did you mean {near[0]!r}?' if near else ''
        out.append(f'unknown parameter {key!r} is ignored{hint}')
    return out


def effective_sync_mode(requested: str, have_message_filters: bool) -> tuple[str, str | None]:
    """
    Engine mode for the node's ``sync_mode``, and a note for the log (None: nothing to say).

    'approximate' uses message_filters (engine mode 'external') where it is installed, else
    the engine's own approximate matcher, which applies the same pair limit
    (:mod:`infonet_ros.streams.sync`); the offline analysis always uses the latter.
    """
    if requested == 'approximate' and have_message_filters:
        return 'external', None
    if requested == 'approximate':
        return 'approximate', ('message_filters is not installed: pairing topics with the '
                               "engine's own approximate matcher")
    return requested, None


def effective_executor(requested: str, have_events: bool) -> str:
    """
    Executor kind for the node's ``executor`` parameter: 'events' or 'single'.

    :raises ConfigError: 'events' requested where rclpy has no EventsExecutor.
    """
    if requested == 'auto':
        return 'events' if have_events else 'single'
    if requested == 'events' and not have_events:
        raise ConfigError("executor 'events' needs rclpy.experimental.EventsExecutor, which "
                          "this rclpy does not have: use 'single' or 'auto'")
    return requested


# ---- ROS 2 parameter files ---------------------------------------------------------------

def _flatten(d: dict, prefix: str = '') -> dict:
    # Nested mappings under ros__parameters are dotted parameter names in ROS 2.
    out = {}
    for k, v in d.items():
        key = f'{prefix}{k}'
        if isinstance(v, dict):
            out.update(_flatten(v, key + '.'))
        else:
            out[key] = v
    return out


def _node_key_matches(key: str, node_name: str) -> bool:
    key = key.strip()
    full = node_name if node_name.startswith('/') else '/' + node_name
    base = full.rsplit('/', 1)[-1]
    if key in (node_name, full, base, '/' + base):
        return True
    # Wildcards as in rcl: '/**' matches any namespace, '*' one token.
    pattern = key if key.startswith('/') else '/' + key
    return fnmatch.fnmatchcase(full, pattern) or fnmatch.fnmatchcase(full, pattern.replace(
        '/**/', '/*'))


def load_params_yaml(path, node_name: str | None = None) -> dict:
    """
    Read the ``ros__parameters`` of one node from a ROS 2 parameters YAML, flattened.

    Entries under ``/**`` apply to every node; entries under a key matching ``node_name``
    (``mi_node``, ``/mi_node``, ``/ns/mi_node``, wildcards) override them, in file order.
    With ``node_name=None`` only ``/**`` is used, unless the file holds exactly one node key.

    :raises OSError: the file cannot be read.
    :raises ValueError: not YAML, or no ``ros__parameters`` for the node.
    """
    import yaml
    with open(path) as f:
        try:
            doc = yaml.safe_load(f)
        except yaml.YAMLError as exc:
            raise ValueError(f'{path} is not valid YAML: {exc}') from exc
    if not isinstance(doc, dict):
        raise ValueError(f'{path} is not a ROS 2 parameters file (expected a mapping of node '
                         'names to ros__parameters)')
    keys = [k for k, v in doc.items() if isinstance(v, dict) and 'ros__parameters' in v]
    if node_name is None:
        chosen = [k for k in keys if k == '/**'] or (keys if len(keys) == 1 else [])
    else:
        chosen = [k for k in keys if k == '/**' or _node_key_matches(k, node_name)]
        chosen.sort(key=lambda k: k != '/**')  # stable: '/**' first, then file order
    if not chosen:
        who = f'node {node_name!r}' if node_name else "'/**'"
        raise ValueError(f'{path} has no ros__parameters for {who} (keys: '
                         f'{", ".join(map(str, doc)) or "none"})')
    params: dict = {}
    for k in chosen:
        values = doc[k]['ros__parameters']
        if values is not None and not isinstance(values, dict):
            raise ValueError(f'{path}: ros__parameters of {k!r} must be a mapping of '
                             f'parameter names to values, got {type(values).__name__}')
        params.update(_flatten(values or {}))
    return params
