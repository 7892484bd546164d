# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
``infonet-ros export --weights NAME --format onnx|torchscript -o FILE [--n N ...]``.

Writes the network and its readout (copula ranks (batch, 2, N) -> MI (batch,) in nats) for
other runtimes, one self-describing file per window length N with a dynamic batch
(:mod:`infonet_ros.core.export`: why one per N, why the ranks stay outside, the metadata):
``-o model.onnx --n 256 1000`` writes ``model_n256.onnx`` and ``model_n1000.onnx``. Each
file is loaded back and checked against the torch model on a few random sets before the
command reports it (onnxruntime for ONNX, skipped with a note where it is not installed).
docs/jetson.md: deployment on a robot's computer.
"""

import argparse
import sys

import numpy as np

from infonet_ros.cli.errors import print_error

PROG = 'infonet-ros export'
# Largest |file - torch| accepted by the check after writing, in nats (measured: below
# 1e-5 for every shipped model).
CHECK_TOLERANCE = 1e-4


def build_parser() -> argparse.ArgumentParser:
    """Command-line options of ``infonet-ros export``."""
    from infonet_ros.core.export import DEFAULT_EXPORT_NS
    p = argparse.ArgumentParser(prog=PROG, description=__doc__.split('\n\n')[0])
    p.add_argument('--weights', default='default',
                   help="checkpoint file, or a shipped model: 'default' (the default), 'fine' "
                   "or 'fast' (docs/model_card.md)")
    p.add_argument('--format', default='onnx',
                   help="'onnx' (default) or 'torchscript'")
    p.add_argument('-o', '--output', required=True,
                   help='output file; each N gets its own: FILE_n<N>.onnx (or .pt)')
    p.add_argument('--n', type=int, nargs='+', default=list(DEFAULT_EXPORT_NS),
                   help="window lengths to export, each at most the model's largest set "
                   f'(default: {" ".join(map(str, DEFAULT_EXPORT_NS))})')
    p.add_argument('--split-seed', type=int, default=0,
                   help="seed of the cross-fitting split (the estimator's split_seed; "
                   "cross-fitted models such as 'fine' only)")
    p.add_argument('--device', default='cpu',
                   help='device a TorchScript trace runs on (cpu or cuda); ONNX holds none')
    p.add_argument('--exporter', default='auto',
                   help="ONNX exporter: 'auto' (default), 'torchscript' or 'dynamo'")
    return p


def check_file(fmt: str, path: str, n: int, readout) -> str:
    """Load an exported file, compare it with the torch readout; return a note on it."""
    import torch
    from infonet_ros.core.copula import pair_ranks
    from infonet_ros.core.export import load_torchscript
    rng = np.random.default_rng(n)
    x = rng.standard_normal((4, n))
    y = np.array([0.0, 0.5, 0.9, 0.99])[:, None] * x + rng.standard_normal((4, n)) * 0.5
    ranks = torch.from_numpy(pair_ranks(np.stack([x, y], axis=1))).to(torch.float32)  # (4,2,N)
    device = next(readout.parameters()).device
    with torch.no_grad():
        want = readout(ranks.to(device)).cpu().numpy()  # (4,)
        if fmt == 'torchscript':
            got = load_torchscript(path, device)(ranks.to(device)).cpu().numpy()
        else:
            try:
                from infonet_ros.core.onnx_backend import OnnxSession
                got = OnnxSession(path, 'cpu').run(ranks.numpy())
            except ImportError:
                return 'not checked: onnxruntime is not installed'
    diff = float(np.abs(got - want).max())
    if not diff <= CHECK_TOLERANCE:
        raise ValueError(f'{path} does not reproduce the torch model: max difference '
                         f'{diff:.3g} nats on 4 sets (tolerance {CHECK_TOLERANCE:g})')
    return f'max |{fmt} - torch| = {diff:.1e} nats on 4 sets'


def main(argv=None) -> int:
    """Entry point of ``infonet-ros export``; returns the exit code."""
    args = build_parser().parse_args(argv)
    from infonet_ros.core.export import export_files
    from infonet_ros.core.model import WeightsError
    try:
        written = export_files(args.weights, args.format, args.output, args.n,
                               split_seed=args.split_seed, device=args.device,
                               exporter=args.exporter)
        for n, path, readout in written:
            print(f'{path}: N={n}, batch dynamic; {check_file(args.format, path, n, readout)}')
    except (OSError, ValueError, ImportError, WeightsError) as exc:
        return print_error(PROG, exc)
    return 0


if __name__ == '__main__':
    sys.exit(main())
