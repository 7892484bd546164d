# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
End-to-end latency, CPU use and input-rate limit of mi_node over real DDS.

Setup (defaults): 4 sensor_msgs/Imu topics published at 1 kHz each by a separate process,
16 scalar pairs on them (12 across topics, 4 within a topic), window 1000, 20 updates per
second, sync_mode interpolate (stamps shared by all topics, so pairs are exact matches), CPU.

Measured:
- end-to-end latency: reception time of each estimate in this process minus its header
  stamp, the acquisition time of the newest sample in its window (one clock: one machine).
  It includes transport, the wait for the update tick's buffers, the batched forward pass and
  publishing;
- stamp to publish: the same without the delivery, as the node measures it just before it
  publishes (``publish_latency`` of the message; the latency the 20 ms target is set on);
- inference latency: the node's own timing of the forward pass (message field);
- CPU use of the mi_node process (user + system time over the measurement, % of one core);
- input drops: messages published minus messages the node received (its diagnostics), and
  the updates the node skipped because the previous pass was still running;
- a sweep of input rates: the highest rate per topic held without dropping any message.

    python benchmarks/node_latency.py [--quick] [--weights FILE] [--executor E] [--no-raw-intake]
                                       [--name NAME]

Prints a table and writes benchmarks/results/NAME.{json,md} (NAME: node_latency; --quick:
node_latency_quick). Needs the built package (source install/setup.bash).
"""

import argparse
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

import results_io  # benchmarks/, the script's own folder

AXES = ('linear_acceleration.x', 'linear_acceleration.y', 'linear_acceleration.z',
        'angular_velocity.x', 'angular_velocity.y', 'angular_velocity.z')


def bench_pairs(n_topics: int, n_pairs: int) -> tuple[list[str], list[str]]:
    """Topics and scalar pairs: cross-topic pairs over neighbouring topics, then within."""
    topics = [f'/bench/imu{i}' for i in range(n_topics)]
    pairs = []
    k = 0
    while len(pairs) < n_pairs:
        i = k % n_topics
        axis = AXES[(k // n_topics) % 3]
        if k < 3 * n_topics and n_topics > 1:
            pairs.append(f'{topics[i]}:{axis} ~ {topics[(i + 1) % n_topics]}:{axis}')
        else:
            j = k % 3
            pairs.append(f'{topics[i]}:{AXES[j]} ~ {topics[i]}:{AXES[3 + j]}')
        k += 1
    return [f'{t}=sensor_msgs/msg/Imu' for t in topics], pairs


# ---- publisher process -------------------------------------------------------------------

def run_publisher(rate: float, n_topics: int, duration: float) -> int:
    """Publish correlated IMU samples at ``rate`` Hz on every topic; print counts as JSON."""
    import rclpy
    from rclpy.qos import qos_profile_sensor_data
    from sensor_msgs.msg import Imu
    rclpy.init()
    node = rclpy.create_node('bench_publisher')
    pubs = [node.create_publisher(Imu, f'/bench/imu{i}', qos_profile_sensor_data)
            for i in range(n_topics)]
    deadline = time.monotonic() + 30.0
    while any(p.get_subscription_count() == 0 for p in pubs):
        rclpy.spin_once(node, timeout_sec=0.05)
        if time.monotonic() > deadline:
            print(json.dumps({'error': 'mi_node never subscribed'}), flush=True)
            return 1
    rng = np.random.default_rng(0)
    msgs = [Imu() for _ in range(n_topics)]
    counts = [0] * n_topics
    period = 1.0 / rate
    start, cpu_start = time.perf_counter(), time.process_time()
    tick = 0
    clock = node.get_clock()
    while True:
        target = start + tick * period
        now = time.perf_counter()
        if now - start >= duration:
            break
        if target > now:
            time.sleep(target - now)
        stamp = clock.now().to_msg()
        latent = rng.standard_normal(6)
        for i, (pub, m) in enumerate(zip(pubs, msgs)):
            v = 0.8 * latent + 0.6 * rng.standard_normal(6)
            m.header.stamp = stamp
            (m.linear_acceleration.x, m.linear_acceleration.y, m.linear_acceleration.z,
             m.angular_velocity.x, m.angular_velocity.y, m.angular_velocity.z) = map(float, v)
            pub.publish(m)
            counts[i] += 1
        tick += 1
    elapsed = time.perf_counter() - start
    cpu = time.process_time() - cpu_start
    # Let the last samples leave before the process goes.
    end = time.monotonic() + 0.5
    while time.monotonic() < end:
        rclpy.spin_once(node, timeout_sec=0.05)
    print(json.dumps({'published': counts, 'elapsed_s': elapsed, 'cpu_s': cpu}), flush=True)
    node.destroy_node()
    rclpy.try_shutdown()
    return 0


# ---- one measurement ---------------------------------------------------------------------

def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc)."""
    with open(f'/proc/{pid}/stat') as f:
        fields = f.read().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


