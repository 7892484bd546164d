# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Accuracy of InfoNet against ground truth, KSG and MINE (``infonet-ros evaluate``).

The options and the work are those of ``infonet-ros evaluate`` (infonet_ros.cli.evaluate,
infonet_ros.training.evaluate); this script writes to benchmarks/results/ wherever it is run
from, and names itself in the results header. Writes NAME.{json,md} (NAME: eval_accuracy;
``--quick``: eval_accuracy_quick). All options: ``python benchmarks/eval_accuracy.py -h``;
the sections and rules are described in benchmarks/README.md.

    python benchmarks/eval_accuracy.py --threads 2          # full settings (~6 min on 2 cores)
    python benchmarks/eval_accuracy.py --quick              # smoke run
    python benchmarks/eval_accuracy.py --weights fine --threads 2 --name eval_accuracy_fine
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from infonet_ros.cli import evaluate as cli_evaluate  # noqa: E402
import results_io  # noqa: E402  (benchmarks/, the script's own folder)


def build_parser():
    """Return the parser of ``infonet-ros evaluate``, writing to benchmarks/results."""
    p = cli_evaluate.build_parser()
    p.prog = 'python benchmarks/eval_accuracy.py'
    p.set_defaults(out_dir=results_io.RESULTS)
    return p


def main(argv=None) -> int:
    args = results_io.parse(build_parser(), argv, __file__)
    return cli_evaluate.run(args, args.command)


if __name__ == '__main__':
    sys.exit(main())
