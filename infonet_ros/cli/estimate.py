# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""``infonet-ros estimate --csv FILE --x COL --y COL``: MI of two CSV columns, in nats."""

import argparse
import csv
import sys

import numpy as np

PROG = 'infonet-ros estimate'


def read_columns(path: str, names: list[str]) -> list[np.ndarray]:
    """Read named (or 0-based numeric) columns of a CSV file with a header row."""
    with open(path, newline='') as f:
        rows = list(csv.reader(f))
    if not rows:
        raise ValueError(f'{path} is empty')
    header, body = rows[0], rows[1:]
    cols = []
    for name in names:
        if name in header:
            j = header.index(name)
        elif name.isdigit() and int(name) < len(header):
            j = int(name)
        else:
            raise ValueError(f'column {name!r} not in {path} (columns: {", ".join(header)})')
        try:
            cols.append(np.array([float(r[j]) for r in body]))
        except (ValueError, IndexError) as exc:
            raise ValueError(f'column {name!r} of {path} is not all numeric: {exc}') from exc
    return cols


def build_parser() -> argparse.ArgumentParser:
    """Command-line options of ``infonet-ros estimate``."""
    p = argparse.ArgumentParser(prog=PROG, description=__doc__)
    p.add_argument('--csv', required=True, help='CSV file with a header row')
    p.add_argument('--x', required=True, help='column name (or 0-based index) of x')
    p.add_argument('--y', required=True, help='column name (or 0-based index) of y')
    p.add_argument('--weights', default=None,
                   help="checkpoint file, or a shipped model: 'default' (the default), 'fine' "
                   "or 'fast' (docs/model_card.md)")
    p.add_argument('--device', default='auto', help='auto, cpu or cuda')
    return p


def main(argv=None) -> int:
    """Entry point of ``infonet-ros estimate``; returns the exit code."""
    args = build_parser().parse_args(argv)
    from infonet_ros.core.estimator import InfoNetEstimator
    from infonet_ros.core.model import WeightsError
    try:
        x, y = read_columns(args.csv, [args.x, args.y])
        est = InfoNetEstimator.from_pretrained(args.weights, device=args.device)
        mi = est.estimate(x, y)
    except (OSError, ValueError, WeightsError) as exc:
        print(f'{PROG}: error: {exc}', file=sys.stderr)
        return 1
    print(f'{mi:.6f}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
