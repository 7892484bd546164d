# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Estimates per second of each backend and precision on a device, and what precision costs.

The deployment question of docs/jetson.md: on this device (CUDA if torch sees a GPU, else
the CPU; ``--device``), how many windows per second does the network with its readout
estimate, run as

- ``torch eager``: the module (:class:`infonet_ros.core.readout.ModelReadout`);
- ``torch jit``: its TorchScript trace, as ``InfoNetEstimator(jit=True)`` runs it;
- ``onnxruntime``: its ONNX graph (:mod:`infonet_ros.core.onnx_backend`; CPU provider, or
  CUDA where this onnxruntime build has it),

in float32 and where supported in reduced precision: bfloat16 and float16 in torch as
``InfoNetEstimator(precision=...)`` runs them (:func:`infonet_ros.core.precision.
with_precision`: the network's stages in that dtype, the table layer and the readout in
float32; eager and traced alike; bfloat16 on the CPU and on GPUs that have it, float16 on
CUDA), and float16 in onnxruntime on CUDA (matrix products and convolutions,
:func:`~infonet_ros.core.onnx_backend.autocast_float16`). The accuracy of each precision on
every evaluation family is benchmarks/precision_accuracy.py's.

Throughput: one pass takes B windows of N copula ranks in host memory (as the estimator
holds them after ranking) to B estimates in host memory, copies included; estimates per
second = B / the median pass time over at least ``--seconds`` of passes, after one warm-up
pass (which traces or exports). The ranking itself (numpy, on the CPU, shared by every
backend) is timed on its own row. Accuracy: Gaussian pairs with known MI (correlations
``RHOS``, ``--pairs`` each, per N) through every backend and precision: mean absolute
difference from torch eager float32 (the estimator's default path) and mean absolute error
against the truth.

    python benchmarks/gpu_throughput.py [--device auto] [--weights default]
        [--batch 1 16 64 256] [--n 256 1000] [--seconds 1.0] [--pairs 16] [--threads 1]
        [--quick] [--name NAME]

Writes benchmarks/results/NAME.{json,md} (NAME: gpu_throughput; --quick: gpu_throughput_quick).
"""

import argparse
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from infonet_ros.core.copula import pair_ranks  # noqa: E402
from infonet_ros.core.estimator import resolve_device  # noqa: E402
from infonet_ros.core.export import onnx_model  # noqa: E402
from infonet_ros.core.model import load_checkpoint  # noqa: E402
from infonet_ros.core.precision import with_precision  # noqa: E402
from infonet_ros.core.readout import crossfit_indices, ModelReadout  # noqa: E402
from infonet_ros.core.tracing import TracedNetwork  # noqa: E402
import results_io  # noqa: E402  (benchmarks/, the script's own folder)

RHOS = (0.0, 0.3, 0.5, 0.75, 0.9, 0.95, 0.99)
PRECISIONS = ('fp32', 'bf16', 'fp16')
BACKENDS = ('torch eager', 'torch jit', 'onnxruntime')
# The numbers every combination is compared with: the float32 reference.
REFERENCE = ('torch eager', 'fp32')


def gaussian_ranks(rhos, n: int, seed: int):
    """Copula ranks (R, 2, n) float32 of Gaussian pairs, one per correlation, and their MI."""
    rng = np.random.default_rng(seed)
    rho = np.asarray(rhos, dtype=float)[:, None]
    x = rng.standard_normal((len(rhos), n))
    y = rho * x + np.sqrt(1 - rho ** 2) * rng.standard_normal(x.shape)
    ranks = pair_ranks(np.stack([x, y], axis=1)).astype(np.float32)  # (R, 2, N)
    return ranks, -0.5 * np.log1p(-rho[:, 0] ** 2)


def unsupported(backend: str, precision: str, device: torch.device, providers) -> str:
    """Return why a backend cannot run a precision on the device ('' if it can)."""
    if backend == 'onnxruntime':
        if providers is None:
            return 'onnxruntime is not installed'
        if device.type == 'cuda' and 'CUDAExecutionProvider' not in providers:
            return 'this onnxruntime build has no CUDAExecutionProvider'
        if precision == 'bf16':
            return 'not built: its reduced precision is float16, on CUDA'
        if precision == 'fp16' and device.type != 'cuda':
            return 'float16 graphs on CUDA only'
        return ''
    if precision == 'fp32':
        return ''
    if precision == 'fp16' and device.type != 'cuda':
        return 'float16 on CUDA only: a CPU emulates it, slowly'
    if precision == 'bf16' and device.type == 'cuda' and not torch.cuda.is_bf16_supported():
        return 'this GPU has no bfloat16'
    return ''


def make_runner(backend: str, precision: str, readout: ModelReadout, device: torch.device,
                threads: int):
    """Return run(ranks (B, 2, N) float32 numpy) -> (B,) float64 numpy for one combination."""
    if backend == 'onnxruntime':
        from infonet_ros.core.onnx_backend import autocast_float16, OnnxSession
        sessions = {}

        def run_onnx(ranks):
            n = ranks.shape[-1]
            if n not in sessions:
                data = onnx_model(readout, n)
                data = autocast_float16(data) if precision == 'fp16' else data
                sessions[n] = OnnxSession(data, device, threads)
            return sessions[n].run(ranks).astype(np.float64)
        return run_onnx
    module = readout = ModelReadout(with_precision(readout.model, precision), readout.seed)
    if backend == 'torch jit':
        crossfit = readout.model.cfg.readout == 'crossfit'
        module = TracedNetwork(readout, prepare=(
            lambda r: crossfit_indices(r.shape[-1], readout.seed)) if crossfit else None)

    def run_torch(ranks):
        with torch.no_grad():
            mi = module(torch.from_numpy(ranks).to(device))  # (B,)
        return mi.double().cpu().numpy()
    return run_torch


def pass_rate(run, ranks: np.ndarray, seconds: float) -> dict:
    """Median pass time of run(ranks) over at least ``seconds`` (3 passes at least)."""
    # The warm-up call traces or exports; each result is in host memory: the device is done.
    times = results_io.call_seconds(lambda: run(ranks), seconds)
    median = float(np.median(times))
    return {'ms_per_pass': 1e3 * median, 'estimates_per_s': ranks.shape[0] / median,
            'passes': len(times)}


def ranking_rate(batch: int, n: int, seconds: float) -> dict:
    """Time the numpy ranking of (B, 2, N) pairs (every backend's first step) alike."""
    rng = np.random.default_rng(0)
    xy = rng.standard_normal((batch, 2, n))
    return pass_rate(pair_ranks, xy, seconds)


def accuracy(run, ns, pairs: int) -> dict:
    """Estimates of Gaussian pairs per N (``pairs`` per correlation) and their truths."""
    out = {}
    for n in ns:
        ranks, truth = gaussian_ranks(np.repeat(RHOS, pairs), n, seed=n)
        est = np.concatenate([run(ranks[i:i + 64]) for i in range(0, len(ranks), 64)])
        out[n] = {'estimates': est, 'truth': truth}
    return out


def onnxruntime_providers():
    """Return the providers of this onnxruntime build, or None without onnxruntime."""
    try:
        from infonet_ros.core.onnx_backend import import_onnxruntime
        return import_onnxruntime().get_available_providers()
    except ImportError:
        return None


def run(args) -> dict:
    device = resolve_device(args.device)
    model, _ = load_checkpoint(args.weights, map_location=device)
    readout = ModelReadout(model).eval()
    providers = onnxruntime_providers()
    combos, skipped = [], []
    for backend in BACKENDS:
        for precision in PRECISIONS:
            why = unsupported(backend, precision, device, providers)
            (skipped.append({'backend': backend, 'precision': precision, 'why': why}) if why
             else combos.append((backend, precision)))
    throughput, errors = [], {}
    for backend, precision in combos:
        runner = make_runner(backend, precision, readout, device, args.threads)
        for n in args.n:
            for batch in args.batch:
                ranks, _ = gaussian_ranks(np.resize(RHOS, batch), n, seed=batch)
                rec = {'backend': backend, 'precision': precision, 'n': n, 'batch': batch,
                       **pass_rate(runner, ranks, args.seconds)}
                throughput.append(rec)
                print(f'{backend} {precision} N={n} B={batch}: '
                      f'{rec["estimates_per_s"]:.0f} estimates/s', flush=True)
        errors[(backend, precision)] = accuracy(runner, args.n, args.pairs)
    for n in args.n:
        for batch in args.batch:
            throughput.append({'backend': 'ranks (numpy, CPU)', 'precision': 'float64',
                               'n': n, 'batch': batch,
                               **ranking_rate(batch, n, args.seconds)})
    return {'device': str(device), 'providers': providers, 'throughput': throughput,
            'accuracy': accuracy_rows(errors), 'skipped': skipped}


def accuracy_rows(errors: dict) -> list[dict]:
    """MAE against the truth and |difference| from torch eager float32 (the estimator's)."""
    rows = []
    base = errors[REFERENCE]
    for (backend, precision), per_n in errors.items():
        for n, r in per_n.items():
            est, gap = r['estimates'], np.abs(r['estimates'] - base[n]['estimates'])
            rows.append({'backend': backend, 'precision': precision, 'n': n,
                         'windows': len(est),
                         'mae_vs_truth': float(np.mean(np.abs(est - r['truth']))),
                         'mean_abs_diff_vs_fp32': float(np.mean(gap)),
                         'max_abs_diff_vs_fp32': float(np.max(gap))})
    return rows


def tables(result: dict, args) -> list[str]:
    lines = []
    for n in args.n:
        lines += [f'### Estimates per second, N = {n}', '',
                  '| backend | precision | ' + ' | '.join(f'B = {b}' for b in args.batch) + ' |',
                  '|---|---' + '|---:' * len(args.batch) + '|']
        rows = {}
        for r in result['throughput']:
            if r['n'] == n:
                rows.setdefault((r['backend'], r['precision']), {})[r['batch']] = r
        for (backend, precision), by_batch in rows.items():
            cells = [f'{by_batch[b]["estimates_per_s"]:,.0f}' for b in args.batch]
            lines.append(f'| {backend} | {precision} | ' + ' | '.join(cells) + ' |')
        lines.append('')
    lines += ['### Accuracy cost of reduced precision (Gaussian pairs, known MI)', '',
              'Differences from torch eager fp32 (the reference), in nats.', '',
              '| backend | precision | N | windows | mean abs diff | max abs diff | '
              'MAE vs truth |', '|---|---|---:|---:|---:|---:|---:|']
    for r in result['accuracy']:
        lines.append(f'| {r["backend"]} | {r["precision"]} | {r["n"]} | {r["windows"]} | '
                     f'{r["mean_abs_diff_vs_fp32"]:.2e} | {r["max_abs_diff_vs_fp32"]:.2e} | '
                     f'{r["mae_vs_truth"]:.4f} |')
    if result['skipped']:
        lines += ['', 'Not run: ' + '; '.join(
            f'{s["backend"]} {s["precision"]} ({s["why"]})' for s in result['skipped']) + '.']
    return lines


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--device', default='auto', help='auto, cpu or cuda[:k]')
    ap.add_argument('--weights', default='default',
                    help="a shipped model ('default', 'fine', 'fast') or a checkpoint file")
    ap.add_argument('--batch', type=int, nargs='+', default=[1, 16, 64, 256],
                    help='windows per pass')
    ap.add_argument('--n', type=int, nargs='+', default=[256, 1000],
                    help="window lengths (at most the model's largest set, 2048)")
    ap.add_argument('--seconds', type=float, default=1.0,
                    help='least time of passes per measurement [s]')
    ap.add_argument('--pairs', type=int, default=16,
                    help='Gaussian pairs per correlation and N for the accuracy table')
    ap.add_argument('--threads', type=int, default=1,
                    help='CPU threads of torch and of onnxruntime sessions')
    results_io.add_output_arguments(ap, 'gpu_throughput')
    return ap


def main(argv=None):
    args = results_io.parse(build_parser(), argv, __file__)
    if args.quick:
        args.batch, args.n, args.seconds, args.pairs = [1, 16], [256], 0.2, 2
    torch.set_num_threads(args.threads)
    t0 = time.time()
    result = run(args)
    ort = 'not installed' if result['providers'] is None else ', '.join(result['providers'])
    lines = ['# Throughput by backend and precision', '',
             f'{results_io.stamp(args.threads)}; device {result["device"]}; weights '
             f'{args.weights}; onnxruntime providers: {ort}; one pass = B windows of N '
             'ranks from host memory to estimates in host memory; estimates/s = B / median '
             f'pass time over >= {args.seconds:g} s; {time.time() - t0:.0f} s.', '']
    lines += tables(result, args)
    env = {'device': result['device'], 'onnxruntime_providers': result['providers'],
           'cuda': torch.cuda.get_device_name(0) if torch.cuda.is_available() else None}
    results_io.write(args, {**results_io.run_facts(args, **env), **result}, lines)


if __name__ == '__main__':
    main()
