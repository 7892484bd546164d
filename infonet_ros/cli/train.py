# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
``infonet-ros train``: train InfoNet on simulated distributions (the flags of the run).

The work is :func:`infonet_ros.training.train.run`. Data-parallel training runs this module
under torchrun, with the same flags::

    torchrun --nproc_per_node K -m infonet_ros.cli.train --out model.pt ...
"""

import argparse
from dataclasses import asdict
import math
import sys


def parse_families(text: str) -> dict:
    """Parse 'gmm=0.5,functional=0.2' into {family: share} over every family (0 if unnamed)."""
    from infonet_ros.training.simulate import FAMILIES
    shares = dict.fromkeys(FAMILIES, 0.0)
    for item in text.split(','):
        name, sep, value = item.partition('=')
        name = name.strip()
        if not sep or name not in shares:
            raise argparse.ArgumentTypeError(
                f'{item!r}: expected NAME=SHARE with NAME one of {", ".join(FAMILIES)}')
        try:
            shares[name] = float(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f'{item!r}: the share is not a number') from None
        if not math.isfinite(shares[name]) or shares[name] < 0:
            raise argparse.ArgumentTypeError(f'{item!r}: a share must be finite and >= 0')
    if sum(shares.values()) <= 0:
        raise argparse.ArgumentTypeError('the family shares sum to 0')
    return shares


def build_parser() -> argparse.ArgumentParser:
    """Return the parser of ``infonet-ros train``: run options, then one flag per config field."""
    from infonet_ros.core.model import InfoNetConfig
    from infonet_ros.training.simulate import DEFAULT_FAMILY_WEIGHTS, FAMILIES
    from infonet_ros.training.train import DEFAULT_SUP_BETA
    p = argparse.ArgumentParser(prog='infonet-ros train',
                                description='Train InfoNet on simulated distributions.')
    p.add_argument('--out', default='infonet_checkpoint.pt',
                   help='checkpoint to write (weights, config, provenance); '
                   'OUT.resume.pt holds the optimizer state for --resume')
    p.add_argument('--steps', type=int, default=20000, help='optimizer steps')
    p.add_argument('--time-limit', type=float, default=0.0,
                   help='stop (and save) after this many minutes; 0 = no limit')
    p.add_argument('--points-per-step', type=int, default=12000,
                   help='sets per step = points-per-step / N, clamped to [8, 32]')
    p.add_argument('--n-min', type=int, default=64, help='smallest set size N')
    p.add_argument('--n-max', type=int, default=2048, help='largest set size N')
    p.add_argument('--lr', type=float, default=5e-4, help='peak Adam learning rate')
    p.add_argument('--warmup', type=int, default=300, help='linear warm-up steps')
    p.add_argument('--sup-weight', type=float, default=1.0,
                   help='weight of the Huber penalty to the true MI (0 = DV only)')
    p.add_argument('--sup-beta', type=float, default=DEFAULT_SUP_BETA,
                   help='error [nats] where the Huber penalty turns from quadratic to linear; '
                   'an in-sample readout settles about sup_beta / sup_weight above the MI')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--threads', type=int, default=0, help='torch threads (0 = default)')
    p.add_argument('--log-every', type=int, default=50)
    p.add_argument('--ckpt-every', type=int, default=500)
    p.add_argument('--resume', action='store_true', help='continue from OUT.resume.pt')
    p.add_argument('--init', default='',
                   help='warm start: copy every tensor of this checkpoint whose name and shape '
                   'match the new model (e.g. the encoder of a model with another table size)')
    p.add_argument('--device', default='auto', help='auto, cpu, cuda or cuda:K')
    p.add_argument('--families', type=parse_families,
                   default=dict(zip(FAMILIES, DEFAULT_FAMILY_WEIGHTS)),
                   help='shares of the simulated families per batch, NAME=W,... (families '
                   'left out get 0); default ' + ','.join(
                       f'{k}={w}' for k, w in zip(FAMILIES, DEFAULT_FAMILY_WEIGHTS)))
    p.add_argument('--no-progress', action='store_true', help='no progress bar')
    for f, default in asdict(InfoNetConfig()).items():
        p.add_argument('--' + f.replace('_', '-'), type=type(default), default=default,
                       help=f'model config {f}')
    return p


def main(argv=None) -> int:
    """Parse the flags and train; bad flags or files end in a one-line error."""
    from infonet_ros.core.model import InfoNetConfig, WeightsError
    from infonet_ros.training.train import run
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(argv)
    args.argv = argv
    try:
        InfoNetConfig.from_dict(vars(args))  # a bad model config fails before any work
    except ValueError as exc:
        parser.error(str(exc))
    try:
        run(args)
    except (ValueError, WeightsError, OSError) as exc:
        print(f'infonet-ros train: error: {exc}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