def measure(args, rate: float, duration: float, env: dict, tmp: str) -> dict:
    """Run mi_node and the publisher once; return the statistics of this run."""
    import rclpy
    import yaml
    from diagnostic_msgs.msg import DiagnosticArray
    from rclpy.qos import QoSProfile, QoSReliabilityPolicy

    from infonet_ros.msg import MutualInformationArray

    topics, pairs = bench_pairs(args.topics, args.pairs)
    params = {'topics': topics, 'pairs': pairs, 'window': args.window,
              'update_rate': args.update_rate, 'sync_mode': 'interpolate',
              'device': args.device,
              'weights': args.weights or '', 'qos_depth': args.qos_depth,
              'torch_threads': args.threads, 'executor': args.executor,
              'forward_priority': args.forward_priority,
              'raw_intake': not args.no_raw_intake, 'diagnostics_period': 0.5,
              'uncertainty': args.uncertainty, 'precision': args.precision}
    cfg = os.path.join(tmp, f'params_{rate:g}.yaml')
    with open(cfg, 'w') as f:
        yaml.safe_dump({'/**': {'ros__parameters': params}}, f)
    node_proc = subprocess.Popen(
        [sys.executable, '-m', 'infonet_ros.ros.mi_node', '--ros-args', '--params-file', cfg],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)

    arrays, diags = [], []
    node = rclpy.create_node('bench_probe')
    node.create_subscription(
        MutualInformationArray, '/infonet/mi',
        lambda m: arrays.append((time.time(), m.header.stamp.sec + m.header.stamp.nanosec * 1e-9,
                                 m.inference_latency, len(m.estimates),
                                 getattr(m, 'publish_latency', float('nan')))),
        QoSProfile(depth=100, reliability=QoSReliabilityPolicy.RELIABLE))
    node.create_subscription(DiagnosticArray, '/diagnostics', diags.append, 10)
    try:
        deadline = time.monotonic() + 180.0
        while node.count_publishers('/infonet/mi') == 0:
            rclpy.spin_once(node, timeout_sec=0.1)
            if node_proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError('mi_node did not start:\n'
                                   + node_proc.stdout.read().decode(errors='replace'))
        pub_proc = subprocess.Popen(
            [sys.executable, __file__, '--publisher', '--rate', str(rate),
             '--topics', str(args.topics), '--duration', str(duration)],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        # Measure after the first full window (and a second of settling).
        warmup = args.window / rate + 1.0
        t_start = time.time()
        cpu0, cpu_t0 = None, None
        while pub_proc.poll() is None:
            rclpy.spin_once(node, timeout_sec=0.05)
            if cpu0 is None and time.time() - t_start > warmup:
                cpu0, cpu_t0 = cpu_seconds(node_proc.pid), time.monotonic()
                probe_cpu0 = time.process_time()
                n_arrays0 = len(arrays)
        cpu1, cpu_t1 = cpu_seconds(node_proc.pid), time.monotonic()
        probe_cpu1 = time.process_time()
        out = pub_proc.stdout.read().decode(errors='replace').strip().splitlines()
        pub = json.loads(out[-1])
        if 'error' in pub:
            raise RuntimeError(pub['error'])
        # The node reports what it received every 0.5 s: wait for a report after the end.
        t_end = time.time()
        end = time.monotonic() + 3.0
        while time.monotonic() < end:
            rclpy.spin_once(node, timeout_sec=0.05)
        received, dropped, skipped, updates, scheduling, precision = [], 0, 0, 0, None, None
        for arr in reversed(diags):
            if arr.header.stamp.sec + arr.header.stamp.nanosec * 1e-9 < t_end + 0.6:
                continue
            st = {s.name.split(': ', 1)[1]: {kv.key: kv.value for kv in s.values}
                  for s in arr.status}
            received = [int(st[f'input {t.split("=")[0]}']['received']) for t in topics]
            dropped = sum(int(st[f'input {t.split("=")[0]}']['dropped_total'])
                          for t in topics)
            skipped = int(st['estimator']['updates_skipped_busy'])
            updates = int(st['estimator']['updates_published'])
            scheduling = st['estimator'].get('forward_scheduling')
            precision = st['estimator'].get('precision')
            break
    finally:
        node.destroy_node()
        if node_proc.poll() is None:
            os.killpg(node_proc.pid, 2)
            try:
                node_proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(node_proc.pid, 9)
    measured = [a for a in arrays[n_arrays0:] if a[3] > 0] if cpu0 is not None else []
    lat = np.array([a[0] - a[1] for a in measured]) * 1e3
    inf = np.array([a[2] for a in measured]) * 1e3
    # The node's own stamp-to-publish time (message field): the latency the target is set
    # on; lat above adds the delivery to this process.
    pub_lat = np.array([a[4] for a in measured]) * 1e3
    published = pub['published']
    lost = int(sum(published) - sum(received)) if received else None

    def pct(a, q):
        return float(np.percentile(a, q)) if len(a) else float('nan')
    return {
        'rate_hz_per_topic': rate,
        'achieved_rate_hz_per_topic': published[0] / pub['elapsed_s'],
        'estimates_per_update': int(np.median([a[3] for a in measured])) if measured else 0,
        'updates_measured': len(measured),
        'effective_update_rate_hz': (len(measured) / (cpu_t1 - cpu_t0)
                                     if cpu0 is not None else float('nan')),
        'e2e_latency_ms': {'p50': pct(lat, 50), 'p90': pct(lat, 90), 'p99': pct(lat, 99),
                           'max': float(lat.max()) if len(lat) else float('nan')},
        'inference_ms': {'p50': pct(inf, 50), 'p99': pct(inf, 99)},
        'stamp_to_publish_ms': {'p50': pct(pub_lat, 50), 'p90': pct(pub_lat, 90),
                                'p99': pct(pub_lat, 99)},
        'node_cpu_percent_of_one_core': (100.0 * (cpu1 - cpu0) / (cpu_t1 - cpu_t0)
                                         if cpu0 is not None else float('nan')),
        # The rest of the load on the same cores: the publisher (over its whole run) and
        # this process, which receives the estimates and times them.
        'publisher_cpu_percent_of_one_core': 100.0 * pub['cpu_s'] / pub['elapsed_s'],
        'probe_cpu_percent_of_one_core': (100.0 * (probe_cpu1 - probe_cpu0) / (cpu_t1 - cpu_t0)
                                          if cpu0 is not None else float('nan')),
        'published': int(sum(published)), 'received': int(sum(received)) if received else None,
        'lost_in_transport': lost, 'dropped_by_node': dropped,
        'updates_published': updates, 'updates_skipped_busy': skipped,
        'held_without_drops': lost == 0 and dropped == 0,
        'forward_scheduling': scheduling,  # as the node's diagnostics report it
        'precision': precision,
    }


def machine_note() -> str:
    """Load average and CPU count when the run started (the result depends on them)."""
    load = os.getloadavg()
    return (f'{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, load '
            f'average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} at start')


def _pct(run: dict, who: str) -> str:
    """Format the CPU share of the publisher or the probe."""
    return f"{run[f'{who}_cpu_percent_of_one_core']:.0f}"


def _ms(run: dict, q: str) -> str:
    """Format a percentile of the node's stamp-to-publish time ('-' when nothing arrived)."""
    value = run['stamp_to_publish_ms'][q]
    return '-' if value != value else f'{value:.1f}'


def _met(p99) -> str:
    """Say whether a p99 [ms] meets the 20 ms target ('-' when not measured)."""
    return '-' if p99 is None or p99 != p99 else ('met' if p99 <= 20 else 'NOT met')


def render(result: dict) -> str:
    """Markdown tables of the main run and the sweep."""
    m = result['main']
    lines = [
        '# mi_node end-to-end latency', '',
        f"{result['date']}; {result['machine']}; torch threads: {result['config']['threads']}"
        " (0 = the node's default: all cores but one); executor "
        f"{result['config']['executor']}; "
        f"raw_intake {str(result['config']['raw_intake']).lower()}; forward pass "
        f"scheduling {m.get('forward_scheduling') or 'normal'}; precision "
        f"{m.get('precision') or result['config'].get('precision', 'fp32')}.", '',
        f"Setup: {result['config']['topics']} Imu topics at {m['rate_hz_per_topic']:g} Hz "
        f"each, {result['config']['pairs']} scalar pairs, window {result['config']['window']},"
        f" {result['config']['update_rate']:g} updates/s, device "
        f"{result['config'].get('device', 'cpu')}, input QoS sensor_data with "
        f"depth {result['config']['qos_depth']}.", '',
        '| metric | value |', '| --- | --- |',
        f"| e2e latency p50 / p90 / p99 / max [ms] | {m['e2e_latency_ms']['p50']:.1f} / "
        f"{m['e2e_latency_ms']['p90']:.1f} / {m['e2e_latency_ms']['p99']:.1f} / "
        f"{m['e2e_latency_ms']['max']:.1f} |",
        f"| inference (forward pass) p50 / p99 [ms] | {m['inference_ms']['p50']:.1f} / "
        f"{m['inference_ms']['p99']:.1f} |",
        f"| stamp to publish, in the node, p50 / p90 / p99 [ms] | {_ms(m, 'p50')} / "
        f"{_ms(m, 'p90')} / {_ms(m, 'p99')} |",
        '| target p99 <= 20 ms (stamp to publish / to reception here) | '
        f"{_met(m['stamp_to_publish_ms']['p99'])} / "
        f"{_met(m['e2e_latency_ms']['p99'])} |",
        f"| mi_node CPU [% of one core] | {m['node_cpu_percent_of_one_core']:.0f} |",
        f"| publisher / probe CPU [% of one core] | {_pct(m, 'publisher')} / "
        f"{_pct(m, 'probe')} |",
        f"| updates measured / skipped busy | {m['updates_measured']} / "
        f"{m['updates_skipped_busy']} |",
        f"| estimates published per second (requested {result['config']['update_rate']:g}) "
        f"| {m['effective_update_rate_hz']:.1f} |",
        f"| messages published / received / dropped by node | {m['published']} / "
        f"{m['received']} / {m['dropped_by_node']} |",
        '', '## Input-rate sweep', '',
        '| rate/topic [Hz] | achieved [Hz] | lost | e2e p50 [ms] | e2e p99 [ms] | CPU [%] | '
        'held |', '| --- | --- | --- | --- | --- | --- | --- |']
    for r in result['sweep']:
        lines.append(f"| {r['rate_hz_per_topic']:g} | {r['achieved_rate_hz_per_topic']:.0f} | "
                     f"{r['lost_in_transport']} | {r['e2e_latency_ms']['p50']:.1f} | "
                     f"{r['e2e_latency_ms']['p99']:.1f} | "
                     f"{r['node_cpu_percent_of_one_core']:.0f} | "
                     f"{'yes' if r['held_without_drops'] else 'no'} |")
    held = result['highest_rate_held_hz_per_topic']
    lines += ['', f'Highest rate per topic held without dropping a message: '
              f'{held:g} Hz' if held else 'No swept rate was held without drops.', '']
    if result.get('note'):
        lines += [result['note'], '']
    return '\n'.join(lines)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.strip().split('\n')[0])
    p.add_argument('--rate', type=float, default=1000.0, help='Hz per topic (main run)')
    p.add_argument('--topics', type=int, default=4)
    p.add_argument('--pairs', type=int, default=16)
    p.add_argument('--window', type=int, default=1000)
    p.add_argument('--update-rate', type=float, default=20.0)
    p.add_argument('--duration', type=float, default=30.0, help='seconds of the main run')
    p.add_argument('--sweep', default='250,500,1000,2000,4000',
                   help='comma-separated rates per topic ("" to skip)')
    p.add_argument('--sweep-duration', type=float, default=12.0)
    p.add_argument('--qos-depth', type=int, default=1000,
                   help='input queue depth of mi_node (deep: absorbs the forward passes)')
    p.add_argument('--threads', type=int, default=0,
                   help="torch threads of mi_node (0: the node's default, all cores but one)")
    p.add_argument('--forward-priority', type=int, default=0,
                   help="the node's forward_priority (0: normal scheduling; 1-99: SCHED_FIFO)")
    p.add_argument('--executor', default='auto', choices=('auto', 'events', 'single'),
                   help="executor of mi_node (its 'executor' parameter)")
    p.add_argument('--no-raw-intake', action='store_true',
                   help="decode every input message (the node's raw_intake parameter false)")
    p.add_argument('--weights', default=None, help='checkpoint (default: shipped weights)')
    p.add_argument('--device', default='cpu',
                   help="the node's device parameter: cpu, cuda or auto (default cpu)")
    p.add_argument('--precision', default='auto', choices=('auto', 'fp32', 'bf16', 'fp16'),
                   help="the node's precision parameter (default auto)")
    p.add_argument('--uncertainty', default='off', choices=('off', 'iid', 'shift'),
                   help="the node's uncertainty parameter (default off: the estimate path "
                   'alone; docs/node.md has the cost of each)')
    p.add_argument('--note', default='', help='free text added to the results')
    p.add_argument('--publisher', action='store_true', help=argparse.SUPPRESS)
    results_io.add_output_arguments(p, 'node_latency')  # --quick: short runs, small sweep
    return p


