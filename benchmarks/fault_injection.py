# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Faults injected into a running mi_node over real DDS, against what the node did.

Two sensor_msgs/Imu topics at 200 Hz with the same stamps (synthetic, from t = 1000 s),
published by this process; the node (the installed ``mi_node`` executable, default settings:
``sync_mode approximate``) watches the pair ``ab`` (linear_acceleration.x of both topics,
Gaussian with a true MI of 0.5 nats), window 400, 2 updates/s, diagnostics every 0.5 s.
Each case is one short run of a fresh node with one fault; the clean run is the reference.

Recorded per case: the estimates of ``ab`` published (count, mean MI of the windows after the
first estimate, difference to the clean run), the node's counters (per-topic drops by reason
and time jumps, pairs refused: the last /diagnostics report), the worst /diagnostics level
while the fault was on (from the first estimate, or from the start when none came, to the
end of the input) with its status and message, and how the node ended: SIGINT at the end of
each run (the exit status and the seconds to exit), or by itself (bad configuration).

    python benchmarks/fault_injection.py [--quick] [--update-docs] [--name NAME]

Prints the table and writes benchmarks/results/NAME.{json,md} (NAME: fault_injection;
--quick: shorter runs, fault_injection_quick). ``--update-docs`` rewrites the table in
docs/node.md ("Faults and what the node does", after its marker line) from the result.
Needs the built package (source install/setup.bash).
"""

import argparse
import datetime
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time

import numpy as np

import results_io  # benchmarks/, the script's own folder

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCS = os.path.join(REPO, 'docs', 'node.md')
MARKER = '<!-- faults table: benchmarks/fault_injection.py -->'
RATE_HZ = 200.0
PERIOD_NS = 5_000_000
T0_NS = 1_000_000_000_000
TRUE_MI = 0.5  # nats, of the pair ab
RHO = math.sqrt(1.0 - math.exp(-2.0 * TRUE_MI))
TOPICS = ('/f/a', '/f/b')
SCALAR_PAIR = '/f/a:linear_acceleration.x ~ /f/b:linear_acceleration.x'
SLICED_PAIR = ('/f/a:linear_acceleration.y,linear_acceleration.z'
               ' ~ /f/b:linear_acceleration.y,linear_acceleration.z')
BASE_PARAMS = {'topics': [f'{t}=sensor_msgs/msg/Imu' for t in TOPICS], 'pairs': [SCALAR_PAIR],
               'pair_names': ['ab'], 'window': 400, 'update_rate': 2.0, 'device': 'cpu',
               'qos_reliability': 'reliable', 'qos_depth': 1000, 'diagnostics_period': 0.5}
LEVELS = ('OK', 'WARN', 'ERROR', 'STALE')
START_S = 120.0  # bound on start-up + discovery (torch import under load)
EXIT_S = 20.0  # bound on the exit after SIGINT, then SIGTERM and SIGKILL
FAULT_AT_S = 6.0  # onset of the burst and of the clock jump


# ---- the cases ---------------------------------------------------------------------------

class Feed:
    """Clean input: per tick k one message per topic, same stamp, ab correlated (RHO)."""

    name, injected = 'clean', 'none (reference)'
    params: dict = {}
    duration = 14.0

    def __init__(self, seed):
        # The data come from one generator, the faults from another: every case sees the
        # clean run's samples, less what its fault takes away.
        self.data_rng = np.random.default_rng(seed)
        self.rng = np.random.default_rng(seed + 1)

    def values(self):
        z = self.data_rng.standard_normal(4)
        return [(z[0], z[2]), (RHO * z[0] + math.sqrt(1 - RHO ** 2) * z[1], z[3])]

    def tick(self, k):
        """Return [(topic index, stamp [ns], (ax, ay))] to publish at tick k."""
        stamp = T0_NS + k * PERIOD_NS
        return [(i, stamp, v) for i, v in enumerate(self.values())]

    def action(self, probe, t):
        """Do something besides publishing at t seconds into the run (parameter requests)."""


class Loss(Feed):
    name, injected = 'loss', '1 % of the messages of each topic not sent'

    def tick(self, k):
        return [m for m in super().tick(k) if self.rng.random() >= 0.01]


class Burst(Feed):
    name = 'burst'
    injected = f'/f/b silent 0.5 s at {FAULT_AT_S:g} s, then its 100 messages at once'
    held: list = []

    def tick(self, k):
        msgs = super().tick(k)
        start = int(FAULT_AT_S * RATE_HZ)
        if start <= k < start + 100:
            self.held = self.held + [msgs.pop(1)]
        elif k == start + 100:
            msgs, self.held = self.held + msgs, []
        return msgs


class ZeroStamps(Feed):
    name, injected = 'zero stamps', 'header stamp 0 on 1 message in 100 per topic'

    def tick(self, k):
        return [(i, 0 if self.rng.random() < 0.01 else s, v) for i, s, v in super().tick(k)]


class WrongType(Feed):
    name, injected = 'wrong type', 'a std_msgs/String publisher on /f/b beside the Imu one'
    foreign = True


class NaNs(Feed):
    name, injected = 'NaN fields', 'linear_acceleration.x NaN in 1 message in 50 per topic'

    def tick(self, k):
        return [(i, s, (math.nan, v[1]) if self.rng.random() < 0.02 else v)
                for i, s, v in super().tick(k)]


class ClockJump(Feed):
    name, injected = 'clock jump', f'stamps of both topics 10 s back at {FAULT_AT_S:g} s'

    def tick(self, k):
        back = 10_000_000_000 if k >= int(FAULT_AT_S * RATE_HZ) else 0
        return [(i, s - back, v) for i, s, v in super().tick(k)]


class SecondClock(Feed):
    name = 'second clock'
    injected = '/f/b stamped by a clock half an interval (2.5 ms) ahead of /f/a'

    def tick(self, k):
        return [(i, s + (PERIOD_NS // 2 if i == 1 else 0), v)
                for i, s, v in super().tick(k)]


class NoInput(Feed):
    name, injected = 'no input', 'publishers matched, nothing published'

    def tick(self, k):
        return []


class ParameterAbuse(Feed):
    name = 'parameter abuse'
    injected = ('at 5 s, by SetParameters: uncertainty_slices 4096, then null_draws 100000, '
                'n_slices 4096 (a sliced pair added)')
    params = {'pairs': [SCALAR_PAIR, SLICED_PAIR], 'pair_names': ['ab', 'sliced']}
    requests = (('uncertainty_slices', 4096), ('null_draws', 100_000), ('n_slices', 4096))

    def action(self, probe, t):
        if t >= 5.0 and not probe.requests_started:
            probe.requests_started = True
            probe.set_parameters(self.requests)


class Sigint(Feed):
    name = 'SIGINT in a pass'
    injected = ('SIGINT while an update of 800,000 rows runs (sliced pair, uncertainty iid, '
                'null_draws 100000, max_rows_per_update raised)')
    params = {'pairs': [SCALAR_PAIR, SLICED_PAIR], 'pair_names': ['ab', 'sliced'],
              'uncertainty': 'iid',
              'null_draws': 100_000, 'max_rows_per_update': 10_000_000, 'torch_threads': 1}
    duration = 8.0


CASES = (Feed, Loss, Burst, ZeroStamps, WrongType, NaNs, ClockJump, SecondClock, NoInput,
         ParameterAbuse, Sigint)


# ---- the probe: publishers and subscribers in this process -------------------------------

class Probe:
    """Publishers of the inputs, subscribers of the node's estimates and diagnostics."""

    def __init__(self):
        import rclpy
        from diagnostic_msgs.msg import DiagnosticArray
        from rclpy.executors import SingleThreadedExecutor
        from rclpy.qos import QoSHistoryPolicy, QoSProfile, QoSReliabilityPolicy
        from rcl_interfaces.srv import SetParameters
        from sensor_msgs.msg import Imu

        from infonet_ros.msg import MutualInformationArray
        self.node = rclpy.create_node('fault_injection_probe')
        self.executor = SingleThreadedExecutor()
        self.executor.add_node(self.node)
        deep = QoSProfile(depth=5000, history=QoSHistoryPolicy.KEEP_LAST,
                          reliability=QoSReliabilityPolicy.RELIABLE)
        self.imu_type = Imu
        self.pubs = [self.node.create_publisher(Imu, t, deep) for t in TOPICS]
        self.node.create_subscription(MutualInformationArray, '/infonet/mi', self._array,
                                      QoSProfile(depth=100,
                                                 reliability=QoSReliabilityPolicy.RELIABLE))
        self.node.create_subscription(DiagnosticArray, '/diagnostics', self._diag, 50)
        self.client = self.node.create_client(SetParameters, '/mi_node/set_parameters')
        self.reset()

    def reset(self):
        self.arrays, self.diags, self.answers = [], [], []
        self.requests_started, self._pending = False, []

    def _array(self, msg):
        self.arrays.append((time.monotonic(), [(e.pair_name, e.mi) for e in msg.estimates]))

    def _diag(self, msg):
        statuses = []
        for s in msg.status:
            level = s.level[0] if isinstance(s.level, bytes) else int(s.level)
            statuses.append((s.name.split(': ', 1)[-1], level, s.message,
                             {kv.key: kv.value for kv in s.values}))
        self.diags.append((time.monotonic(), statuses))

    def spin(self, seconds):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.executor.spin_once(timeout_sec=0.02)
            self._poll_requests()

    def spin_until(self, predicate, timeout):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if predicate():
                return True
            self.executor.spin_once(timeout_sec=0.05)
        return predicate()

    def publish(self, side, stamp_ns, values):
        m = self.imu_type()
        m.header.stamp.sec, m.header.stamp.nanosec = divmod(int(stamp_ns), 1_000_000_000)
        m.linear_acceleration.x, m.linear_acceleration.y = map(float, values)
        m.linear_acceleration.z = float(values[0]) * 0.5
        self.pubs[side].publish(m)

    def set_parameters(self, requests):
        """Send the requests one after the other (answers in self.answers)."""
        self._pending = list(requests)
        self._future = None

    def _poll_requests(self):
        from rcl_interfaces.msg import Parameter, ParameterType, ParameterValue
        from rcl_interfaces.srv import SetParameters
        if self._pending and getattr(self, '_future', None) is None:
            name, value = self._pending[0]
            v = ParameterValue()
            if isinstance(value, bool):
                v.type, v.bool_value = ParameterType.PARAMETER_BOOL, value
            else:
                v.type, v.integer_value = ParameterType.PARAMETER_INTEGER, value
            self._future = self.client.call_async(SetParameters.Request(
                parameters=[Parameter(name=name, value=v)]))
        elif getattr(self, '_future', None) is not None and self._future.done():
            name, value = self._pending.pop(0)
            (res,) = self._future.result().results
            self.answers.append({'name': name, 'value': value, 'successful': res.successful,
                                 'reason': res.reason})
            self._future = None


