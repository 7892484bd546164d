# Copyright 2026 The infonet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Accuracy of InfoNet against ground truth, KSG and MINE (same as ``infonet-ros evaluate``).

Prints the markdown tables and writes benchmarks/results/eval_accuracy.json and .md
(``--quick``: eval_accuracy_quick.*). All options: ``python benchmarks/eval_accuracy.py -h``;
the sections and rules are described in infonet_ros/training/evaluate.py and benchmarks/README.md.

    python benchmarks/eval_accuracy.py                  # full settings (~5 min on 2 cores)
    python benchmarks/eval_accuracy.py --quick          # smoke run
    python benchmarks/eval_accuracy.py --weights other.pt --seeds 5 --n 1000
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from infonet_ros.training.evaluate import main  # noqa: E402

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'results')

if __name__ == '__main__':
    argv = sys.argv[1:]
    if not any(a == '--out-dir' or a.startswith('--out-dir=') for a in argv):
        argv = ['--out-dir', RESULTS] + argv
    sys.exit(main(argv))
