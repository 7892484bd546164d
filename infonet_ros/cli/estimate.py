# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""``infonet-ros estimate --csv FILE --x COL --y COL``: MI of two CSV columns, in nats."""

import argparse
import csv
import sys

import numpy as np

from infonet_ros.cli.errors import print_error

PROG = 'infonet-ros estimate'


def read_columns(path: str, names: list[str]) -> list[np.ndarray]:
    """
    Read named (or 0-based numeric) columns of a CSV file with a header row.

    Blank lines are skipped and a UTF-8 byte order mark (spreadsheet exports) is dropped; a
    row with another number of fields than the header is an error naming its line.
    """
    with open(path, newline='', encoding='utf-8-sig') as f:
        reader = csv.reader(f)
        try:
            rows = [(reader.line_num, r) for r in reader if any(c.strip() for c in r)]
        except csv.Error as exc:
            raise ValueError(f'{path} line {reader.line_num} is not CSV: {exc}') from None
    if not rows:
        raise ValueError(f'{path} is empty')
    (_, header), body = rows[0], rows[1:]
    for line, r in body:
        if len(r) != len(header):
            raise ValueError(f'{path} line {line} has {len(r)} fields, the header has '
                             f'{len(header)}')
    cols = []
    for name in names:
        if name in header:
            j = header.index(name)
        elif name.isdigit() and int(name) < len(header):
            j = int(name)
        else:
            raise ValueError(f'column {name!r} not in {path} (columns: {", ".join(header)})')
        cols.append(np.array([_number(r[j], name, path, line) for line, r in body]))
    return cols


def _number(text: str, column: str, path: str, line: int) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError(f'column {column!r} of {path} is not all numeric: line {line} has '
                         f'{text!r}') from None


def build_parser() -> argparse.ArgumentParser:
    """Command-line options of ``infonet-ros estimate``."""
    p = argparse.ArgumentParser(prog=PROG, description=__doc__)
    p.add_argument('--csv', required=True,
                   help='CSV file with a header row (UTF-8, blank lines skipped)')
    p.add_argument('--x', required=True, help='column name (or 0-based index) of x')
    p.add_argument('--y', required=True, help='column name (or 0-based index) of y')
    p.add_argument('--weights', default=None,
                   help="checkpoint file, or a shipped model: 'default' (the default), 'fine' "
                   "or 'fast' (docs/model_card.md)")
    p.add_argument('--device', default='auto', help='auto, cpu or cuda')
    p.add_argument('--precision', default='auto', choices=('auto', 'fp32', 'bf16', 'fp16'),
                   help='dtype of the network (auto: bf16 where the CPU has it and its '
                   'measured cost is small, else fp32)')
    p.add_argument('--uncertainty', action='store_true',
                   help='also print the interval, the p-value of independence and the noise '
                   'floor (infonet_ros.core.uncertainty)')
    p.add_argument('--level', type=float, default=0.9,
                   help='coverage of the interval with --uncertainty (default 0.9)')
    p.add_argument('--null', choices=('iid', 'shift'), default='iid',
                   help="null of the p-value with --uncertainty: 'iid' (independent samples) "
                   "or 'shift' (autocorrelated series, e.g. sensor logs)")
    return p


def main(argv=None) -> int:
    """Entry point of ``infonet-ros estimate``; returns the exit code."""
    args = build_parser().parse_args(argv)
    from infonet_ros.core.estimator import InfoNetEstimator
    from infonet_ros.core.checks import NonFiniteEstimateError
    from infonet_ros.core.model import WeightsError
    try:
        x, y = read_columns(args.csv, [args.x, args.y])
        est = InfoNetEstimator.from_pretrained(args.weights, device=args.device,
                                               precision=args.precision)
        if args.uncertainty:
            print(format_uncertainty(est.estimate_with_uncertainty(
                x, y, level=args.level, null=args.null)))
        else:
            print(f'{est.estimate(x, y):.6f}')
    except (OSError, ValueError, WeightsError, NonFiniteEstimateError) as exc:
        return print_error(PROG, exc)
    return 0


def format_uncertainty(e) -> str:
    """One line of an MIEstimate: mi [lower, upper] p=... floor=... (and why a field is NaN)."""
    line = (f'{e.mi:.6f} [{e.lower:.6f}, {e.upper:.6f}] ({e.level:.0%} interval) '
            f'p={e.p_value:.4g} ({e.null} null) noise_floor={e.noise_floor:.6f}')
    return f'{line}: {e.reason}' if e.reason else line


if __name__ == '__main__':
    sys.exit(main())