# ---- one run of the node -----------------------------------------------------------------

def mi_node_executable() -> str:
    """Return the installed mi_node (lib/infonet_ros/mi_node under AMENT_PREFIX_PATH)."""
    for prefix in os.environ.get('AMENT_PREFIX_PATH', '').split(os.pathsep):
        path = os.path.join(prefix, 'lib', 'infonet_ros', 'mi_node')
        if prefix and os.path.isfile(path):
            return path
    raise SystemExit('fault_injection: mi_node not found in AMENT_PREFIX_PATH '
                     '(source install/setup.bash)')


def start_node(params_file, tmp, env, tag):
    """Start mi_node in its own process group; return (Popen, log path)."""
    import yaml
    if isinstance(params_file, dict):
        path = os.path.join(tmp, f'{tag}.yaml')
        with open(path, 'w') as f:
            yaml.safe_dump({'/**': {'ros__parameters': params_file}}, f)
        params_file = path
    log = os.path.join(tmp, f'{tag}.log')
    with open(log, 'wb') as out:
        proc = subprocess.Popen([sys.executable, mi_node_executable(), '--ros-args',
                                 '--params-file', params_file], stdout=out,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                                start_new_session=True)
    return proc, log


def stop_node(proc) -> tuple[int, float, str]:
    """SIGINT the node's group (then SIGTERM, SIGKILL); return (status, seconds, signal)."""
    t0 = time.monotonic()
    used = 'none (exited)'
    for sig, wait in ((signal.SIGINT, EXIT_S), (signal.SIGTERM, 3.0), (signal.SIGKILL, 3.0)):
        if proc.poll() is not None:
            break
        used = sig.name
        try:
            os.killpg(proc.pid, sig)
            proc.wait(timeout=wait)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            continue
    took = time.monotonic() - t0
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # children of the group, if any
    except (ProcessLookupError, PermissionError):
        pass
    return proc.wait(), took, used