def main(argv=None) -> int:
    args = results_io.parse(build_parser(), argv, __file__)
    if args.publisher:
        return run_publisher(args.rate, args.topics, args.duration)
    if args.quick:
        args.duration, args.sweep_duration, args.sweep = 10.0, 6.0, '500,2000'

    import rclpy
    tmp = tempfile.mkdtemp(prefix='node_latency_')
    env = dict(os.environ)
    env.update({'ROS_DOMAIN_ID': env.get('INFONET_BENCH_DOMAIN_ID',
                                         str(150 + os.getpid() % 50)),
                'ROS_AUTOMATIC_DISCOVERY_RANGE': 'LOCALHOST',
                'ROS_HOME': os.path.join(tmp, 'ros_home'),
                'ROS_LOG_DIR': os.path.join(tmp, 'ros_log')})
    os.environ.update(env)
    machine = machine_note()
    rclpy.init()
    try:
        main_run = measure(args, args.rate, args.duration, env, tmp)
        sweep = [measure(args, float(r), args.sweep_duration, env, tmp)
                 for r in args.sweep.split(',') if r.strip()]
    finally:
        rclpy.try_shutdown()
        shutil.rmtree(tmp, ignore_errors=True)
    held = [r['rate_hz_per_topic'] for r in sweep + [main_run] if r['held_without_drops']]
    result = {
        'date': datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'),
        'machine': machine,
        'config': {'topics': args.topics, 'pairs': args.pairs, 'window': args.window,
                   'update_rate': args.update_rate, 'qos_depth': args.qos_depth,
                   'threads': args.threads, 'executor': args.executor,
                   'forward_priority': args.forward_priority,
                   'raw_intake': not args.no_raw_intake, 'weights': args.weights or 'default',
                   'uncertainty': args.uncertainty, 'precision': args.precision,
                   'device': args.device,
                   'quick': args.quick},
        'main': main_run, 'sweep': sweep,
        'highest_rate_held_hz_per_topic': max(held) if held else None,
        'note': args.note,
    }
    results_io.write(args, result, render(result))
    return 0


if __name__ == '__main__':
    sys.exit(main())
