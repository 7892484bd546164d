# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""``infonet-ros evaluate``: accuracy of InfoNet against ground truth, KSG and MINE."""

import argparse
import os
import sys

from infonet_ros.training import evaluate
from infonet_ros.training.result_files import command_line

PROGRAM = 'infonet-ros evaluate'


def build_parser() -> argparse.ArgumentParser:
    """Return the parser of ``infonet-ros evaluate`` (the work is in training.evaluate)."""
    p = argparse.ArgumentParser(prog=PROGRAM, description=__doc__.split(': ', 1)[1].strip())
    p.add_argument('--weights', default=None, help='checkpoint (default: shipped weights)')
    p.add_argument('--device', default='cpu', help='device of InfoNet: cpu, cuda or auto')
    p.add_argument('--precision', default='fp32', choices=('fp32', 'bf16', 'fp16', 'auto'),
                   help='dtype of the network (default fp32, the reference; the cost of the '
                   'others: benchmarks/precision_accuracy.py)')
    p.add_argument('--quick', action='store_true',
                   help='small settings for a smoke check (writes NAME_quick.*)')
    p.add_argument('--seeds', type=int, default=None,
                   help='samples per distribution and N (default 10, quick 2)')
    p.add_argument('--n', type=int, nargs='+', default=None,
                   help='sample sizes (default 300 1000 5000, quick 1000)')
    p.add_argument('--gmm', type=int, default=None,
                   help='random Gaussian mixtures (default 40, quick 6)')
    p.add_argument('--triplets', type=int, default=None,
                   help='triplets per kind (GMM, Gaussian) for order preservation '
                   '(default 150, quick 30)')
    p.add_argument('--no-mine', action='store_true', help='skip the MINE baseline')
    p.add_argument('--mine-steps', type=int, default=None,
                   help='Adam steps per MINE estimate (default 1000, quick 200)')
    p.add_argument('--mine-seeds', type=int, default=None,
                   help='MINE runs per Gaussian rho (default 3, quick 1); 1 per unseen case')
    p.add_argument('--mine-gmm', type=int, default=None,
                   help='mixtures estimated by MINE (default 10, quick 2)')
    p.add_argument('--out-dir', default=os.path.join('benchmarks', 'results'),
                   help='directory for NAME.json and NAME.md')
    p.add_argument('--name', default='eval_accuracy', help='base name of the result files')
    p.add_argument('--threads', type=int, default=0, help='torch threads (0 = default)')
    return p


def run(args: argparse.Namespace, command: str) -> int:
    """
    Evaluate, write the result files headed by ``command`` and print the tables.

    Shared with benchmarks/eval_accuracy.py, which names itself in ``command``. Bad input
    (a missing checkpoint, say) is one line on stderr and exit status 1.
    """
    from infonet_ros.core.model import WeightsError
    try:
        md, paths = evaluate.evaluate(args, command,
                                      log=lambda s: print(s, file=sys.stderr, flush=True))
    except (WeightsError, ValueError) as exc:
        print(f'{PROGRAM}: error: {exc}', file=sys.stderr)
        return 1
    print(md)
    print('wrote ' + ' and '.join(paths), file=sys.stderr)
    return 0


def main(argv=None) -> int:
    """Parse ``argv`` (default: the command line) and run the evaluation."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(argv)
    return run(args, command_line(PROGRAM, argv))


if __name__ == '__main__':
    sys.exit(main())