def run_foreign_publisher() -> int:
    """Publish std_msgs/String on /f/b, a watched Imu topic, 10 times a second until killed."""
    import rclpy
    from std_msgs.msg import String
    rclpy.init()
    node = rclpy.create_node('foreign_publisher')
    pub = node.create_publisher(String, '/f/b', 10)
    try:
        while rclpy.ok():
            pub.publish(String(data='not an Imu'))
            rclpy.spin_once(node, timeout_sec=0.1)
    except KeyboardInterrupt:
        pass
    return 0


def read_log(path) -> str:
    with open(path, 'rb') as f:
        return f.read().decode('utf-8', errors='replace')


def run_case(case_cls, probe, args, tmp, env) -> dict:
    """Run a fresh node under one fault; return what it did."""
    case = case_cls(26)
    duration = case.duration * (0.6 if args.quick else 1.0)
    probe.reset()
    proc, log = start_node({**BASE_PARAMS, **case.params}, tmp, env, case.name.replace(' ', '_'))
    foreign = None
    if getattr(case, 'foreign', False):  # another process: one participant holds one type
        foreign = subprocess.Popen([sys.executable, __file__, '--foreign-publisher'], env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                   start_new_session=True)
    try:
        if not probe.spin_until(lambda: proc.poll() is not None or (
                probe.node.count_publishers('/infonet/mi') > 0
                and all(p.get_subscription_count() > 0 for p in probe.pubs)), START_S):
            raise RuntimeError(f'mi_node did not start within {START_S:g} s:\n{read_log(log)}')
        if proc.poll() is not None:
            raise RuntimeError(f'mi_node exited at start:\n{read_log(log)}')
        t_start = time.monotonic()
        k = 0
        while True:
            now = time.monotonic() - t_start
            if now >= duration:
                break
            if k * PERIOD_NS * 1e-9 <= now:
                for side, stamp, values in case.tick(k):
                    probe.publish(side, stamp, values)
                k += 1
                case.action(probe, now)
                probe.executor.spin_once(timeout_sec=0.0)
                probe._poll_requests()
            else:
                probe.executor.spin_once(timeout_sec=0.002)
                probe._poll_requests()
        t_end = time.monotonic()
        if case_cls is Sigint:
            busy = max((int(v.get('updates_skipped_busy', 0)) for _, st in probe.diags
                        for n, _, _, v in st if n == 'estimator'), default=0)
        else:
            probe.spin(1.2)  # the last reports of the run
            busy = None
        status, took, used = stop_node(proc)
    finally:
        if proc.poll() is None:
            stop_node(proc)
        if foreign is not None:
            stop_node(foreign)
    return summarize(case, probe, t_start, t_end, k, (status, took, used), busy, read_log(log))


def summarize(case, probe, t_start, t_end, ticks, ended, busy, log) -> dict:
    """Estimates, counters, worst diagnostics and exit of one run."""
    est = [(t, mi) for t, arr in probe.arrays for name, mi in arr if name == 'ab']
    first = est[0][0] if est else t_start
    window = [mi for t, mi in est if first < t <= t_end and math.isfinite(mi)]
    worst = (-1, '', '')
    for t, statuses in probe.diags:
        if first + 0.5 < t <= t_end + 0.3:
            for name, level, message, _ in statuses:
                if level >= worst[0]:  # the last report at the worst level
                    worst = (level, name, message)
    last = {name: values for name, _, _, values in probe.diags[-1][1]} if probe.diags else {}
    counters = {}
    for topic in TOPICS:
        values = last.get(f'input {topic}', {})
        for key, value in values.items():
            if key.startswith('dropped_') and key != 'dropped_total' or key == 'time_jumps':
                if value in ('0', ''):
                    continue
                counters[f'{topic} {key}'] = int(float(value))
    skipped = int(float(last.get('estimator', {}).get('updates_skipped_busy', 0)))
    if skipped:
        counters['updates_skipped_busy'] = skipped
    pair = last.get('pair ab', {})
    for key in ('pairs_formed', 'pairs_refused'):
        if key in pair:
            counters[f'ab {key}'] = int(float(pair[key]))
    lines = [ln.strip() for ln in log.splitlines()]
    status, took, used = ended
    return {
        'case': case.name, 'injected': case.injected, 'ticks_published': ticks,
        'estimates_ab': len(est), 'estimates_ab_nan': sum(1 for _, mi in est
                                                          if not math.isfinite(mi)),
        'mean_mi_ab': float(np.mean(window)) if window else None,
        'sd_mi_ab': float(np.std(window)) if len(window) > 1 else None,
        'counters': counters,
        'worst_level': LEVELS[worst[0]] if worst[0] >= 0 else None,
        'worst_status': worst[1], 'worst_message': worst[2],
        'parameter_answers': list(probe.answers),
        'updates_skipped_busy_at_sigint': busy,
        'exit_status': status, 'seconds_to_exit': round(took, 2), 'stopped_by': used,
        'traceback': 'Traceback' in log or 'terminate called' in log,
        'log_warnings': sorted({ln[:200] for ln in lines if '[WARN]' in ln or '[ERROR]' in ln
                                or 'FATAL' in ln})[:8],
    }


def run_bad_config(tmp, env) -> dict:
    """Start the node with a YAML syntax error in its params file; it must end by itself."""
    path = os.path.join(tmp, 'syntax.yaml')
    with open(path, 'w') as f:
        f.write('/**:\n  ros__parameters:\n    window: [1, 2\n')
    t0 = time.monotonic()
    proc, log = start_node(path, tmp, env, 'bad_config')
    try:
        proc.wait(timeout=START_S)
        status, took, used = proc.returncode, time.monotonic() - t0, 'none (exited)'
    except subprocess.TimeoutExpired:
        status, _, used = stop_node(proc)
        took = time.monotonic() - t0
    out = read_log(log)
    fatal = [ln.strip().replace(path, 'syntax.yaml') for ln in out.splitlines()
             if 'FATAL' in ln]
    return {'case': 'bad configuration', 'injected': 'params file with a YAML syntax error',
            'ticks_published': 0, 'estimates_ab': 0, 'estimates_ab_nan': 0,
            'mean_mi_ab': None, 'sd_mi_ab': None, 'counters': {}, 'worst_level': None,
            'worst_status': '', 'worst_message': '', 'parameter_answers': [],
            'updates_skipped_busy_at_sigint': None, 'exit_status': status,
            'seconds_to_exit': round(took, 2), 'stopped_by': used,
            'traceback': 'Traceback' in out, 'fatal_lines': fatal,
            'log_warnings': fatal[:8]}


# ---- the table ---------------------------------------------------------------------------

def _did(r: dict, clean_mi) -> str:
    """Format the estimates column: count, mean MI, its difference to the clean run."""
    if not r['estimates_ab']:
        return 'none'
    text = f"{r['estimates_ab']}"
    if r['mean_mi_ab'] is not None:
        text += f", {r['mean_mi_ab']:.3f}"
        if clean_mi is not None and r['case'] != 'clean':
            text += f" ({r['mean_mi_ab'] - clean_mi:+.3f})"
    if r['estimates_ab_nan']:
        text += f", {r['estimates_ab_nan']} NaN"
    return text


def _diagnostics(r: dict) -> str:
    if r['case'] == 'bad configuration':
        return '; '.join(r['fatal_lines']) or 'no FATAL line'
    if r['worst_level'] is None:
        return 'none received'
    if r['worst_level'] == 'OK':
        return 'OK (every status)'
    return f"{r['worst_level']} `{r['worst_status']}`: {r['worst_message']}"


def _counters(r: dict) -> str:
    parts = [f'{k} {v}' for k, v in r['counters'].items()]
    parts += [f"{a['name']} {a['value']}: "
              + ('accepted' if a['successful'] else f"refused ({a['reason']})")
              for a in r['parameter_answers']]
    return '; '.join(parts) or '-'


def _exit(r: dict) -> str:
    text = f"{r['exit_status']} after {r['seconds_to_exit']:.1f} s"
    if r['stopped_by'] not in ('SIGINT', 'none (exited)'):
        text += f" ({r['stopped_by']} needed)"
    return text + (', traceback' if r['traceback'] else '')


def table(result: dict) -> list[str]:
    """Return the faults table as markdown lines (also the table in docs/node.md)."""
    clean = next((r['mean_mi_ab'] for r in result['cases'] if r['case'] == 'clean'), None)
    lines = ['| fault | injected | estimates of `ab` (count, mean MI [nats], vs clean) | '
             'counters (last report) | worst /diagnostics while faulty | exit (status, '
             'seconds) |', '| --- | --- | --- | --- | --- | --- |']
    for r in result['cases']:
        cells = [r['case'], r['injected'], _did(r, clean), _counters(r), _diagnostics(r),
                 _exit(r)]
        lines.append('| ' + ' | '.join(c.replace('|', '/').replace('\n', ' ')
                                       for c in cells) + ' |')
    return lines


def setup_text(result: dict) -> str:
    """Describe the setup of the runs, and the noise of the clean run's mean MI."""
    c = result['config']
    clean = next((r for r in result['cases'] if r['case'] == 'clean'), None)
    noise = ''
    if clean and clean['sd_mi_ab'] is not None:
        # Updates every half window: consecutive windows share half their samples.
        n = clean['estimates_ab'] / 2
        noise = (f" The clean windows' MI has a standard deviation of {clean['sd_mi_ab']:.3f}: "
                 f"a mean over about {clean['estimates_ab']} half-overlapping windows is "
                 f"known to about {clean['sd_mi_ab'] / math.sqrt(max(n, 1)):.3f} nats.")
    return (f"{result['date']}; {result['machine']}. Two Imu topics at {RATE_HZ:g} Hz, same "
            f"stamps, pair `ab` with a true MI of {TRUE_MI} nats, window {c['window']}, "
            f"{c['update_rate']:g} updates/s, sync_mode approximate, default weights, "
            f"runs of {c['seconds']:g} s (SIGINT case {c['sigint_seconds']:g} s); each run "
            'ends with SIGINT. Worst diagnostics: from the first estimate (or the start when '
            'none came) to the end of the input; the last report at that level.' + noise)


def render(result: dict) -> str:
    return '\n'.join(['# mi_node under injected faults', '', setup_text(result), '',
                      *table(result), ''])


def update_docs(result: dict, path: str = DOCS):
    """Replace the text between the marker line and the next '## ' heading of docs/node.md."""
    with open(path, encoding='utf-8') as f:
        lines = f.read().split('\n')
    start = lines.index(MARKER)
    end = next(i for i in range(start + 1, len(lines)) if lines[i].startswith('## '))
    intro = ('Generated by `python benchmarks/fault_injection.py --update-docs` '
             '([fault_injection.md](../benchmarks/results/fault_injection.md)). '
             + setup_text(result))
    body = ['', *textwrap.wrap(intro, 95, break_on_hyphens=False), '', *table(result), '']
    with open(path, 'w', encoding='utf-8') as f:
        f.write('\n'.join(lines[:start + 1] + body + lines[end:]))
    print(f'updated {path}', file=sys.stderr)


# ---- main --------------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.strip().split('\n')[0])
    p.add_argument('--update-docs', action='store_true',
                   help="rewrite the faults table of docs/node.md from this run's result")
    p.add_argument('--cases', default='',
                   help='comma-separated case names to run (default: all; a partial run does '
                        'not update the docs)')
    p.add_argument('--foreign-publisher', action='store_true', help=argparse.SUPPRESS)
    results_io.add_output_arguments(p, 'fault_injection')  # --quick: shorter runs
    return p


def ros_env(tmp: str) -> dict:
    """Return this environment with a private ROS domain, localhost discovery, ROS_HOME."""
    env = dict(os.environ)
    env.update({'ROS_DOMAIN_ID': env.get('INFONET_BENCH_DOMAIN_ID',
                                         str(200 + os.getpid() % 30)),
                'ROS_AUTOMATIC_DISCOVERY_RANGE': 'LOCALHOST',
                'ROS_HOME': os.path.join(tmp, 'ros_home'),
                'ROS_LOG_DIR': os.path.join(tmp, 'ros_log')})
    env.pop('ROS_STATIC_PEERS', None)
    return env


def main(argv=None) -> int:
    args = results_io.parse(build_parser(), argv, __file__)
    if args.foreign_publisher:
        return run_foreign_publisher()
    wanted = {c.strip() for c in args.cases.split(',') if c.strip()}
    import platform

    import rclpy
    tmp = tempfile.mkdtemp(prefix='fault_injection_')
    env = ros_env(tmp)
    os.environ.update(env)
    os.environ.pop('ROS_STATIC_PEERS', None)
    load = os.getloadavg()
    machine = (f'{platform.machine()}, {os.cpu_count()} CPUs, load average {load[0]:.1f} at '
               'start')
    cases = []
    rclpy.init()
    try:
        probe = Probe()
        for case_cls in CASES:
            if wanted and case_cls.name not in wanted:
                continue
            t0 = time.monotonic()
            cases.append(run_case(case_cls, probe, args, tmp, env))
            print(f'{case_cls.name}: {time.monotonic() - t0:.0f} s', file=sys.stderr)
        if not wanted or 'bad configuration' in wanted:
            cases.append(run_bad_config(tmp, env))
    finally:
        rclpy.try_shutdown()
        shutil.rmtree(tmp, ignore_errors=True)
    scale = 0.6 if args.quick else 1.0
    result = {'date': datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'),
              'machine': machine,
              'config': {**{k: BASE_PARAMS[k] for k in ('window', 'update_rate',
                                                        'diagnostics_period')},
                         'rate_hz': RATE_HZ, 'true_mi_ab': TRUE_MI,
                         'seconds': Feed.duration * scale, 'sigint_seconds': Sigint.duration
                         * scale, 'quick': args.quick},
              'cases': cases}
    results_io.write(args, result, render(result))
    if args.update_docs:
        if wanted or args.quick:
            print('fault_injection: --update-docs needs a full run (no --cases, no --quick)',
                  file=sys.stderr)
            return 1
        update_docs(result)
    return 0


if __name__ == '__main__':
    sys.exit(main())
